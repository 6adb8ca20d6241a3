"""Patches moto's ECS backend and response classes so that services roll out like real ECS.

moto 5.2.5 keeps a service's single deployment IN_PROGRESS forever, never emits events, ignores
deploymentConfiguration, and ignores `sort`/paging of ListTaskDefinitions and `serviceName` of
ListTasks. The methods replaced here hand services to the simulation in `sim.py` and add the
missing parameters. moto's own RunTask/StartTask tasks keep moto's behaviour.

Concurrency: moto's server is threaded. One re-entrant lock (`LOCK`) guards every ECS request
from before the simulation advances until the response is serialized, so a response is always
a consistent snapshot, and two clients interleaving calls see one ordered history.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.ecs import models, responses
from moto.ecs.exceptions import ECSException, InvalidParameterException
from moto.ecs.responses import DESCRIBE_TASKS_TAGS
from moto.core.responses import ActionResult

from . import paging, sim, taskdefs

LOCK = threading.RLock()

Backend = models.EC2ContainerServiceBackend
Response = responses.EC2ContainerServiceResponse

# moto's implementations, captured once by install().
_original: dict[str, Any] = {}

DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


class ServiceNotActiveException(ECSException):
    def __init__(self) -> None:
        super().__init__("ServiceNotActiveException", "Service was not ACTIVE.")


# --------------------------------------------------------------------------- helpers


def sim_of(service: Any) -> sim.ServiceSim | None:
    return getattr(service, "deckhand_sim", None)


def advance_backend(backend: Any) -> None:
    now = sim.now()
    for service in list(backend.services.values()):
        simulation = sim_of(service)
        if simulation is not None:
            simulation.advance(now)


def advance_all() -> None:
    """Advances every ECS backend (all accounts and regions) to now."""
    for account_backends in list(models.ecs_backends.values()):
        for backend in list(account_backends.values()):
            advance_backend(backend)


def _plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (request params may be dict subclasses)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def apply_deployment_configuration(service: Any, given: Any) -> None:
    """Merges a CreateService/UpdateService deploymentConfiguration into the service's."""
    current = copy.deepcopy(
        getattr(service, "deployment_configuration", None) or DEFAULT_DEPLOYMENT_CONFIGURATION
    )
    for key, value in (_plain(given) or {}).items():
        if key == "deploymentCircuitBreaker" and isinstance(value, dict):
            value = {"enable": False, "rollback": False, **value}
        current[key] = value
    service.deployment_configuration = current


def _task_family(task: Any) -> str:
    return task.task_definition_arn.split("/")[-1].rsplit(":", 1)[0]


def _is_rolling_update(service: Any) -> bool:
    controller = getattr(service, "deployment_controller", None) or {}
    return controller.get("type", "ECS") == "ECS" and bool(service.task_definition)


# --------------------------------------------------------------------------- backend methods


def register_task_definition(
    self: Any, family: str, container_definitions: Any, *args: Any, **kwargs: Any
) -> Any:
    # Reject invalid fault/timing settings up front (a typo must not look like a healthy revision).
    taskdefs.profile_of_definitions(list(container_definitions or []))
    return _original["register_task_definition"](
        self, family, container_definitions, *args, **kwargs
    )


def create_service(
    self: Any, cluster_str: str, service_name: str, *args: Any, **kwargs: Any
) -> Any:
    with LOCK:
        cluster = self._get_cluster(cluster_str)
        existing = self.services.get(f"{cluster.name}:{service_name}")
        if existing is not None and existing.status == "ACTIVE":
            raise InvalidParameterException("Creation of service was not idempotent.")
        service = _original["create_service"](self, cluster_str, service_name, *args, **kwargs)
        if _is_rolling_update(service):
            _start_simulation(self, service)
        return service


def _start_simulation(backend: Any, service: Any) -> None:
    when = sim.now()
    # moto's Service counted MOTO_ECS_SERVICE_RUNNING tasks into the cluster; the simulation
    # reports its own counts instead.
    cluster = backend.clusters[service.cluster_name]
    cluster.running_tasks_count -= service.running_count
    cluster.pending_tasks_count -= service.pending_count
    service.running_count = 0
    service.pending_count = 0
    service.created_at = sim.to_datetime(when)
    service.events = []
    apply_deployment_configuration(service, None)
    simulation = sim.ServiceSim(service, backend)
    service.deckhand_sim = simulation
    task_definition = backend.describe_task_definition(service.task_definition)
    simulation.create(when, task_definition, service.desired_count)


