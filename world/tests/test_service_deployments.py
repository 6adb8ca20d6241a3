"""Service deployments and service revisions (ListServiceDeployments, DescribeServiceDeployments,
DescribeServiceRevisions, and the service's currentServiceDeployment/currentServiceRevisions),
driven through boto3 (and awscli) against a deckhand-world subprocess.

Timings come from helpers.FAST (tasks start in 200 ms, faulty tasks fail 200 ms after launch or
after RUNNING, drain 300 ms, replacements 100 ms after a failure, STOP_REQUESTED -> STOPPED in
300 ms). Durations are asserted in exact milliseconds of simulated time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from helpers import (
    CLUSTER,
    DEPLOYMENT_ID,
    create_service,
    describe,
    event,
    messages,
    ms,
    primary,
    register,
    wait_completed,
    wait_for,
    wait_service,
)

ACCOUNT_REGION = "us-east-1:123456789012"
SD_ARN = re.compile(
    rf"arn:aws:ecs:{ACCOUNT_REGION}:service-deployment/c/"
    r"(?P<service>[^/]+)/(?P<id>[A-Za-z0-9_-]{21})"
)
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
# For tests that assert no durations: crash loops and rollbacks in a fraction of FAST's time.
QUICK = {
    "task_start_seconds": 0.05,
    "task_fail_seconds": 0.05,
    "drain_seconds": 0.1,
    "replace_seconds": 0.02,
    "stop_seconds": 0.1,
}


def error_code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def revision_arn(deployment_id: str, service: str = "web") -> str:
    """The service revision of a DescribeServices deployment `ecs-svc/N`."""
    number = deployment_id.split("/", 1)[1]
    return f"arn:aws:ecs:{ACCOUNT_REGION}:service-revision/c/{service}/{number}"


def list_sds(ecs, service: str = "web", **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of ListServiceDeployments, concatenated (newest first)."""
    items: list[dict[str, Any]] = []
    kwargs = {"cluster": CLUSTER, "service": service, **kwargs}
    while True:
        page = ecs.list_service_deployments(**kwargs)
        items.extend(page["serviceDeployments"])
        if not page.get("nextToken"):
            return items
        kwargs["nextToken"] = page["nextToken"]


def describe_sd(ecs, arn: str) -> dict[str, Any]:
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    assert answer["failures"] == []
    [deployment] = answer["serviceDeployments"]
    return deployment


def describe_revision(ecs, arn: str) -> dict[str, Any]:
    answer = ecs.describe_service_revisions(serviceRevisionArns=[arn])
    assert answer["failures"] == []
    [revision] = answer["serviceRevisions"]
    return revision


def wait_sd(ecs, arn: str, status: str, timeout: float = 15.0) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        deployment = describe_sd(ecs, arn)
        return deployment if deployment["status"] == status else None

    return wait_for(probe, timeout, f"{arn} {status}")


def update(ecs, **kwargs: Any) -> dict[str, Any]:
    return ecs.update_service(cluster=CLUSTER, service="web", **kwargs)["service"]


# --------------------------------------------------------------------------- green deployments


