"""The container registries (`--registry`): the ECR front (moto's token, NAME_UNKNOWN, ECR's
upload quirks, immutable tags), the hub front's bearer-token flow, the counters, fault rules on
the fronts, skopeo pushing through both, and the children's lifetime.

These need docker-registry, skopeo, umoci and htpasswd, which world/install.sh installs: a
missing one fails the tests rather than skipping them."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

import pytest

from helpers import start_world, wait_for

pytestmark = pytest.mark.registry

PASSWORD = "123456789012-auth-token"
BASIC = "Basic " + base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
MIB = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
TOO_SMALL = (
    b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"LayerPartTooSmallException: '
    b'All layer parts except the last part should be at least 5MB"}]}'
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Answer:
    def __init__(self, response: http.client.HTTPResponse):
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    def json(self) -> Any:
        return json.loads(self.body)


class Registry:
    """One keep-alive HTTP/1.1 connection to a front, as registry clients use them."""

    def __init__(self, address: str, authorization: str | None = None):
        host, port = address.split(":")
        self.address = address
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.authorization = authorization

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        authorization: str | None = None,
    ) -> Answer:
        path = re.sub(r"^https?://[^/]+", "", path)  # Location headers are absolute
        headers = dict(headers or {})
        auth = authorization if authorization is not None else self.authorization
        if auth:
            headers["Authorization"] = auth
        if isinstance(body, bytes):
            headers.setdefault("Content-Length", str(len(body)))
        # An iterable body goes out chunked (http.client adds Transfer-Encoding: chunked).
        self.conn.request(method, path, body=body, headers=headers)
        return Answer(self.conn.getresponse())

    def close(self) -> None:
        self.conn.close()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def start_upload(registry: Registry, repo: str) -> str:
    answer = registry.request("POST", f"/v2/{repo}/blobs/uploads/", b"")
    assert answer.status == 202, answer.body
    return answer.headers["Location"]


def push_blob(registry: Registry, repo: str, data: bytes, parts: list[int] | None = None) -> str:
    """Uploads `data` in PATCHes of the given sizes (one PATCH when None), then the closing
    PUT; returns the digest."""
    location = start_upload(registry, repo)
    offset = 0
    for size in parts or [len(data)]:
        chunk = data[offset : offset + size]
        answer = registry.request("PATCH", location, chunk)
        assert answer.status in (201, 202), answer.body
        location = answer.headers["Location"]
        offset += size
    sep = "&" if "?" in location else "?"
    answer = registry.request("PUT", f"{location}{sep}digest={digest(data)}", b"")
    assert answer.status == 201, answer.body
    return digest(data)


def image(registry: Registry, repo: str, label: str = "") -> bytes:
    """Pushes a config and a layer blob and returns an OCI manifest referencing them."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
            "config": {"Labels": {"x": label}},
        }
    ).encode()
    layer = f"layer of {repo} {label}".encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": push_blob(registry, repo, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": push_blob(registry, repo, layer),
                "size": len(layer),
            }
        ],
    }
    return json.dumps(manifest).encode()


def put_manifest(registry: Registry, repo: str, reference: str, manifest: bytes) -> Answer:
    return registry.request(
        "PUT", f"/v2/{repo}/manifests/{reference}", manifest, {"Content-Type": OCI_MANIFEST}
    )


def stats(world) -> dict[str, Any]:
    status, answer = world.request("GET", "/_deckhand/registry-stats")
    assert status == 200, answer
    return answer


def set_faults(world, *rules: dict[str, Any]) -> Any:
    return world.post("/_deckhand/faults", {"rules": list(rules)})


# --------------------------------------------------------------------------- control API


def test_registries_endpoint(registries, world):
    assert re.fullmatch(r"127\.0\.0\.1:\d+", registries.ecr)
    assert re.fullmatch(r"127\.0\.0\.1:\d+", registries.hub)
    assert registries.ecr != registries.hub
    # A world started without --registry says so.
    for path in ("/_deckhand/registries", "/_deckhand/registry-stats"):
        status, answer = world.request("GET", path)
        assert status == 404
        assert "--registry" in answer["error"]


# --------------------------------------------------------------------------- ECR front


