"""Standalone tasks (RunTask) that run to completion, the way `deckhand ecs run` sees ECS run them.

moto 5.2.5's RunTask creates tasks that are RUNNING at once and never stop, needs container
instances for any launch type but FARGATE, writes no logs, and ignores `overrides`. Here RunTask
launches simulated tasks instead: PENDING, RUNNING after `task_start_seconds`, then STOPPED with
`stopCode` `EssentialContainerExited` `task_run_seconds` later, each container with the exit code
its environment asks for (`DECKHAND_WORLD_EXIT_CODE`, default 0), after writing its log lines
(`DECKHAND_WORLD_LOG_LINES`) to moto's CloudWatch Logs where the `awslogs` driver would. The
fault modes of `taskdefs.py` apply as they do to service tasks, as far as a standalone task can
show them. StartTask keeps moto's behaviour.

The environment a container sees is its definition's with `overrides.containerOverrides` applied,
so one task definition can succeed on one run and fail on the next.

Time model: as `sim.py`, a queue of transitions stamped with wall-clock times, applied lazily
before every ECS request (`advance`). One queue per ECS backend, kept on the backend object, so
moto's reset clears it. Callers hold `ecs_rollouts.LOCK`.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from typing import Any, Callable

from moto.ecs.exceptions import EcsClientException, InvalidParameterException
from moto.utilities.utils import get_partition

from . import sim, taskdefs

EXIT_CODE_ENV = "DECKHAND_WORLD_EXIT_CODE"
LOG_LINES_ENV = "DECKHAND_WORLD_LOG_LINES"
# Exit code of a container stopped by StopTask: ECS sends SIGTERM (128 + 15).
SIGTERM_EXIT = 143
MAX_COUNT = 10


def missing_log_group_error(group: str) -> str:
    """ECS's stoppedReason when the awslogs group does not exist and may not be created."""
    return (
        "ResourceInitializationError: failed to validate logger args: create stream has been "
        "retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: "
        f"The specified log group does not exist. : exit status 1 (log group {group})"
    )


def exit_code_of(environment: dict[str, str], container: str) -> int | None:
    """The container's chosen exit code, if its environment names one (0 to 255)."""
    value = environment.get(EXIT_CODE_ENV)
    if value is None or value == "":
        return None
    try:
        code = int(value)
    except ValueError:
        code = -1
    if not 0 <= code <= 255:
        raise EcsClientException(
            f"{EXIT_CODE_ENV} must be an integer from 0 to 255, got '{value}' "
            f"(container '{container}')."
        )
    return code


def _env_dict(pairs: Any) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs or []:
        if isinstance(pair, dict) and "name" in pair:
            env[str(pair["name"])] = str(pair.get("value", ""))
    return env