def test_green_deploy_goes_in_progress_to_successful_and_links_to_ecs_svc(ecs):
    td = register(ecs, "web", sidecar=True)
    created = create_service(ecs, "web", td, 2)
    deployment_id = primary(created)["id"]
    assert DEPLOYMENT_ID.fullmatch(deployment_id)

    # CreateService already names the current service deployment and revision.
    arn = created["currentServiceDeployment"]
    match = SD_ARN.fullmatch(arn)
    assert match and match["service"] == "web"
    assert created["currentServiceRevisions"] == [
        {
            "arn": revision_arn(deployment_id),
            "requestedTaskCount": 2,
            "runningTaskCount": 0,
            "pendingTaskCount": 2,
        }
    ]

    [brief] = list_sds(ecs)
    assert brief["serviceDeploymentArn"] == arn
    assert brief["status"] == "IN_PROGRESS"
    assert brief["targetServiceRevisionArn"] == revision_arn(deployment_id)
    assert brief["serviceArn"] == f"arn:aws:ecs:{ACCOUNT_REGION}:service/c/web"
    assert brief["clusterArn"] == f"arn:aws:ecs:{ACCOUNT_REGION}:cluster/c"
    assert "finishedAt" not in brief
    running = describe_sd(ecs, arn)
    assert running["status"] == "IN_PROGRESS"
    assert ms(running["createdAt"]) == ms(running["startedAt"]) == ms(primary(created)["createdAt"])
    assert running["sourceServiceRevisions"] == []  # a service's first deployment
    assert running["deploymentCircuitBreaker"] == {
        "status": "DISABLED",
        "failureCount": 0,
        "threshold": 3,
    }
    assert running["alarms"] == {"status": "DISABLED"}
    assert running["deploymentConfiguration"] == created["deploymentConfiguration"]
    assert "lifecycleStage" not in running and "rollback" not in running

    done = wait_completed(ecs, "web")
    completed_at = ms(event(done, r".*deployment completed\.")["createdAt"])
    finished = wait_sd(ecs, arn, "SUCCESSFUL")
    assert ms(finished["finishedAt"]) == ms(finished["updatedAt"]) == completed_at
    assert completed_at - ms(finished["startedAt"]) == 200 + 300
    assert "stoppedAt" not in finished and "statusReason" not in finished
    assert finished["targetServiceRevision"] == {
        "arn": revision_arn(deployment_id),
        "requestedTaskCount": 2,
        "runningTaskCount": 2,
        "pendingTaskCount": 0,
    }
    assert done["currentServiceDeployment"] == arn
    assert done["currentServiceRevisions"] == [finished["targetServiceRevision"]]

    revision = describe_revision(ecs, revision_arn(deployment_id))
    assert revision["serviceRevisionArn"] == revision_arn(deployment_id)
    assert revision["taskDefinition"] == td
    assert revision["launchType"] == "EC2"
    assert revision["serviceArn"] == brief["serviceArn"]
    assert revision["clusterArn"] == brief["clusterArn"]
    assert ms(revision["createdAt"]) == ms(running["createdAt"])
    assert revision["containerImages"] == [
        {
            "containerName": name,
            "image": image,
            # The world's fixed fake digest: sha256 of the image string.
            "imageDigest": "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
        }
        for name, image in (("app", "registry.local/web:1"), ("side", "registry.local/side:1"))
    ]


def test_update_creates_one_deployment_and_revision_with_sources(ecs):
    register(ecs, "web")
    digest = "sha256:" + "ab" * 32
    td2 = register(ecs, "web", image=f"registry.local/web@{digest}")
    first_id = primary(create_service(ecs, "web", "web:1", 1))["id"]
    wait_completed(ecs, "web")
    [first] = list_sds(ecs)

    response = update(ecs, taskDefinition=td2)
    second_id = primary(response)["id"]
    second_arn = response["currentServiceDeployment"]
    assert second_arn != first["serviceDeploymentArn"]
    # Both revisions serve while the new deployment rolls out.
    assert response["currentServiceRevisions"] == [
        {
            "arn": revision_arn(second_id),
            "requestedTaskCount": 1,
            "runningTaskCount": 0,
            "pendingTaskCount": 1,
        },
        {
            "arn": revision_arn(first_id),
            "requestedTaskCount": 1,
            "runningTaskCount": 1,
            "pendingTaskCount": 0,
        },
    ]
    second = describe_sd(ecs, second_arn)
    assert second["status"] == "IN_PROGRESS"
    assert second["sourceServiceRevisions"] == [response["currentServiceRevisions"][1]]
    assert second["targetServiceRevision"]["arn"] == revision_arn(second_id)

    wait_completed(ecs, "web", second_id)
    done = wait_sd(ecs, second_arn, "SUCCESSFUL")
    # Counts are those at completion: the old revision's tasks were drained.
    assert done["sourceServiceRevisions"] == [
        {
            "arn": revision_arn(first_id),
            "requestedTaskCount": 0,
            "runningTaskCount": 0,
            "pendingTaskCount": 0,
        }
    ]
    assert [d["status"] for d in list_sds(ecs)] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert describe_sd(ecs, first["serviceDeploymentArn"])["status"] == "SUCCESSFUL"
    revision = describe_revision(ecs, revision_arn(second_id))
    # An image given by digest keeps its digest.
    assert revision["containerImages"][0]["imageDigest"] == digest
    assert describe(ecs, "web")["currentServiceRevisions"] == [done["targetServiceRevision"]]