def test_ecr_front_accepts_exactly_moto_s_authorization_token(registries):
    [data] = registries.ecr_api.get_authorization_token()["authorizationData"]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert (user, password) == ("AWS", PASSWORD)

    registry = Registry(registries.ecr)
    answer = registry.request("GET", "/v2/")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith('Basic realm="')
    assert answer.json()["errors"][0]["code"] == "UNAUTHORIZED"
    token = "Basic " + data["authorizationToken"]
    assert registry.request("GET", "/v2/", authorization=token).status == 200
    wrong = "Basic " + base64.b64encode(b"AWS:not-the-token").decode()
    assert registry.request("GET", "/v2/", authorization=wrong).status == 401


def test_ecr_front_missing_repository_is_name_unknown_after_the_auth_check(registries):
    registry = Registry(registries.ecr)
    path = "/v2/team/missing/manifests/latest"
    # No credentials: ECR asks for them first.
    answer = registry.request("GET", path)
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")

    answer = registry.request("GET", path, authorization=BASIC)
    assert answer.status == 404
    assert answer.body == (
        b'{"errors":[{"code":"NAME_UNKNOWN","message":"The repository with name '
        b"'team/missing' does not exist in the registry with id '123456789012'\"}]}"
    )
    # The same for a push, whose body is read before the answer.
    answer = registry.request(
        "POST", "/v2/team/missing/blobs/uploads/", b"x" * 1000, authorization=BASIC
    )
    assert answer.status == 404
    assert answer.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    # Once the repository exists (in moto), the same request passes.
    registries.ecr_api.create_repository(repositoryName="team/missing")
    assert registry.request("GET", path, authorization=BASIC).json()["errors"][0]["code"] == (
        "MANIFEST_UNKNOWN"
    )


def test_ecr_front_upload_quirks(registries):
    repo = unique("quirks")
    registries.ecr_api.create_repository(repositoryName=repo)
    registry = Registry(registries.ecr, BASIC)

    # A PATCH answers 201, with the upload headers of a 202.
    location = start_upload(registry, repo)
    connection = registry.conn.sock
    answer = registry.request("PATCH", location, b"a" * 1024)
    assert answer.status == 201
    assert answer.headers["Range"] == "0-1023"
    assert answer.headers["Docker-Upload-UUID"]
    location = answer.headers["Location"]
    assert answer.headers["Docker-Upload-UUID"] in location
    # A second part after a part smaller than 5 MiB is refused, chunked or not.
    answer = registry.request("PATCH", location, b"b" * 1024)
    assert (answer.status, answer.body) == (400, TOO_SMALL)
    answer = registry.request("PATCH", location, iter([b"b" * 512, b"c" * 512]))
    assert (answer.status, answer.body) == (400, TOO_SMALL)
    # So is a closing PUT that carries data; an empty one completes the upload.
    data = b"a" * 1024 + b"z"
    answer = registry.request("PUT", f"{location}&digest={digest(data)}", b"z")
    assert (answer.status, answer.body) == (400, TOO_SMALL)
    answer = registry.request("PUT", f"{location}&digest={digest(b'a' * 1024)}", b"")
    assert answer.status == 201
    assert registry.request("HEAD", f"/v2/{repo}/blobs/{digest(b'a' * 1024)}").status == 200

    # Parts of 5 MiB and more are fine, and the last part (or the closing PUT) may be small.
    # The first PATCH is sent chunked: its size is only known once it has been read.
    big = os.urandom(5 * MIB) + b"tail"
    location = start_upload(registry, repo)
    answer = registry.request("PATCH", location, iter([big[:MIB], big[MIB : 5 * MIB]]))
    assert answer.status == 201, answer.body
    answer = registry.request("PATCH", answer.headers["Location"], big[5 * MIB : 5 * MIB + 2])
    assert answer.status == 201
    location = answer.headers["Location"]
    answer = registry.request("PUT", f"{location}&digest={digest(big)}", big[5 * MIB + 2 :])
    assert (answer.status, answer.body) == (400, TOO_SMALL)
    answer = registry.request("PUT", f"{location}&digest={digest(big[: 5 * MIB + 2])}", b"")
    assert answer.status == 201
    blob = registry.request("GET", f"/v2/{repo}/blobs/{digest(big[: 5 * MIB + 2])}")
    assert blob.body == big[: 5 * MIB + 2]

    # A monolithic upload (everything in the closing PUT) is untouched.
    location = start_upload(registry, repo)
    answer = registry.request("PUT", f"{location}&digest={digest(b'mono')}", b"mono")
    assert answer.status == 201
    # All of it on one kept-alive connection, refusals included.
    assert registry.conn.sock is connection


