"""The ECS rollout extension, driven through boto3 against a deckhand-world subprocess.

Timings come from helpers.FAST: tasks start in 200 ms, faulty tasks fail 200 ms after launch
(pull) or after RUNNING (exit, health), the drain takes 300 ms, replacements launch 100 ms after
a failure. Durations are asserted in exact milliseconds of simulated time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from helpers import (
    CLUSTER,
    DEPLOYMENT_ID,
    TASK_ID,
    create_service,
    describe,
    describe_tasks,
    event,
    ids_in,
    list_all_tasks,
    make_ecs,
    messages,
    ms,
    primary,
    register,
    service_tasks,
    task_id,
    wait_completed,
    wait_service,
)

PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 7 time(s): "
    "failed to resolve ref {image}: not found"
)


def error_code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def started(n: int) -> str:
    return rf"\(service web\) has started {n} tasks:" + rf" \(task {TASK_ID}\)" * n + r"\."


# --------------------------------------------------------------------------- healthy rollouts


def test_create_service_rolls_out_to_completed(ecs):
    td = register(ecs, "web")
    service = create_service(ecs, "web", "web", 2)  # family only: normalised to the ARN

    assert service["status"] == "ACTIVE"
    assert service["taskDefinition"] == td
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "ROLLING",
        "bakeTimeInMinutes": 0,
    }
    [deployment] = service["deployments"]
    deployment_id = deployment["id"]
    assert DEPLOYMENT_ID.fullmatch(deployment_id)
    assert deployment["status"] == "PRIMARY"
    assert deployment["taskDefinition"] == td
    assert (deployment["desiredCount"], deployment["pendingCount"], deployment["runningCount"]) == (
        2,
        2,
        0,
    )
    assert deployment["failedTasks"] == 0
    assert deployment["launchType"] == "EC2"
    assert deployment["rolloutState"] == "IN_PROGRESS"
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment_id} in progress."
    assert (service["runningCount"], service["pendingCount"]) == (0, 2)
    [launch] = service["events"]
    assert re.fullmatch(started(2), launch["message"])
    assert re.fullmatch(r"[0-9a-f-]{36}", launch["id"])

    done = wait_completed(ecs, "web")
    [deployment] = done["deployments"]
    assert deployment["id"] == deployment_id
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment_id} completed."
    assert (deployment["runningCount"], deployment["pendingCount"]) == (2, 0)
    assert (done["runningCount"], done["pendingCount"]) == (2, 0)
    assert messages(done) == [
        "(service web) has reached a steady state.",
        f"(service web) (deployment {deployment_id}) deployment completed.",
        launch["message"],
    ]
    steady, completed, launched = (ms(e["createdAt"]) for e in done["events"])
    assert steady - completed == 1
    assert completed - launched == 200 + 300  # task start + drain, in simulated time
    assert ms(deployment["createdAt"]) == launched

    tasks = service_tasks(ecs, "web")
    assert sorted(task_id(t) for t in tasks) == sorted(ids_in(launch["message"]))
    for task in tasks:
        assert re.fullmatch(
            rf"arn:aws:ecs:us-east-1:123456789012:task/c/{TASK_ID}", task["taskArn"]
        )
        assert task["clusterArn"] == "arn:aws:ecs:us-east-1:123456789012:cluster/c"
        assert task["taskDefinitionArn"] == td
        assert task["group"] == "service:web"
        assert task["startedBy"] == deployment_id
        assert (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "RUNNING")
        assert task["launchType"] == "EC2"
        assert ms(task["startedAt"]) - ms(task["createdAt"]) == 200
        assert "stoppedAt" not in task and "stopCode" not in task
        [container] = task["containers"]
        assert container["name"] == "app"
        assert container["image"] == "registry.local/web:1"
        assert container["lastStatus"] == "RUNNING"
        assert container["taskArn"] == task["taskArn"]
        assert "exitCode" not in container and "reason" not in container


def test_new_revision_replaces_and_drains_old_deployment(ecs):
    td1 = register(ecs, "web")
    td2 = register(ecs, "web", image="registry.local/web:2")
    create_service(ecs, "web", td1, 2)
    old = primary(wait_completed(ecs, "web"))
    old_ids = sorted(task_id(t) for t in service_tasks(ecs, "web"))

    response = ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")["service"]

    # The response already names the new PRIMARY: that is how a client finds "its" deployment.
    assert [d["status"] for d in response["deployments"]] == ["PRIMARY", "ACTIVE"]
    new, active = response["deployments"]
    assert DEPLOYMENT_ID.fullmatch(new["id"]) and new["id"] != old["id"]
    assert new["taskDefinition"] == td2 and response["taskDefinition"] == td2
    assert new["rolloutState"] == "IN_PROGRESS"
    assert new["rolloutStateReason"] == f"ECS deployment {new['id']} in progress."
    assert (new["desiredCount"], new["pendingCount"], new["runningCount"]) == (2, 2, 0)
    # The previous PRIMARY keeps its own rollout state and its tasks until the drain.
    assert active["id"] == old["id"] and active["taskDefinition"] == td1
    assert active["rolloutState"] == "COMPLETED" and active["runningCount"] == 2
    assert (response["runningCount"], response["pendingCount"]) == (2, 2)

    done = wait_completed(ecs, "web", new["id"])
    assert [d["id"] for d in done["deployments"]] == [new["id"]]
    assert done["taskDefinition"] == td2
    recent = messages(done)[:3]
    assert recent[0] == "(service web) has reached a steady state."
    assert recent[1] == f"(service web) (deployment {new['id']}) deployment completed."
    assert re.fullmatch(r"\(service web\) has stopped 2 running tasks: .*\.", recent[2])
    assert sorted(ids_in(recent[2])) == old_ids
    steady_at, completed_at, drained_at = (ms(e["createdAt"]) for e in done["events"][:3])
    assert (steady_at - completed_at, completed_at - drained_at) == (1, 1)

    stopped = describe_tasks(ecs, list_all_tasks(ecs, startedBy=old["id"], desiredStatus="STOPPED"))
    assert sorted(task_id(t) for t in stopped) == old_ids
    for task in stopped:
        assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPED", "STOPPED")
        assert task["stopCode"] == "ServiceSchedulerInitiated"
        assert task["stoppedReason"] == f"Scaling activity initiated by (deployment {new['id']})"
        assert ms(task["stoppedAt"]) == ms(
            event(done, r".*has stopped 2 running tasks.*")["createdAt"]
        )
    running = service_tasks(ecs, "web")
    assert {t["startedBy"] for t in running} == {new["id"]} and len(running) == 2
    assert list_all_tasks(ecs, startedBy=old["id"]) == []  # ListTasks defaults to RUNNING


def test_same_task_definition_is_no_deployment_but_force_new_deployment_is(ecs):
    td = register(ecs, "web")
    create_service(ecs, "web", td, 1)
    first = primary(wait_completed(ecs, "web"))

    same = ecs.update_service(cluster=CLUSTER, service="web", taskDefinition=td)["service"]
    assert [d["id"] for d in same["deployments"]] == [first["id"]]

    forced = ecs.update_service(cluster=CLUSTER, service="web", forceNewDeployment=True)["service"]
    new, old = forced["deployments"]
    assert (new["status"], old["status"]) == ("PRIMARY", "ACTIVE")
    assert new["id"] != first["id"] and old["id"] == first["id"]
    assert new["taskDefinition"] == td
    done = wait_completed(ecs, "web", new["id"])
    assert [d["id"] for d in done["deployments"]] == [new["id"]]


def test_desired_count_alone_scales_the_primary(ecs):
    register(ecs, "web")
    create_service(ecs, "web", "web", 1)
    deployment_id = primary(wait_completed(ecs, "web"))["id"]

    up = ecs.update_service(cluster=CLUSTER, service="web", desiredCount=3)["service"]
    assert [d["id"] for d in up["deployments"]] == [deployment_id]
    assert up["desiredCount"] == 3 and primary(up)["desiredCount"] == 3
    assert re.fullmatch(started(2), up["events"][0]["message"])
    scaled = wait_service(ecs, "web", lambda s: s["runningCount"] == 3, "3 running")
    assert primary(scaled)["rolloutState"] == "COMPLETED"

    down = ecs.update_service(cluster=CLUSTER, service="web", desiredCount=1)["service"]
    assert [d["id"] for d in down["deployments"]] == [deployment_id]
    assert re.fullmatch(
        rf"\(service web\) has stopped 2 running tasks: \(task {TASK_ID}\) \(task {TASK_ID}\)\.",
        down["events"][0]["message"],
    )
    assert (down["runningCount"], primary(down)["desiredCount"]) == (1, 1)
    assert len(service_tasks(ecs, "web")) == 1
    for task in service_tasks(ecs, "web", "STOPPED"):
        assert (
            task["stoppedReason"] == f"Scaling activity initiated by (deployment {deployment_id})"
        )


def test_scaling_during_the_drain_restarts_it(ecs, world):
    world.post("/_deckhand/config", {"drain_seconds": 1.0})
    register(ecs, "web")
    create_service(ecs, "web", "web", 1)
    wait_service(ecs, "web", lambda s: s["runningCount"] == 1, "1 running")
    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=2)  # within the drain window
    done = wait_completed(ecs, "web")
    last_start = max(ms(t["startedAt"]) for t in service_tasks(ecs, "web"))
    assert ms(event(done, r".*deployment completed\.")["createdAt"]) - last_start == 1000
    assert primary(done)["runningCount"] == 2


def test_desired_count_zero_completes_after_one_drain(ecs):
    register(ecs, "web")
    service = create_service(ecs, "web", "web", 0)
    assert service["events"] == []
    done = wait_completed(ecs, "web")
    deployment = primary(done)
    assert messages(done) == [
        "(service web) has reached a steady state.",
        f"(service web) (deployment {deployment['id']}) deployment completed.",
    ]
    assert ms(done["events"][1]["createdAt"]) - ms(deployment["createdAt"]) == 300
    assert list_all_tasks(ecs, serviceName="web") == []


def test_service_counts_are_sums_over_deployments(ecs):
    register(ecs, "web")
    register(ecs, "web", env={"DECKHAND_WORLD_START_SECONDS": "30"})  # stays PENDING here
    create_service(ecs, "web", "web:1", 2)
    wait_completed(ecs, "web")
    service = ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")["service"]
    assert [(d["runningCount"], d["pendingCount"]) for d in service["deployments"]] == [
        (0, 2),
        (2, 0),
    ]
    assert (service["runningCount"], service["pendingCount"]) == (2, 2)


def test_update_service_errors(ecs):
    td = register(ecs, "web")
    create_service(ecs, "web", td, 1)

    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster="nope", service="web", desiredCount=2)
    assert error_code(excinfo) == "ClusterNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster=CLUSTER, service="nope", desiredCount=2)
    assert error_code(excinfo) == "ServiceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web:99", desiredCount=5)
    assert error_code(excinfo) == "ClientException"
    unchanged = describe(ecs, "web")
    assert len(unchanged["deployments"]) == 1 and unchanged["desiredCount"] == 1
    assert unchanged["taskDefinition"] == td

    with pytest.raises(ClientError) as excinfo:
        create_service(ecs, "web", td, 1)
    assert error_code(excinfo) == "InvalidParameterException"

    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    assert list_all_tasks(ecs, serviceName="web") == []
    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster=CLUSTER, service="web", desiredCount=2)
    assert error_code(excinfo) == "ServiceNotActiveException"


# --------------------------------------------------------------------------- faults


def test_exit_fault_task_and_endless_replacement_without_breaker(ecs):
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"}, sidecar=True)
    create_service(ecs, "web", "web", 1)

    # Breaker disabled (the default): replaced forever, failedTasks keeps counting past 3.
    service = wait_service(ecs, "web", lambda s: primary(s)["failedTasks"] >= 4, "4 failures")
    deployment = primary(service)
    assert deployment["rolloutState"] == "IN_PROGRESS"
    assert not any("deployment failed" in m for m in messages(service))

    stopped = sorted(service_tasks(ecs, "web", "STOPPED"), key=lambda t: t["createdAt"])
    assert len(stopped) >= 4
    first = stopped[0]
    assert first["stopCode"] == "EssentialContainerExited"
    assert first["stoppedReason"] == "Essential container in task exited"
    assert ms(first["startedAt"]) - ms(first["createdAt"]) == 200
    assert ms(first["stoppedAt"]) - ms(first["startedAt"]) == 200
    app, side = first["containers"]
    assert (app["name"], app["exitCode"], app["lastStatus"]) == ("app", 1, "STOPPED")
    assert (side["name"], side["exitCode"]) == ("side", 0)
    assert "reason" not in app and "reason" not in side
    # The replacement batch comes replace_seconds after the failure.
    replacement = next(t for t in stopped if ms(t["createdAt"]) > ms(first["createdAt"]))
    assert ms(replacement["createdAt"]) - ms(first["stoppedAt"]) == 100
    launches = [m for m in messages(service) if re.fullmatch(started(1), m)]
    assert len(launches) >= 4


def test_pull_fault_task(ecs):
    image = "registry.local/web:fault-pull"
    register(ecs, "web", image=image, sidecar=True)
    create_service(ecs, "web", "web", 1)
    service = wait_service(ecs, "web", lambda s: primary(s)["failedTasks"] >= 1, "a failure")
    [task] = [t for t in service_tasks(ecs, "web", "STOPPED")][:1]
    message = PULL_ERROR.format(image=image)
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == message
    assert "startedAt" not in task
    assert ms(task["stoppedAt"]) - ms(task["createdAt"]) == 200
    app, side = task["containers"]
    assert app["image"] == image and app["reason"] == message and "exitCode" not in app
    assert "exitCode" not in side and "reason" not in side
    assert not any("unable to place" in m for m in messages(service))


def test_health_fault_task_and_events(ecs):
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "health"}, health_check=True)
    create_service(ecs, "web", "web", 1)
    service = wait_service(ecs, "web", lambda s: primary(s)["failedTasks"] >= 1, "a failure")
    [task] = [t for t in service_tasks(ecs, "web", "STOPPED")][:1]
    tid = task_id(task)
    unhealthy = event(service, rf"\(service web\) \(task {tid}\) failed container health checks\.")
    killed = event(service, rf"\(service web\) has stopped 1 running tasks: \(task {tid}\)\.")
    assert ms(killed["createdAt"]) - ms(unhealthy["createdAt"]) == 10
    assert service["events"].index(killed) < service["events"].index(unhealthy)  # newest first
    assert task["stopCode"] == "ServiceSchedulerInitiated"
    assert task["stoppedReason"] == "Task failed container health checks"
    assert ms(task["stoppedAt"]) - ms(task["startedAt"]) == 200 + 10
    [container] = task["containers"]
    assert container["exitCode"] == 143
    assert container["healthStatus"] == "UNHEALTHY"
    assert task["healthStatus"] == "UNHEALTHY"


def test_hang_fault_stays_pending(ecs):
    register(ecs, "web", image="registry.local/web:fault-hang")
    create_service(ecs, "web", "web", 2)
    time.sleep(1.0)  # well past start + drain
    service = describe(ecs, "web")
    deployment = primary(service)
    assert (deployment["pendingCount"], deployment["runningCount"], deployment["failedTasks"]) == (
        2,
        0,
        0,
    )
    assert deployment["rolloutState"] == "IN_PROGRESS"
    assert [t["lastStatus"] for t in service_tasks(ecs, "web")] == ["PENDING", "PENDING"]
    assert service_tasks(ecs, "web", "STOPPED") == []


def test_healthy_containers_with_health_check_report_healthy(ecs):
    register(ecs, "web", health_check=True, sidecar=True)
    create_service(ecs, "web", "web", 1)
    wait_completed(ecs, "web")
    [task] = service_tasks(ecs, "web")
    assert [c["healthStatus"] for c in task["containers"]] == ["HEALTHY", "UNKNOWN"]


def test_per_task_definition_timing_overrides(ecs):
    register(
        ecs,
        "web",
        env={"DECKHAND_WORLD_START_SECONDS": "0.5", "DECKHAND_WORLD_DRAIN_SECONDS": "0.05"},
    )
    create_service(ecs, "web", "web", 1)
    done = wait_completed(ecs, "web")
    [task] = service_tasks(ecs, "web")
    assert ms(task["startedAt"]) - ms(task["createdAt"]) == 500
    completed = event(done, r".*deployment completed\.")
    assert ms(completed["createdAt"]) - ms(task["startedAt"]) == 50


@pytest.mark.parametrize(
    "container",
    [
        {"environment": [{"name": "DECKHAND_WORLD_FAULT", "value": "explode"}]},
        {"environment": [{"name": "DECKHAND_WORLD_START_SECONDS", "value": "soon"}]},
        {"image": "registry.local/web:fault-nope"},
    ],
)
def test_invalid_fault_settings_are_rejected_at_registration(ecs, container):
    definition = {"name": "app", "image": "registry.local/web:1", "memory": 128, **container}
    with pytest.raises(ClientError) as excinfo:
        ecs.register_task_definition(family="web", containerDefinitions=[definition])
    assert error_code(excinfo) == "ClientException"


# --------------------------------------------------------------------------- circuit breaker


def test_breaker_threshold_for_one_task_is_three_and_no_rollback_without_completed(ecs):
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    # rollback requested, but there is no earlier COMPLETED deployment to roll back to
    create_service(ecs, "web", "web", 1, breaker=(True, True))
    service = wait_service(ecs, "web", lambda s: primary(s)["rolloutState"] == "FAILED", "FAILED")
    deployment = primary(service)
    assert deployment["failedTasks"] == 3
    assert (
        deployment["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    )
    assert messages(service)[0] == (
        f"(service web) (deployment {deployment['id']}) deployment failed: tasks failed to start."
    )
    time.sleep(0.6)  # longer than a replace + start + fail cycle
    later = describe(ecs, "web")
    assert [d["id"] for d in later["deployments"]] == [deployment["id"]]
    assert primary(later)["rolloutState"] == "FAILED" and primary(later)["failedTasks"] == 3
    assert len([m for m in messages(later) if re.fullmatch(started(1), m)]) == 3
    assert not any("rolling back" in m for m in messages(later))
    assert list_all_tasks(ecs, serviceName="web") == []


def test_breaker_threshold_for_seven_tasks_is_four(ecs):
    register(ecs, "web", image="registry.local/web:fault-pull")
    create_service(ecs, "web", "web", 7, breaker=(True, False))
    service = wait_service(ecs, "web", lambda s: primary(s)["rolloutState"] == "FAILED", "FAILED")
    # All seven fail at the same instant; the breaker trips at the fourth and failedTasks stays.
    assert primary(service)["failedTasks"] == 4
    assert len([m for m in messages(service) if "has started" in m]) == 1
    stopped = service_tasks(ecs, "web", "STOPPED")
    assert len(stopped) == 7 and {t["stopCode"] for t in stopped} == {"TaskFailedToStart"}


def test_failed_deployment_without_rollback_keeps_old_tasks(ecs):
    td1 = register(ecs, "web")
    td2 = register(ecs, "web", image="registry.local/web:fault-pull")
    create_service(ecs, "web", td1, 2)
    old = primary(wait_completed(ecs, "web"))
    old_tasks = sorted(task_id(t) for t in service_tasks(ecs, "web"))

    response = ecs.update_service(
        cluster=CLUSTER,
        service="web",
        taskDefinition=td2,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
    )["service"]
    assert response["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": False,
    }
    new_id = primary(response)["id"]

    service = wait_service(ecs, "web", lambda s: primary(s)["rolloutState"] == "FAILED", "FAILED")
    time.sleep(0.5)
    service = describe(ecs, "web")
    new, active = service["deployments"]
    assert (new["id"], new["status"], new["rolloutState"]) == (new_id, "PRIMARY", "FAILED")
    assert new["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert new["failedTasks"] == 3 and new["runningCount"] == 0 and new["pendingCount"] == 0
    assert (active["id"], active["status"], active["rolloutState"]) == (
        old["id"],
        "ACTIVE",
        "COMPLETED",
    )
    assert active["runningCount"] == 2
    assert service["runningCount"] == 2 and service["taskDefinition"] == td2
    assert sorted(task_id(t) for t in service_tasks(ecs, "web")) == old_tasks
    failed_at = messages(service).index(
        f"(service web) (deployment {new_id}) deployment failed: tasks failed to start."
    )
    assert not any("has started" in m for m in messages(service)[:failed_at])


def test_breaker_rolls_back_to_last_completed_deployment(ecs, world):
    td1 = register(ecs, "web")
    td2 = register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    create_service(ecs, "web", td1, 2, breaker=(True, True))
    old = primary(wait_completed(ecs, "web"))
    old_tasks = sorted(task_id(t) for t in service_tasks(ecs, "web"))
    world.post("/_deckhand/config", {"drain_seconds": 1.0})  # time to observe the rollback

    new_id = primary(
        ecs.update_service(cluster=CLUSTER, service="web", taskDefinition=td2)["service"]
    )["id"]
    rolling = wait_service(
        ecs, "web", lambda s: any("rolling back" in m for m in messages(s)), "rollback"
    )
    failed = event(
        rolling,
        rf"\(service web\) \(deployment {new_id}\) deployment failed: tasks failed to start\.",
    )
    back = event(rolling, rf"\(service web\) rolling back to deployment {old['id']}\.")
    assert ms(back["createdAt"]) - ms(failed["createdAt"]) == 1

    [deployment] = rolling["deployments"]  # the failed deployment vanished
    assert deployment["id"] == old["id"]
    assert deployment["createdAt"] == old["createdAt"]
    assert deployment["status"] == "PRIMARY"
    assert deployment["taskDefinition"] == td1 and rolling["taskDefinition"] == td1
    assert deployment["rolloutState"] == "IN_PROGRESS"
    assert deployment["rolloutStateReason"] == (
        f"ECS deployment circuit breaker: rolling back to deploymentId {old['id']}."
    )
    assert deployment["failedTasks"] == 0
    assert list_all_tasks(ecs, startedBy=new_id) == []
    for task in describe_tasks(ecs, list_all_tasks(ecs, startedBy=new_id, desiredStatus="STOPPED")):
        assert task["lastStatus"] == "STOPPED"

    done = wait_completed(ecs, "web", old["id"])
    assert [d["id"] for d in done["deployments"]] == [old["id"]]
    assert primary(done)["rolloutStateReason"] == f"ECS deployment {old['id']} completed."
    assert messages(done)[:2] == [
        "(service web) has reached a steady state.",
        f"(service web) (deployment {old['id']}) deployment completed.",
    ]
    # The old deployment's tasks kept running through the failed rollout and the rollback.
    assert sorted(task_id(t) for t in service_tasks(ecs, "web")) == old_tasks


def test_rollback_to_a_faulty_revision_fails_without_second_rollback(ecs):
    # A deployment of a crashing revision can only complete with no tasks (desiredCount 0).
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "exit"})
    register(ecs, "web", image="registry.local/web:fault-pull")
    create_service(ecs, "web", "web:1", 0, breaker=(True, True))
    old = primary(wait_completed(ecs, "web"))

    ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web:2", desiredCount=1)
    service = wait_service(
        ecs,
        "web",
        lambda s: len(s["deployments"]) == 1
        and primary(s)["id"] == old["id"]
        and primary(s)["rolloutState"] == "FAILED",
        "the rollback deployment FAILED",
    )
    deployment = primary(service)
    assert deployment["failedTasks"] == 3
    assert (
        deployment["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    )
    assert len([m for m in messages(service) if "rolling back" in m]) == 1
    assert len([m for m in messages(service) if "deployment failed" in m]) == 2
    assert messages(service)[0] == (
        f"(service web) (deployment {old['id']}) deployment failed: tasks failed to start."
    )
    stopped = service_tasks(ecs, "web", "STOPPED")
    assert {t["stopCode"] for t in stopped} == {"TaskFailedToStart", "EssentialContainerExited"}


# --------------------------------------------------------------------------- concurrency


def test_interleaved_deployments_newest_primary_wins(ecs, world):
    register(ecs, "web")
    register(ecs, "web", env={"DECKHAND_WORLD_START_SECONDS": "30"})
    register(ecs, "web", image="registry.local/web:3")
    create_service(ecs, "web", "web:1", 1)
    first = primary(wait_completed(ecs, "web"))

    other = make_ecs(world.url)
    errors: list[BaseException] = []
    stop = threading.Event()

    def watcher() -> None:  # a third client polling all along
        client = make_ecs(world.url)
        try:
            while not stop.is_set():
                client.describe_services(cluster=CLUSTER, services=["web"])
                arns = client.list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
                if arns:
                    client.describe_tasks(cluster=CLUSTER, tasks=arns)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=watcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        second = primary(
            ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")["service"]
        )
        third_view = other.update_service(cluster=CLUSTER, service="web", taskDefinition="web:3")[
            "service"
        ]
        third = primary(third_view)
        assert [(d["id"], d["status"]) for d in third_view["deployments"]] == [
            (third["id"], "PRIMARY"),
            (second["id"], "ACTIVE"),
            (first["id"], "ACTIVE"),
        ]
        assert third_view["deployments"][1]["rolloutState"] == "IN_PROGRESS"
        done = wait_completed(ecs, "web", third["id"])
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert [d["id"] for d in done["deployments"]] == [third["id"]]
    drained = event(done, r"\(service web\) has stopped 2 running tasks: .*")
    for task in describe_tasks(ecs, ids_in(drained["message"])):
        assert task["startedBy"] in (first["id"], second["id"])
        assert task["stoppedReason"] == f"Scaling activity initiated by (deployment {third['id']})"


# --------------------------------------------------------------------------- tasks and listings


def test_list_tasks_filters_and_paging(ecs):
    register(ecs, "web")
    register(ecs, "api")
    # A standalone task that keeps running for the whole test (standalone_tasks.py).
    register(ecs, "job", env={"DECKHAND_WORLD_RUN_SECONDS": "600"})
    create_service(ecs, "web", "web", 3)
    create_service(ecs, "api", "api", 1)
    [run_task] = ecs.run_task(cluster=CLUSTER, taskDefinition="job", launchType="FARGATE")["tasks"]
    web_id = primary(wait_completed(ecs, "web"))["id"]
    wait_completed(ecs, "api")

    assert len(list_all_tasks(ecs, serviceName="web")) == 3
    assert len(list_all_tasks(ecs, serviceName="api")) == 1
    assert list_all_tasks(ecs, family="job") == [run_task["taskArn"]]
    assert len(list_all_tasks(ecs, family="web")) == 3
    assert len(list_all_tasks(ecs, startedBy=web_id)) == 3
    assert list_all_tasks(ecs, desiredStatus="STOPPED") == []

    first_page = ecs.list_tasks(cluster=CLUSTER, maxResults=2)
    assert len(first_page["taskArns"]) == 2 and first_page["nextToken"]
    everything = list_all_tasks(ecs, maxResults=2)
    assert len(everything) == 5 == len(set(everything))
    assert run_task["taskArn"] in everything

    with pytest.raises(ClientError) as excinfo:
        ecs.list_tasks(cluster=CLUSTER, nextToken="garbage")
    assert error_code(excinfo) == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        ecs.list_tasks(cluster="nope")
    assert error_code(excinfo) == "ClusterNotFoundException"


def test_describe_tasks_reports_missing_and_finds_standalone_tasks(ecs):
    register(ecs, "web")
    register(ecs, "job")
    create_service(ecs, "web", "web", 1)
    [run_task] = ecs.run_task(cluster=CLUSTER, taskDefinition="job", launchType="FARGATE")["tasks"]
    [service_task] = list_all_tasks(ecs, serviceName="web")
    missing = "0123456789abcdef0123456789abcdef"
    answer = ecs.describe_tasks(
        cluster=CLUSTER, tasks=[service_task.rsplit("/", 1)[-1], run_task["taskArn"], missing]
    )
    assert [t["taskArn"] for t in answer["tasks"]] == [service_task, run_task["taskArn"]]
    assert answer["failures"] == [
        {"arn": f"arn:aws:ecs:us-east-1:123456789012:task/c/{missing}", "reason": "MISSING"}
    ]
    assert answer["tasks"][1]["group"] == "family:job"


def test_stop_task_is_user_initiated_and_replaced(ecs):
    register(ecs, "web")
    create_service(ecs, "web", "web", 1)
    wait_completed(ecs, "web")
    [arn] = list_all_tasks(ecs, serviceName="web")
    stopped = ecs.stop_task(cluster=CLUSTER, task=arn, reason="testing")["task"]
    assert (stopped["lastStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "UserInitiated",
        "testing",
    )
    service = wait_service(ecs, "web", lambda s: s["runningCount"] == 1, "a replacement running")
    assert re.fullmatch(started(1), event(service, r".*has started 1 tasks.*")["message"])
    assert primary(service)["failedTasks"] == 0
    [replacement] = list_all_tasks(ecs, serviceName="web")
    assert replacement != arn


def test_list_task_definitions_sort_family_and_paging(ecs):
    for family, count in (("a", 3), ("ab", 1), ("b", 2)):
        for _ in range(count):
            register(ecs, family)
    names = lambda arns: [arn.rsplit("/", 1)[-1] for arn in arns]  # noqa: E731

    assert names(ecs.list_task_definitions(familyPrefix="a")["taskDefinitionArns"]) == [
        "a:1",
        "a:2",
        "a:3",
    ]
    everything_desc = names(ecs.list_task_definitions(sort="DESC")["taskDefinitionArns"])
    assert everything_desc == ["b:2", "b:1", "ab:1", "a:3", "a:2", "a:1"]

    pages, kwargs = [], {"sort": "ASC", "maxResults": 4}
    while True:
        page = ecs.list_task_definitions(**kwargs)
        pages.append(names(page["taskDefinitionArns"]))
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert pages == [["a:1", "a:2", "a:3", "ab:1"], ["b:1", "b:2"]]

    ecs.deregister_task_definition(taskDefinition="a:2")
    assert names(ecs.list_task_definitions(familyPrefix="a")["taskDefinitionArns"]) == [
        "a:1",
        "a:3",
    ]
    assert names(ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"]) == ["a:2"]


def test_events_are_capped_at_100_newest_first(ecs, world):
    world.post(
        "/_deckhand/config",
        {"task_start_seconds": 0.01, "task_fail_seconds": 0.01, "replace_seconds": 0.01},
    )
    register(ecs, "web", env={"DECKHAND_WORLD_FAULT": "health"})
    create_service(ecs, "web", "web", 1)
    service = wait_service(ecs, "web", lambda s: primary(s)["failedTasks"] >= 40, "40 failures")
    assert len(service["events"]) == 100
    times = [ms(e["createdAt"]) for e in service["events"]]
    assert times == sorted(times, reverse=True)
    assert len({e["id"] for e in service["events"]}) == 100


def test_aws_cli_sees_the_rollout_fields(ecs, world):
    register(ecs, "web")
    create_service(ecs, "web", "web", 1, breaker=(True, True))
    wait_completed(ecs, "web")
    aws = Path(sys.executable).with_name("aws")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    output = subprocess.run(
        [
            str(aws),
            "--endpoint-url",
            world.url,
            "ecs",
            "describe-services",
            "--cluster",
            CLUSTER,
            "--services",
            "web",
        ],
        check=True,
        capture_output=True,
        env=env,
        text=True,
    ).stdout
    [service] = json.loads(output)["services"]
    [deployment] = service["deployments"]
    assert deployment["rolloutState"] == "COMPLETED"
    assert deployment["rolloutStateReason"].endswith("completed.")
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    assert service["events"][0]["message"] == "(service web) has reached a steady state."
    assert {"id", "createdAt", "message"} <= set(service["events"][0])


def test_moto_reset_clears_the_simulation(ecs, world):
    register(ecs, "web")
    create_service(ecs, "web", "web", 1)
    world.post("/moto-api/reset", {})
    assert ecs.list_clusters()["clusterArns"] == []
    ecs.create_cluster(clusterName=CLUSTER)
    assert ecs.describe_services(cluster=CLUSTER, services=["web"])["services"] == []
    assert list_all_tasks(ecs) == []