def effective_definitions(td: Any, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """The container definitions with `containerOverrides` applied (command replaced,
    environment merged by name), as the containers will run. An override for a container the
    task definition does not have is refused, as ECS does."""
    definitions = [dict(d) for d in td.container_definitions]
    by_name = {d.get("name"): d for d in definitions}
    for override in overrides.get("containerOverrides") or []:
        name = override.get("name")
        definition = by_name.get(name)
        if definition is None:
            raise InvalidParameterException(
                f"Override for container named {name} is not a container in the TaskDefinition."
            )
        if override.get("command") is not None:
            definition["command"] = list(override["command"])
        if override.get("environment"):
            env = _env_dict(definition.get("environment"))
            env.update(_env_dict(override["environment"]))
            definition["environment"] = [{"name": k, "value": v} for k, v in env.items()]
        for key in ("cpu", "memory", "memoryReservation"):
            if override.get(key) is not None:
                definition[key] = override[key]
    return definitions


class StandaloneContainer(sim.SimContainer):
    """A container of a standalone task, with what it will do when it runs."""

    def __init__(self, task: "StandaloneTask", definition: dict[str, Any]):
        super().__init__(task, definition)
        environment = _env_dict(definition.get("environment"))
        self._exit_code = exit_code_of(environment, str(self.name))
        lines = environment.get(LOG_LINES_ENV)
        self._log_lines = lines.split("\n") if lines else []
        self._log = _awslogs_options(definition)


def _awslogs_options(definition: dict[str, Any]) -> dict[str, str] | None:
    configuration = definition.get("logConfiguration") or {}
    if configuration.get("logDriver") != "awslogs":
        return None
    return {str(k): str(v) for k, v in (configuration.get("options") or {}).items()}


class StandaloneTask(sim.SimTask):
    """A task started by RunTask (DescribeTasks `tasks[]`), registered in moto's task table."""

    def __init__(self, backend: Any, cluster: Any, td: Any, request: dict[str, Any], when: float):
        # Not SimTask.__init__: there is no service and no deployment.
        self.id = uuid.uuid4().hex
        self.region_name = backend.region_name
        self.account_id = backend.account_id
        self.partition = get_partition(self.region_name)
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.task_arn = (
            f"arn:{self.partition}:ecs:{self.region_name}:{self.account_id}:task/"
            f"{self.cluster_name}/{self.id}"
        )
        self.task_definition_arn = td.arn
        self.group = request.get("group") or f"family:{td.family}"
        self.started_by = request.get("startedBy") or None
        self.launch_type = request.get("launchType") or None
        strategy = request.get("capacityProviderStrategy") or []
        self.capacity_provider_name = strategy[0].get("capacityProvider") if strategy else None
        self.platform_version = request.get("platformVersion") or None
        self.container_instance_arn = None
        overrides = request.get("overrides") or {}
        self.overrides = overrides
        self.cpu = sim._str_or_none(overrides.get("cpu") or td.cpu)
        self.memory = sim._str_or_none(overrides.get("memory") or td.memory)
        self.last_status = "PENDING"
        self.desired_status = "RUNNING"
        self.stop_code: str | None = None
        self.stopped_reason: str | None = None
        self.tags = list(request.get("tags") or [])
        self.attachments = _eni_attachments(request.get("networkConfiguration"))
        self.deployment = None
        definitions = effective_definitions(td, overrides)
        self.profile = taskdefs.profile_of_definitions(definitions)
        self._created = when
        self._started: float | None = None
        self._stopping: float | None = None
        self._stopped: float | None = None
        self.containers = [StandaloneContainer(self, d) for d in definitions]

    @property
    def settled(self) -> bool:
        return False


def _eni_attachments(network_configuration: Any) -> list[dict[str, Any]]:
    """The ENI attachment ECS reports for an awsvpc task: its subnet, a made-up ENI id and
    address (no EC2 network interface is created)."""
    awsvpc = (network_configuration or {}).get("awsvpcConfiguration") or {}
    subnets = awsvpc.get("subnets") or []
    if not subnets:
        return []
    eni = f"eni-{uuid.uuid4().hex[:17]}"
    return [
        {
            "id": str(uuid.uuid4()),
            "type": "ElasticNetworkInterface",
            "status": "ATTACHED",
            "details": [
                {"name": "subnetId", "value": subnets[0]},
                {"name": "networkInterfaceId", "value": eni},
                {"name": "privateIPv4Address", "value": "10.0.0.10"},
            ],
        }
    ]


class StandaloneTasks:
    """The transitions of one backend's standalone tasks (stored as `backend.deckhand_runs`)."""

    def __init__(self, backend: Any):
        self.backend = backend
        self._queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()

    def at(self, when: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), action, args))

    def advance(self, until: float) -> None:
        while self._queue and self._queue[0][0] <= until:
            when, _, action, args = heapq.heappop(self._queue)
            action(when, *args)

    # ------------------------------------------------------------------ API entry points

    def run(self, cluster: Any, td: Any, count: int, request: dict[str, Any]) -> list[Any]:
        when = sim.now()
        tasks = [StandaloneTask(self.backend, cluster, td, request, when) for _ in range(count)]
        cluster_tasks = self.backend.tasks.setdefault(cluster.name, {})
        for task in tasks:
            cluster_tasks[task.task_arn] = task
            self._queue_first_transition(when, task)
        return tasks

    def user_stop(self, when: float, task: StandaloneTask, reason: str | None) -> None:
        """StopTask: running containers get SIGTERM and exit 143; pending ones never ran."""
        if not task.live:
            return
        task.stop(when, "UserInitiated", reason or "Task stopped by user", SIGTERM_EXIT)

    # ------------------------------------------------------------------ transitions

    def _queue_first_transition(self, when: float, task: StandaloneTask) -> None:
        timings = task.profile.timings()
        mode = task.profile.fault.mode if task.profile.fault else None
        if mode == "hang":
            return  # PENDING until someone stops it
        if mode == "pull":
            self.at(when + timings["task_fail_seconds"], self._failed_to_start, task, None)
            return
        missing = self._missing_log_group(task)
        if missing is not None:
            self.at(when + timings["task_fail_seconds"], self._failed_to_start, task, missing)
            return
        self.at(when + timings["task_start_seconds"], self._running, task)

    def _missing_log_group(self, task: StandaloneTask) -> str | None:
        """The awslogs group a container needs that does not exist and may not be created."""
        logs = _logs_backend(task)
        for container in task.containers:
            options = container._log
            if options is None or "awslogs-group" not in options:
                continue
            group = options["awslogs-group"]
            if group not in logs.groups and options.get("awslogs-create-group") != "true":
                return group
        return None

    def _failed_to_start(self, when: float, task: StandaloneTask, missing_group: str | None) -> None:
        if not task.live:
            return
        if missing_group is not None:
            message = missing_log_group_error(missing_group)
            task.stop(when, "TaskFailedToStart", message, exit_code=None)
            return
        message = sim.pull_error(task.profile.fault.image)  # type: ignore[union-attr]
        task.stop(when, "TaskFailedToStart", message, exit_code=None)
        container = task.faulty_container()
        if container is not None:
            container.reason = message

    def _running(self, when: float, task: StandaloneTask) -> None:
        if not task.live or task.last_status != "PENDING":
            return
        task.mark_running(when)
        for container in task.containers:
            self._write_logs(when, task, container)
        timings = task.profile.timings()
        fault = task.profile.fault
        if fault is not None and fault.mode == "health":
            self.at(when + timings["task_fail_seconds"], self._unhealthy, task)
        self.at(when + timings["task_run_seconds"], self._exited, task)

    def _unhealthy(self, when: float, task: StandaloneTask) -> None:
        """No scheduler replaces a standalone task: an unhealthy container is only reported."""
        container = task.faulty_container()
        if task.live and container is not None:
            container.health_status = "UNHEALTHY"

    def _exited(self, when: float, task: StandaloneTask) -> None:
        if not task.live:
            return
        task.stop(when, "EssentialContainerExited", "Essential container in task exited", 0)
        fault = task.profile.fault
        for container in task.containers:
            if container._exit_code is not None:
                container.exit_code = container._exit_code
            elif fault is not None and fault.mode == "exit" and container.name == fault.container:
                container.exit_code = 1

    def _write_logs(self, when: float, task: StandaloneTask, container: StandaloneContainer) -> None:
        options = container._log
        prefix = (options or {}).get("awslogs-stream-prefix")
        group = (options or {}).get("awslogs-group")
        if not container._log_lines or not group or not prefix:
            # Without a prefix the stream is named after the Docker container id, which the
            # world does not model: nothing is written.
            return
        logs = _logs_backend(task, (options or {}).get("awslogs-region"))
        logs.ensure_log_group(group)
        stream = f"{prefix}/{container.name}/{task.id}"
        logs.ensure_log_stream(group, stream)
        millis = int(when * 1000)
        events = [{"timestamp": millis, "message": line} for line in container._log_lines]
        logs.put_log_events(group, stream, events)