def test_ecr_front_manifest_put_answers_without_location(registries):
    repo = unique("manifests")
    registries.ecr_api.create_repository(repositoryName=repo)
    registry = Registry(registries.ecr, BASIC)
    manifest = image(registry, repo)
    answer = put_manifest(registry, repo, "v1", manifest)
    assert answer.status == 201, answer.body
    assert "Location" not in answer.headers
    assert answer.headers["Docker-Content-Digest"] == digest(manifest)
    # Still stored as sent, and a mutable tag can be pushed again.
    got = registry.request("GET", f"/v2/{repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert got.body == manifest
    assert put_manifest(registry, repo, "v1", image(registry, repo, "2")).status == 201


def test_ecr_front_refuses_to_overwrite_an_immutable_tag(registries):
    repo = unique("immutable")
    registries.ecr_api.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    registry = Registry(registries.ecr, BASIC)
    manifest = image(registry, repo)
    assert put_manifest(registry, repo, "v1", manifest).status == 201
    # Even the identical bytes (ECR's behaviour, aws/containers-roadmap#2380).
    for again in (manifest, image(registry, repo, "other")):
        answer = put_manifest(registry, repo, "v1", again)
        assert answer.status == 400
        assert answer.body == (
            b'{"errors":[{"code":"TAG_INVALID","message":"The image tag \'v1\' already exists '
            b"in the '" + repo.encode() + b"' repository and cannot be overwritten because the "
            b'repository is immutable."}]}'
        )
    got = registry.request("GET", f"/v2/{repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert got.body == manifest
    # A new tag, and a PUT by digest, are not overwrites.
    assert put_manifest(registry, repo, "v2", manifest).status == 201
    assert put_manifest(registry, repo, digest(manifest), manifest).status == 201

    # With exclusion filters: IMMUTABLE_WITH_EXCLUSION lets the matching tags move.
    repo = unique("immutable-except")
    registries.ecr_api.create_repository(
        repositoryName=repo,
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest*"}],
    )
    manifest = image(registry, repo)
    for tag, second in (("latest", 201), ("latest-dev", 201), ("1.0", 400)):
        assert put_manifest(registry, repo, tag, manifest).status == 201
        assert put_manifest(registry, repo, tag, manifest).status == second, tag


def test_counters_per_repository_and_front_and_reset(registries):
    repo, other = unique("counted"), unique("counted-other")
    for name in (repo, other):
        registries.ecr_api.create_repository(repositoryName=name)
    registry = Registry(registries.ecr, BASIC)
    assert registry.request("GET", "/v2/").status == 200

    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = b"L" * 3000
    assert registry.request("HEAD", f"/v2/{repo}/blobs/{digest(layer)}").status == 404
    push_blob(registry, repo, layer)  # POST, PATCH 3000 bytes, PUT
    location = start_upload(registry, repo)  # monolithic: POST, PUT with the bytes
    assert registry.request("PUT", f"{location}&digest={digest(config)}", config).status == 201
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    assert put_manifest(registry, repo, "v1", manifest).status == 201
    mount = registry.request(
        "POST", f"/v2/{other}/blobs/uploads/?mount={digest(layer)}&from={repo}", b""
    )
    assert mount.status == 201

    answer = stats(registries.world)
    assert answer["ecr"]["repositories"][repo] == {
        "requests": 7,
        "bytes_received": 3000 + len(config) + len(manifest),
        "blob_uploads_completed": 2,
        "blob_bytes_uploaded": 3000 + len(config),
        "manifest_puts": 1,
        "mounts": 0,
        "blob_heads": 1,
        "by_method": {"HEAD": 1, "POST": 2, "PATCH": 1, "PUT": 3},
    }
    assert answer["ecr"]["repositories"][other] == {
        "requests": 1,
        "bytes_received": 0,
        "blob_uploads_completed": 0,
        "blob_bytes_uploaded": 0,
        "manifest_puts": 0,
        "mounts": 1,
        "blob_heads": 0,
        "by_method": {"POST": 1},
    }
    assert answer["ecr"]["totals"] == {
        "requests": 9,
        "bytes_received": 3000 + len(config) + len(manifest),
        "blob_uploads_completed": 2,
        "blob_bytes_uploaded": 3000 + len(config),
        "manifest_puts": 1,
        "mounts": 1,
        "blob_heads": 1,
        "by_method": {"GET": 1, "HEAD": 1, "POST": 3, "PATCH": 1, "PUT": 3},
    }
    assert answer["hub"]["totals"]["requests"] == 0
    assert answer["hub"]["repositories"] == {}

    # A reset zeroes the counters; the images stay.
    registries.world.post("/_deckhand/reset", {})
    registries.ecr_api.create_repository(repositoryName=repo)
    answer = stats(registries.world)
    assert answer["ecr"]["repositories"] == {}
    assert answer["ecr"]["totals"]["requests"] == 0
    got = registry.request("GET", f"/v2/{repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert got.body == manifest


# --------------------------------------------------------------------------- hub front


def test_hub_front_anonymous_bearer_token_flow(registries):
    hub = registries.hub
    registry = Registry(hub)
    realm = f'Bearer realm="http://{hub}/token",service="deckhand-world-hub"'

    answer = registry.request("GET", "/v2/")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == realm
    repo = unique("library/base")
    answer = registry.request("GET", f"/v2/{repo}/manifests/1")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == f'{realm},scope="repository:{repo}:pull"'
    answer = registry.request("POST", f"/v2/{repo}/blobs/uploads/", b"")
    assert answer.headers["WWW-Authenticate"] == f'{realm},scope="repository:{repo}:pull,push"'

    answer = registry.request(
        "GET", f"/token?service=deckhand-world-hub&scope=repository:{repo}:pull"
    )
    assert answer.status == 200
    grant = answer.json()
    assert set(grant) == {"token", "access_token", "expires_in", "issued_at"}
    assert grant["token"] == grant["access_token"]
    assert grant["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", grant["issued_at"])
    pull = f"Bearer {grant['token']}"

    assert registry.request("GET", "/v2/", authorization=pull).status == 200
    answer = registry.request("GET", f"/v2/{repo}/manifests/1", authorization=pull)
    assert answer.status == 404  # through to the registry: no such manifest yet
    assert answer.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    # The token grants what was asked and nothing more.
    answer = registry.request("POST", f"/v2/{repo}/blobs/uploads/", b"", authorization=pull)
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == (
        f'{realm},scope="repository:{repo}:pull,push",error="insufficient_scope"'
    )
    answer = registry.request("GET", "/v2/library/other/manifests/1", authorization=pull)
    assert answer.status == 401
    assert "insufficient_scope" in answer.headers["WWW-Authenticate"]
    assert registry.request("GET", "/v2/", authorization="Bearer forged").status == 401

    # Several scopes in one token; pushing is anonymous.
    answer = registry.request(
        "GET",
        f"/token?service=deckhand-world-hub&scope=repository:{repo}:pull,push"
        "&scope=repository:library/other:pull",
    )
    both = f"Bearer {answer.json()['token']}"
    registry.authorization = both
    # The hub is a plain registry: 202 for a PATCH, Location on a manifest PUT.
    location = start_upload(registry, repo)
    assert registry.request("PATCH", location, b"x").status == 202
    manifest = image(registry, repo)
    answer = put_manifest(registry, repo, "1", manifest)
    assert answer.status == 201
    assert answer.headers["Location"].endswith(f"/v2/{repo}/manifests/{digest(manifest)}")
    assert registry.request("GET", "/v2/library/other/manifests/1").status == 404
    got = Registry(hub, pull).request(
        "GET", f"/v2/{repo}/manifests/1", headers={"Accept": OCI_MANIFEST}
    )
    assert got.body == manifest
    assert stats(registries.world)["hub"]["repositories"][repo]["manifest_puts"] == 1


# --------------------------------------------------------------------------- skopeo


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, f"{args}: {result.stderr}"
    return result


def oci_layout(tmp_path: Path) -> tuple[str, str]:
    """A small OCI image built with umoci; returns the layout reference and its digest."""
    layout = tmp_path / "layout"
    run("umoci", "init", "--layout", str(layout))
    run("umoci", "new", "--image", f"{layout}:t")
    (tmp_path / "hello.txt").write_text("hello from deckhand-world\n")
    hello = tmp_path / "hello.txt"
    run("umoci", "insert", "--rootless", "--image", f"{layout}:t", str(hello), "/hello.txt")
    [manifest] = json.loads((layout / "index.json").read_text())["manifests"]
    return f"oci:{layout}:t", manifest["digest"]


def test_skopeo_copies_through_both_fronts(registries, tmp_path):
    source, manifest_digest = oci_layout(tmp_path)
    skopeo = ["skopeo", "--insecure-policy"]
    base = f"docker://{registries.hub}/{unique('library/base')}:1"
    run(*skopeo, "copy", "--dest-tls-verify=false", source, base)
    inspected = json.loads(run(*skopeo, "inspect", "--tls-verify=false", base).stdout)
    assert inspected["Digest"] == manifest_digest

    repo = unique("app/web")
    registries.ecr_api.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    creds = f"AWS:{PASSWORD}"
    target = f"docker://{registries.ecr}/{repo}:v1"
    # From the hub to ECR, as a deploy does with a base image.
    insecure = ["--src-tls-verify=false", "--dest-tls-verify=false"]
    run(*skopeo, "copy", *insecure, "--dest-creds", creds, base, target)
    inspected = json.loads(
        run(*skopeo, "inspect", "--tls-verify=false", "--creds", creds, target).stdout
    )
    assert inspected["Digest"] == manifest_digest
    counted = stats(registries.world)["ecr"]["repositories"][repo]
    assert counted["manifest_puts"] == 1
    assert counted["blob_uploads_completed"] == 2  # the layer and the config

    # Pushing the tag again fails on the immutable repository, and wrong credentials fail.
    again = run(
        *skopeo, "copy", "--dest-tls-verify=false", "--dest-creds", creds, source, target,
        check=False,
    )
    assert again.returncode != 0
    assert "cannot be overwritten because the repository is immutable" in again.stderr
    denied = run(
        *skopeo, "inspect", "--tls-verify=false", "--creds", "AWS:wrong", target, check=False
    )
    assert denied.returncode != 0
    assert "unauthorized" in denied.stderr.lower()


# --------------------------------------------------------------------------- faults


def test_fault_rules_answer_errors_on_the_chosen_front(registries):
    repo = unique("faulty")
    registries.ecr_api.create_repository(repositoryName=repo)
    rule = {
        "service": "registry",
        "front": "ecr",
        "method": "PUT",
        "path_regex": r"/manifests/",
        "status": 503,
        "code": "UNAVAILABLE",
        "message": "try later",
    }
    listed = set_faults(registries.world, rule)["rules"]
    assert listed == [{**rule, "count": 1, "remaining": 1, "matched": 0, "failed": 0}]

    hub = Registry(registries.hub)
    token = hub.request("GET", f"/token?scope=repository:{repo}:pull,push").json()["token"]
    hub.authorization = f"Bearer {token}"
    ecr = Registry(registries.ecr, BASIC)
    hub_manifest, ecr_manifest = image(hub, repo), image(ecr, repo)
    # The hub is another front: not matched.
    assert put_manifest(hub, repo, "1", hub_manifest).status == 201
    answer = put_manifest(ecr, repo, "1", ecr_manifest)
    assert (answer.status, answer.body) == (
        503,
        b'{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}',
    )
    assert ecr.request("GET", f"/v2/{repo}/manifests/1").status == 404, "it never got through"
    assert put_manifest(ecr, repo, "1", ecr_manifest).status == 201
    [after] = registries.world.request("GET", "/_deckhand/faults")[1]["rules"]
    assert (after["remaining"], after["matched"], after["failed"]) == (0, 1, 1)

    # A delay holds the request, then lets it through.
    set_faults(registries.world, {"service": "registry", "path_regex": "^/v2/$", "delay_ms": 300})
    started = time.monotonic()
    assert ecr.request("GET", "/v2/").status == 200
    assert time.monotonic() - started >= 0.3


def test_a_drop_rule_closes_the_connection_without_an_answer(registries):
    repo = unique("dropped")
    registries.ecr_api.create_repository(repositoryName=repo)
    registry = Registry(registries.ecr, BASIC)
    location = start_upload(registry, repo)
    set_faults(
        registries.world,
        {"service": "registry", "front": "ecr", "method": "PATCH", "drop": True},
    )
    host, port = registries.ecr.split(":")
    path = re.sub(r"^http://[^/]+", "", location)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"PATCH {path} HTTP/1.1\r\nHost: {registries.ecr}\r\nAuthorization: {BASIC}\r\n"
            "Content-Length: 200000\r\n\r\n".encode()
        )
        received = b""
        try:
            sock.sendall(b"p" * 200_000)
            while chunk := sock.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    assert received == b"", "no answer at all"
    [rule] = registries.world.request("GET", "/_deckhand/faults")[1]["rules"]
    assert rule == {
        "service": "registry",
        "front": "ecr",
        "method": "PATCH",
        "drop": True,
        "count": 1,
        "remaining": 0,
        "matched": 1,
        "failed": 1,
    }
    # The upload never reached the registry: it resumes at 0 on a new connection.
    registry = Registry(registries.ecr, BASIC)
    answer = registry.request("PATCH", location, b"q" * 10)
    assert (answer.status, answer.headers["Range"]) == (201, "0-9")


FAILING = {"service": "registry", "status": 500, "code": "UNKNOWN"}


@pytest.mark.parametrize(
    "rule, needle",
    [
        ({**FAILING, "operation": "PutImage"}, "`operation` does not apply to service 'registry'"),
        ({**FAILING, "front": "docker"}, "`front` must be one of ['ecr', 'hub']"),
        ({"service": "registry", "drop": "yes"}, "`drop` must be true or false"),
        ({**FAILING, "drop": True}, "answers no `status` or `code`"),
        ({**FAILING, "service": "s3", "front": "ecr"}, "apply only to service 'registry'"),
        ({"service": "s3", "drop": True}, "apply only to service 'registry'"),
    ],
)
def test_bad_registry_rules_are_refused(registries, rule, needle):
    good = {"service": "registry", "drop": True}
    status, answer = registries.world.request("POST", "/_deckhand/faults", {"rules": [good, rule]})
    assert status == 400
    assert answer["error"].startswith("rules[1]: ")
    assert needle in answer["error"]
    assert registries.world.request("GET", "/_deckhand/faults") == (200, {"rules": []})


# --------------------------------------------------------------------------- lifetime


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def registry_children(pid: int) -> tuple[list[int], Path]:
    """The world's docker-registry children and their storage directory."""
    out = subprocess.run(
        ["ps", "--ppid", str(pid), "-o", "pid=,args="], capture_output=True, text=True
    ).stdout
    children = [line.split(None, 1) for line in out.strip().splitlines()]
    serving = [(int(p), args) for p, args in children if args.startswith("docker-registry serve")]
    assert len(serving) == 2, out
    return [p for p, _ in serving], Path(serving[0][1].split()[-1]).parent


@pytest.mark.parametrize("how", ["stdin-eof", "sigterm", "sigkill"])
def test_registry_children_end_with_the_world(how):
    server = start_world("--registry")
    try:
        children, directory = registry_children(server.proc.pid)
        assert directory.is_dir()
        if how == "stdin-eof":
            server.proc.stdin.close()
        else:
            server.proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        server.proc.wait(timeout=10)
        if how == "sigkill":
            # Nothing in the world ran: the kernel kills the children (PR_SET_PDEATHSIG).
            wait_for(lambda: not any(alive(p) for p in children), 10, "children killed")
            shutil.rmtree(directory, ignore_errors=True)
        else:
            # Killed and reaped before the world exited, and their storage removed.
            assert not any(alive(p) for p in children)
            assert not directory.exists()
    finally:
        server.close()
