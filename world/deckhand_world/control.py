"""The control API under /_deckhand/, as a WSGI middleware in front of moto's server app.

GET    /_deckhand/health  -> {"ok": true}
GET    /_deckhand/config  -> the global timings
POST   /_deckhand/config  -> partial update (JSON object); unknown keys or bad values -> 400
POST   /_deckhand/reset   -> moto's reset (all backends), timings back to defaults, faults cleared,
                             registry counters zeroed (images stay in the registries)
GET    /_deckhand/faults  -> the fault rules with their `remaining` and `failed` counts
POST   /_deckhand/faults  -> replaces the fault rules ({"rules": [...]}); a bad rule -> 400
DELETE /_deckhand/faults  -> clears the fault rules
GET    /_deckhand/registries     -> {"ecr": "127.0.0.1:P1", "hub": "127.0.0.1:P2"} (--registry)
GET    /_deckhand/registry-stats -> the registry fronts' counters (--registry)
GET    /_deckhand/app/CLUSTER/SERVICE -> answered by the service's next RUNNING task
                             (target_health.py)

The middleware also fails the requests that a fault rule matches (faults.py), before moto sees
them.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

from . import config, faults, target_health
from .ecs_rollouts import LOCK, advance_all

PREFIX = "/_deckhand/"


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body) + "\n", status=status, mimetype="application/json")


def _reset_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def _config(request: Request) -> Response:
    if request.method == "GET":
        return _json(200, config.current())
    try:
        changes = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as error:
        return _json(400, {"error": f"invalid JSON: {error}"})
    try:
        return _json(200, config.update(changes))
    except config.ConfigError as error:
        return _json(400, {"error": str(error)})


def _reset(request: Request) -> Response:
    _reset_moto()
    config.reset()
    faults.clear()
    running = _registries_running()
    if running is not None:
        # Images stay: tests use repository names of their own instead.
        running.reset_counters()
    return _json(200, {"ok": True})


def _registries_running() -> Any:
    # Looked up, not imported: the registries module is loaded only with --registry.
    module = sys.modules.get(f"{__package__}.registries")
    return module.current() if module is not None else None


def _without_registries() -> Response:
    return _json(
        404,
        {
            "error": "this world runs no container registries: start it with --registry "
            "(python -m deckhand_world --registry, or world/start.sh --registry)"
        },
    )


def _registries(request: Request) -> Response:
    running = _registries_running()
    return _without_registries() if running is None else _json(200, running.addresses())


def _registry_stats(request: Request) -> Response:
    running = _registries_running()
    return _without_registries() if running is None else _json(200, running.stats())


def _faults(request: Request) -> Response:
    if request.method == "DELETE":
        faults.clear()
    elif request.method == "POST":
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError as error:
            return _json(400, {"error": f"invalid JSON: {error}"})
        try:
            faults.set_rules(body)
        except faults.FaultError as error:
            return _json(400, {"error": str(error)})
    return _json(200, {"rules": faults.current()})


ROUTES: dict[str, tuple[tuple[str, ...], Callable[[Request], Response]]] = {
    "health": (("GET",), lambda request: _json(200, {"ok": True})),
    "config": (("GET", "POST"), _config),
    "reset": (("POST",), _reset),
    "faults": (("GET", "POST", "DELETE"), _faults),
    "registries": (("GET",), _registries),
    "registry-stats": (("GET",), _registry_stats),
}


def _app(request: Request, name: str) -> Response:
    parts = name.split("/")
    if len(parts) < 3 or not parts[1] or not parts[2]:
        return _json(404, {"error": "use /_deckhand/app/CLUSTER/SERVICE"})
    if request.method not in ("GET", "HEAD"):
        return _json(405, {"error": f"{request.path} accepts GET, HEAD"})
    with LOCK:
        advance_all()
        status, body, headers = target_health.app_answer(parts[1], parts[2])
    return Response(body, status=status, headers=headers, mimetype="text/plain")


def handle(request: Request) -> Response:
    name = request.path[len(PREFIX) :].strip("/")
    if name.startswith("app/"):
        return _app(request, name)
    if name not in ROUTES:
        return _json(
            404, {"error": f"unknown control endpoint {request.path}", "known": sorted(ROUTES)}
        )
    methods, handler = ROUTES[name]
    if request.method not in methods:
        return _json(405, {"error": f"{request.path} accepts {', '.join(methods)}"})
    with LOCK:
        # Control calls observe the simulation too (e.g. before a timing change).
        advance_all()
        return handler(request)


class ControlMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            return handle(Request(environ))(environ, start_response)
        rule = faults.take(environ)
        if rule is not None and rule.delay_ms:
            # Outside every lock: only this request's thread waits.
            time.sleep(rule.delay_ms / 1000)
        if rule is not None and rule.status is not None:
            request = Request(environ)
            # Read the whole body first, as moto would, so that a client still sending a large
            # upload gets the error answer, not a connection closed under it.
            request.get_data()
            return faults.error_response(rule, request.method)(environ, start_response)
        if path.startswith("/moto-api/reset"):
            # moto's reset rebuilds the backends; no ECS request may run through it.
            with LOCK:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)