def test_desired_count_and_configuration_only_updates_make_no_deployment(ecs):
    td = register(ecs, "web")
    create_service(ecs, "web", td, 1)
    wait_completed(ecs, "web")
    [only] = list_sds(ecs)

    scaled = update(ecs, desiredCount=3)
    assert scaled["currentServiceDeployment"] == only["serviceDeploymentArn"]
    update(ecs, taskDefinition=td)  # the same revision: no deployment either
    update(
        ecs,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    wait_service(ecs, "web", lambda s: s["runningCount"] == 3, "3 running")
    assert [d["serviceDeploymentArn"] for d in list_sds(ecs)] == [only["serviceDeploymentArn"]]
    # Still the revision it was; the live counts follow the scale-up.
    assert describe(ecs, "web")["currentServiceRevisions"][0]["runningTaskCount"] == 3

    forced = update(ecs, forceNewDeployment=True)
    assert forced["currentServiceDeployment"] != only["serviceDeploymentArn"]
    assert len(list_sds(ecs)) == 2
    newest = describe_sd(ecs, forced["currentServiceDeployment"])
    assert newest["targetServiceRevision"]["arn"] == revision_arn(primary(forced)["id"])
    assert newest["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    assert describe_revision(ecs, newest["targetServiceRevision"]["arn"])["taskDefinition"] == td


# --------------------------------------------------------------------------- failures


def test_breaker_rollback_ends_rollback_successful_naming_the_last_successful_revision(ecs, world):
    td1 = register(ecs, "web")
    td2 = register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    old_id = primary(create_service(ecs, "web", td1, 2, breaker=(True, True)))["id"]
    wait_completed(ecs, "web")
    # Quick crash loop, then time to observe the rollback.
    world.post("/_deckhand/config", {**QUICK, "drain_seconds": 1.0})

    response = update(ecs, taskDefinition=td2)
    new_id = primary(response)["id"]
    arn = response["currentServiceDeployment"]
    rolling = wait_sd(ecs, arn, "ROLLBACK_IN_PROGRESS")
    service = describe(ecs, "web")
    back = event(service, rf"\(service web\) rolling back to deployment {old_id}\.")
    failed = event(service, rf"\(service web\) \(deployment {new_id}\) deployment failed: .*")
    assert rolling["rollback"] == {
        "reason": f"ECS deployment circuit breaker: rolling back to deploymentId {old_id}.",
        "startedAt": back["createdAt"],
        "serviceRevisionArn": revision_arn(old_id),
    }
    assert rolling["statusReason"] == BREAKER_REASON
    assert rolling["deploymentCircuitBreaker"] == {
        "status": "TRIGGERED",
        "failureCount": 3,
        "threshold": 3,
    }
    assert ms(rolling["updatedAt"]) == ms(back["createdAt"]) == ms(failed["createdAt"]) + 1
    # The breaker rolled DescribeServices back to the same revision the record names.
    assert primary(service)["id"] == old_id
    assert service["currentServiceDeployment"] == arn  # no deployment for the rollback
    assert [r["arn"] for r in service["currentServiceRevisions"]] == [revision_arn(old_id)]

    done = wait_completed(ecs, "web", old_id)
    finished = wait_sd(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert ms(finished["finishedAt"]) == ms(event(done, r".*deployment completed\.")["createdAt"])
    assert finished["targetServiceRevision"] == {
        "arn": revision_arn(new_id),
        "requestedTaskCount": 0,
        "runningTaskCount": 0,
        "pendingTaskCount": 0,
    }
    assert finished["sourceServiceRevisions"][0]["arn"] == revision_arn(old_id)
    assert finished["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert "stoppedAt" not in finished
    # No new revision and no new service deployment for the rollback.
    briefs = list_sds(ecs)
    assert [(b["status"], b["targetServiceRevisionArn"]) for b in briefs] == [
        ("ROLLBACK_SUCCESSFUL", revision_arn(new_id)),
        ("SUCCESSFUL", revision_arn(old_id)),
    ]


@pytest.mark.parametrize("failed_before", ["stopped", "rolled-back"])
def test_rollback_target_is_the_last_successful_revision_not_the_previous_one(
    ecs, world, failed_before
):
    world.post("/_deckhand/config", QUICK)
    register(ecs, "web")  # web:1, healthy
    register(ecs, "web", image="registry.local/web:fault-pull")  # web:2
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})  # web:3
    good_id = primary(create_service(ecs, "web", "web:1", 1))["id"]
    wait_completed(ecs, "web")

    # The deployment right before ours fails as well, one way or the other.
    breaker = {"enable": True, "rollback": failed_before == "rolled-back"}
    second = update(
        ecs, taskDefinition="web:2", deploymentConfiguration={"deploymentCircuitBreaker": breaker}
    )
    second_status = "STOPPED" if failed_before == "stopped" else "ROLLBACK_SUCCESSFUL"
    wait_sd(ecs, second["currentServiceDeployment"], second_status)
    if failed_before == "rolled-back":
        wait_completed(ecs, "web", good_id)

    third = update(
        ecs,
        taskDefinition="web:3",
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    finished = wait_sd(ecs, third["currentServiceDeployment"], "ROLLBACK_SUCCESSFUL")
    assert finished["rollback"]["serviceRevisionArn"] == revision_arn(good_id)
    assert finished["rollback"]["reason"].endswith(f"rolling back to deploymentId {good_id}.")
    # The breaker's own rollback in DescribeServices went to that same revision.
    service = wait_completed(ecs, "web", good_id)
    assert [d["id"] for d in service["deployments"]] == [good_id]
    assert service["taskDefinition"].endswith("task-definition/web:1")
    sources = [r["arn"] for r in finished["sourceServiceRevisions"]]
    if failed_before == "stopped":
        # The failed revision was still listed (PRIMARY, FAILED), the good one ACTIVE.
        assert sources == [revision_arn(primary(second)["id"]), revision_arn(good_id)]
    else:
        assert sources == [revision_arn(good_id)]
    assert [b["status"] for b in list_sds(ecs)] == [
        "ROLLBACK_SUCCESSFUL",
        second_status,
        "SUCCESSFUL",
    ]


def test_breaker_without_rollback_ends_stopped(ecs, world):
    world.post("/_deckhand/config", {**QUICK, "stop_seconds": 1.0})
    register(ecs, "web")
    register(ecs, "web", image="registry.local/web:fault-pull")
    create_service(ecs, "web", "web:1", 1)
    wait_completed(ecs, "web")
    response = update(
        ecs,
        taskDefinition="web:2",
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
    )
    arn = response["currentServiceDeployment"]
    new_id = primary(response)["id"]

    service = wait_service(ecs, "web", lambda s: primary(s)["rolloutState"] == "FAILED", "FAILED")
    tripped = ms(event(service, rf".*\(deployment {new_id}\) deployment failed: .*")["createdAt"])
    stopping = describe_sd(ecs, arn)
    assert stopping["status"] == "STOP_REQUESTED"
    assert stopping["statusReason"] == BREAKER_REASON
    assert ms(stopping["updatedAt"]) == tripped
    assert stopping["deploymentCircuitBreaker"] == {
        "status": "TRIGGERED",
        "failureCount": 3,
        "threshold": 3,
    }
    assert "stoppedAt" not in stopping and "rollback" not in stopping

    stopped = wait_sd(ecs, arn, "STOPPED")
    assert ms(stopped["stoppedAt"]) - tripped == 1000
    assert "finishedAt" not in stopped and "rollback" not in stopped
    assert stopped["statusReason"] == BREAKER_REASON
    [brief] = [b for b in list_sds(ecs) if b["serviceDeploymentArn"] == arn]
    assert (brief["status"], brief["statusReason"]) == ("STOPPED", BREAKER_REASON)


def test_breaker_with_rollback_but_nothing_completed_ends_stopped(ecs, world):
    world.post("/_deckhand/config", QUICK)
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    created = create_service(ecs, "web", "web:1", 1, breaker=(True, True))
    stopped = wait_sd(ecs, created["currentServiceDeployment"], "STOPPED")
    assert stopped["statusReason"] == BREAKER_REASON
    assert "rollback" not in stopped and "stoppedAt" in stopped
    assert primary(describe(ecs, "web"))["rolloutState"] == "FAILED"


def test_superseded_deployment_ends_stopped(ecs, world):
    world.post("/_deckhand/config", {"stop_seconds": 1.0})  # time to observe STOP_REQUESTED
    register(ecs, "web")
    register(ecs, "web", env={"DECKHAND_WORLD_START_SECONDS": "30"})  # stays PENDING here
    register(ecs, "web", image="registry.local/web:3")
    first_id = primary(create_service(ecs, "web", "web:1", 1))["id"]
    wait_completed(ecs, "web")
    slow = update(ecs, taskDefinition="web:2")
    slow_arn = slow["currentServiceDeployment"]

    newest = update(ecs, taskDefinition="web:3")
    newest_id = primary(newest)["id"]
    superseded = describe_sd(ecs, slow_arn)
    assert superseded["status"] == "STOP_REQUESTED"
    assert ms(superseded["updatedAt"]) == ms(primary(newest)["createdAt"])
    assert "finishedAt" not in superseded
    latest = describe_sd(ecs, newest["currentServiceDeployment"])
    assert [r["arn"] for r in latest["sourceServiceRevisions"]] == [
        revision_arn(primary(slow)["id"]),
        revision_arn(first_id),
    ]

    stopped = wait_sd(ecs, slow_arn, "STOPPED")
    assert ms(stopped["finishedAt"]) - ms(primary(newest)["createdAt"]) == 1000
    assert "stoppedAt" not in stopped
    assert stopped["deploymentCircuitBreaker"]["status"] == "DISABLED"
    wait_completed(ecs, "web", newest_id)
    wait_sd(ecs, newest["currentServiceDeployment"], "SUCCESSFUL")
    assert [b["status"] for b in list_sds(ecs)] == ["SUCCESSFUL", "STOPPED", "SUCCESSFUL"]


def test_a_newer_deployment_during_a_rollback_fails_the_rollback(ecs, world):
    register(ecs, "web")
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    register(ecs, "web", image="registry.local/web:3")
    create_service(ecs, "web", "web:1", 1, breaker=(True, True))
    wait_completed(ecs, "web")
    world.post("/_deckhand/config", {**QUICK, "drain_seconds": 1.0})
    failing = update(ecs, taskDefinition="web:2")["currentServiceDeployment"]
    wait_sd(ecs, failing, "ROLLBACK_IN_PROGRESS")

    newest = update(ecs, taskDefinition="web:3")
    interrupted = describe_sd(ecs, failing)
    assert interrupted["status"] == "ROLLBACK_FAILED"
    assert ms(interrupted["finishedAt"]) == ms(primary(newest)["createdAt"])
    assert "interrupted by a newer deployment" in interrupted["statusReason"]


def test_rollback_to_a_faulty_revision_ends_rollback_failed(ecs, world):
    world.post("/_deckhand/config", QUICK)
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    register(ecs, "web", image="registry.local/web:fault-pull")
    create_service(ecs, "web", "web:1", 0, breaker=(True, True))
    old_id = primary(wait_completed(ecs, "web"))["id"]
    arn = update(ecs, taskDefinition="web:2", desiredCount=1)["currentServiceDeployment"]
    failed = wait_sd(ecs, arn, "ROLLBACK_FAILED")
    assert failed["rollback"]["serviceRevisionArn"] == revision_arn(old_id)
    service = describe(ecs, "web")
    second_failure = event(service, rf".*\(deployment {old_id}\) deployment failed: .*")
    assert ms(failed["finishedAt"]) == ms(second_failure["createdAt"])


# --------------------------------------------------------------------------- resetOnHealthyTask


def aws_cli(world, *args: str) -> Any:
    aws = Path(sys.executable).with_name("aws")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    output = subprocess.run(
        [str(aws), "--endpoint-url", world.url, "ecs", *args],
        check=True,
        capture_output=True,
        env=env,
        text=True,
    ).stdout
    return json.loads(output)


def test_reset_on_healthy_task_keeps_a_crash_loop_from_tripping(ecs, world):
    world.post("/_deckhand/config", QUICK)
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    # awscli (its own botocore) sends the field; the world stores and echoes it.
    created = aws_cli(
        world,
        "create-service",
        "--cluster",
        CLUSTER,
        "--service-name",
        "web",
        "--task-definition",
        "web",
        "--desired-count",
        "1",
        "--deployment-configuration",
        "deploymentCircuitBreaker={enable=true,rollback=true,resetOnHealthyTask=true}",
    )["service"]
    assert created["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
        "resetOnHealthyTask": True,
    }
    # Each crashed task is replaced: 7 started tasks mean 6 crashed.
    started = lambda s: sum("has started 1 tasks" in m for m in messages(s))  # noqa: E731
    service = wait_service(ecs, "web", lambda s: started(s) >= 7, "6 crashed tasks")
    deployment = primary(service)
    assert deployment["rolloutState"] == "IN_PROGRESS"
    assert not any("deployment failed" in m for m in messages(service))
    # Both counts restart each time a task runs: neither ever reaches the threshold of 3.
    assert deployment["failedTasks"] <= 1
    sd = describe_sd(ecs, created["currentServiceDeployment"])
    assert sd["status"] == "IN_PROGRESS"
    assert sd["deploymentCircuitBreaker"]["status"] == "MONITORING"
    assert sd["deploymentCircuitBreaker"]["failureCount"] <= 1
    assert sd["deploymentConfiguration"]["deploymentCircuitBreaker"]["resetOnHealthyTask"] is True
    described = aws_cli(world, "describe-services", "--cluster", CLUSTER, "--services", "web")
    [cli_view] = described["services"]
    assert cli_view["deploymentConfiguration"]["deploymentCircuitBreaker"]["resetOnHealthyTask"]


@pytest.mark.parametrize("reset", [None, False])
def test_without_reset_on_healthy_task_a_crash_loop_trips_as_before(ecs, world, reset):
    world.post("/_deckhand/config", QUICK)
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    breaker: dict[str, Any] = {"enable": True, "rollback": False}
    if reset is not None:
        breaker["resetOnHealthyTask"] = reset
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="web",
        taskDefinition="web",
        desiredCount=1,
        deploymentConfiguration={"deploymentCircuitBreaker": breaker},
    )
    service = wait_service(ecs, "web", lambda s: primary(s)["rolloutState"] == "FAILED", "FAILED")
    assert primary(service)["failedTasks"] == 3
    sd = describe_sd(ecs, service["currentServiceDeployment"])
    assert sd["status"] in ("STOP_REQUESTED", "STOPPED")
    assert sd["deploymentCircuitBreaker"] == {
        "status": "TRIGGERED",
        "failureCount": 3,
        "threshold": 3,
    }


@pytest.mark.parametrize("fault", ["pull", "health"])
def test_reset_on_healthy_task_needs_a_healthy_task(ecs, world, fault):
    world.post("/_deckhand/config", QUICK)
    # pull: never RUNNING; health: RUNNING but never healthy. Neither resets the count.
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": fault}, health_check=True)
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="web",
        taskDefinition="web",
        desiredCount=1,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {
                "enable": True,
                "rollback": False,
                "resetOnHealthyTask": True,
            }
        },
    )
    service = wait_service(ecs, "web", lambda s: primary(s)["rolloutState"] == "FAILED", "FAILED")
    assert primary(service)["failedTasks"] == 3


