"""Fault injection in front of moto: the next N requests that match a rule fail with a given
status and error code, in the wire format of the service that was called, and never reach moto.
A rule may also hold matching requests for `delay_ms` first (a slow network or a slow service);
a rule with a delay and no status lets the request through to moto after the wait.

Rules for the service `registry` are applied by the registry fronts (registry_front.py), not by
the moto middleware: they match the fronts' /v2 requests by method, path and `front` (`ecr` or
`hub`), and may also `drop` the connection without answering.

Rules are set with `POST /_deckhand/faults` (see control.py and world/README.md). A request is
matched against the rules in order; the first rule that matches it and has failures left fails
it, and its `remaining` count goes down by one. Exhausted rules stay listed (with `remaining` 0)
so a test can read how many requests each rule failed.

The service is identified the way moto's dispatcher does it: from the SigV4 credential scope
(`Credential=KEY/DATE/REGION/SERVICE/aws4_request` in the Authorization header, or
`X-Amz-Credential` in a presigned URL), then for unsigned requests from `X-Amz-Target` or the
path, and otherwise S3 (moto's default).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

# Services whose error wire format this module writes, and the protocol each speaks.
PROTOCOLS: dict[str, str] = {
    "s3": "s3-xml",
    "cloudfront": "rest-xml",
    "ecs": "json",
    "ecr": "json",
    "logs": "json",
    # The registry fronts (registry_front.py) write this one: distribution's {"errors": [...]}.
    "registry": "distribution",
}

# X-Amz-Target prefixes of unsigned JSON-protocol requests.
_TARGETS: dict[str, str] = {
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AmazonEC2ContainerRegistry_V20150921": "ecr",
    "Logs_20140328": "logs",
}

CLOUDFRONT_API = "/2020-05-31/"
DEFAULT_MESSAGE = "Injected by deckhand-world."

_RULE_KEYS = {
    "service",
    "operation",
    "method",
    "path_regex",
    "status",
    "code",
    "message",
    "count",
    "delay_ms",
    "front",
    "drop",
}
# The registry fronts a `registry` rule can name; without `front` it matches both.
FRONTS = ("ecr", "hub")
MAX_DELAY_MS = 60_000
_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"}
# The operations recognized in S3 and CloudFront requests (JSON-protocol services name theirs in
# X-Amz-Target, so any name is accepted for them). A rule naming another one is refused: it
# could never match.
KNOWN_OPERATIONS: dict[str, frozenset[str]] = {
    "s3": frozenset("""ListBuckets CreateBucket DeleteBucket HeadBucket ListObjects ListObjectsV2
        ListObjectVersions ListMultipartUploads DeleteObjects PutObject CopyObject GetObject
        HeadObject DeleteObject PutObjectTagging GetObjectTagging CreateMultipartUpload UploadPart
        UploadPartCopy CompleteMultipartUpload AbortMultipartUpload ListParts""".split()),
    "cloudfront": frozenset(
        """CreateDistribution CreateDistributionWithTags ListDistributions GetDistribution
        DeleteDistribution GetDistributionConfig UpdateDistribution CreateInvalidation
        ListInvalidations GetInvalidation""".split()
    ),
}
# The query parameters of ListObjects (v1); any other one on a bucket GET is a subresource.
_LIST_OBJECTS_PARAMS = {"prefix", "delimiter", "marker", "max-keys", "encoding-type"}


class FaultError(ValueError):
    """A rejected rule set (the control API answers 400 and keeps the current rules)."""


@dataclass
class Rule:
    service: str
    # None for a delay-only rule: the request goes on to moto after the wait.
    status: int | None
    code: str | None
    message: str
    count: int
    delay_ms: int = 0
    # Registry rules only: which front (None: both), and whether to drop the connection.
    front: str | None = None
    drop: bool = False
    operation: str | None = None
    method: str | None = None
    path_regex: str | None = None
    pattern: re.Pattern[str] | None = field(default=None, repr=False)
    remaining: int = 0
    matched: int = 0
    failed: int = 0

    def matches(self, request: "Call") -> bool:
        if request.service != self.service:
            return False
        if self.service == "registry" and request.front is None:
            return False  # a SigV4 scope naming "registry" is not a front's request
        if self.method is not None and request.method != self.method:
            return False
        if self.operation is not None and request.operation != self.operation:
            return False
        if self.pattern is not None and not self.pattern.search(request.path):
            return False
        if self.front is not None and request.front != self.front:
            return False
        return True

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service}
        for key in ("front", "operation", "method", "path_regex"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.status is not None:
            out.update(status=self.status, code=self.code, message=self.message)
        if self.drop:
            out["drop"] = True
        if self.delay_ms:
            out["delay_ms"] = self.delay_ms
        out.update(
            count=self.count, remaining=self.remaining, matched=self.matched, failed=self.failed
        )
        return out


@dataclass(frozen=True)
class Call:
    """What a rule can match in one request."""

    service: str | None
    operation: str | None
    method: str
    path: str
    # The registry front that received the request; None for requests to moto.
    front: str | None = None


_lock = threading.Lock()
_rules: list[Rule] = []


# --------------------------------------------------------------------------- rules


def _parse_rule(index: int, spec: Any) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(spec, dict):
        raise FaultError(f"{where} must be an object, got {spec!r}")
    unknown = sorted(set(spec) - _RULE_KEYS)
    if unknown:
        raise FaultError(f"{where}: unknown keys {unknown}; known: {sorted(_RULE_KEYS)}")

    def text(key: str, required: bool = False) -> str | None:
        value = spec.get(key)
        if value is None:
            if required:
                raise FaultError(f"{where}: `{key}` is required")
            return None
        if not isinstance(value, str) or not value:
            raise FaultError(f"{where}: `{key}` must be a non-empty string, got {value!r}")
        return value

    def integer(key: str, default: int | None, low: int, high: int) -> int:
        value = spec.get(key, default)
        if value is None:
            raise FaultError(f"{where}: `{key}` is required")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise FaultError(
                f"{where}: `{key}` must be an integer from {low} to {high}, got {value!r}"
            )
        return value

    service = text("service", required=True)
    if service not in PROTOCOLS:
        raise FaultError(f"{where}: unknown service {service!r}; known: {sorted(PROTOCOLS)}")
    method = text("method")
    if method is not None and method not in _METHODS:
        raise FaultError(f"{where}: `method` must be one of {sorted(_METHODS)}, got {method!r}")
    operation = text("operation")
    front = text("front")
    drop = spec.get("drop", False)
    if not isinstance(drop, bool):
        raise FaultError(f"{where}: `drop` must be true or false, got {drop!r}")
    if service == "registry":
        if operation is not None:
            raise FaultError(
                f"{where}: `operation` does not apply to service 'registry'; "
                "match requests with `method` and `path_regex`"
            )
        if front is not None and front not in FRONTS:
            raise FaultError(f"{where}: `front` must be one of {list(FRONTS)}, got {front!r}")
    elif front is not None or "drop" in spec:
        raise FaultError(f"{where}: `front` and `drop` apply only to service 'registry'")
    if drop and ("status" in spec or "code" in spec):
        raise FaultError(
            f"{where}: a rule that drops the connection answers no `status` or `code`"
        )
    known = KNOWN_OPERATIONS.get(service)
    if operation is not None and known is not None and operation not in known:
        raise FaultError(
            f"{where}: {service} operation {operation!r} is not one this world recognizes; "
            f"known: {sorted(known)}"
        )
    path_regex = text("path_regex")
    pattern = None
    if path_regex is not None:
        try:
            pattern = re.compile(path_regex)
        except re.error as error:
            raise FaultError(f"{where}: `path_regex` does not compile: {error}") from None
    message = spec.get("message", DEFAULT_MESSAGE)
    if not isinstance(message, str):
        raise FaultError(f"{where}: `message` must be a string, got {message!r}")
    count = integer("count", 1, 1, 1_000_000)
    delay_ms = integer("delay_ms", 0, 0, MAX_DELAY_MS)
    # A rule fails requests (status and code, or a dropped connection), delays them (delay_ms),
    # or both.
    fails = not drop and (delay_ms == 0 or "status" in spec or "code" in spec)
    return Rule(
        service=service,
        front=front,
        drop=drop,
        operation=operation,
        method=method,
        path_regex=path_regex,
        pattern=pattern,
        status=integer("status", None, 400, 599) if fails else None,
        code=text("code", required=True) if fails else None,
        message=message,
        count=count,
        delay_ms=delay_ms,
        remaining=count,
    )


def set_rules(body: Any) -> list[dict[str, Any]]:
    """Replaces every rule with those of `body` (`{"rules": [...]}`), all or nothing."""
    if not isinstance(body, dict) or set(body) != {"rules"} or not isinstance(body["rules"], list):
        raise FaultError('expected a JSON object {"rules": [...]}')
    parsed = [_parse_rule(i, spec) for i, spec in enumerate(body["rules"])]
    with _lock:
        _rules[:] = parsed
        return [rule.describe() for rule in _rules]


def current() -> list[dict[str, Any]]:
    with _lock:
        return [rule.describe() for rule in _rules]


def clear() -> None:
    with _lock:
        _rules.clear()


# --------------------------------------------------------------------------- requests


def _wsgi_text(value: str) -> str:
    """WSGI hands the path over as latin-1 decoded bytes; S3 keys are UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def identify_service(environ: dict[str, Any]) -> str | None:
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api") or path.startswith("/_deckhand/"):
        return None
    scope = None
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=([^,\s]+)", auth)
    if match:
        scope = match.group(1)
    else:
        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
        if credential:
            scope = credential[0]
    if scope:
        parts = scope.split("/")
        if len(parts) == 5 and parts[4] == "aws4_request":
            service = parts[3].lower()
            if service == "s3" and path.startswith("/v20180820/"):
                return "s3control"
            return service
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return _TARGETS.get(target.split(".", 1)[0])
    if path.startswith(CLOUDFRONT_API):
        return "cloudfront"
    return "s3"


