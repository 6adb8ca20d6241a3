"""ECS service deployments and service revisions, derived from the rollout simulation.

ECS keeps, next to DescribeServices' `deployments[]`, a history of *service deployments* (one per
CreateService and per UpdateService that starts a deployment) and the immutable *service
revisions* they deploy (ListServiceDeployments, DescribeServiceDeployments,
DescribeServiceRevisions, and `currentServiceDeployment` / `currentServiceRevisions` on the
service). moto 5.2.5 has none of it. Here the history is a view of `sim.ServiceSim`: the
simulation calls the hooks of `History` at the moments its deployments start, complete, trip the
circuit breaker, roll back and are superseded, and the status machine below follows from them.

Linkage (as in ECS): the revision id is the number of the deployment's `ecs-svc/N` id, so the
revision of a DescribeServices deployment is `.../service-revision/CLUSTER/SERVICE/N`. A rollback
creates no revision and no service deployment: the failed service deployment records the revision
it rolled back to in `rollback.serviceRevisionArn`, which is the revision of the deployment the
circuit breaker rolls back to (`ServiceSim.last_completed`, the last deployment that reached
COMPLETED, i.e. the last SUCCESSFUL revision).

Everything here is read and changed under `ecs_rollouts.LOCK`, like the simulation.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import random
import string
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

from moto.ecs.exceptions import InvalidParameterException
from moto.utilities.utils import get_partition

if TYPE_CHECKING:  # pragma: no cover
    from .sim import Deployment, ServiceSim

PENDING = "PENDING"
IN_PROGRESS = "IN_PROGRESS"
SUCCESSFUL = "SUCCESSFUL"
STOP_REQUESTED = "STOP_REQUESTED"
STOPPED = "STOPPED"
ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
ROLLBACK_FAILED = "ROLLBACK_FAILED"

STATUSES = (
    PENDING,
    SUCCESSFUL,
    STOPPED,
    STOP_REQUESTED,
    IN_PROGRESS,
    ROLLBACK_REQUESTED,
    ROLLBACK_IN_PROGRESS,
    ROLLBACK_SUCCESSFUL,
    ROLLBACK_FAILED,
)
TERMINAL = frozenset({SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED})

# The world's own wording: no real statusReason or rollback.reason text has been published.
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
ROLLBACK_FAILED_REASON = (
    "ECS deployment circuit breaker: the rollback failed: tasks failed to start."
)
ROLLBACK_INTERRUPTED_REASON = (
    "ECS deployment circuit breaker: the rollback was interrupted by a newer deployment."
)
SUPERSEDED_REASON = "ECS deployment was stopped because a newer deployment started."

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_DESCRIBE = 20
_TOKEN_PREFIX = "deckhand-world-sd:"
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


def _dt(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def new_service_deployment_id() -> str:
    """21 URL-safe base64 characters, like `ejGvqq2ilnbKT9qj0vLJe`."""
    return "".join(random.choice(_ID_ALPHABET) for _ in range(21))


def revision_number(deployment_id: str) -> str:
    """`ecs-svc/3541978090126952138` -> `3541978090126952138`."""
    return deployment_id.rsplit("/", 1)[-1]


def image_digest(image: str) -> str:
    """The digest ECS would resolve the image to. An image given by digest (`repo@sha256:...`)
    keeps its digest; otherwise the world makes a fixed fake one, `sha256:` + the SHA-256 of the
    image string (no registry is asked)."""
    if "@sha256:" in image:
        return "sha256:" + image.split("@sha256:", 1)[1]
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def _prune(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def _zero_summary(arn: str) -> dict[str, Any]:
    return {"arn": arn, "requestedTaskCount": 0, "runningTaskCount": 0, "pendingTaskCount": 0}


class ServiceRevision:
    """An immutable service revision (DescribeServiceRevisions)."""

    def __init__(self, service: Any, number: str, td: Any, when: float):
        partition = get_partition(service.region_name)
        self.number = number
        self.arn = (
            f"arn:{partition}:ecs:{service.region_name}:{service._account_id}:service-revision/"
            f"{service.cluster_name}/{service.name}/{number}"
        )
        self.created = when
        self.td = td
        network = copy.deepcopy(getattr(service, "network_configuration", None)) or None
        self._fields = _prune(
            {
                "serviceRevisionArn": self.arn,
                "serviceArn": service.arn,
                "clusterArn": service.cluster_arn,
                "taskDefinition": td.arn,
                "launchType": service.launch_type,
                "platformVersion": service.platform_version,
                "loadBalancers": copy.deepcopy(service.load_balancers) or None,
                "serviceRegistries": copy.deepcopy(service.service_registries) or None,
                "networkConfiguration": network,
                "containerImages": [
                    {
                        "containerName": container.get("name"),
                        "image": container.get("image"),
                        "imageDigest": image_digest(str(container.get("image") or "")),
                    }
                    for container in td.container_definitions
                ],
                "guardDutyEnabled": False,
            }
        )

    def describe(self) -> dict[str, Any]:
        return {**copy.deepcopy(self._fields), "createdAt": _dt(self.created)}


class ServiceDeployment:
    """One service deployment (DescribeServiceDeployments), tied to the simulation's Deployment
    that it started. Counts and the breaker's failure count are read live from the simulation
    while the service deployment is ongoing, and frozen when it reaches a terminal status."""

    def __init__(
        self,
        history: "History",
        seq: int,
        deployment: "Deployment",
        revision: ServiceRevision,
        sources: list[ServiceRevision],
        configuration: dict[str, Any],
        when: float,
    ):
        service = history.sim.service
        partition = get_partition(service.region_name)
        self.history = history
        self.seq = seq
        self.id = new_service_deployment_id()
        self.arn = (
            f"arn:{partition}:ecs:{service.region_name}:{service._account_id}:service-deployment/"
            f"{service.cluster_name}/{service.name}/{self.id}"
        )
        self.service_arn = service.arn
        self.cluster_arn = service.cluster_arn
        self.deployment = deployment
        self.revision = revision
        self.sources = sources
        self.configuration = copy.deepcopy(configuration)
        self.status = PENDING
        self.status_reason: str | None = None
        self.created = when
        self.started: float | None = None
        self.finished: float | None = None
        self.stopped: float | None = None
        self.updated = when
        self.tripped = False
        self.rollback: dict[str, Any] | None = None
        # The simulation's deployment that runs the rollback (the last COMPLETED one, back as
        # PRIMARY), while this service deployment is ROLLBACK_IN_PROGRESS.
        self.rollback_deployment: "Deployment | None" = None
        self._frozen: dict[str, Any] | None = None
        # BLUE_GREEN, CANARY and LINEAR deployments (strategies.py): the current lifecycle stage
        # and green's (test, production) traffic weights; blue's are the rest.
        self.lifecycle_stage: str | None = None
        self.traffic: tuple[float | None, float] | None = None

    # ------------------------------------------------------------------ transitions

    @property
    def ongoing(self) -> bool:
        return self.status not in TERMINAL

    def set_status(self, when: float, status: str, reason: str | None = None) -> None:
        if status in TERMINAL and self._frozen is None:
            self._frozen = self._live_view()
        self.status = status
        if reason is not None:
            self.status_reason = reason
        self.updated = when

    def start(self, when: float) -> None:
        self.started = when
        self.set_status(when, IN_PROGRESS)

    # ------------------------------------------------------------------ views

    def _breaker_enabled(self) -> bool:
        breaker = self.configuration.get("deploymentCircuitBreaker") or {}
        return bool(breaker.get("enable"))

    def _live_view(self) -> dict[str, Any]:
        deployment = self.deployment
        target = self.history.summary(self.revision)
        sources = [self.history.summary(r) for r in self.sources]
        if self.traffic is not None:
            test, production = self.traffic
            target["requestedProductionTrafficWeight"] = production
            for source in sources:
                source["requestedProductionTrafficWeight"] = 100.0 - production
            if test is not None:
                target["requestedTestTrafficWeight"] = test
                for source in sources:
                    source["requestedTestTrafficWeight"] = 100.0 - test
        return {
            "target": target,
            "sources": sources,
            "failureCount": deployment.breaker_failures,
            "threshold": deployment.breaker_threshold(),
            "breakerEnabled": self._breaker_enabled(),
        }

    def _view(self) -> dict[str, Any]:
        return self._frozen if self._frozen is not None else self._live_view()

    def _breaker(self, view: dict[str, Any]) -> dict[str, Any]:
        if self.tripped:
            status = "TRIGGERED"
        elif not view["breakerEnabled"]:
            status = "DISABLED"
        elif self.ongoing:
            status = "MONITORING"
        else:
            status = "MONITORING_COMPLETE"
        return {
            "status": status,
            "failureCount": view["failureCount"],
            "threshold": view["threshold"],
        }

    def _alarms(self) -> dict[str, Any]:
        alarms = self.configuration.get("alarms") or {}
        if not alarms.get("enable"):
            return {"status": "DISABLED"}
        return {
            "status": "MONITORING" if self.ongoing else "MONITORING_COMPLETE",
            "alarmNames": list(alarms.get("alarmNames") or []),
            "triggeredAlarmNames": [],
        }

    def describe(self) -> dict[str, Any]:
        view = self._view()
        return _prune(
            {
                "serviceDeploymentArn": self.arn,
                "serviceArn": self.service_arn,
                "clusterArn": self.cluster_arn,
                "createdAt": _dt(self.created),
                "startedAt": _dt(self.started),
                "finishedAt": _dt(self.finished),
                "stoppedAt": _dt(self.stopped),
                "updatedAt": _dt(self.updated),
                "sourceServiceRevisions": copy.deepcopy(view["sources"]),
                "targetServiceRevision": copy.deepcopy(view["target"]),
                "status": self.status,
                "statusReason": self.status_reason,
                "lifecycleStage": self.lifecycle_stage,
                "deploymentConfiguration": copy.deepcopy(self.configuration),
                "rollback": (
                    None
                    if self.rollback is None
                    else {**self.rollback, "startedAt": _dt(self.rollback["startedAt"])}
                ),
                "deploymentCircuitBreaker": self._breaker(view),
                "alarms": self._alarms(),
            }
        )

    def brief(self) -> dict[str, Any]:
        return _prune(
            {
                "serviceDeploymentArn": self.arn,
                "serviceArn": self.service_arn,
                "clusterArn": self.cluster_arn,
                "startedAt": _dt(self.started),
                "createdAt": _dt(self.created),
                "finishedAt": _dt(self.finished),
                "targetServiceRevisionArn": self.revision.arn,
                "status": self.status,
                "statusReason": self.status_reason,
            }
        )


class History:
    """The service deployments and revisions of one simulated service (`ServiceSim.history`)."""

    def __init__(self, sim: "ServiceSim"):
        self.sim = sim
        self.revisions: dict[str, ServiceRevision] = {}
        self.deployments: list[ServiceDeployment] = []  # oldest first
        self._seq = itertools.count(1)

    # ------------------------------------------------------------------ lookups

    def summary(self, revision: ServiceRevision) -> dict[str, Any]:
        """ServiceRevisionSummary with the live counts of the simulation's deployment of that
        revision (zeros once it left deployments[])."""
        deployment = self.sim.deployment_of_revision(revision.number)
        if deployment is None:
            return _zero_summary(revision.arn)
        return {
            "arn": revision.arn,
            "requestedTaskCount": deployment.desired_count,
            "runningTaskCount": deployment.running_count,
            "pendingTaskCount": deployment.pending_count,
        }

    def of(self, deployment: "Deployment") -> ServiceDeployment | None:
        return getattr(deployment, "_service_deployment", None)

    @property
    def current(self) -> ServiceDeployment | None:
        return self.deployments[-1] if self.deployments else None

    def current_revisions(self) -> list[dict[str, Any]]:
        """`currentServiceRevisions`: the revisions of the deployments the service has now."""
        seen, result = set(), []
        for deployment in self.sim.deployments:
            revision = self.revisions.get(revision_number(deployment.id))
            if revision is None or revision.number in seen:
                continue
            seen.add(revision.number)
            result.append(self.summary(revision))
        return result

    # ------------------------------------------------------------------ hooks (sim.py)

    def deployment_started(self, when: float, deployment: "Deployment") -> ServiceDeployment:
        """CreateService or a deploying UpdateService: a new revision and service deployment.
        Call before `deployment` joins the simulation's deployments (they are its sources)."""
        sources: list[ServiceRevision] = []
        for previous in self.sim.deployments:
            revision = self.revisions.get(revision_number(previous.id))
            if revision is not None and revision not in sources:
                sources.append(revision)
        for older in self.deployments:
            self._supersede(when, older)
        number = revision_number(deployment.id)
        revision = ServiceRevision(self.sim.service, number, deployment.td, when)
        self.revisions[number] = revision
        configuration = getattr(self.sim.service, "deployment_configuration", None) or {}
        service_deployment = ServiceDeployment(
            self, next(self._seq), deployment, revision, sources, configuration, when
        )
        deployment._service_deployment = service_deployment
        self.deployments.append(service_deployment)
        # The world starts a deployment the instant it is created: PENDING is never observed.
        service_deployment.start(when)
        return service_deployment

    def _supersede(self, when: float, older: ServiceDeployment) -> None:
        if older.status in (PENDING, IN_PROGRESS):
            older.set_status(when, STOP_REQUESTED, SUPERSEDED_REASON)
            self._queue_stop(when, older, superseded=True)
        elif older.status == ROLLBACK_IN_PROGRESS:
            older.rollback_deployment = None
            older.finished = when
            older.set_status(when, ROLLBACK_FAILED, ROLLBACK_INTERRUPTED_REASON)

    def _queue_stop(self, when: float, service_deployment: ServiceDeployment, superseded: bool):
        delay = service_deployment.deployment.profile.timings()["stop_seconds"]
        self.sim.at(when + delay, self._stopped, service_deployment, superseded)

    def _stopped(self, when: float, service_deployment: ServiceDeployment, superseded: bool):
        if service_deployment.status != STOP_REQUESTED:
            return
        if superseded:
            service_deployment.finished = when
        else:
            service_deployment.stopped = when
        service_deployment.set_status(when, STOPPED)

    def configuration_changed(self, when: float) -> None:
        """An UpdateService (or CreateService) changed deploymentConfiguration without starting a
        deployment: the ongoing service deployment runs with the new configuration."""
        current = self.current
        if current is not None and current.ongoing:
            configuration = getattr(self.sim.service, "deployment_configuration", None) or {}
            current.configuration = copy.deepcopy(configuration)

    def deployment_completed(self, when: float, deployment: "Deployment") -> None:
        """The simulation's deployment reached COMPLETED."""
        for service_deployment in self.deployments:
            if (
                service_deployment.status == ROLLBACK_IN_PROGRESS
                and service_deployment.rollback_deployment is deployment
            ):
                service_deployment.finished = when
                service_deployment.set_status(when, ROLLBACK_SUCCESSFUL)
        own = self.of(deployment)
        if own is not None and own.status == IN_PROGRESS:
            own.finished = when
            own.set_status(when, SUCCESSFUL)

    def breaker_tripped(self, when: float, deployment: "Deployment", will_roll_back: bool) -> None:
        """The circuit breaker failed `deployment` (rolloutState FAILED)."""
        for service_deployment in self.deployments:
            if (
                service_deployment.status == ROLLBACK_IN_PROGRESS
                and service_deployment.rollback_deployment is deployment
            ):
                # The revision rolled back to fails too: the rollback failed.
                service_deployment.finished = when
                service_deployment.set_status(when, ROLLBACK_FAILED, ROLLBACK_FAILED_REASON)
        own = self.of(deployment)
        if own is None or own.status != IN_PROGRESS:
            return
        own.tripped = True
        own.updated = when
        if not will_roll_back:
            own.set_status(when, STOP_REQUESTED, BREAKER_REASON)
            self._queue_stop(when, own, superseded=False)
        # With a rollback the status moves when the rollback starts (rolling_back).

    def rolling_back(
        self, when: float, failed: "Deployment", target: "Deployment", reason: str
    ) -> None:
        """The rollback of `failed` starts: `target` (the last COMPLETED deployment) is PRIMARY."""
        own = self.of(failed)
        if own is None or own.status != IN_PROGRESS:
            return
        revision = self.revisions.get(revision_number(target.id))
        own.rollback = {
            "reason": reason,
            "startedAt": when,
            "serviceRevisionArn": revision.arn if revision is not None else None,
        }
        own.rollback = _prune(own.rollback)
        own.rollback_deployment = target
        own.set_status(when, ROLLBACK_IN_PROGRESS, BREAKER_REASON)

    def clear(self) -> None:
        """DeleteService deletes the service's deployments and revisions."""
        self.deployments.clear()
        self.revisions.clear()

    # ------------------------------------------------------------------ API views

    def listed(
        self,
        statuses: set[str] | None,
        after: float | None,
        before: float | None,
        max_results: int,
        next_token: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page, newest first. The page is a window of `max_results` service deployments;
        the filters apply within the window, so a filtered page may be short (even empty) and
        still carry a nextToken. The token is a cursor, stable while deployments are added."""
        cursor = decode_token(next_token) if next_token else None
        newest_first = sorted(self.deployments, key=lambda d: d.seq, reverse=True)
        remaining = [d for d in newest_first if cursor is None or d.seq < cursor]
        window = remaining[:max_results]
        token = encode_token(window[-1].seq) if len(remaining) > len(window) else None
        page = [
            d.brief()
            for d in window
            if (statuses is None or d.status in statuses)
            and (after is None or d.created >= after)
            and (before is None or d.created <= before)
        ]
        return page, token


def encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{seq}".encode()).decode()


def decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if not text.startswith(_TOKEN_PREFIX):
            raise ValueError(token)
        return int(text[len(_TOKEN_PREFIX) :])
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameterException("Invalid nextToken.") from None


def histories(backend: Any) -> Iterable[History]:
    """The histories of the backend's simulated services that were not deleted."""
    for service in list(backend.services.values()):
        simulation = getattr(service, "deckhand_sim", None)
        if simulation is not None and not simulation.deleted:
            yield simulation.history
