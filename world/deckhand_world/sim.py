"""The rollout simulation of one ECS service: deployments, their tasks, the service events.

Time model: a discrete-event simulation evaluated lazily. Every transition is queued with the
absolute wall-clock time at which it happens; `ServiceSim.advance(now)` applies every transition
due by `now` in time order, so each state change and each event carries the simulated time at
which it happened, not the time of the request that observed it. No background thread: the
patched ECS API (and the control API) advance the simulation before answering.

All objects here are read by moto's response serializer, which picks attributes by the botocore
member name (`runningCount` or `running_count`), so the public attribute names below mirror the
ECS API shapes. Everything the serializer must not see is either not a member name of the shape
or is stored under a private name.

Callers hold `ecs_rollouts.LOCK`: nothing here is thread-safe on its own.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from moto.utilities.utils import get_partition

from . import service_deployments, strategies, target_health, taskdefs

MAX_EVENTS = 100
# Spacing of events ECS emits back to back ("deployment completed" then "steady state", ...).
EVENT_GAP = 0.001
HEALTH_KILL_DELAY = 0.010

_last_now = 0.0


def now() -> float:
    """Wall-clock seconds in whole milliseconds, never going backwards. Transitions are queued on
    this clock; whole milliseconds (ECS's timestamp precision) keep offsets such as the 1 ms
    between "deployment completed" and "steady state" exact in the serialized timestamps."""
    global _last_now
    _last_now = max(_last_now, math.floor(time.time() * 1000) / 1000)
    return _last_now


def to_datetime(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def new_deployment_id() -> str:
    return f"ecs-svc/{random.randint(10**18, 10**19 - 1)}"


def task_refs(tasks: list["SimTask"]) -> str:
    return " ".join(f"(task {task.id})" for task in tasks)


def breaker_threshold(desired_count: int) -> int:
    """ECS's circuit breaker failure threshold for a deployment of this size."""
    return min(200, max(3, math.ceil(0.5 * desired_count)))


def pull_error(image: str) -> str:
    return (
        "CannotPullContainerError: pull image manifest has been retried 7 time(s): "
        f"failed to resolve ref {image}: not found"
    )


class SimContainer:
    """A container of a simulated task (DescribeTasks `containers[]`)."""

    def __init__(self, task: "SimTask", definition: dict[str, Any]):
        self.container_arn = (
            f"arn:{task.partition}:ecs:{task.region_name}:{task.account_id}:container/"
            f"{task.cluster_name}/{task.id}/{uuid.uuid4()}"
        )
        self.task_arn = task.task_arn
        self.name = definition.get("name")
        self.image = definition.get("image")
        self.last_status = "PENDING"
        self.exit_code: int | None = None  # absent until the container ran and stopped
        self.reason: str | None = None
        self.health_status = "UNKNOWN"
        # ECS reports HEALTHY only for containers with a health check; others stay UNKNOWN.
        self._has_health_check = bool(definition.get("healthCheck"))


class SimTask:
    """A task launched by the simulated service scheduler (DescribeTasks `tasks[]`).

    It is also registered in moto's `backend.tasks`, so moto's tagging and listing code sees it.
    """

    def __init__(self, sim: "ServiceSim", deployment: "Deployment", when: float):
        service = sim.service
        self.id = uuid.uuid4().hex
        self.region_name = service.region_name
        self.account_id = service._account_id
        self.partition = get_partition(self.region_name)
        self.cluster_name = service.cluster_name
        self.cluster_arn = service.cluster_arn
        # ECS's long ARN format, always: arn:aws:ecs:<region>:<account>:task/<cluster>/<id>.
        self.task_arn = (
            f"arn:{self.partition}:ecs:{self.region_name}:{self.account_id}:task/"
            f"{self.cluster_name}/{self.id}"
        )
        self.task_definition_arn = deployment.task_definition
        self.group = f"service:{service.name}"
        self.started_by = deployment.id
        self.launch_type = service.launch_type
        self.container_instance_arn = None
        self.cpu = _str_or_none(deployment.td.cpu)
        self.memory = _str_or_none(deployment.td.memory)
        self.last_status = "PENDING"
        self.desired_status = "RUNNING"
        self.stop_code: str | None = None
        self.stopped_reason: str | None = None
        self.tags: list[dict[str, str]] = []
        self.deployment = deployment
        self.profile = deployment.profile
        self._created = when
        self._started: float | None = None
        self._stopping: float | None = None
        self._stopped: float | None = None
        self.containers = [SimContainer(self, d) for d in deployment.td.container_definitions]
        # Its private IP (awsvpc attachment) and its load balancer targets.
        target_health.task_created(service, self)

    # Timestamps are kept as floats and shown as datetimes, which the serializer expects.
    created_at = property(lambda self: to_datetime(self._created))
    started_at = property(lambda self: to_datetime(self._started))
    stopping_at = property(lambda self: to_datetime(self._stopping))
    stopped_at = property(lambda self: to_datetime(self._stopped))

    @property
    def health_status(self) -> str:
        statuses = {c.health_status for c in self.containers}
        if "UNHEALTHY" in statuses:
            return "UNHEALTHY"
        if statuses == {"HEALTHY"}:
            return "HEALTHY"
        return "UNKNOWN"

    @property
    def live(self) -> bool:
        """Counted by the scheduler: not stopped and not being stopped."""
        return self.desired_status == "RUNNING"

    @property
    def settled(self) -> bool:
        """RUNNING and going to stay up, which is what a rollout waits for. Tasks of a crashing
        task definition never settle (ECS would not reach steady state with them either)."""
        return self.live and self.last_status == "RUNNING" and not self.profile.crashes

    def faulty_container(self) -> SimContainer | None:
        fault = self.profile.fault
        if fault is None:
            return None
        return next((c for c in self.containers if c.name == fault.container), None)

    def mark_running(self, when: float) -> None:
        self.last_status = "RUNNING"
        self._started = when
        for container in self.containers:
            container.last_status = "RUNNING"
            if container._has_health_check and not self.profile.crashes:
                container.health_status = "HEALTHY"
        target_health.task_running(self, when)

    def stop(self, when: float, stop_code: str, reason: str, exit_code: int | None) -> None:
        """Stops at once (no STOPPING phase is modelled). `exit_code` goes to the containers
        that were running; containers that never ran keep no exit code."""
        was_running = self.last_status == "RUNNING"
        self.desired_status = "STOPPED"
        self.last_status = "STOPPED"
        self._stopping = when
        self._stopped = when
        self.stop_code = stop_code
        self.stopped_reason = reason
        target_health.task_stopped(self)
        for container in self.containers:
            container.last_status = "STOPPED"
            if was_running and exit_code is not None:
                container.exit_code = exit_code


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class Deployment:
    """One entry of a service's `deployments[]`."""

    def __init__(self, sim: "ServiceSim", deployment_id: str, td: Any, desired: int, when: float):
        service = sim.service
        self.id = deployment_id
        self.status = "PRIMARY"
        self.td = td
        self.task_definition = td.arn
        self.profile = taskdefs.profile_of(td)
        self.desired_count = desired
        self.failed_tasks = 0
        # The circuit breaker's failure count, equal to failedTasks. With the service's breaker
        # resetOnHealthyTask, a task of the deployment reaching RUNNING resets both.
        self.breaker_failures = 0
        self.launch_type = service.launch_type
        self.platform_version = service.platform_version
        self.network_configuration = service.network_configuration or None
        self.rollout_state = "IN_PROGRESS"
        self.rollout_state_reason = f"ECS deployment {deployment_id} in progress."
        self._created = when
        self._updated = when
        self.sim_tasks: list[SimTask] = []
        # A rollback deployment is never rolled back itself.
        self.is_rollback = False
        # Identifies the queued "finish" transition that is still valid (see ServiceSim).
        self.finish_token: object | None = None
        # A COMPLETED deployment that scaled reports steady state again once settled.
        self.awaiting_steady = False
        # The lifecycle stage walk of a BLUE_GREEN, CANARY or LINEAR deployment (strategies.py).
        self.staged: strategies.StagedRollout | None = None

    created_at = property(lambda self: to_datetime(self._created))
    updated_at = property(lambda self: to_datetime(self._updated))

    @property
    def running_count(self) -> int:
        return sum(1 for t in self.sim_tasks if t.live and t.last_status == "RUNNING")

    @property
    def pending_count(self) -> int:
        return sum(1 for t in self.sim_tasks if t.live and t.last_status == "PENDING")

    def live_tasks(self) -> list[SimTask]:
        return [t for t in self.sim_tasks if t.live]

    def settled(self) -> bool:
        live = self.live_tasks()
        return len(live) == self.desired_count and all(t.settled for t in live)

    def touch(self, when: float) -> None:
        self._updated = when

    def breaker_threshold(self) -> int:
        return breaker_threshold(self.desired_count)


@dataclass(frozen=True)
class CompletedDeployment:
    """The last deployment of a service that reached COMPLETED: the circuit breaker's rollback
    target, remembered even after the deployment left deployments[]."""

    id: str
    created: float
    td: Any


class ServiceSim:
    """The scheduler and rollout state of one service (stored as `service.deckhand_sim`)."""

    def __init__(self, service: Any, backend: Any):
        self.service = service
        self.backend = backend
        self.deployments: list[Deployment] = []  # PRIMARY first, then ACTIVE newest first
        self.last_completed: CompletedDeployment | None = None
        self.deleted = False
        # Service deployments and revisions (ListServiceDeployments & co.), kept in step below.
        self.history = service_deployments.History(self)
        self._queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._reported_counts = (0, 0)  # (running, pending) already added to the cluster

    # ----------------------------------------------------------------- time and events

    def at(self, when: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), action, args))

    def advance(self, until: float) -> None:
        """Applies every queued transition due by `until`, in time order. Transitions may queue
        further ones; those due by `until` are applied in the same call."""
        while self._queue and self._queue[0][0] <= until:
            when, _, action, args = heapq.heappop(self._queue)
            action(when, *args)
        self.sync()

    def emit(self, when: float, message: str) -> None:
        events = self.service.events
        events.append(
            {
                "id": str(uuid.uuid4()),
                "createdAt": to_datetime(when),
                "message": message,
                # Sort keys; the serializer only picks the ServiceEvent members above.
                "_at": when,
                "_seq": next(self._seq),
            }
        )
        events.sort(key=lambda e: (e.get("_at", 0.0), e.get("_seq", 0)), reverse=True)
        del events[MAX_EVENTS:]

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def primary(self) -> Deployment | None:
        return self.deployments[0] if self.deployments else None

    def is_primary(self, deployment: Deployment) -> bool:
        return self.primary is deployment

    def breaker(self) -> tuple[bool, bool]:
        """(enable, rollback) of the service's deploymentCircuitBreaker."""
        breaker = self._breaker_configuration()
        return bool(breaker.get("enable")), bool(breaker.get("rollback"))

    def resets_on_healthy_task(self) -> bool:
        """deploymentCircuitBreaker.resetOnHealthyTask, only when explicitly true. (ECS's default
        is true; the world keeps the cumulative count unless asked, see world/README.md.)"""
        return self._breaker_configuration().get("resetOnHealthyTask") is True

    def _breaker_configuration(self) -> dict[str, Any]:
        configuration = getattr(self.service, "deployment_configuration", None) or {}
        return configuration.get("deploymentCircuitBreaker") or {}

    def deployment_of_revision(self, number: str) -> Deployment | None:
        """The listed deployment whose `ecs-svc/N` id has the revision number N."""
        return next((d for d in self.deployments if d.id == f"ecs-svc/{number}"), None)

    # ----------------------------------------------------------------- API entry points

    def create(self, when: float, td: Any, desired: int) -> None:
        """CreateService: the first PRIMARY deployment."""
        self.start_deployment(when, td, desired)

    def start_deployment(self, when: float, td: Any, desired: int) -> Deployment:
        """UpdateService with a new task definition or forceNewDeployment: a new PRIMARY. The
        previous PRIMARY becomes ACTIVE, keeping its rolloutState, until the new one completes."""
        deployment = Deployment(self, new_deployment_id(), td, desired, when)
        # Before it joins deployments[]: the listed ones are its source revisions.
        self.history.deployment_started(when, deployment)
        configuration = getattr(self.service, "deployment_configuration", None) or {}
        # A staged strategy needs blue to shift traffic from: a service's first deployment rolls.
        if strategies.strategy_of(configuration) in strategies.STAGED and self.deployments:
            deployment.staged = strategies.StagedRollout(self, deployment, configuration)
        for previous in self.deployments:
            previous.status = "ACTIVE"
        self.deployments.insert(0, deployment)
        if deployment.staged is not None:
            deployment.staged.begin(when)  # green launches when the walk reaches SCALE_UP
        else:
            self._launch(when, deployment, desired)
        self._check_progress(when, deployment)
        self.sync()
        return deployment

    def scale(self, when: float, desired: int) -> None:
        """UpdateService with only desiredCount: the PRIMARY launches or stops tasks."""
        deployment = self.primary
        if deployment is None or deployment.desired_count == desired:
            return
        deployment.desired_count = desired
        deployment.touch(when)
        if deployment.rollout_state == "COMPLETED":
            deployment.awaiting_steady = True
        self._reconcile(when, deployment)
        self._check_progress(when, deployment)
        self.sync()

    def user_stop(self, when: float, task: SimTask, reason: str | None) -> None:
        """StopTask on a service task: stopped by the user, replaced by the scheduler."""
        if not task.live:
            return
        task.stop(when, "UserInitiated", reason or "Task stopped by user", exit_code=0)
        self._task_stopped(when, task)
        self._queue_replacement(when, task.deployment)
        self.sync()

    def delete(self, when: float) -> None:
        """DeleteService: every task is stopped, nothing further happens."""
        primary = self.primary
        tasks = [t for d in self.deployments for t in d.live_tasks()]
        if primary is not None:
            self._stop_by_scheduler(when, tasks, primary.id)
        self._queue.clear()
        self.deleted = True
        self.history.clear()
        self.sync()

    def configuration_changed(self, when: float) -> None:
        """deploymentConfiguration changed without a new deployment."""
        self.history.configuration_changed(when)

    # ----------------------------------------------------------------- launching tasks

    def _launch(self, when: float, deployment: Deployment, count: int) -> None:
        """One launch batch: `count` PENDING tasks and one "has started" event."""
        if count <= 0:
            return
        tasks = [SimTask(self, deployment, when) for _ in range(count)]
        cluster_tasks = self.backend.tasks.setdefault(self.service.cluster_name, {})
        for task in tasks:
            deployment.sim_tasks.append(task)
            cluster_tasks[task.task_arn] = task
            self._queue_first_transition(when, task)
        deployment.touch(when)
        # Not settled any more: a queued finish must not complete it before these tasks run.
        deployment.finish_token = None
        if deployment.rollout_state == "COMPLETED":
            deployment.awaiting_steady = True
        self.emit(when, f"(service {self.name}) has started {count} tasks: {task_refs(tasks)}.")

    def _queue_first_transition(self, when: float, task: SimTask) -> None:
        timings = task.profile.timings()
        mode = task.profile.fault.mode if task.profile.fault else None
        if mode == "hang":
            return  # stays PENDING until someone stops it
        if mode == "pull":
            self.at(when + timings["task_fail_seconds"], self._pull_failed, task)
        else:
            self.at(when + timings["task_start_seconds"], self._task_running, task)

    def _reconcile(self, when: float, deployment: Deployment) -> None:
        """Brings the deployment's live tasks to its desiredCount. A FAILED deployment launches
        nothing (the circuit breaker stopped it) but may still scale down."""
        live = deployment.live_tasks()
        surplus = len(live) - deployment.desired_count
        if surplus > 0:
            # Pending tasks go first, then the newest.
            ordered = sorted(live, key=lambda t: (t.last_status == "RUNNING", -t._created))
            self._stop_by_scheduler(when, ordered[:surplus], deployment.id)
        elif surplus < 0 and deployment.rollout_state != "FAILED":
            self._launch(when, deployment, -surplus)

    def _queue_replacement(self, when: float, deployment: Deployment) -> None:
        if self.is_primary(deployment) and deployment.rollout_state != "FAILED":
            delay = deployment.profile.timings()["replace_seconds"]
            self.at(when + delay, self._replace, deployment)

    def _replace(self, when: float, deployment: Deployment) -> None:
        # Several failures at once queue several replacements; the first launches the whole
        # deficit in one batch, the others find nothing to do.
        if self.is_primary(deployment) and deployment.rollout_state != "FAILED":
            live = len(deployment.live_tasks())
            self._launch(when, deployment, deployment.desired_count - live)

    # ----------------------------------------------------------------- task transitions

    def _task_running(self, when: float, task: SimTask) -> None:
        if not task.live or task.last_status != "PENDING":
            return
        task.mark_running(when)
        task.deployment.touch(when)
        fault = task.profile.fault
        if self.resets_on_healthy_task() and not (fault is not None and fault.mode == "health"):
            # A running task resets the breaker's count, and failedTasks with it (ECS documents
            # failedTasks as the consecutive failures, reset once a task runs); a task failing
            # its health checks never reports healthy, so it does not.
            task.deployment.breaker_failures = 0
            task.deployment.failed_tasks = 0
        fail_after = task.profile.timings()["task_fail_seconds"]
        if fault is not None and fault.mode == "exit":
            self.at(when + fail_after, self._essential_container_exited, task)
        elif fault is not None and fault.mode == "health":
            self.at(when + fail_after, self._health_check_failed, task)
        self._check_progress(when, task.deployment)

    def _pull_failed(self, when: float, task: SimTask) -> None:
        if not task.live:
            return
        container = task.faulty_container()
        message = pull_error(task.profile.fault.image)  # type: ignore[union-attr]
        task.stop(when, "TaskFailedToStart", message, exit_code=None)
        if container is not None:
            container.reason = message
        self._task_failed(when, task)

    def _essential_container_exited(self, when: float, task: SimTask) -> None:
        if not task.live:
            return
        task.stop(when, "EssentialContainerExited", "Essential container in task exited", 0)
        container = task.faulty_container()
        if container is not None:
            container.exit_code = 1
        self._task_failed(when, task)

    def _health_check_failed(self, when: float, task: SimTask) -> None:
        if not task.live:
            return
        container = task.faulty_container()
        if container is not None:
            container.health_status = "UNHEALTHY"
        self.emit(when, f"(service {self.name}) (task {task.id}) failed container health checks.")
        self.at(when + HEALTH_KILL_DELAY, self._health_kill, task)

    def _health_kill(self, when: float, task: SimTask) -> None:
        if not task.live:
            return
        # The scheduler stops the task: SIGTERM, hence exit code 143.
        task.stop(when, "ServiceSchedulerInitiated", "Task failed container health checks", 143)
        self.emit(when, f"(service {self.name}) has stopped 1 running tasks: {task_refs([task])}.")
        self._task_failed(when, task)

    def _task_stopped(self, when: float, task: SimTask) -> None:
        deployment = task.deployment
        deployment.touch(when)
        # A PRIMARY that lost a task is not settled any more: a queued finish is void.
        deployment.finish_token = None
        if deployment.staged is not None:
            deployment.staged.green_changed(when)

    def _task_failed(self, when: float, task: SimTask) -> None:
        """A task of `task.deployment` stopped because of its fault."""
        deployment = task.deployment
        self._task_stopped(when, task)
        if deployment.rollout_state == "FAILED":
            # The breaker already tripped: failedTasks stays at the threshold and nothing is
            # replaced (tasks launched before the trip may still fail afterwards).
            return
        deployment.failed_tasks += 1
        deployment.breaker_failures += 1
        enabled, _ = self.breaker()
        if (
            enabled
            and self.is_primary(deployment)
            and deployment.rollout_state == "IN_PROGRESS"
            and deployment.breaker_failures >= deployment.breaker_threshold()
        ):
            self._trip_breaker(when, deployment)
            return
        self._queue_replacement(when, deployment)

    def _stop_by_scheduler(self, when: float, tasks: list[SimTask], by_deployment: str) -> None:
        """Scale-in / drain: ServiceSchedulerInitiated, one "has stopped" event per batch."""
        if not tasks:
            return
        for task in tasks:
            task.stop(
                when,
                "ServiceSchedulerInitiated",
                f"Scaling activity initiated by (deployment {by_deployment})",
                exit_code=0,
            )
            self._task_stopped(when, task)
        self.emit(
            when,
            f"(service {self.name}) has stopped {len(tasks)} running tasks: {task_refs(tasks)}.",
        )

    # ----------------------------------------------------------------- rollout progress

    def _check_progress(self, when: float, deployment: Deployment) -> None:
        """Called whenever the PRIMARY may have become settled (all desired tasks RUNNING)."""
        if deployment.staged is not None and deployment.staged.active():
            deployment.staged.green_changed(when)  # the stage walk, not the rolling drain
            return
        if not self.is_primary(deployment) or not deployment.settled():
            return
        if deployment.rollout_state == "IN_PROGRESS" and deployment.finish_token is None:
            token = object()
            deployment.finish_token = token
            drain = deployment.profile.timings()["drain_seconds"]
            self.at(when + drain, self._finish, deployment, token)
        elif deployment.rollout_state == "COMPLETED" and deployment.awaiting_steady:
            # Scaled (or replaced tasks) after completing: settled again, no new deployment.
            deployment.awaiting_steady = False
            self.at(when + EVENT_GAP, self._steady_state, deployment)

    def _finish(self, when: float, deployment: Deployment, token: object) -> None:
        """End of the drain: older deployments' tasks stop and they leave deployments[]; then
        the PRIMARY is COMPLETED. Void if anything changed since it was queued."""
        if not self._still_finishing(deployment, token):
            return
        drained = self._drain_others(when, deployment)
        deployment.finish_token = token  # still valid for the completion step
        if drained:
            # ECS reports the drain before the completion; 1 ms apart keeps that order for
            # clients that sort events by time.
            self.at(when + EVENT_GAP, self._complete, deployment, token)
        else:
            self._complete(when, deployment, token)

    def _drain_others(self, when: float, deployment: Deployment) -> list[SimTask]:
        """The other deployments' tasks stop and they leave deployments[] (a rolling drain, or
        a staged deployment's CLEAN_UP of blue)."""
        drained = [t for d in self.deployments if d is not deployment for t in d.live_tasks()]
        self._stop_by_scheduler(when, drained, deployment.id)
        self.deployments = [deployment]
        return drained

    def _still_finishing(self, deployment: Deployment, token: object) -> bool:
        """Consumes the finish token; True if the deployment may still complete."""
        if deployment.finish_token is not token:
            return False
        deployment.finish_token = None  # a later _check_progress may queue a fresh one
        return (
            self.is_primary(deployment)
            and deployment.rollout_state == "IN_PROGRESS"
            and deployment.settled()
        )

    def _complete(self, when: float, deployment: Deployment, token: object) -> None:
        if not self._still_finishing(deployment, token):
            return
        deployment.rollout_state = "COMPLETED"
        deployment.rollout_state_reason = f"ECS deployment {deployment.id} completed."
        deployment.awaiting_steady = False
        deployment.touch(when)
        self.last_completed = CompletedDeployment(deployment.id, deployment._created, deployment.td)
        self.history.deployment_completed(when, deployment)
        self.emit(when, f"(service {self.name}) (deployment {deployment.id}) deployment completed.")
        self.at(when + EVENT_GAP, self._steady_state, deployment)

    def _steady_state(self, when: float, deployment: Deployment) -> None:
        if self.is_primary(deployment) and deployment.rollout_state == "COMPLETED":
            self.emit(when, f"(service {self.name}) has reached a steady state.")

    # ----------------------------------------------------------------- circuit breaker

    def _trip_breaker(self, when: float, deployment: Deployment) -> None:
        deployment.rollout_state = "FAILED"
        deployment.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start."
        deployment.finish_token = None
        deployment.touch(when)
        self.emit(
            when,
            f"(service {self.name}) (deployment {deployment.id}) deployment failed: "
            "tasks failed to start.",
        )
        _, rollback = self.breaker()
        target = self.last_completed
        will_roll_back = bool(
            rollback and not deployment.is_rollback and target and target.id != deployment.id
        )
        self.history.breaker_tripped(when, deployment, will_roll_back)
        if will_roll_back:
            self.at(when + EVENT_GAP, self._roll_back, deployment)

    def _roll_back(self, when: float, failed: Deployment) -> None:
        """The failed deployment leaves deployments[] and its tasks stop; the last COMPLETED
        deployment comes back as PRIMARY under its own id and createdAt. If it is still listed
        (ACTIVE, with its tasks) it is promoted, otherwise it is recreated."""
        target = self.last_completed
        if not self.is_primary(failed) or target is None:
            return  # superseded by a newer UpdateService in the meantime
        self.emit(when, f"(service {self.name}) rolling back to deployment {target.id}.")
        if failed.staged is not None:
            failed.staged.rolled_back(when)
        self._stop_by_scheduler(when, failed.live_tasks(), target.id)
        self.deployments.remove(failed)
        deployment = next((d for d in self.deployments if d.id == target.id), None)
        if deployment is not None:
            self.deployments.remove(deployment)
        else:
            deployment = Deployment(self, target.id, target.td, 0, target.created)
        deployment.status = "PRIMARY"
        deployment.desired_count = self.service.desired_count
        deployment.failed_tasks = 0
        deployment.breaker_failures = 0
        deployment.rollout_state = "IN_PROGRESS"
        deployment.rollout_state_reason = (
            f"ECS deployment circuit breaker: rolling back to deploymentId {target.id}."
        )
        self.history.rolling_back(when, failed, deployment, deployment.rollout_state_reason)
        deployment.is_rollback = True
        deployment.finish_token = None
        deployment.touch(when)
        self.deployments.insert(0, deployment)
        self._reconcile(when, deployment)
        self._check_progress(when, deployment)

    # ----------------------------------------------------------------- service view

    def sync(self) -> None:
        """Copies the simulation's view onto the moto Service object the serializer reads."""
        service = self.service
        service.deployments = list(self.deployments)
        primary = self.primary
        if primary is not None:
            service.task_definition = primary.task_definition
        running = sum(d.running_count for d in self.deployments)
        pending = sum(d.pending_count for d in self.deployments)
        service.running_count = running
        service.pending_count = pending
        current = self.history.current
        service.current_service_deployment = current.arn if current is not None else None
        service.current_service_revisions = self.history.current_revisions()
        self._report_to_cluster(running, pending)

    def forget_cluster_counts(self) -> None:
        """moto's DeleteService already took this service's counts off the cluster."""
        self._reported_counts = (0, 0)

    def _report_to_cluster(self, running: int, pending: int) -> None:
        """Keeps DescribeClusters' runningTasksCount/pendingTasksCount in step (moto counts
        them by deltas)."""
        old_running, old_pending = self._reported_counts
        cluster = self.backend.clusters.get(self.service.cluster_name)
        if cluster is not None:
            cluster.running_tasks_count += running - old_running
            cluster.pending_tasks_count += pending - old_pending
        self._reported_counts = (running, pending)