def _s3_operation(
    method: str, path: str, query: dict[str, list[str]], environ: dict[str, Any]
) -> str | None:
    """The S3 operation of a path-style request (`/bucket/key`)."""
    bucket, _, key = path.lstrip("/").partition("/")
    copy = "HTTP_X_AMZ_COPY_SOURCE" in environ
    if not bucket:
        return "ListBuckets" if method == "GET" else None
    if not key:
        if method == "GET":
            if query.get("list-type") == ["2"]:
                return "ListObjectsV2"
            if "versions" in query:
                return "ListObjectVersions"
            if "uploads" in query:
                return "ListMultipartUploads"
            if set(query) <= _LIST_OBJECTS_PARAMS:
                return "ListObjects"
            return None  # another bucket subresource (?location, ?acl, ...)
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if not query:
            return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(
                method
            )
        return None
    upload = "uploadId" in query
    if method == "PUT":
        if "partNumber" in query and upload:
            return "UploadPartCopy" if copy else "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        return "CopyObject" if copy else "PutObject"
    if method == "GET":
        if "tagging" in query:
            return "GetObjectTagging"
        return "ListParts" if upload else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if upload else "DeleteObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if upload:
            return "CompleteMultipartUpload"
    return None


_CLOUDFRONT_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{CLOUDFRONT_API}{pattern}$"), op)
    for method, pattern, op in [
        ("POST", r"distribution", "CreateDistribution"),
        ("GET", r"distribution", "ListDistributions"),
        ("GET", r"distribution/[^/]+", "GetDistribution"),
        ("DELETE", r"distribution/[^/]+", "DeleteDistribution"),
        ("GET", r"distribution/[^/]+/config", "GetDistributionConfig"),
        ("PUT", r"distribution/[^/]+/config", "UpdateDistribution"),
        ("POST", r"distribution/[^/]+/invalidation", "CreateInvalidation"),
        ("GET", r"distribution/[^/]+/invalidation", "ListInvalidations"),
        ("GET", r"distribution/[^/]+/invalidation/[^/]+", "GetInvalidation"),
    ]
]


