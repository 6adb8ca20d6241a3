"""Standalone tasks (RunTask): they run to completion with a chosen exit code, write their log
lines where the awslogs driver would, and fail to start the way ECS says (world/README.md,
"Standalone tasks")."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from helpers import CLUSTER, describe_tasks, make_client, ms, wait_for

def register_job(
    ecs,
    family: str,
    env: dict[str, str] | None = None,
    log_group: str | None = None,
    create_group: bool = True,
    network_mode: str | None = None,
    sidecar: bool = False,
) -> str:
    app: dict[str, Any] = {"name": "app", "image": "registry.local/job:1", "memory": 128}
    if env:
        app["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    if log_group:
        options = {"awslogs-group": log_group, "awslogs-stream-prefix": "run"}
        if create_group:
            options["awslogs-create-group"] = "true"
        app["logConfiguration"] = {"logDriver": "awslogs", "options": options}
    containers = [app]
    if sidecar:
        containers.append(
            {"name": "side", "image": "registry.local/side:1", "memory": 64, "essential": False}
        )
    kwargs: dict[str, Any] = {}
    if network_mode:
        kwargs["networkMode"] = network_mode
    td = ecs.register_task_definition(family=family, containerDefinitions=containers, **kwargs)
    return td["taskDefinition"]["taskDefinitionArn"]


def run(ecs, task_definition: str, **kwargs: Any) -> list[dict[str, Any]]:
    answer = ecs.run_task(cluster=CLUSTER, taskDefinition=task_definition, **kwargs)
    assert answer["failures"] == []
    return answer["tasks"]


def wait_stopped(ecs, arns: list[str]) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        tasks = describe_tasks(ecs, arns)
        return tasks if all(t["lastStatus"] == "STOPPED" for t in tasks) else None

    return wait_for(probe, what="tasks stopped")


def env_override(container: str, **env: str) -> dict[str, Any]:
    return {
        "containerOverrides": [
            {"name": container, "environment": [{"name": k, "value": v} for k, v in env.items()]}
        ]
    }


def log_messages(world, group: str, stream: str) -> list[str]:
    logs = make_client("logs", world.url)
    events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    return [e["message"] for e in events]


@pytest.fixture
def runs(ecs):
    """The reset world's ECS client; FAST runs tasks for 0.3 s."""
    return ecs


def test_a_task_runs_to_completion_and_exits_0(runs):
    td = register_job(runs, "job")
    [task] = run(runs, td, startedBy="deckhand-run", launchType="FARGATE")
    assert task["lastStatus"] == "PENDING"
    assert task["startedBy"] == "deckhand-run"
    assert task["group"] == "family:job"
    assert task["launchType"] == "FARGATE"
    running = wait_for(
        lambda: (t := describe_tasks(runs, [task["taskArn"]])[0])["lastStatus"] == "RUNNING" and t,
        what="running",
    )
    assert running["containers"][0]["lastStatus"] == "RUNNING"
    [stopped] = wait_stopped(runs, [task["taskArn"]])
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["desiredStatus"] == "STOPPED"
    assert [c["exitCode"] for c in stopped["containers"]] == [0]
    # Exact simulated durations: 0.2 s to start (FAST), 0.3 s of running.
    assert ms(stopped["startedAt"]) - ms(stopped["createdAt"]) == 200
    assert ms(stopped["stoppedAt"]) - ms(stopped["startedAt"]) == 300
    listed = runs.list_tasks(cluster=CLUSTER, startedBy="deckhand-run", desiredStatus="STOPPED")
    assert listed["taskArns"] == [task["taskArn"]]
    assert runs.list_tasks(cluster=CLUSTER, startedBy="deckhand-run")["taskArns"] == []


def test_an_environment_override_chooses_the_exit_code_and_the_log_lines(world, runs):
    td = register_job(runs, "migrate", log_group="/ecs/migrate", sidecar=True)
    overrides = env_override(
        "app", DECKHAND_WORLD_EXIT_CODE="3", DECKHAND_WORLD_LOG_LINES="applying 0042\nboom"
    )
    overrides["containerOverrides"][0]["command"] = ["migrate", "--all"]
    tasks = run(runs, td, count=2, overrides=overrides)
    assert len(tasks) == 2
    assert tasks[0]["overrides"]["containerOverrides"][0]["command"] == ["migrate", "--all"]
    stopped = wait_stopped(runs, [t["taskArn"] for t in tasks])
    for task in stopped:
        assert task["stopCode"] == "EssentialContainerExited"
        exits = {c["name"]: c.get("exitCode") for c in task["containers"]}
        assert exits == {"app": 3, "side": 0}
        task_id = task["taskArn"].split("/")[-1]
        assert log_messages(world, "/ecs/migrate", f"run/app/{task_id}") == [
            "applying 0042",
            "boom",
        ]
    # The same task definition without the override succeeds.
    [ok] = wait_stopped(runs, [run(runs, td)[0]["taskArn"]])
    assert {c["name"]: c["exitCode"] for c in ok["containers"]} == {"app": 0, "side": 0}