def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
    with LOCK:
        props = dict(service_properties)
        cluster_str = props.pop("cluster", None) or "default"
        service_name = str(props.pop("service")).split("/")[-1]
        # Raises ClusterNotFoundException / ServiceNotFoundException as moto does.
        service = self._get_service(cluster_str, service_name)
        simulation = sim_of(service)
        if simulation is None:
            return _original["update_service"](self, dict(service_properties))
        if service.status != "ACTIVE" or simulation.deleted:
            raise ServiceNotActiveException()

        task_definition_str = props.pop("task_definition", None)
        desired = props.pop("desired_count", None)
        force = bool(props.pop("force_new_deployment", False))
        configuration = props.pop("deployment_configuration", None)
        # Validate before changing anything: an unknown revision must leave the service as is.
        task_definition = (
            self.describe_task_definition(task_definition_str) if task_definition_str else None
        )

        for name, value in props.items():  # other settings are stored as moto stores them
            if value is not None:
                setattr(service, name, value)
        if configuration is not None:
            apply_deployment_configuration(service, configuration)
        if desired is not None:
            service.desired_count = int(desired)

        when = sim.now()
        primary = simulation.primary
        new_revision = task_definition is not None and (
            primary is None or task_definition.arn != primary.task_definition
        )
        if new_revision or force:
            # forceNewDeployment alone redeploys the PRIMARY's revision.
            revision = task_definition if task_definition is not None else primary.td
            simulation.start_deployment(when, revision, service.desired_count)
        elif desired is not None:
            simulation.scale(when, service.desired_count)
        simulation.sync()
        return service


def delete_service(self: Any, cluster_name: str, service_name: str, force: bool) -> Any:
    with LOCK:
        service = _original["delete_service"](self, cluster_name, service_name, force)
        simulation = sim_of(service)
        if simulation is not None and service.status == "INACTIVE" and not simulation.deleted:
            simulation.forget_cluster_counts()
            simulation.delete(sim.now())
        return service


def _find_task(self: Any, cluster: Any, ref: str) -> Any:
    """A task of `cluster` by full ARN or by id."""
    cluster_tasks = self.tasks.get(cluster.name, {})
    if ref in cluster_tasks:
        return cluster_tasks[ref]
    task_id = ref.split("/")[-1]
    for task_arn, task in cluster_tasks.items():
        if task_arn.split("/")[-1] == task_id:
            return task
    return None


def describe_tasks_with_failures(
    self: Any, cluster_str: str, refs: list[str]
) -> tuple[list[Any], list[dict[str, str]]]:
    cluster = self._get_cluster(cluster_str)
    if not refs:
        raise InvalidParameterException("Tasks cannot be empty.")
    found, failures, seen = [], [], set()
    for ref in refs:
        task = _find_task(self, cluster, ref)
        if task is None:
            arn = (
                ref
                if ref.startswith("arn:")
                else (
                    f"arn:{models.get_partition(self.region_name)}:ecs:{self.region_name}:"
                    f"{self.account_id}:task/{cluster.name}/{ref}"
                )
            )
            failures.append({"arn": arn, "reason": "MISSING"})
            continue
        if id(task) in seen:
            continue
        seen.add(id(task))
        if isinstance(task, models.Task):
            task.advance()  # moto's managed-state progression, as moto's describe_tasks does
        found.append(task)
    return found, failures


def describe_tasks(self: Any, cluster_str: str, tasks: list[str]) -> list[Any]:
    return describe_tasks_with_failures(self, cluster_str, tasks)[0]


def list_tasks(
    self: Any,
    cluster_str: str | None = None,
    container_instance: str | None = None,
    family: str | None = None,
    started_by: str | None = None,
    service_name: str | None = None,
    desiredStatus: str | None = None,
    launch_type: str | None = None,
) -> list[Any]:
    """moto's filters plus serviceName (service tasks have group `service:<name>`) and
    launchType; tasks are returned in launch order."""
    if cluster_str:
        clusters = [self._get_cluster(cluster_str).name]
    else:
        clusters = list(self.tasks)
    service_group = f"service:{service_name.split('/')[-1]}" if service_name else None
    result = []
    for cluster_name in clusters:
        for task in self.tasks.get(cluster_name, {}).values():
            if container_instance and container_instance not in (task.container_instance_arn or ""):
                continue
            if family and _task_family(task) != family:
                continue
            if started_by and task.started_by != started_by:
                continue
            if service_group and task.group != service_group:
                continue
            if desiredStatus and task.desired_status != desiredStatus:
                continue
            if launch_type and task.launch_type != launch_type:
                continue
            result.append(task)
    return result