def identify_operation(service: str | None, environ: dict[str, Any], path: str) -> str | None:
    method = environ.get("REQUEST_METHOD", "GET")
    if service == "s3":
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        return _s3_operation(method, path, query, environ)
    if service == "cloudfront":
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if (
            method == "POST"
            and path.rstrip("/") == f"{CLOUDFRONT_API}distribution"
            and "WithTags" in query
        ):
            return "CreateDistributionWithTags"
        for route_method, pattern, op in _CLOUDFRONT_ROUTES:
            if method == route_method and pattern.match(path):
                return op
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if "." in target:
        return target.split(".", 1)[1]
    return None


def describe_call(environ: dict[str, Any]) -> Call:
    path = _wsgi_text(environ.get("PATH_INFO", ""))
    service = identify_service(environ)
    return Call(
        service=service,
        operation=identify_operation(service, environ, path),
        method=environ.get("REQUEST_METHOD", "GET"),
        path=path,
    )


def take(environ: dict[str, Any]) -> Rule | None:
    """The rule that fails or delays this request to moto, with its counters updated; None lets
    it through at once."""
    with _lock:
        if not _rules:
            return None
        return _take(describe_call(environ))


def take_registry(front: str, method: str, path: str) -> Rule | None:
    """The same for a request to a registry front (`path` percent-decoded, without the query)."""
    with _lock:
        if not _rules:
            return None
        call = Call(service="registry", operation=None, method=method, path=path, front=front)
        return _take(call)


def _take(call: Call) -> Rule | None:
    for rule in _rules:
        if rule.remaining > 0 and rule.matches(call):
            rule.remaining -= 1
            rule.matched += 1
            if rule.status is not None or rule.drop:
                rule.failed += 1
            return rule
    return None


# --------------------------------------------------------------------------- error bodies


def error_response(rule: Rule, method: str) -> Response:
    assert rule.status is not None and rule.code is not None, "a delay-only rule fails nothing"
    protocol = PROTOCOLS[rule.service]
    assert protocol != "distribution", "the registry fronts answer registry rules themselves"
    if protocol == "s3-xml":
        request_id = secrets.token_hex(8).upper()
        host_id = secrets.token_urlsafe(48)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(rule.code)}</Code><Message>{escape(rule.message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
        )
        headers = {
            "x-amz-request-id": request_id,
            "x-amz-id-2": host_id,
            "Content-Type": "application/xml",
        }
    elif protocol == "rest-xml":
        request_id = str(uuid.uuid4())
        kind = "Sender" if rule.status < 500 else "Receiver"
        body = (
            '<?xml version="1.0"?>\n'
            '<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            f"<Error><Type>{kind}</Type><Code>{escape(rule.code)}</Code>"
            f"<Message>{escape(rule.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = {"x-amz-request-id": request_id, "Content-Type": "text/xml"}
    else:
        request_id = str(uuid.uuid4())
        body = json.dumps({"__type": rule.code, "message": rule.message})
        headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.1"}
    if method == "HEAD":
        # HEAD answers carry no body; clients read the status alone (S3 HeadObject: 404, 403...).
        body = ""
    return Response(body, status=rule.status, headers=headers)
