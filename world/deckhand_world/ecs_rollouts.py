"""Patches moto's ECS backend and response classes so that services roll out like real ECS.

moto 5.2.5 keeps a service's single deployment IN_PROGRESS forever, never emits events, ignores
deploymentConfiguration, and ignores `sort`/paging of ListTaskDefinitions and `serviceName` of
ListTasks. The methods replaced here hand services to the simulation in `sim.py` and add the
missing parameters. moto's own RunTask/StartTask tasks keep moto's behaviour. moto has no
service deployments at all: ListServiceDeployments, DescribeServiceDeployments and
DescribeServiceRevisions are added here, answered from `service_deployments.py`.

Concurrency: moto's server is threaded. One re-entrant lock (`LOCK`) guards every ECS request
from before the simulation advances until the response is serialized, so a response is always
a consistent snapshot, and two clients interleaving calls see one ordered history.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime, timezone
from typing import Any

from moto.ecs import models, responses
from moto.ecs.exceptions import ECSException, InvalidParameterException, ServiceNotFoundException
from moto.ecs.responses import DESCRIBE_TASKS_TAGS
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores

from . import paging, service_deployments, sim, standalone_tasks, target_health, taskdefs

LOCK = threading.RLock()

Backend = models.EC2ContainerServiceBackend
Response = responses.EC2ContainerServiceResponse

# moto's implementations, captured once by install().
_original: dict[str, Any] = {}

DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    # Echoed by real ECS since 2026 for services that set neither.
    "strategy": "ROLLING",
    "bakeTimeInMinutes": 0,
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
    standalone_tasks.advance(backend, now)


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
    target_health.check_definitions(list(container_definitions or []))
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
        else:
            if configuration is not None:
                simulation.configuration_changed(when)
            if desired is not None:
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


# CreateService members moto's create_service does not take: stored on the service as
# UpdateService stores them (snake_case attributes, which moto's serializer echoes), so that
# DescribeServices shows what the service was created with.
CREATE_SERVICE_KEPT = (
    "capacityProviderStrategy",
    "placementConstraints",
    "placementStrategy",
    "healthCheckGracePeriodSeconds",
    "enableECSManagedTags",
    "enableExecuteCommand",
    "availabilityZoneRebalancing",
)


def response_create_service(self: Any) -> ActionResult:
    result = _original["response_create_service"](self)
    service = result.result["service"]
    for name in CREATE_SERVICE_KEPT:
        value = self._get_param(name)
        if value is not None:
            setattr(service, camelcase_to_underscores(name), _plain(value))
    configuration = self._get_param("deploymentConfiguration")
    if configuration:
        apply_deployment_configuration(service, configuration)
        simulation = sim_of(service)
        if simulation is not None:
            # The first service deployment runs with the configuration the request gave.
            simulation.configuration_changed(sim.now())
    return result


# --------------------------------------------------------------------------- service deployments


def _int_param(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidParameterException(f"{name} must be an integer.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidParameterException(f"{name} must be an integer.") from None


def _timestamp_param(value: Any, name: str) -> float | None:
    """An awsJson timestamp: epoch seconds (a number), or an ISO 8601 string."""
    if value is None:
        return None
    if isinstance(value, datetime):  # moto's request parser already read the timestamp
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.timestamp()
        except ValueError:
            pass
    raise InvalidParameterException(f"{name} must be a timestamp.")


def _service_for_history(backend: Any, cluster_param: str | None, service_param: Any) -> Any:
    """The service a ListServiceDeployments names (name or ARN). A long service ARN names its
    cluster when `cluster` is not given."""
    if not service_param or not isinstance(service_param, str):
        raise InvalidParameterException("service must be specified.")
    parts = service_param.split(":", 5)
    cluster_str = cluster_param
    if cluster_str is None:
        resource = parts[5] if service_param.startswith("arn:") and len(parts) == 6 else ""
        pieces = resource.split("/")
        cluster_str = pieces[1] if len(pieces) == 3 and pieces[0] == "service" else "default"
    cluster = backend._get_cluster(cluster_str)  # ClusterNotFoundException
    name = service_param.split("/")[-1]
    service = backend.services.get(f"{cluster.name}:{name}")
    if service is None or (service_param.startswith("arn:") and service.arn != service_param):
        raise ServiceNotFoundException()
    return service


def response_list_service_deployments(self: Any) -> ActionResult:
    backend = self.ecs_backend
    service = _service_for_history(backend, self._get_param("cluster"), self._get_param("service"))
    statuses = self._get_param("status")
    if statuses is not None:
        if not isinstance(statuses, list):
            raise InvalidParameterException("status must be a list.")
        unknown = [s for s in statuses if s not in service_deployments.STATUSES]
        if unknown:
            raise InvalidParameterException(
                f"status contains an invalid value: {unknown[0]}. Valid values are "
                f"{', '.join(service_deployments.STATUSES)}."
            )
        statuses = set(statuses) if statuses else None
    created = self._get_param("createdAt") or {}
    after = _timestamp_param(created.get("after"), "createdAt.after")
    before = _timestamp_param(created.get("before"), "createdAt.before")
    max_results = self._get_param("maxResults")
    size = (
        service_deployments.DEFAULT_PAGE_SIZE
        if max_results is None
        else _int_param(max_results, "maxResults")
    )
    if not 1 <= size <= service_deployments.MAX_PAGE_SIZE:
        raise InvalidParameterException(
            f"maxResults must be between 1 and {service_deployments.MAX_PAGE_SIZE}."
        )
    next_token = self._get_param("nextToken")
    simulation = sim_of(service)
    if simulation is None or simulation.deleted:
        # A deleted service's deployments were deleted with it (moto's services outside the
        # simulation, CODE_DEPLOY and EXTERNAL, have none).
        if next_token:
            service_deployments.decode_token(next_token)  # a bad token is still an error
        items, token = [], None
    else:
        items, token = simulation.history.listed(statuses, after, before, size, next_token)
    return ActionResult({"serviceDeployments": items, "nextToken": token})


def _arns_param(self: Any, name: str) -> list[str]:
    arns = self._get_param(name)
    if not isinstance(arns, list) or not arns:
        raise InvalidParameterException(f"{name} cannot be empty.")
    if len(arns) > service_deployments.MAX_DESCRIBE:
        raise InvalidParameterException(
            f"{name} can have at most {service_deployments.MAX_DESCRIBE} items."
        )
    if not all(isinstance(arn, str) for arn in arns):
        raise InvalidParameterException(f"{name} must be a list of ARNs.")
    unique: list[str] = []
    for arn in arns:
        if arn not in unique:
            unique.append(arn)
    return unique


def response_describe_service_deployments(self: Any) -> ActionResult:
    arns = _arns_param(self, "serviceDeploymentArns")
    known = {
        d.arn: d
        for history in service_deployments.histories(self.ecs_backend)
        for d in history.deployments
    }
    found = [known[arn].describe() for arn in arns if arn in known]
    failures = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in known]
    return ActionResult({"serviceDeployments": found, "failures": failures})


def response_describe_service_revisions(self: Any) -> ActionResult:
    arns = _arns_param(self, "serviceRevisionArns")
    known = {
        r.arn: r
        for history in service_deployments.histories(self.ecs_backend)
        for r in history.revisions.values()
    }
    found = [known[arn].describe() for arn in arns if arn in known]
    failures = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in known]
    return ActionResult({"serviceRevisions": found, "failures": failures})


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
    # Operations moto does not implement at all (dispatch finds them by snake-cased name).
    Response.list_service_deployments = response_list_service_deployments
    Response.describe_service_deployments = response_describe_service_deployments
    Response.describe_service_revisions = response_describe_service_revisions
    # Load balancer target health of the simulated tasks (moto's elbv2).
    target_health.install()
    # RunTask's tasks run to completion (standalone_tasks.py).
    standalone_tasks.install(Backend)
