"""The demo backend's migration: what `migration-command` runs (deploy-example.yml), as a
one-off ECS task on the new image before the service rolls to it. The demo has no database, so
it has nothing to apply; a real one runs its migration tool here, and must be safe to run twice
(a re-run of the workflow runs it again)."""

import sys

print("migrations: nothing to apply")
sys.exit(0)
