"""Fixtures: one deckhand-world server subprocess per test session, reset before every test, and
a second one with container registries (--registry) for the registry tests."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import FAST, World, make_client, make_ecs, start_world  # noqa: E402


@pytest.fixture(scope="session")
def world() -> World:
    server = start_world()
    yield server
    server.close()


@pytest.fixture(scope="session")
def registry_world() -> World:
    server = start_world("--registry")
    yield server
    server.close()


@pytest.fixture
def registries(registry_world: World) -> SimpleNamespace:
    """The registry world, reset (no fault rules, counters at zero; images stay), with the
    fronts' addresses and a single-attempt ECR client."""
    registry_world.post("/_deckhand/reset", {})
    status, addresses = registry_world.request("GET", "/_deckhand/registries")
    assert status == 200, addresses
    return SimpleNamespace(
        world=registry_world,
        ecr=addresses["ecr"],
        hub=addresses["hub"],
        ecr_api=make_client("ecr", registry_world.url),
    )


@pytest.fixture
def ecs(world: World):
    """A boto3 ECS client against a freshly reset world with fast timings and a cluster `c`."""
    world.post("/_deckhand/reset", {})
    world.post("/_deckhand/config", FAST)
    client = make_ecs(world.url)
    client.create_cluster(clusterName="c")
    return client


@pytest.fixture
def aws(world: World) -> SimpleNamespace:
    """Single-attempt S3, CloudFront and ECS clients against a freshly reset world (no fault
    rules) with an empty bucket `bucket`."""
    world.post("/_deckhand/reset", {})
    s3 = make_client("s3", world.url)
    s3.create_bucket(Bucket="bucket")
    return SimpleNamespace(
        world=world,
        s3=s3,
        cloudfront=make_client("cloudfront", world.url),
        ecs=make_client("ecs", world.url),
    )
