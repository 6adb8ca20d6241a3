"""What a task definition tells the simulation: which fault its tasks have (if any), in which
container, and its timing overrides.

Faults are chosen per task definition, either by the container environment variable
DECKHAND_WORLD_FAULT=<mode> on any container, or by an image tag `fault-<mode>`
(e.g. `registry.local/web:fault-exit`). The environment variable wins over image tags; among
containers, the first one in definition order wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.ecs.exceptions import EcsClientException

from . import config

FAULT_ENV = "DECKHAND_WORLD_FAULT"
IMAGE_TAG_PREFIX = "fault-"

# exit: reaches RUNNING, then the essential container exits 1.
# pull: never reaches RUNNING, the image cannot be pulled.
# health: reaches RUNNING, then fails its container health checks and is killed.
# hang: stays PENDING forever, without failing.
FAULT_MODES = ("exit", "pull", "health", "hang")


@dataclass(frozen=True)
class Fault:
    mode: str
    container: str  # name of the faulty container
    image: str  # its image, quoted in pull failure messages


@dataclass(frozen=True)
class Profile:
    fault: Fault | None
    overrides: dict[str, float]

    def timings(self) -> dict[str, float]:
        """Global timings with this task definition's overrides applied (read now)."""
        timings = config.current()
        timings.update(self.overrides)
        return timings

    @property
    def crashes(self) -> bool:
        """Tasks reach RUNNING but will not stay up: they never count as healthy."""
        return self.fault is not None and self.fault.mode in ("exit", "health")


def _environment(container: dict[str, Any]) -> dict[str, str]:
    env = {}
    for pair in container.get("environment") or []:
        if isinstance(pair, dict) and "name" in pair:
            env[str(pair["name"])] = str(pair.get("value", ""))
    return env


def _image_tag(image: str) -> str | None:
    """The tag of `registry:port/repo:tag` (the part after the last colon of the last path part)."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def _fault_from_env(container: dict[str, Any]) -> str | None:
    mode = _environment(container).get(FAULT_ENV)
    if mode is None or mode == "":
        return None
    if mode not in FAULT_MODES:
        # Rejected at registration so a typo cannot silently produce a healthy deployment.
        raise EcsClientException(
            f"{FAULT_ENV} must be one of {', '.join(FAULT_MODES)}, got '{mode}' "
            f"(container '{container.get('name')}')."
        )
    return mode


def _fault_from_image(container: dict[str, Any]) -> str | None:
    tag = _image_tag(str(container.get("image") or ""))
    if tag is None or not tag.startswith(IMAGE_TAG_PREFIX):
        return None
    mode = tag[len(IMAGE_TAG_PREFIX) :]
    if mode not in FAULT_MODES:
        raise EcsClientException(
            f"image tag '{tag}' names no deckhand-world fault; use one of "
            f"{', '.join(IMAGE_TAG_PREFIX + m for m in FAULT_MODES)} "
            f"(container '{container.get('name')}')."
        )
    return mode


def _find_fault(containers: list[dict[str, Any]]) -> Fault | None:
    for finder in (_fault_from_env, _fault_from_image):
        for container in containers:
            mode = finder(container)
            if mode:
                return Fault(mode, str(container.get("name")), str(container.get("image")))
    return None


def _find_overrides(containers: list[dict[str, Any]]) -> dict[str, float]:
    overrides: dict[str, float] = {}
    for name, env_name in config.ENV_OVERRIDES.items():
        for container in containers:
            value = _environment(container).get(env_name)
            if value is not None:
                try:
                    overrides[name] = config.parse_seconds(env_name, value)
                except config.ConfigError as error:
                    raise EcsClientException(f"{error} (container '{container.get('name')}').")
                break
    return overrides


def profile_of_definitions(containers: list[dict[str, Any]]) -> Profile:
    """Raises EcsClientException (ClientException) for invalid fault or timing settings."""
    return Profile(_find_fault(containers), _find_overrides(containers))


def profile_of(task_definition: Any) -> Profile:
    return profile_of_definitions(task_definition.container_definitions)