def _logs_backend(task: StandaloneTask, region: str | None = None) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[task.account_id][region or task.region_name]


def runs_of(backend: Any) -> StandaloneTasks:
    runs = getattr(backend, "deckhand_runs", None)
    if runs is None:
        runs = StandaloneTasks(backend)
        backend.deckhand_runs = runs
    return runs


def advance(backend: Any, until: float) -> None:
    runs = getattr(backend, "deckhand_runs", None)
    if runs is not None:
        runs.advance(until)


# ---------------------------------------------------------------------- patched backend methods


def run_task(
    self: Any,
    cluster_str: str,
    task_definition_str: str,
    count: int,
    overrides: dict[str, Any] | None,
    started_by: str,
    tags: list[dict[str, str]] | None,
    launch_type: str | None,
    networking_configuration: dict[str, Any] | None = None,
    group: str | None = None,
    platform_version: str | None = None,
    capacity_provider_strategy: list[dict[str, Any]] | None = None,
) -> list[Any]:
    """RunTask: validates as ECS does, then launches `count` simulated tasks. Every check runs
    before any task exists, so a refused RunTask starts nothing."""
    if launch_type and launch_type not in ("EC2", "FARGATE", "EXTERNAL"):
        raise InvalidParameterException("launch type should be one of [EC2,FARGATE,EXTERNAL]")
    if launch_type and capacity_provider_strategy:
        raise InvalidParameterException(
            "Specify either Launch Type or Capacity Provider Strategy, but not both."
        )
    if not 1 <= int(count) <= MAX_COUNT:
        raise InvalidParameterException(f"count must be between 1 and {MAX_COUNT}.")
    cluster = self._get_cluster(cluster_str)  # ClusterNotFoundException
    td = self.describe_task_definition(task_definition_str)  # ClientException
    if td.status != "ACTIVE":
        raise EcsClientException("TaskDefinition is inactive")
    if td.network_mode == "awsvpc" and not (networking_configuration or {}).get(
        "awsvpcConfiguration"
    ):
        raise InvalidParameterException(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified."
        )
    request = {
        "overrides": overrides or {},
        "startedBy": started_by,
        "tags": tags,
        "launchType": launch_type,
        "networkConfiguration": networking_configuration,
        "group": group,
        "platformVersion": platform_version,
        "capacityProviderStrategy": capacity_provider_strategy,
    }
    # Raises for bad overrides, fault or exit code settings before any task is registered.
    definitions = effective_definitions(td, request["overrides"])
    check_definitions(definitions)
    return runs_of(self).run(cluster, td, int(count), request)


