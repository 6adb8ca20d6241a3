"""ECS-native deployment strategies (BLUE_GREEN, CANARY, LINEAR): the lifecycle stage walk.

A deployment of a service whose `deploymentConfiguration.strategy` is one of these does not roll
task by task. As the ECS developer guide describes it (shared/reference/ecs-service-deployments.md
§2.2, §2.5): blue (the revision running now) keeps serving while green (the new revision) scales
up to the full count; test traffic moves to green; production traffic moves to green (all at
once for BLUE_GREEN, `canaryPercent` then the rest after `canaryBakeTimeInMinutes` for CANARY,
`stepPercent` steps with `stepBakeTimeInMinutes` between them for LINEAR); both run for
`bakeTimeInMinutes`; then blue is scaled to 0 (CLEAN_UP) and the deployment is SUCCESSFUL.

Here the walk is a list of steps, each a `lifecycleStage` with the traffic weights it sets and
how long it lasts. Every step after SCALE_UP needs green *whole* (all its desired tasks live and
RUNNING): a green task that stops voids the queued step, and the step starts over once the
scheduler's replacement runs. Failing green tasks count toward the circuit breaker as in a
rolling deployment (`sim.py`); when the breaker rolls back, blue (still ACTIVE, its tasks still
running) is PRIMARY again at once and production traffic returns to it.

Time: stages without a bake last `stage_seconds`; one API "minute" of bake time lasts
`bake_minute_seconds` (world/README.md, "Timings").

Callers hold `ecs_rollouts.LOCK`, like the rest of the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .sim import Deployment, ServiceSim

STAGED = ("BLUE_GREEN", "CANARY", "LINEAR")

# ECS's defaults for absent settings (the API reference, CanaryConfiguration and
# LinearConfiguration); `bakeTimeInMinutes` is required for BLUE_GREEN and taken as 0 here.
DEFAULT_CANARY_PERCENT = 5.0
DEFAULT_CANARY_BAKE_MINUTES = 10.0
DEFAULT_STEP_PERCENT = 10.0
DEFAULT_STEP_BAKE_MINUTES = 6.0


def strategy_of(configuration: dict[str, Any] | None) -> str:
    return str((configuration or {}).get("strategy") or "ROLLING")


@dataclass(frozen=True)
class Step:
    stage: str
    # Stage time in `stage_seconds` units, plus bake time in API minutes.
    stages: float
    bake_minutes: float
    # Green's share of production and test traffic once the step is entered (None: unchanged).
    production: float | None = None
    test: float | None = None


def _number(value: Any, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def production_steps(configuration: dict[str, Any]) -> list[Step]:
    """The PRODUCTION_TRAFFIC_SHIFT steps of a strategy, with the bake after each."""
    strategy = strategy_of(configuration)
    if strategy == "CANARY":
        canary = configuration.get("canaryConfiguration") or {}
        percent = _number(canary.get("canaryPercent"), DEFAULT_CANARY_PERCENT)
        bake = _number(canary.get("canaryBakeTimeInMinutes"), DEFAULT_CANARY_BAKE_MINUTES)
        if percent >= 100.0:
            return [Step("PRODUCTION_TRAFFIC_SHIFT", 1, 0, production=100.0)]
        return [
            Step("PRODUCTION_TRAFFIC_SHIFT", 1, bake, production=percent),
            Step("PRODUCTION_TRAFFIC_SHIFT", 1, 0, production=100.0),
        ]
    if strategy == "LINEAR":
        linear = configuration.get("linearConfiguration") or {}
        step = max(_number(linear.get("stepPercent"), DEFAULT_STEP_PERCENT), 0.1)
        bake = _number(linear.get("stepBakeTimeInMinutes"), DEFAULT_STEP_BAKE_MINUTES)
        steps, weight = [], 0.0
        while weight < 100.0:
            weight = min(100.0, round(weight + step, 1))
            # No step bake after the step that reaches 100 % (API reference).
            steps.append(
                Step("PRODUCTION_TRAFFIC_SHIFT", 1, 0 if weight >= 100.0 else bake, weight)
            )
        return steps
    return [Step("PRODUCTION_TRAFFIC_SHIFT", 1, 0, production=100.0)]


def walk(configuration: dict[str, Any]) -> list[Step]:
    """Every step of a staged deployment, in ECS's order (RECONCILE_SERVICE is not modelled)."""
    bake = _number(configuration.get("bakeTimeInMinutes"), 0.0)
    return [
        Step("PRE_SCALE_UP", 1, 0, production=0.0),
        Step("SCALE_UP", 0, 0),  # launches green; left once green is whole
        Step("POST_SCALE_UP", 1, 0),
        Step("TEST_TRAFFIC_SHIFT", 1, 0, test=100.0),
        Step("POST_TEST_TRAFFIC_SHIFT", 1, 0),
        *production_steps(configuration),
        Step("POST_PRODUCTION_TRAFFIC_SHIFT", 1, 0),
        Step("BAKE_TIME", 0, bake),
        Step("CLEAN_UP", 1, 0),  # blue's tasks stop on entry; COMPLETED/SUCCESSFUL at the end
    ]


