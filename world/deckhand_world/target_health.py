"""Load balancer target health for simulated service tasks, and a URL per service that answers
with what its running tasks run.

moto 5.2.5's elbv2 stores targets but answers `healthy` for every registered target, and its ECS
never registers a service's tasks anywhere. Here, a service created with `loadBalancers`
({targetGroupArn, containerName, containerPort}) gets each task registered as an `ip` target
(the task's private IP, port = containerPort) in each target group when the task reaches
RUNNING, and deregistered when it stops. DescribeTargetHealth then answers `initial` for
`health_check_seconds` after registration, and after that the health the task's definition
chose with DECKHAND_WORLD_TARGET_HEALTH:

    healthy      (default) `healthy`
    unhealthy    `unhealthy`, Target.ResponseCodeMismatch ("Health checks failed with these
                 codes: [STATUS]", STATUS the definition's DECKHAND_WORLD_HTTP_STATUS, else 500)
    unreachable  `unhealthy`, Target.FailedHealthChecks ("Health checks failed")

Every simulated task gets a private IPv4 address (10.0.x.y), shown in DescribeTasks as ECS shows
an awsvpc task's: an `ElasticNetworkInterface` attachment with `privateIPv4Address`, and each
container's `networkInterfaces[].privateIpv4Address`.

`GET /_deckhand/app/CLUSTER/SERVICE` (control API) answers as the service would behind its load
balancer: each request goes to the next RUNNING task of the service (round robin over every
deployment's tasks, so during a rollout old and new revisions both answer), with the status of
that task's DECKHAND_WORLD_HTTP_STATUS (default 200) and the body DECKHAND_WORLD_HTTP_BODY
(default `FAMILY:REVISION`), plus the headers `X-Deckhand-Task` and
`X-Deckhand-Task-Definition`. With no running task it answers 503, as a load balancer with no
healthy target does.

Callers hold `ecs_rollouts.LOCK` (the simulation's lock) for everything here.
"""

from __future__ import annotations

import itertools
from typing import Any

from moto.ecs import models as ecs_models
from moto.ecs.exceptions import EcsClientException
from moto.elbv2 import models as elbv2_models
from moto.elbv2 import responses as elbv2_responses

TARGET_HEALTH_ENV = "DECKHAND_WORLD_TARGET_HEALTH"
HTTP_STATUS_ENV = "DECKHAND_WORLD_HTTP_STATUS"
HTTP_BODY_ENV = "DECKHAND_WORLD_HTTP_BODY"
TARGET_HEALTH_MODES = ("healthy", "unhealthy", "unreachable")

# Private addresses handed out to tasks, never reused while the world runs: 10.0.0.2 onwards.
_addresses = itertools.count(2)
# Registered targets: IP -> the task behind it.
_tasks_by_ip: dict[str, Any] = {}
# Round-robin position per service (cluster:name).
_next_task: dict[str, int] = {}
_original: dict[str, Any] = {}


def _environment(definitions: list[dict[str, Any]], name: str) -> tuple[str, str] | None:
    """(value, container name) of the first container that sets `name`."""
    for container in definitions:
        for pair in container.get("environment") or []:
            if isinstance(pair, dict) and pair.get("name") == name:
                return str(pair.get("value", "")), str(container.get("name"))
    return None


def check_definitions(definitions: list[dict[str, Any]]) -> None:
    """RegisterTaskDefinition: a mistyped knob must not pass for a healthy revision."""
    health = _environment(definitions, TARGET_HEALTH_ENV)
    if health is not None and health[0] not in TARGET_HEALTH_MODES:
        raise EcsClientException(
            f"{TARGET_HEALTH_ENV} must be one of {', '.join(TARGET_HEALTH_MODES)}, "
            f"got '{health[0]}' (container '{health[1]}')."
        )
    status = _environment(definitions, HTTP_STATUS_ENV)
    if status is not None and _http_status(status[0]) is None:
        raise EcsClientException(
            f"{HTTP_STATUS_ENV} must be an HTTP status from 100 to 599, got '{status[0]}' "
            f"(container '{status[1]}')."
        )