def check_definitions(definitions: list[dict[str, Any]]) -> None:
    """ClientException for an invalid fault, timing or exit code setting."""
    taskdefs.profile_of_definitions(definitions)
    for definition in definitions:
        exit_code_of(_env_dict(definition.get("environment")), str(definition.get("name")))


def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
    from .ecs_rollouts import LOCK, _find_task

    with LOCK:
        cluster = self._get_cluster(cluster_str)
        task = _find_task(self, cluster, task_str)
        if isinstance(task, StandaloneTask):
            runs_of(self).user_stop(sim.now(), task, reason)
            return task
        return _patched["stop_task"](self, cluster_str, task_str, reason)


def register_task_definition(
    self: Any, family: str, container_definitions: Any, *args: Any, **kwargs: Any
) -> Any:
    check_definitions(list(container_definitions or []))
    return _patched["register_task_definition"](
        self, family, container_definitions, *args, **kwargs
    )


# The methods these wrap (moto's, or ecs_rollouts' patches of them), captured by install().
_patched: dict[str, Any] = {}


def install(backend_class: Any) -> None:
    """Wraps the backend's RunTask, StopTask and RegisterTaskDefinition (idempotent). Called by
    `ecs_rollouts.install()` after its own patches, so StopTask sees standalone tasks first."""
    if _patched:
        return
    for name, patch in (
        ("run_task", run_task),
        ("stop_task", stop_task),
        ("register_task_definition", register_task_definition),
    ):
        _patched[name] = getattr(backend_class, name)
        setattr(backend_class, name, patch)