class StagedRollout:
    """The stage walk of one deployment (`Deployment.staged`)."""

    def __init__(self, sim: "ServiceSim", deployment: "Deployment", configuration: dict[str, Any]):
        self.sim = sim
        self.deployment = deployment
        self.strategy = strategy_of(configuration)
        self.steps = walk(configuration)
        self.index = -1
        self.token: object | None = None
        # Green's share of traffic; blue (the source revisions) has the rest.
        self.production = 0.0
        self.test: float | None = None

    # ------------------------------------------------------------------ state

    @property
    def stage(self) -> str | None:
        return self.steps[self.index].stage if self.index >= 0 else None

    def active(self) -> bool:
        d = self.deployment
        return self.sim.is_primary(d) and d.rollout_state == "IN_PROGRESS" and not d.is_rollback

    def green_whole(self) -> bool:
        live = self.deployment.live_tasks()
        return len(live) == self.deployment.desired_count and all(
            t.last_status == "RUNNING" for t in live
        )

    def _duration(self, step: Step) -> float:
        timings = self.deployment.profile.timings()
        return (
            step.stages * timings["stage_seconds"]
            + step.bake_minutes * timings["bake_minute_seconds"]
        )

    # ------------------------------------------------------------------ the walk

    def begin(self, when: float) -> None:
        self._enter(when, 0)

    def _enter(self, when: float, index: int) -> None:
        if not self.active():
            return
        self.index = index
        step = self.steps[index]
        if step.production is not None:
            self.production = step.production
        if step.test is not None:
            self.test = step.test
        self._record(when)
        if step.stage == "SCALE_UP":
            self.sim._launch(when, self.deployment, self.deployment.desired_count)
        elif step.stage == "CLEAN_UP":
            self.sim._drain_others(when, self.deployment)
        self._queue_next(when)

    def _queue_next(self, when: float) -> None:
        """Queues the end of the current step, if green is whole (else `green_changed` will)."""
        self.token = None
        step = self.steps[self.index]
        if step.stage == "PRE_SCALE_UP" or self.green_whole():
            token = object()
            self.token = token
            # Whole milliseconds, like the clock: sums of 0.1 s steps must not drift below.
            at = round((when + self._duration(step)) * 1000) / 1000
            self.sim.at(at, self._leave, token)

    def _leave(self, when: float, token: object) -> None:
        if token is not self.token or not self.active():
            return
        self.token = None
        if self.index + 1 < len(self.steps):
            self._enter(when, self.index + 1)
            return
        # The end of CLEAN_UP: the deployment completes as a rolling one does.
        finish = object()
        self.deployment.finish_token = finish
        self.sim._complete(when, self.deployment, finish)

    def green_changed(self, when: float) -> None:
        """A green task started running or stopped: the current step goes on only while green
        is whole, and starts over once it is whole again."""
        if not self.active() or self.index < 0 or self.stage == "PRE_SCALE_UP":
            return
        if not self.green_whole():
            self.token = None
        elif self.token is None:
            self._queue_next(when)

    def rolled_back(self, when: float) -> None:
        """The circuit breaker rolls back: production (and test) traffic returns to blue."""
        self.token = None
        self.production = 0.0
        if self.test is not None:
            self.test = 0.0
        self._record(when, stage=False)

    # ------------------------------------------------------------------ the record

    def _record(self, when: float, stage: bool = True) -> None:
        record = self.sim.history.of(self.deployment)
        if record is None or not record.ongoing:
            return
        if stage:
            record.lifecycle_stage = self.stage
        record.traffic = (self.test, self.production)
        record.updated = when