def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
    with LOCK:
        cluster = self._get_cluster(cluster_str)
        task = _find_task(self, cluster, task_str)
        if isinstance(task, sim.SimTask):
            simulation = sim_of(self.services.get(f"{cluster.name}:{task.group[len('service:'):]}"))
            if simulation is not None:
                simulation.user_stop(sim.now(), task, reason)
            return task
        return _original["stop_task"](self, cluster_str, task_str, reason)


def list_task_definitions(
    self: Any, family_prefix: str | None, status: str = "ACTIVE", sort: str = "ASC"
) -> list[str]:
    """moto's filters (exact family, status) plus `sort`: by family, then revision."""
    if sort not in ("ASC", "DESC"):
        raise InvalidParameterException("sort must be one of [ASC, DESC].")
    definitions = [
        td
        for family_definitions in self.task_definitions.values()
        for td in family_definitions.values()
        if (family_prefix is None or td.family == family_prefix) and td.status == status
    ]
    definitions.sort(key=lambda td: (td.family, td.revision), reverse=(sort == "DESC"))
    return [td.arn for td in definitions]


# --------------------------------------------------------------------------- response methods


def call_action(self: Any) -> Any:
    # Held through serialization, so the response is one consistent snapshot.
    with LOCK:
        advance_backend(self.ecs_backend)
        return _original["call_action"](self)


def response_create_service(self: Any) -> ActionResult:
    result = _original["response_create_service"](self)
    configuration = self._get_param("deploymentConfiguration")
    if configuration:
        apply_deployment_configuration(result.result["service"], configuration)
    return result


def response_list_task_definitions(self: Any) -> ActionResult:
    arns = self.ecs_backend.list_task_definitions(
        self._get_param("familyPrefix"),
        self._get_param("status") or "ACTIVE",
        sort=self._get_param("sort") or "ASC",
    )
    chunk, token = paging.page(arns, self._get_param("maxResults"), self._get_param("nextToken"))
    return ActionResult({"taskDefinitionArns": chunk, "nextToken": token})


def response_list_tasks(self: Any) -> ActionResult:
    tasks = self.ecs_backend.list_tasks(
        self._get_param("cluster", "default"),
        self._get_param("containerInstance"),
        self._get_param("family"),
        self._get_param("startedBy"),
        self._get_param("serviceName"),
        # ECS lists tasks whose desiredStatus is RUNNING unless told otherwise.
        self._get_param("desiredStatus") or "RUNNING",
        launch_type=self._get_param("launchType"),
    )
    chunk, token = paging.page(tasks, self._get_param("maxResults"), self._get_param("nextToken"))
    return ActionResult({"taskArns": [t.task_arn for t in chunk], "nextToken": token})


def response_describe_tasks(self: Any) -> ActionResult:
    tasks, failures = describe_tasks_with_failures(
        self.ecs_backend, self._get_param("cluster", "default"), self._get_param("tasks", [])
    )
    if "TAGS" in self._get_param("include", []):
        self._include_in_response(DESCRIBE_TASKS_TAGS)
    else:
        self._exclude_from_response(DESCRIBE_TASKS_TAGS)
    return ActionResult({"tasks": tasks, "failures": failures})


# --------------------------------------------------------------------------- installation


def install() -> None:
    """Applies the patches (idempotent)."""
    if _original:
        return
    backend_patches = {
        "register_task_definition": register_task_definition,
        "create_service": create_service,
        "update_service": update_service,
        "delete_service": delete_service,
        "describe_tasks": describe_tasks,
        "list_tasks": list_tasks,
        "stop_task": stop_task,
        "list_task_definitions": list_task_definitions,
    }
    for name, patch in backend_patches.items():
        _original[name] = getattr(Backend, name)
        setattr(Backend, name, patch)
    Backend.describe_tasks_with_failures = describe_tasks_with_failures

    response_patches = {
        "call_action": call_action,
        "create_service": response_create_service,
        "list_task_definitions": response_list_task_definitions,
        "list_tasks": response_list_tasks,
        "describe_tasks": response_describe_tasks,
    }
    for name, patch in response_patches.items():
        key = name if name == "call_action" else f"response_{name}"
        _original[key] = getattr(Response, name)
        setattr(Response, name, patch)
