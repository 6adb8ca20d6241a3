"""The registry fronts: HTTP proxies in the world process, in front of the `docker-registry`
children that registries.py starts (CNCF distribution, the reference registry).

distribution stores and serves images correctly, but it is not ECR and it is not Docker Hub:
- The ECR front makes it answer like ECR's registry endpoint
  (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`): repositories must exist in moto's ECR backend,
  immutable tags cannot be pushed again, a blob-upload PATCH answers 201, non-final upload parts
  must be at least 5 MiB, and a manifest PUT answers without `Location`. Basic auth is checked
  by the upstream's htpasswd (user `AWS`, moto's GetAuthorizationToken password).
- The hub front puts Docker Hub's anonymous bearer-token flow in front of an upstream without
  auth: 401 with a `Bearer` challenge, `GET /token`, then the request again with the token.

Both count requests and bytes per repository (`GET /_deckhand/registry-stats`) and apply the
fault rules of service `registry` (faults.py): an error answer, a delay, or a connection dropped
without an answer.

Bodies are streamed both ways in pieces (image layers can be tens of MB), with HTTP/1.1
keep-alive to the client and Content-Length or chunked request bodies. Each request gets its own
upstream connection: on loopback that costs nothing, and an upstream that closed a connection
can never fail a later request.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import socketserver
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, quote, unquote, urlsplit

from . import faults

# moto's default account and the world's region: the ECR front is this registry.
ACCOUNT = "123456789012"
REGION = "us-east-1"

# Pieces in which bodies are streamed.
BUFFER = 256 * 1024
# ECR refuses an upload part after one smaller than this (LayerPartTooSmallException).
MIN_PART_BYTES = 5 * 1024 * 1024
# A client connection idle this long is closed; an upstream this slow fails the request.
IDLE_TIMEOUT = 300
UPSTREAM_TIMEOUT = 300

HUB_SERVICE = "deckhand-world-hub"
TOKEN_SECONDS = 300

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)

# Repository routes of the distribution API. Names may contain slashes, so the name is the
# shortest prefix followed by one of the route keywords.
_ROUTE = re.compile(
    r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs/uploads|blobs|tags|referrers)(?:/(?P<rest>.*))?$"
)
# A manifest reference with a colon is a digest (`sha256:...`); anything else is a tag.
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")

# Never forwarded: they describe one connection, not the request (RFC 9110 7.6.1), or are
# re-created here (Content-Length, Transfer-Encoding). `Expect: 100-continue` was answered by
# this server already; the upstream gets the body at once.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "content-length",
}

COUNTERS = (
    "requests",
    "bytes_received",
    "blob_uploads_completed",
    "blob_bytes_uploaded",
    "manifest_puts",
    "mounts",
    "blob_heads",
)


def error_body(code: str, message: str) -> bytes:
    """distribution's (and ECR's) error document."""
    return json.dumps(
        {"errors": [{"code": code, "message": message}]}, separators=(",", ":")
    ).encode()


# --------------------------------------------------------------------------- counters


def _zero() -> dict[str, Any]:
    return {**{key: 0 for key in COUNTERS}, "by_method": {}}


class Stats:
    """Per-front counters: totals over every request the front received, and per repository
    for the requests that name one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = _zero()
        self._repositories: dict[str, dict[str, Any]] = {}

    def _targets(self, repository: str | None) -> Iterable[dict[str, Any]]:
        yield self._totals
        if repository is not None:
            yield self._repositories.setdefault(repository, _zero())

    def add(self, repository: str | None, key: str, amount: int = 1) -> None:
        with self._lock:
            for counters in self._targets(repository):
                counters[key] += amount

    def request(self, repository: str | None, method: str) -> None:
        with self._lock:
            for counters in self._targets(repository):
                counters["requests"] += 1
                counters["by_method"][method] = counters["by_method"].get(method, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(
                json.dumps({"totals": self._totals, "repositories": self._repositories})
            )

    def reset(self) -> None:
        with self._lock:
            self._totals = _zero()
            self._repositories = {}


# --------------------------------------------------------------------------- request bodies


class BodyError(Exception):
    """A request body that cannot be read to its end: the connection cannot be reused."""


class Body:
    """A request body read in pieces as it arrives, framed by Content-Length or chunked."""

    def __init__(self, rfile: Any, headers: Any, on_read: Callable[[int], None]):
        self._rfile = rfile
        self._on_read = on_read
        encoding = headers.get("Transfer-Encoding")
        self.chunked = encoding is not None
        if self.chunked and encoding.strip().lower() != "chunked":
            raise BodyError(f"unsupported Transfer-Encoding {encoding!r}")
        self.length: int | None = None
        self._left = 0  # bytes left in the body (Content-Length) or in the current chunk
        if not self.chunked:
            try:
                self.length = int(headers.get("Content-Length") or 0)
            except ValueError:
                raise BodyError("invalid Content-Length") from None
            if self.length < 0:
                raise BodyError("invalid Content-Length")
            self._left = self.length
        self._done = not self.chunked and self.length == 0
        self.read_bytes = 0

    def _next_chunk(self) -> None:
        line = self._readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BodyError(f"invalid chunk size line {line[:40]!r}") from None
        if size == 0:
            while self._readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields: nothing here uses them
            self._done = True
        self._left = size

    def read(self, limit: int = BUFFER) -> bytes:
        """The next piece of the body, b"" at its end."""
        if self._done:
            return b""
        if self.chunked and self._left == 0:
            self._next_chunk()
            if self._done:
                return b""
        try:
            data = self._rfile.read(min(limit, self._left))
        except OSError as error:
            raise BodyError(f"reading the body: {error}") from None
        if not data:
            raise BodyError("the client closed the connection in the middle of the body")
        self._left -= len(data)
        self.read_bytes += len(data)
        self._on_read(len(data))
        if self._left == 0:
            if self.chunked:
                self._readline(16)  # the CRLF that ends the chunk
            else:
                self._done = True
        return data

    def _readline(self, limit: int) -> bytes:
        # Client-side failures are BodyErrors, never OSErrors, which mean the upstream failed.
        try:
            return self._rfile.readline(limit)
        except OSError as error:
            raise BodyError(f"reading the body: {error}") from None

    def is_empty(self) -> bool:
        """Whether the whole body is empty; may read a chunk header to find out."""
        if not self._done and self.chunked and self.read_bytes == 0 and self._left == 0:
            self._next_chunk()
        return self._done and self.read_bytes == 0

    def drain(self) -> None:
        while self.read():
            pass

    def read_some(self, amount: int) -> None:
        """Reads and discards up to `amount` bytes."""
        while amount > 0:
            data = self.read(min(amount, BUFFER))
            if not data:
                return
            amount -= len(data)


# --------------------------------------------------------------------------- requests


@dataclass
class Route:
    name: str
    kind: str  # manifests, blobs, blobs/uploads, tags, referrers
    rest: str  # the reference, digest, upload id or `list`; "" for `blobs/uploads/`


@dataclass
class Request:
    method: str
    target: str  # as received: path and query
    path: str  # percent-decoded, without the query
    query: dict[str, list[str]]
    route: Route | None
    body: Body

    @property
    def repository(self) -> str | None:
        return self.route.name if self.route else None


def parse_route(path: str) -> Route | None:
    match = _ROUTE.match(path)
    if match is None:
        return None
    return Route(match["name"], match["kind"], match["rest"] or "")


class Handler(BaseHTTPRequestHandler):
    """One client connection; `server.front` decides what each request gets."""

    protocol_version = "HTTP/1.1"  # keep-alive: skopeo and reqwest reuse connections
    timeout = IDLE_TIMEOUT
    server: "FrontServer"

    def _serve(self) -> None:
        front = self.server.front
        split = urlsplit(self.path)
        path = unquote(split.path)
        route = parse_route(path)
        repository = route.name if route else None
        upload = route is not None and route.kind == "blobs/uploads"

        def counted(amount: int) -> None:
            front.stats.add(repository, "bytes_received", amount)
            if upload:
                front.stats.add(repository, "blob_bytes_uploaded", amount)

        front.stats.request(repository, self.command)
        try:
            body = Body(self.rfile, self.headers, counted)
        except BodyError as error:
            self.close_connection = True
            self.reply(400, error_body("UNSUPPORTED", str(error)), drain=False)
            return
        request = Request(
            method=self.command,
            target=self.path,
            path=path,
            query=parse_qs(split.query, keep_blank_values=True),
            route=route,
            body=body,
        )
        self.body = body
        if route is not None and route.kind == "blobs" and self.command == "HEAD":
            front.stats.add(repository, "blob_heads")
        try:
            rule = faults.take_registry(front.name, self.command, path)
            if rule is not None:
                if rule.delay_ms:
                    time.sleep(rule.delay_ms / 1000)
                if rule.drop:
                    # A connection lost mid-push: part of the body arrives, then nothing.
                    body.read_some((body.length or 0) // 2)
                    self.close_connection = True
                    self.log_message('"%s" dropped by a fault rule', self.requestline)
                    return
                if rule.status is not None:
                    assert rule.code is not None
                    self.reply(rule.status, error_body(rule.code, rule.message))
                    return
            front.handle(self, request)
        except BodyError as error:
            # The request's framing is lost; nothing more can be read on this connection.
            self.close_connection = True
            self.log_message('"%s" abandoned: %s', self.requestline, error)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

    # ------------------------------------------------------------------ answers

    def reply(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json; charset=utf-8",
        drain: bool = True,
    ) -> None:
        """An answer made here. The request body is read first, so that a client still sending
        a large upload gets the answer, not a connection closed under it."""
        if drain:
            self.body.drain()
        self.send_response_only(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log_request(status)

    def reply_error(self, status: int, code: str, message: str) -> None:
        self.reply(status, error_body(code, message))

    def unavailable(self, error: Exception) -> None:
        message = f"deckhand-world: the registry behind this front did not answer: {error}"
        self.reply_error(502, "UNAVAILABLE", message)

    # ------------------------------------------------------------------ upstream

    def forward_headers(self, keep_authorization: bool) -> list[tuple[str, str]]:
        """The client's headers for the upstream, Host included: distribution writes Location
        URLs with the Host it was asked for, which must be the front's."""
        return [
            (name, value)
            for name, value in self.headers.items()
            if name.lower() not in _HOP_BY_HOP
            and (keep_authorization or name.lower() != "authorization")
        ]

    def auth_headers(self) -> list[tuple[str, str]]:
        """Only the client's credentials, for the front's own questions to the upstream."""
        authorization = self.headers.get("Authorization")
        return [("Authorization", authorization)] if authorization else []

    def upstream(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: Body | None = None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends one request to the upstream, streaming `body`, and returns its response (with
        the connection, to be closed by the caller). Raises OSError or HTTPException when the
        upstream cannot be reached."""
        port = self.server.front.upstream_port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            if not any(name.lower() == "host" for name, _ in headers):
                conn.putheader("Host", self.server.front.address)
            for name, value in headers:
                conn.putheader(name, value)
            if body is not None and body.chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            elif body is not None and "Content-Length" in self.headers:
                conn.putheader("Content-Length", str(body.length))
            conn.endheaders()
            if body is not None:
                self._send_body(conn, body)
            return conn, conn.getresponse()
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _send_body(conn: http.client.HTTPConnection, body: Body) -> None:
        while True:
            data = body.read()
            try:
                if body.chunked:
                    conn.send(b"%x\r\n%s\r\n" % (len(data), data) if data else b"0\r\n\r\n")
                elif data:
                    conn.send(data)
            except OSError:
                # The upstream answered early and closed (distribution does that when it
                # refuses a request it has not read). Its answer may still be readable.
                body.drain()
                return
            if not data:
                return

    def proxy(
        self,
        request: Request,
        keep_authorization: bool = True,
        edit: Callable[[int, list[tuple[str, str]]], int] | None = None,
    ) -> int:
        """Forwards the request to the upstream and streams its answer back. `edit` may change
        the answer's headers in place and returns its status. Returns the status sent."""
        headers = self.forward_headers(keep_authorization)
        try:
            conn, response = self.upstream(request.method, request.target, headers, request.body)
        except (OSError, http.client.HTTPException) as error:
            self.unavailable(error)
            return 502
        try:
            self.body.drain()
            status = response.status
            out = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            if edit is not None:
                status = edit(status, out)
            self.server.front.count(request, status)
            self._relay(status, response, out)
            return status
        finally:
            conn.close()

    def _relay(
        self, status: int, response: http.client.HTTPResponse, headers: list[tuple[str, str]]
    ) -> None:
        bodiless = self.command == "HEAD" or status in (204, 304) or status < 200
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        length = response.getheader("Content-Length")
        chunked = not bodiless and (response.chunked or length is None)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif length is not None:
            self.send_header("Content-Length", length)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.log_request(status)
        if bodiless:
            return
        while True:
            data = response.read(BUFFER)
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if data else b"0\r\n\r\n")
            elif data:
                self.wfile.write(data)
            if not data:
                return

    # ------------------------------------------------------------------ logging

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.front.log_requests:
            front = self.server.front.name
            sys.stderr.write(f"registry-{front} {self.address_string()} - {format % args}\n")


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, front: "Front"):
        self.front = front
        super().__init__(("127.0.0.1", 0), Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn), which can stall; not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that go away mid-request are normal here (killed pushes, dropped
        # connections), and so is an upstream that fails mid-answer (the client sees a
        # truncated answer); anything else is a bug worth a traceback.
        if isinstance(sys.exc_info()[1], (OSError, BodyError, http.client.HTTPException)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- fronts


class Front:
    name = ""

    def __init__(self, upstream_port: int, log_requests: bool):
        self.upstream_port = upstream_port
        self.log_requests = log_requests
        self.stats = Stats()
        self.server = FrontServer(self)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, name=f"registry-{self.name}", daemon=True
        ).start()

    def handle(self, h: Handler, request: Request) -> None:
        h.proxy(request)

    def count(self, request: Request, status: int) -> None:
        """The counters that depend on the answer."""
        route, repository = request.route, request.repository
        if route is None:
            return
        if route.kind == "manifests" and request.method == "PUT" and status == 201:
            self.stats.add(repository, "manifest_puts")
        if route.kind == "blobs/uploads" and status == 201:
            if request.method == "POST" and "mount" in request.query:
                self.stats.add(repository, "mounts")
            elif request.method in ("PUT", "POST") and "digest" in request.query:
                self.stats.add(repository, "blob_uploads_completed")


def moto_repository(name: str) -> Any:
    """The repository in moto's ECR backend (account 123456789012, us-east-1), or None."""
    from moto.ecr.models import ecr_backends

    return ecr_backends[ACCOUNT][REGION].repositories.get(name)


def _wildcard(pattern: str) -> re.Pattern[str]:
    # ECR's exclusion filters are WILDCARD filters: `*` is the only special character.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def tag_is_immutable(repository: Any, tag: str) -> bool:
    """ECR's tag mutability, with exclusion filters: IMMUTABLE_WITH_EXCLUSION makes the
    matching tags mutable, MUTABLE_WITH_EXCLUSION makes them immutable."""
    mode = getattr(repository, "image_tag_mutability", "MUTABLE")
    filters = getattr(repository, "image_tag_mutability_exclusion_filters", None) or []
    excluded = any(_wildcard(f.get("filter", "")).fullmatch(tag) for f in filters)
    if mode == "IMMUTABLE":
        return True
    if mode == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    if mode == "MUTABLE_WITH_EXCLUSION":
        return excluded
    return False


class EcrFront(Front):
    """ECR's registry endpoint, as seen through /v2."""

    name = "ecr"

    def __init__(self, upstream_port: int, log_requests: bool):
        # Upload id -> the size of that session's last PATCH.
        self._last_part: dict[str, int] = {}
        self._parts_lock = threading.Lock()
        # Held across the "does the tag exist" check and the PUT of an immutable tag, so that
        # two pushes of one tag cannot both pass the check.
        self._immutable_lock = threading.Lock()
        super().__init__(upstream_port, log_requests)

    def handle(self, h: Handler, request: Request) -> None:
        route = request.route
        if route is None:  # /v2/, /v2/_catalog
            h.proxy(request)
            return
        repository = moto_repository(route.name)
        if repository is None:
            self._name_unknown(h, request, route.name)
            return
        if route.kind == "blobs/uploads" and route.rest:
            if self._refuses_part(request, route.rest):
                h.reply_error(
                    400,
                    "BLOB_UPLOAD_INVALID",
                    "LayerPartTooSmallException: All layer parts except the last part should "
                    "be at least 5MB",
                )
                return
            status = h.proxy(request, edit=self._edit(request))
            self._track_part(request, route.rest, status)
            return
        if (
            route.kind == "manifests"
            and request.method == "PUT"
            and not _DIGEST.match(route.rest)
            and tag_is_immutable(repository, route.rest)
        ):
            with self._immutable_lock:
                if self._tag_exists(h, route.name, route.rest):
                    h.reply_error(
                        400,
                        "TAG_INVALID",
                        f"The image tag '{route.rest}' already exists in the '{route.name}' "
                        "repository and cannot be overwritten because the repository is "
                        "immutable.",
                    )
                    return
                h.proxy(request, edit=self._edit(request))
            return
        h.proxy(request, edit=self._edit(request))

    def _name_unknown(self, h: Handler, request: Request, name: str) -> None:
        # ECR checks the credentials before the repository: ask the upstream's htpasswd.
        try:
            conn, response = h.upstream("GET", "/v2/", h.auth_headers())
            try:
                probe_status, probe_body = response.status, response.read()
                challenge = response.getheader("WWW-Authenticate")
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            h.unavailable(error)
            return
        if probe_status == 401:
            headers = [("WWW-Authenticate", challenge)] if challenge else []
            h.reply(401, probe_body, headers)
            return
        h.reply_error(
            404,
            "NAME_UNKNOWN",
            f"The repository with name '{name}' does not exist in the registry with id "
            f"'{ACCOUNT}'",
        )

    def _refuses_part(self, request: Request, upload: str) -> bool:
        if request.method not in ("PATCH", "PUT"):
            return False
        with self._parts_lock:
            last = self._last_part.get(upload)
        if last is None or last >= MIN_PART_BYTES:
            return False
        # A closing PUT without a body only completes the upload: the small part was the last.
        return request.method == "PATCH" or not request.body.is_empty()

    def _track_part(self, request: Request, upload: str, status: int) -> None:
        with self._parts_lock:
            if request.method == "PATCH" and 200 <= status < 300:
                self._last_part[upload] = request.body.read_bytes
            elif request.method in ("PUT", "DELETE") and 200 <= status < 300:
                self._last_part.pop(upload, None)

    def _tag_exists(self, h: Handler, name: str, tag: str) -> bool:
        headers = [("Accept", MANIFEST_TYPES), *h.auth_headers()]
        target = f"/v2/{quote(name)}/manifests/{quote(tag, safe='')}"
        try:
            conn, response = h.upstream("HEAD", target, headers)
        except (OSError, http.client.HTTPException):
            return False  # the PUT itself will report the upstream's state
        try:
            response.read()
            return response.status == 200
        finally:
            conn.close()

    @staticmethod
    def _edit(request: Request) -> Callable[[int, list[tuple[str, str]]], int]:
        def edit(status: int, headers: list[tuple[str, str]]) -> int:
            route = request.route
            assert route is not None
            if route.kind == "blobs/uploads" and request.method == "PATCH" and status == 202:
                return 201  # ECR's answer; Location, Range and Docker-Upload-UUID stay
            if route.kind == "manifests" and request.method == "PUT" and status == 201:
                headers[:] = [(k, v) for k, v in headers if k.lower() != "location"]
            return status

        return edit


@dataclass
class Grant:
    expires: float
    # "repository:NAME" (or "registry:catalog") -> the actions granted on it.
    scopes: dict[str, set[str]]

    def allows(self, needed: list[tuple[str, set[str]]]) -> bool:
        for resource, actions in needed:
            granted = self.scopes.get(resource, set())
            if "*" not in granted and not actions <= granted:
                return False
        return True


class HubFront(Front):
    """A public registry with Docker Hub's anonymous token flow; pushing is allowed too."""

    name = "hub"

    def __init__(self, upstream_port: int, log_requests: bool):
        self._tokens: dict[str, Grant] = {}
        self._tokens_lock = threading.Lock()
        super().__init__(upstream_port, log_requests)

    def handle(self, h: Handler, request: Request) -> None:
        if request.path == "/token":
            self._token(h, request)
            return
        if request.path == "/v2" or request.path.startswith("/v2/"):
            needed = self._needed(request)
            grant = self._grant(h.headers.get("Authorization", ""))
            if grant is None:
                self._challenge(h, needed, None)
                return
            if not grant.allows(needed):
                self._challenge(h, needed, "insufficient_scope")
                return
        h.proxy(request, keep_authorization=False)

    @staticmethod
    def _needed(request: Request) -> list[tuple[str, set[str]]]:
        """The scopes a request needs: none for `/v2/` and the catalog (any token will do)."""
        route = request.route
        if route is None:
            return []
        if request.method in ("GET", "HEAD"):
            needed = [(f"repository:{route.name}", {"pull"})]
        else:
            needed = [(f"repository:{route.name}", {"pull", "push"})]
        source = request.query.get("from")
        if request.method == "POST" and "mount" in request.query and source:
            needed.append((f"repository:{source[0]}", {"pull"}))
        return needed

    def _grant(self, authorization: str) -> Grant | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        with self._tokens_lock:
            grant = self._tokens.get(token.strip())
        if grant is None or grant.expires < time.monotonic():
            return None
        return grant

    def _challenge(
        self, h: Handler, needed: list[tuple[str, set[str]]], error: str | None
    ) -> None:
        challenge = f'Bearer realm="http://{self.address}/token",service="{HUB_SERVICE}"'
        if needed:
            scope = " ".join(
                f"{resource}:{','.join(sorted(actions))}" for resource, actions in needed
            )
            challenge += f',scope="{scope}"'
        if error:
            challenge += f',error="{error}"'
        h.reply(
            401,
            error_body("UNAUTHORIZED", "authentication required"),
            [("WWW-Authenticate", challenge)],
        )

    def _token(self, h: Handler, request: Request) -> None:
        if request.method != "GET":
            h.reply(405, json.dumps({"details": "GET /token"}).encode(), [("Allow", "GET")])
            return
        scopes: dict[str, set[str]] = {}
        # Clients send several `scope` parameters, or several scopes in one, space-separated.
        for value in request.query.get("scope", []):
            for scope in value.split():
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                if not kind or not name:
                    h.reply(400, json.dumps({"details": f"invalid scope {scope!r}"}).encode())
                    return
                scopes.setdefault(f"{kind}:{name}", set()).update(
                    action for action in actions.split(",") if action
                )
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._tokens_lock:
            for old in [t for t, g in self._tokens.items() if g.expires < now]:
                del self._tokens[old]
            self._tokens[token] = Grant(now + TOKEN_SECONDS, scopes)
        issued = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        answer = {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "issued_at": issued,
        }
        h.reply(200, json.dumps(answer).encode(), content_type="application/json")