# --------------------------------------------------------------------------- listing and limits


def test_list_paging_order_and_filters(ecs):
    register(ecs, "web")
    create_service(ecs, "web", "web", 0)
    arns = [describe(ecs, "web")["currentServiceDeployment"]]
    for _ in range(24):
        arns.append(update(ecs, forceNewDeployment=True)["currentServiceDeployment"])
    newest_first = arns[::-1]

    first = ecs.list_service_deployments(cluster=CLUSTER, service="web")
    assert len(first["serviceDeployments"]) == 20 and first["nextToken"]  # default page size
    rest = ecs.list_service_deployments(
        cluster=CLUSTER, service="web", nextToken=first["nextToken"]
    )
    assert "nextToken" not in rest
    listed = first["serviceDeployments"] + rest["serviceDeployments"]
    assert [b["serviceDeploymentArn"] for b in listed] == newest_first

    pages = []
    kwargs: dict[str, Any] = {"cluster": CLUSTER, "service": "web", "maxResults": 7}
    while True:
        page = ecs.list_service_deployments(**kwargs)
        pages.append([b["serviceDeploymentArn"] for b in page["serviceDeployments"]])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    assert sum(pages, []) == newest_first

    # A token stays valid while newer deployments are added: no duplicates, nothing skipped.
    head = ecs.list_service_deployments(cluster=CLUSTER, service="web", maxResults=5)
    extra = update(ecs, forceNewDeployment=True)["currentServiceDeployment"]
    tail = list_sds(ecs, maxResults=100, nextToken=head["nextToken"])
    assert [b["serviceDeploymentArn"] for b in head["serviceDeployments"] + tail] == newest_first
    newest_first.insert(0, extra)

    # Filters apply within each page's window: a page may be short and still go on.
    wait_sd(ecs, extra, "SUCCESSFUL")
    short = ecs.list_service_deployments(
        cluster=CLUSTER, service="web", status=["STOPPED"], maxResults=3
    )
    assert [b["serviceDeploymentArn"] for b in short["serviceDeployments"]] == newest_first[1:3]
    assert short["nextToken"]
    only_successful = list_sds(ecs, status=["SUCCESSFUL"], maxResults=4)
    assert [b["serviceDeploymentArn"] for b in only_successful] == [extra]
    assert len(list_sds(ecs, status=["STOPPED", "SUCCESSFUL"])) == 26

    # createdAt window, by the briefs' own timestamps (inclusive).
    everything = list_sds(ecs)
    middle = everything[10]["createdAt"]
    after = list_sds(ecs, createdAt={"after": middle})
    before = list_sds(ecs, createdAt={"before": middle})
    assert all(b["createdAt"] >= middle for b in after)
    assert all(b["createdAt"] <= middle for b in before)
    assert everything[10] in after and everything[10] in before
    assert len(after) + len(before) >= 26
    assert list_sds(ecs, createdAt={"after": everything[0]["createdAt"].timestamp() + 60}) == []

    # The service by ARN (its cluster from the ARN when `cluster` is left out).
    service_arn = describe(ecs, "web")["serviceArn"]
    by_arn = ecs.list_service_deployments(service=service_arn, maxResults=1)
    assert by_arn["serviceDeployments"][0]["serviceDeploymentArn"] == extra


