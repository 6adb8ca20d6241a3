"""Simulation timings: global defaults, changed through the control API, overridable per task
definition by container environment variables.

Timings are read when a transition is *scheduled*, so changing them affects what happens next and
never reschedules transitions that are already queued.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, float] = {
    # PENDING -> RUNNING of a task that is not stuck.
    "task_start_seconds": 2.0,
    # Until a faulty task stops: from launch for pull failures, from RUNNING for crashes and
    # health-check failures.
    "task_fail_seconds": 2.0,
    # Once the PRIMARY has all its tasks running and healthy, until the older deployments' tasks
    # are stopped and the PRIMARY is COMPLETED.
    "drain_seconds": 1.0,
    # After a task of the PRIMARY stopped, until the scheduler launches its replacement.
    "replace_seconds": 0.5,
    # A service deployment's STOP_REQUESTED (superseded by a newer deployment, or failed by the
    # circuit breaker without rollback) until STOPPED.
    "stop_seconds": 0.5,
    # A task registered in a load balancer's target group (it reached RUNNING) is `initial`
    # this long, then healthy or unhealthy as its task definition chose (target_health.py).
    "health_check_seconds": 1.0,
    # A standalone (RunTask) task's RUNNING until its containers exit.
    "task_run_seconds": 1.0,
    # A lifecycle stage of a BLUE_GREEN, CANARY or LINEAR deployment that has no bake time
    # (PRE_SCALE_UP, POST_SCALE_UP, each traffic shift, CLEAN_UP, ...).
    "stage_seconds": 0.3,
    # One minute of bakeTimeInMinutes, canaryBakeTimeInMinutes and stepBakeTimeInMinutes.
    "bake_minute_seconds": 0.5,
}

# Container environment variables (on any container of a task definition) that override a timing
# for that task definition only.
ENV_OVERRIDES: dict[str, str] = {
    "task_start_seconds": "DECKHAND_WORLD_START_SECONDS",
    "task_fail_seconds": "DECKHAND_WORLD_FAIL_SECONDS",
    "drain_seconds": "DECKHAND_WORLD_DRAIN_SECONDS",
    "replace_seconds": "DECKHAND_WORLD_REPLACE_SECONDS",
    "stop_seconds": "DECKHAND_WORLD_STOP_SECONDS",
    "health_check_seconds": "DECKHAND_WORLD_HEALTH_CHECK_SECONDS",
    "task_run_seconds": "DECKHAND_WORLD_RUN_SECONDS",
    "stage_seconds": "DECKHAND_WORLD_STAGE_SECONDS",
    "bake_minute_seconds": "DECKHAND_WORLD_BAKE_MINUTE_SECONDS",
}

_current: dict[str, float] = dict(DEFAULTS)


class ConfigError(ValueError):
    """A rejected configuration change (the control API answers 400)."""


def current() -> dict[str, float]:
    return dict(_current)


def reset() -> None:
    _current.clear()
    _current.update(DEFAULTS)


def parse_seconds(name: str, value: Any) -> float:
    """A timing value: a non-negative number (strings allowed, they come from env vars)."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
    return seconds


def update(changes: Any) -> dict[str, float]:
    """Applies a partial update atomically: either every key is valid and applied, or none is."""
    if not isinstance(changes, dict):
        raise ConfigError("the body must be a JSON object")
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"unknown keys {unknown}; known keys are {sorted(DEFAULTS)}")
    parsed = {name: parse_seconds(name, value) for name, value in changes.items()}
    _current.update(parsed)
    return current()