def test_a_missing_log_group_that_may_not_be_created_fails_the_start(world, runs):
    td = register_job(
        runs, "nolog", env={"DECKHAND_WORLD_LOG_LINES": "hi"}, log_group="/ecs/absent",
        create_group=False,
    )
    [stopped] = wait_stopped(runs, [run(runs, td)[0]["taskArn"]])
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("ResourceInitializationError: ")
    assert "The specified log group does not exist." in stopped["stoppedReason"]
    assert "exitCode" not in stopped["containers"][0]
    assert "startedAt" not in stopped
    # Once the group exists, the same task definition runs and writes into it.
    make_client("logs", world.url).create_log_group(logGroupName="/ecs/absent")
    [ok] = wait_stopped(runs, [run(runs, td)[0]["taskArn"]])
    assert ok["stopCode"] == "EssentialContainerExited"
    task_id = ok["taskArn"].split("/")[-1]
    assert log_messages(world, "/ecs/absent", f"run/app/{task_id}") == ["hi"]


def test_a_pull_fault_never_starts(runs):
    td = register_job(runs, "job")
    overrides = env_override("app", DECKHAND_WORLD_FAULT="pull")
    [stopped] = wait_stopped(runs, [run(runs, td, overrides=overrides)[0]["taskArn"]])
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError: ")
    assert stopped["containers"][0]["reason"] == stopped["stoppedReason"]
    assert "exitCode" not in stopped["containers"][0]


def test_stop_task_stops_pending_and_running_tasks_as_the_user_asked(runs):
    hung = register_job(runs, "hung", env={"DECKHAND_WORLD_FAULT": "hang"})
    slow = register_job(runs, "slow", env={"DECKHAND_WORLD_RUN_SECONDS": "60"})
    [pending] = run(runs, hung)
    [running] = run(runs, slow)
    wait_for(
        lambda: describe_tasks(runs, [running["taskArn"]])[0]["lastStatus"] == "RUNNING",
        what="running",
    )
    assert describe_tasks(runs, [pending["taskArn"]])[0]["lastStatus"] == "PENDING"
    for task in (pending, running):
        runs.stop_task(cluster=CLUSTER, task=task["taskArn"], reason="deckhand ecs run: SIGTERM")
    stopped_pending, stopped_running = describe_tasks(
        runs, [pending["taskArn"], running["taskArn"]]
    )
    for task in (stopped_pending, stopped_running):
        assert task["lastStatus"] == "STOPPED"
        assert task["stopCode"] == "UserInitiated"
        assert task["stoppedReason"] == "deckhand ecs run: SIGTERM"
    assert "exitCode" not in stopped_pending["containers"][0]
    assert stopped_running["containers"][0]["exitCode"] == 143


def test_network_configuration_shows_as_the_eni_attachment(runs):
    td = register_job(runs, "vpc", network_mode="awsvpc")
    with pytest.raises(ClientError, match="Network Configuration must be provided"):
        runs.run_task(cluster=CLUSTER, taskDefinition=td)
    network = {"awsvpcConfiguration": {"subnets": ["subnet-123"], "securityGroups": ["sg-1"]}}
    [task] = run(runs, td, networkConfiguration=network, launchType="FARGATE", platformVersion="1.4.0")
    [attachment] = task["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert attachment["type"] == "ElasticNetworkInterface"
    assert details["subnetId"] == "subnet-123"
    assert task["platformVersion"] == "1.4.0"


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"overrides": env_override("nope", A="1")}, "Override for container named nope"),
        ({"overrides": env_override("app", DECKHAND_WORLD_EXIT_CODE="x")}, "DECKHAND_WORLD_EXIT_CODE"),
        ({"overrides": env_override("app", DECKHAND_WORLD_FAULT="boom")}, "DECKHAND_WORLD_FAULT"),
        ({"count": 11}, "count must be between 1 and 10"),
        ({"taskDefinition": "unknown-family"}, "Unable to describe task definition"),
    ],
)
def test_a_refused_run_task_starts_nothing(runs, kwargs, error):
    td = register_job(runs, "job")
    arguments = {"cluster": CLUSTER, "taskDefinition": td, **kwargs}
    with pytest.raises(ClientError, match=error):
        runs.run_task(**arguments)
    for status in ("RUNNING", "STOPPED"):
        assert runs.list_tasks(cluster=CLUSTER, desiredStatus=status)["taskArns"] == []


def test_an_inactive_revision_cannot_run_and_a_bad_exit_code_cannot_register(runs):
    td = register_job(runs, "old")
    runs.deregister_task_definition(taskDefinition=td)
    with pytest.raises(ClientError, match="TaskDefinition is inactive"):
        runs.run_task(cluster=CLUSTER, taskDefinition=td)
    with pytest.raises(ClientError, match="DECKHAND_WORLD_EXIT_CODE must be an integer"):
        register_job(runs, "bad", env={"DECKHAND_WORLD_EXIT_CODE": "300"})