def test_list_errors(ecs):
    register(ecs, "web")
    create_service(ecs, "web", "web", 0)
    cases = [
        ({"cluster": "nope", "service": "web"}, "ClusterNotFoundException"),
        ({"cluster": CLUSTER, "service": "nope"}, "ServiceNotFoundException"),
        ({"service": "web"}, "ClusterNotFoundException"),  # no cluster `default`
        ({"cluster": CLUSTER, "service": "web", "maxResults": 0}, "InvalidParameterException"),
        ({"cluster": CLUSTER, "service": "web", "maxResults": 101}, "InvalidParameterException"),
        ({"cluster": CLUSTER, "service": "web", "nextToken": "x"}, "InvalidParameterException"),
        ({"cluster": CLUSTER, "service": "web", "status": ["DONE"]}, "InvalidParameterException"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as excinfo:
            ecs.list_service_deployments(**kwargs)
        assert error_code(excinfo) == code, kwargs
    page = ecs.list_service_deployments(cluster=CLUSTER, service="web", maxResults=100)
    assert len(page["serviceDeployments"]) == 1 and "nextToken" not in page


def test_describe_limits_missing_and_delete(ecs):
    register(ecs, "web")
    created = create_service(ecs, "web", "web", 0)
    arn = created["currentServiceDeployment"]
    revision = created["currentServiceRevisions"][0]["arn"]
    unknown_sd = arn.rsplit("/", 1)[0] + "/AAAAAAAAAAAAAAAAAAAAA"
    unknown_revision = revision.rsplit("/", 1)[0] + "/1234567890123456789"

    answer = ecs.describe_service_deployments(serviceDeploymentArns=[unknown_sd, arn, "junk"])
    assert [d["serviceDeploymentArn"] for d in answer["serviceDeployments"]] == [arn]
    assert answer["failures"] == [
        {"arn": unknown_sd, "reason": "MISSING"},
        {"arn": "junk", "reason": "MISSING"},
    ]
    answer = ecs.describe_service_revisions(serviceRevisionArns=[revision, unknown_revision])
    assert [r["serviceRevisionArn"] for r in answer["serviceRevisions"]] == [revision]
    assert answer["failures"] == [{"arn": unknown_revision, "reason": "MISSING"}]

    twenty = [arn] + [f"{unknown_sd[:-2]}{i:02d}" for i in range(19)]
    assert len(ecs.describe_service_deployments(serviceDeploymentArns=twenty)["failures"]) == 19
    for operation, key, arns in (
        (ecs.describe_service_deployments, "serviceDeploymentArns", twenty + [unknown_sd]),
        (ecs.describe_service_revisions, "serviceRevisionArns", [revision] * 21),
        (ecs.describe_service_deployments, "serviceDeploymentArns", []),
        (ecs.describe_service_revisions, "serviceRevisionArns", []),
    ):
        with pytest.raises(ClientError) as excinfo:
            operation(**{key: arns})
        assert error_code(excinfo) == "InvalidParameterException", (key, len(arns))

    # Deleting the service deletes its deployments and revisions.
    ecs.delete_service(cluster=CLUSTER, service="web")
    assert ecs.describe_service_deployments(serviceDeploymentArns=[arn])["failures"] == [
        {"arn": arn, "reason": "MISSING"}
    ]
    assert ecs.describe_service_revisions(serviceRevisionArns=[revision])["failures"] == [
        {"arn": revision, "reason": "MISSING"}
    ]
    assert list_sds(ecs) == []
    gone = describe(ecs, "web")
    assert gone["status"] == "INACTIVE"
    assert "currentServiceDeployment" not in gone and gone.get("currentServiceRevisions", []) == []
    # A new service of the same name starts a history of its own.
    again = create_service(ecs, "web", "web", 0)
    assert [b["serviceDeploymentArn"] for b in list_sds(ecs)] == [again["currentServiceDeployment"]]


# --------------------------------------------------------------------------- wire format


def _check_shape(shape: Any, value: Any, path: str) -> None:
    """`value`, as sent on the wire (awsJson1_1), matches the botocore shape exactly: no member
    the model lacks, the right JSON types, enum values from the enum, epoch-number timestamps."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        for key, item in value.items():
            assert key in shape.members, f"{path}.{key} is not in {shape.name}"
            _check_shape(shape.members[key], item, f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            _check_shape(shape.member, item, f"{path}[{index}]")
    elif kind == "map":
        assert isinstance(value, dict), path
    elif kind == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, (path, value)
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind in ("double", "float"):
        assert isinstance(value, (int, float)) and not isinstance(value, bool), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (path, value)
    else:
        raise AssertionError(f"{path}: unexpected shape type {kind}")


def _raw_call(url: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "X-Amz-Target": f"AmazonEC2ContainerServiceV20141113.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ecs/"
            "aws4_request, SignedHeaders=host, Signature=00",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_responses_match_the_botocore_model_on_the_wire(ecs, world):
    world.post("/_deckhand/config", QUICK)
    register(ecs, "web")
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    create_service(ecs, "web", "web:1", 1, breaker=(True, True))
    wait_completed(ecs, "web")
    arn = update(ecs, taskDefinition="web:2")["currentServiceDeployment"]
    wait_sd(ecs, arn, "ROLLBACK_SUCCESSFUL")

    model = botocore.session.get_session().get_service_model("ecs")
    listed = _raw_call(world.url, "ListServiceDeployments", {"cluster": CLUSTER, "service": "web"})
    arns = [b["serviceDeploymentArn"] for b in listed["serviceDeployments"]]
    revisions = [b["targetServiceRevisionArn"] for b in listed["serviceDeployments"]]
    calls = {
        "ListServiceDeployments": listed,
        "DescribeServiceDeployments": _raw_call(
            world.url, "DescribeServiceDeployments", {"serviceDeploymentArns": arns + ["x"]}
        ),
        "DescribeServiceRevisions": _raw_call(
            world.url, "DescribeServiceRevisions", {"serviceRevisionArns": revisions}
        ),
        "DescribeServices": _raw_call(
            world.url, "DescribeServices", {"cluster": CLUSTER, "services": ["web"]}
        ),
    }
    for operation, body in calls.items():
        _check_shape(model.operation_model(operation).output_shape, body, operation)
    described = calls["DescribeServiceDeployments"]["serviceDeployments"]
    assert {d["status"] for d in described} == {"SUCCESSFUL", "ROLLBACK_SUCCESSFUL"}
    assert all(isinstance(d["createdAt"], (int, float)) for d in described)
    [service] = calls["DescribeServices"]["services"]
    assert service["currentServiceDeployment"] == arn
    assert service["deploymentConfiguration"]["strategy"] == "ROLLING"
    assert service["deploymentConfiguration"]["bakeTimeInMinutes"] == 0
    # boto3 (botocore 1.44.18) parses the same responses without complaint.
    ecs.list_service_deployments(cluster=CLUSTER, service="web")
    ecs.describe_service_deployments(serviceDeploymentArns=arns)
    ecs.describe_service_revisions(serviceRevisionArns=revisions)