def _http_status(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 100 <= value <= 599 else None


def _task_http_status(task: Any) -> int:
    found = _environment(task.deployment.td.container_definitions, HTTP_STATUS_ENV)
    return _http_status(found[0]) if found is not None else 200  # type: ignore[return-value]


def _revision_name(task: Any) -> str:
    return task.task_definition_arn.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- task hooks (sim.py)


def task_created(service: Any, task: Any) -> None:
    """Gives a new task its private address, shown as ECS shows an awsvpc task's."""
    n = next(_addresses)
    task.private_ip = f"10.0.{(n // 250) % 256}.{n % 250 + 2}"
    task.deckhand_service = service
    task.deckhand_targets = []  # (target group ARN, port) it is registered in
    eni = f"eni-{task.id[:17]}"
    task.attachments = [
        {
            "id": task.id[:8] + "-attachment",
            "type": "ElasticNetworkInterface",
            "status": "ATTACHED",
            "details": [
                {"name": "subnetId", "value": "subnet-deckhandworld"},
                {"name": "networkInterfaceId", "value": eni},
                {"name": "privateIPv4Address", "value": task.private_ip},
            ],
        }
    ]
    for container in task.containers:
        container.network_interfaces = [
            {"attachmentId": task.attachments[0]["id"], "privateIpv4Address": task.private_ip}
        ]


def _target_group(service: Any, arn: str) -> Any:
    backend = elbv2_models.elbv2_backends[service._account_id][service.region_name]
    return backend.target_groups.get(arn)


def task_running(task: Any, when: float) -> None:
    """Registers the task in every target group of its service (ECS does it once RUNNING)."""
    service = getattr(task, "deckhand_service", None)
    if service is None:
        return
    for lb in getattr(service, "load_balancers", None) or []:
        arn = lb.get("targetGroupArn")
        group = _target_group(service, arn) if arn else None
        if group is None:
            continue  # classic load balancers, or a target group deleted since
        port = int(lb.get("containerPort") or group.port or 80)
        group.register([{"Id": task.private_ip, "Port": port}])
        task.deckhand_targets.append((arn, port))
    task.deckhand_registered_at = when
    if task.deckhand_targets:
        _tasks_by_ip[task.private_ip] = task


def task_stopped(task: Any) -> None:
    """Deregisters a stopping task (no deregistration delay is modelled)."""
    service = getattr(task, "deckhand_service", None)
    for arn, port in getattr(task, "deckhand_targets", []):
        group = _target_group(service, arn)
        if group is not None and task.private_ip in group.targets:
            group.deregister([{"Id": task.private_ip, "Port": port}])
    if service is not None:
        task.deckhand_targets = []
        _tasks_by_ip.pop(task.private_ip, None)
        for attachment in task.attachments:
            attachment["status"] = "DELETED"


# --------------------------------------------------------------------------- elbv2 patches


def _health(task: Any, now: float) -> tuple[str, str | None, str | None]:
    timings = task.profile.timings()
    if now - task.deckhand_registered_at < timings["health_check_seconds"]:
        return "initial", "Elb.RegistrationInProgress", "Target registration is in progress"
    found = _environment(task.deployment.td.container_definitions, TARGET_HEALTH_ENV)
    mode = found[0] if found is not None and found[0] else "healthy"
    if mode == "unhealthy":
        status = _task_http_status(task)
        code = status if not 200 <= status < 400 else 500
        return (
            "unhealthy",
            "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{code}]",
        )
    if mode == "unreachable":
        return "unhealthy", "Target.FailedHealthChecks", "Health checks failed"
    return "healthy", None, None


def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
    answer = _original["health_for"](self, target, ec2_backend)
    registered = self.targets.get(target["Id"])
    task = _tasks_by_ip.get(target["Id"])
    if registered is None or task is None:
        return answer
    from . import sim

    state, reason, description = _health(task, sim.now())
    return elbv2_models.FakeHealthStatus(
        registered["Id"], registered["Port"], self.health_check_port, state, reason, description
    )


def response_describe_target_health(self: Any) -> Any:
    # The simulation advances lazily, on ECS and control requests: bring it to now first, so
    # that tasks started or stopped since the last ECS call are (de)registered.
    from .ecs_rollouts import LOCK, advance_all

    with LOCK:
        advance_all()
        return _original["response_describe_target_health"](self)


# --------------------------------------------------------------------------- the app URL


def app_answer(cluster: str, service_name: str) -> tuple[int, str, dict[str, str]]:
    """(status, body, headers) of `GET /_deckhand/app/CLUSTER/SERVICE`."""
    service = _find_service(cluster, service_name)
    if service is None:
        return 404, f"no service `{service_name}` in cluster `{cluster}`\n", {}
    simulation = getattr(service, "deckhand_sim", None)
    serving = [
        task
        for deployment in (simulation.deployments if simulation is not None else [])
        for task in deployment.sim_tasks
        if task.live and task.last_status == "RUNNING"
    ]
    if not serving:
        return 503, f"service `{service_name}` has no running task\n", {}
    serving.sort(key=lambda t: (t._created, t.id))
    key = f"{cluster}:{service_name}"
    position = _next_task.get(key, 0)
    _next_task[key] = position + 1
    task = serving[position % len(serving)]
    revision = _revision_name(task)
    body = _environment(task.deployment.td.container_definitions, HTTP_BODY_ENV)
    headers = {"X-Deckhand-Task": task.id, "X-Deckhand-Task-Definition": revision}
    return _task_http_status(task), (body[0] if body is not None else revision) + "\n", headers


def _find_service(cluster: str, name: str) -> Any:
    for account_backends in list(ecs_models.ecs_backends.values()):
        for backend in list(account_backends.values()):
            service = backend.services.get(f"{cluster}:{name}")
            if service is not None and service.status == "ACTIVE":
                return service
    return None


def install() -> None:
    """Applies the elbv2 patches (idempotent)."""
    if _original:
        return
    _original["health_for"] = elbv2_models.FakeTargetGroup.health_for
    elbv2_models.FakeTargetGroup.health_for = health_for
    response = elbv2_responses.ELBV2Response
    _original["response_describe_target_health"] = response.describe_target_health
    response.describe_target_health = response_describe_target_health
