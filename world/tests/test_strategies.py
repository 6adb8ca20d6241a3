"""BLUE_GREEN, CANARY and LINEAR deployments (strategies.py): the lifecycle stage walk, the traffic
weights, bake time, clean-up of blue, and the circuit breaker's rollback to blue, observed through
boto3 as a deploy tool would (DescribeServices, DescribeServiceDeployments, ListTasks).

Timings: helpers.FAST plus `stage_seconds` 0.1 and `bake_minute_seconds` 0.2 unless a test says
otherwise. Durations are asserted in exact milliseconds of simulated time.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from helpers import (
    CLUSTER,
    FAST,
    describe,
    messages,
    ms,
    primary,
    register,
    service_tasks,
    wait_completed,
    wait_for,
)

STAGES = {"stage_seconds": 0.1, "bake_minute_seconds": 0.2}


@pytest.fixture
def staged(ecs, world):
    world.post("/_deckhand/config", {**FAST, **STAGES})
    return ecs


def create(ecs, name: str, configuration: dict[str, Any], breaker=(True, True)) -> str:
    """A service of 2 tasks with the given strategy, settled (its first deployment rolls)."""
    td = register(ecs, name, image="registry.local/web:1")
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=td,
        desiredCount=2,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": breaker[0], "rollback": breaker[1]},
            **configuration,
        },
    )
    wait_completed(ecs, name)
    return td


def current_sd(ecs, name: str) -> dict[str, Any]:
    arn = describe(ecs, name)["currentServiceDeployment"]
    [sd] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    return sd


def record_walk(ecs, name: str, timeout: float = 20.0) -> tuple[list[tuple], dict[str, Any]]:
    """Polls the current service deployment until it is terminal; returns every distinct
    (status, stage, green production weight, green test weight) seen, in order, and the last
    answer."""
    seen: list[tuple] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sd = current_sd(ecs, name)
        target = sd["targetServiceRevision"]
        point = (
            sd["status"],
            sd.get("lifecycleStage"),
            target.get("requestedProductionTrafficWeight"),
            target.get("requestedTestTrafficWeight"),
        )
        if not seen or seen[-1] != point:
            seen.append(point)
        if sd["status"] not in ("PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
            return seen, sd
        time.sleep(0.01)
    raise AssertionError(f"{name}: no terminal status in {timeout}s; saw {seen}")


def deploy(ecs, name: str, image: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    td = register(ecs, name, image=image, env=env)
    return ecs.update_service(cluster=CLUSTER, service=name, taskDefinition=td)["service"]


def in_order(seen: list[tuple], stages: list[str]) -> None:
    observed = [s for _, s, *_ in seen if s is not None]
    positions = [observed.index(stage) for stage in stages]
    assert positions == sorted(positions), observed


def test_blue_green_walks_the_stages_bakes_then_cleans_up_blue(staged):
    ecs = staged
    create(ecs, "bg", {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 3})
    blue_tasks = {t["taskArn"] for t in service_tasks(ecs, "bg")}
    blue_id = primary(describe(ecs, "bg"))["id"]
    green_id = primary(deploy(ecs, "bg", "registry.local/web:2"))["id"]

    # Mid-bake: blue and green both run, green has all production traffic, DescribeServices
    # still shows green IN_PROGRESS and blue ACTIVE.
    def baking():
        sd = current_sd(ecs, "bg")
        return sd if sd.get("lifecycleStage") == "BAKE_TIME" else None

    sd = wait_for(baking, what="BAKE_TIME")
    assert sd["status"] == "IN_PROGRESS"
    assert sd["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    assert sd["targetServiceRevision"]["requestedTestTrafficWeight"] == 100.0
    assert sd["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 0.0
    service = describe(ecs, "bg")
    assert [(d["id"], d["status"], d["rolloutState"]) for d in service["deployments"]] == [
        (green_id, "PRIMARY", "IN_PROGRESS"),
        (blue_id, "ACTIVE", "COMPLETED"),
    ]
    assert service["runningCount"] == 4
    assert blue_tasks <= {t["taskArn"] for t in service_tasks(ecs, "bg")}

    seen, sd = record_walk(ecs, "bg")
    assert sd["status"] == "SUCCESSFUL"
    assert sd["lifecycleStage"] == "CLEAN_UP"
    # PRE_SCALE_UP 0.1 + task start 0.2 + POST_SCALE_UP, TEST, POST_TEST, PRODUCTION,
    # POST_PRODUCTION 5 x 0.1 + BAKE_TIME 3 x 0.2 + CLEAN_UP 0.1.
    assert ms(sd["finishedAt"]) - ms(sd["startedAt"]) == 1500
    service = wait_completed(ecs, "bg", green_id)
    assert [d["id"] for d in service["deployments"]] == [green_id]
    stopped = {t["taskArn"]: t for t in service_tasks(ecs, "bg", "STOPPED")}
    assert blue_tasks <= set(stopped)
    assert {stopped[a]["stoppedReason"] for a in blue_tasks} == {
        f"Scaling activity initiated by (deployment {green_id})"
    }


def test_the_whole_walk_is_in_ecs_order(staged):
    ecs = staged
    create(ecs, "order", {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    deploy(ecs, "order", "registry.local/web:2", env={"DECKHAND_WORLD_STAGE_SECONDS": "0.3"})
    seen, sd = record_walk(ecs, "order")
    assert sd["status"] == "SUCCESSFUL"
    stages = [s for _, s, *_ in seen if s is not None]
    # Each stage lasts 0.3 s (SCALE_UP: the 0.2 s task start), polled every 10 ms: all seen.
    assert list(dict.fromkeys(stages)) == [
        "PRE_SCALE_UP",
        "SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ]


def test_canary_shifts_the_canary_percent_then_the_rest(staged):
    ecs = staged
    create(
        ecs,
        "canary",
        {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 1,
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 2},
        },
    )
    deploy(ecs, "canary", "registry.local/web:2")
    seen, sd = record_walk(ecs, "canary")
    assert sd["status"] == "SUCCESSFUL"
    shifts = [p for _, s, p, _ in seen if s == "PRODUCTION_TRAFFIC_SHIFT"]
    assert list(dict.fromkeys(shifts)) == [10.0, 100.0]
    # PRE_SCALE_UP, task start, POST_SCALE_UP, TEST, POST_TEST, the 10 % shift, the canary
    # bake (2 x 0.2 s), the 100 % shift, POST_PRODUCTION, BAKE_TIME (1 x 0.2 s), CLEAN_UP.
    expected = 100 + 200 + 100 + 100 + 100 + 100 + 400 + 100 + 100 + 200 + 100
    assert ms(sd["finishedAt"]) - ms(sd["startedAt"]) == expected


def test_linear_shifts_in_steps_without_a_bake_after_the_last(staged):
    ecs = staged
    create(
        ecs,
        "linear",
        {
            "strategy": "LINEAR",
            "bakeTimeInMinutes": 0,
            "linearConfiguration": {"stepPercent": 30.0, "stepBakeTimeInMinutes": 1},
        },
    )
    deploy(ecs, "linear", "registry.local/web:2")
    seen, sd = record_walk(ecs, "linear")
    assert sd["status"] == "SUCCESSFUL"
    shifts = [p for _, s, p, _ in seen if s == "PRODUCTION_TRAFFIC_SHIFT"]
    assert list(dict.fromkeys(shifts)) == [30.0, 60.0, 90.0, 100.0]
    # A bake time of 0 passes in no time: BAKE_TIME is not observable then.
    in_order(seen, ["SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT", "CLEAN_UP"])
    # 4 shifts of 0.1 s, 3 step bakes of 0.2 s (none after 100 %), no final bake.
    expected = 100 + 200 + 3 * 100 + 4 * 100 + 3 * 200 + 100 + 0 + 100
    assert ms(sd["finishedAt"]) - ms(sd["startedAt"]) == expected


def test_a_failing_canary_is_rolled_back_to_blue_which_never_stopped(staged):
    ecs = staged
    blue_td = create(
        ecs,
        "bad-canary",
        {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 1,
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 20},
        },
    )
    blue_tasks = {t["taskArn"] for t in service_tasks(ecs, "bad-canary")}
    blue_id = primary(describe(ecs, "bad-canary"))["id"]
    blue_sd = current_sd(ecs, "bad-canary")
    # Green runs 0.6 s, then crashes: it fails during the canary bake, again and again.
    deploy(
        ecs,
        "bad-canary",
        "registry.local/web:fault-exit",
        env={"DECKHAND_WORLD_FAIL_SECONDS": "0.6"},
    )
    seen, sd = record_walk(ecs, "bad-canary")
    assert sd["status"] == "ROLLBACK_SUCCESSFUL", seen
    assert ("ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 0.0, 0.0) in seen, seen
    assert any(s == "PRODUCTION_TRAFFIC_SHIFT" and p == 10.0 for _, s, p, _ in seen), seen
    assert sd["rollback"]["serviceRevisionArn"] == blue_sd["targetServiceRevision"]["arn"]
    assert sd["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert sd["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
    assert sd["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 100.0

    service = wait_completed(ecs, "bad-canary", blue_id)
    assert primary(service)["taskDefinition"] == blue_td
    assert [d["id"] for d in service["deployments"]] == [blue_id]
    # Blue kept serving: the same tasks ran through the whole deployment and its rollback.
    assert {t["taskArn"] for t in service_tasks(ecs, "bad-canary")} == blue_tasks
    text = "\n".join(messages(service))
    assert "deployment failed: tasks failed to start." in text
    assert f"rolling back to deployment {blue_id}." in text


def test_a_services_first_deployment_rolls(staged):
    ecs = staged
    create(ecs, "first", {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5})
    sd = current_sd(ecs, "first")
    assert sd["status"] == "SUCCESSFUL"
    assert "lifecycleStage" not in sd
    assert sd["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"


def test_rolling_services_have_no_stages(staged):
    ecs = staged
    create(ecs, "rolling", {})
    deploy(ecs, "rolling", "registry.local/web:2")
    seen, sd = record_walk(ecs, "rolling")
    assert sd["status"] == "SUCCESSFUL"
    assert {s for _, s, *_ in seen} == {None}
    assert "requestedProductionTrafficWeight" not in sd["targetServiceRevision"]


def test_stage_timings_are_world_knobs(world):
    world.post("/_deckhand/reset", {})
    world.post("/_deckhand/config", {"stage_seconds": 0.05, "bake_minute_seconds": 0.1})
    status, config = world.request("GET", "/_deckhand/config")
    assert status == 200
    assert (config["stage_seconds"], config["bake_minute_seconds"]) == (0.05, 0.1)
