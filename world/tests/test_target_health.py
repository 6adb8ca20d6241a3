"""Load balancer target health of simulated tasks (moto's elbv2, patched by target_health.py)
and the per-service app URL, driven through boto3 against a deckhand-world subprocess.

Timings come from helpers.FAST: tasks start in 200 ms, a registered target is `initial` for
200 ms (health_check_seconds), the drain takes 300 ms.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from helpers import (
    CLUSTER,
    describe_tasks,
    list_all_tasks,
    make_client,
    primary,
    register,
    service_tasks,
    task_id,
    wait_completed,
    wait_for,
)


@pytest.fixture
def elbv2(world, ecs):
    return make_client("elbv2", world.url)


def target_group(elbv2, name: str = "web-tg", port: int = 8080) -> str:
    ec2 = make_client("ec2", elbv2.meta.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    answer = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=port, VpcId=vpc, TargetType="ip"
    )
    return answer["TargetGroups"][0]["TargetGroupArn"]


def create_lb_service(ecs, name: str, td: str, desired: int, groups: list[str]) -> None:
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=td,
        desiredCount=desired,
        loadBalancers=[
            {"targetGroupArn": arn, "containerName": "app", "containerPort": 8080}
            for arn in groups
        ],
    )


def health(elbv2, arn: str) -> dict[str, dict]:
    answer = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: d for d in answer}


def task_ip(task: dict) -> str:
    [attachment] = task["attachments"]
    assert attachment["type"] == "ElasticNetworkInterface"
    details = {d["name"]: d["value"] for d in attachment["details"]}
    return details["privateIPv4Address"]


def get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_tasks_have_private_ips_like_awsvpc_tasks(ecs):
    register(ecs, "web")
    ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition="web", desiredCount=2)
    wait_completed(ecs, "web")
    tasks = service_tasks(ecs, "web")
    ips = {task_ip(t) for t in tasks}
    assert len(ips) == 2
    for task in tasks:
        for container in task["containers"]:
            assert container["networkInterfaces"][0]["privateIpv4Address"] == task_ip(task)
        assert task_ip(task).startswith("10.0.")


def test_running_tasks_become_targets_initial_then_healthy(ecs, elbv2):
    arn = target_group(elbv2)
    register(ecs, "web")
    create_lb_service(ecs, "web", "web", 2, [arn])
    assert health(elbv2, arn) == {}  # PENDING tasks are not registered yet

    def registered():
        found = health(elbv2, arn)
        return found if len(found) == 2 else None

    first = wait_for(registered, what="2 targets")
    ips = {task_ip(t) for t in service_tasks(ecs, "web")}
    assert set(first) == ips
    for described in first.values():
        assert described["Target"]["Port"] == 8080
        if described["TargetHealth"]["State"] == "initial":
            assert described["TargetHealth"]["Reason"] == "Elb.RegistrationInProgress"

    def all_healthy():
        found = health(elbv2, arn)
        states = {d["TargetHealth"]["State"] for d in found.values()}
        return found if states == {"healthy"} and len(found) == 2 else None

    wait_for(all_healthy, what="healthy targets")


@pytest.mark.parametrize(
    ("mode", "env", "reason", "description"),
    [
        (
            "unhealthy",
            {"DECKHAND_WORLD_HTTP_STATUS": "502"},
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [502]",
        ),
        ("unhealthy", {}, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]"),
        ("unreachable", {}, "Target.FailedHealthChecks", "Health checks failed"),
    ],
)
def test_the_task_definition_chooses_unhealthy(ecs, elbv2, mode, env, reason, description):
    arn = target_group(elbv2)
    register(ecs, "web", env={"DECKHAND_WORLD_TARGET_HEALTH": mode, **env})
    create_lb_service(ecs, "web", "web", 1, [arn])

    def unhealthy():
        found = list(health(elbv2, arn).values())
        return found if found and found[0]["TargetHealth"]["State"] == "unhealthy" else None

    [described] = wait_for(unhealthy, what="an unhealthy target")
    assert described["TargetHealth"]["Reason"] == reason
    assert described["TargetHealth"]["Description"] == description
    # The ECS rollout does not wait for target health here (see world/README.md).
    wait_completed(ecs, "web")


def test_a_rollout_moves_the_targets_and_stopped_tasks_leave(ecs, elbv2):
    first, second = target_group(elbv2, "a"), target_group(elbv2, "b", 9090)
    register(ecs, "web")
    create_lb_service(ecs, "web", "web", 1, [first, second])
    wait_completed(ecs, "web")
    [old] = service_tasks(ecs, "web")
    wait_for(lambda: task_ip(old) in health(elbv2, second), what="old task in both groups")

    td2 = register(ecs, "web", image="registry.local/web:2")
    deployment = ecs.update_service(cluster=CLUSTER, service="web", taskDefinition=td2)
    new_id = primary(deployment["service"])["id"]
    wait_completed(ecs, "web", new_id)
    [new] = service_tasks(ecs, "web")
    assert new["taskDefinitionArn"] == td2
    for arn in (first, second):
        assert set(health(elbv2, arn)) == {task_ip(new)}
        # Asked by name, the stopped task's target is no longer registered.
        [gone] = elbv2.describe_target_health(
            TargetGroupArn=arn, Targets=[{"Id": task_ip(old)}]
        )["TargetHealthDescriptions"]
        assert gone["TargetHealth"]["State"] == "unused"
    stopped = describe_tasks(ecs, list_all_tasks(ecs, serviceName="web", desiredStatus="STOPPED"))
    assert [task_id(t) for t in stopped] == [task_id(old)]
    assert stopped[0]["attachments"][0]["status"] == "DELETED"


def test_the_app_url_answers_with_the_running_revision(ecs, world):
    register(ecs, "web")
    ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition="web", desiredCount=2)
    url = f"{world.url}/_deckhand/app/{CLUSTER}/web"
    status, body, _ = get(url)
    assert (status, body) == (503, "service `web` has no running task\n")
    wait_completed(ecs, "web")
    answers = [get(url) for _ in range(4)]
    assert {(s, b) for s, b, _ in answers} == {(200, "web:1\n")}
    # Round robin over the running tasks.
    assert len({h["X-Deckhand-Task"] for _, _, h in answers}) == 2
    assert {h["X-Deckhand-Task-Definition"] for _, _, h in answers} == {"web:1"}

    td2 = register(
        ecs,
        "web",
        env={"DECKHAND_WORLD_HTTP_STATUS": "500", "DECKHAND_WORLD_HTTP_BODY": "broken"},
    )
    new_id = primary(ecs.update_service(cluster=CLUSTER, service="web", taskDefinition=td2)["service"])["id"]

    def both_answer():
        seen = {get(url)[:2] for _ in range(4)}
        return seen if seen == {(200, "web:1\n"), (500, "broken\n")} else None

    # During the rollout, old and new tasks both serve.
    wait_for(both_answer, what="old and new revisions answering")
    wait_completed(ecs, "web", new_id)
    assert {get(url)[:2] for _ in range(3)} == {(500, "broken\n")}
    assert get(f"{world.url}/_deckhand/app/{CLUSTER}/nope")[0] == 404
    assert get(f"{world.url}/_deckhand/app/{CLUSTER}")[0] == 404


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DECKHAND_WORLD_TARGET_HEALTH": "sick"}, "DECKHAND_WORLD_TARGET_HEALTH must be one of"),
        ({"DECKHAND_WORLD_HTTP_STATUS": "abc"}, "DECKHAND_WORLD_HTTP_STATUS must be an HTTP status"),
        ({"DECKHAND_WORLD_HTTP_STATUS": "700"}, "DECKHAND_WORLD_HTTP_STATUS must be an HTTP status"),
        ({"DECKHAND_WORLD_HEALTH_CHECK_SECONDS": "-1"}, "finite number >= 0"),
    ],
)
def test_bad_knobs_are_refused_at_registration(ecs, env, message):
    with pytest.raises(ClientError) as excinfo:
        register(ecs, "web", env=env)
    assert excinfo.value.response["Error"]["Code"] == "ClientException"
    assert message in excinfo.value.response["Error"]["Message"]
    assert ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"] == []


def test_the_health_check_time_is_a_timing(ecs, elbv2):
    arn = target_group(elbv2)
    register(ecs, "web", env={"DECKHAND_WORLD_HEALTH_CHECK_SECONDS": "60"})
    create_lb_service(ecs, "web", "web", 1, [arn])
    wait_completed(ecs, "web")
    [described] = health(elbv2, arn).values()
    assert described["TargetHealth"]["State"] == "initial"
