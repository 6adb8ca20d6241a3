"""deckhand's local world: moto in server mode with an ECS rollout extension.

Run with `PYTHONPATH=world python -m deckhand_world`; see world/README.md.
"""
