"""Starting the server, talking to its control API, and small ECS helpers for the tests."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config

WORLD_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = WORLD_DIR.parent
LISTENING = re.compile(r"deckhand-world listening on (http://127\.0\.0\.1:(\d+))")
CLUSTER = "c"

# Short timings keep the whole suite fast. Every assertion on durations below is in exact
# milliseconds of *simulated* time, so it does not depend on how fast the tests poll.
FAST = {
    "task_start_seconds": 0.2,
    "task_fail_seconds": 0.2,
    "drain_seconds": 0.3,
    "replace_seconds": 0.1,
    "stop_seconds": 0.3,
    "health_check_seconds": 0.2,
    "task_run_seconds": 0.3,
}

DEPLOYMENT_ID = re.compile(r"ecs-svc/\d{19}")
TASK_ID = r"[0-9a-f]{32}"


class World:
    """A running `python -m deckhand_world` subprocess."""

    def __init__(self, proc: subprocess.Popen, url: str, line: str, log: Any):
        self.proc = proc
        self.url = url
        self.line = line
        self.log = log

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def post(self, path: str, body: Any) -> Any:
        status, answer = self.request("POST", path, body)
        assert status == 200, (path, status, answer)
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()  # --exit-on-stdin-eof
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_world(*extra_args: str, timeout: float = 60.0) -> World:
    log = tempfile.TemporaryFile()
    env = {**os.environ, "PYTHONPATH": str(WORLD_DIR)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "deckhand_world", "--port", "0", "--exit-on-stdin-eof", *extra_args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline().decode().rstrip("\n")
            match = LISTENING.fullmatch(line)
            assert match, f"unexpected first line {line!r}"
            return World(proc, match.group(1), line, log)
        if proc.poll() is not None:
            break
    proc.kill()
    log.seek(0)
    raise AssertionError(f"deckhand-world did not start:\n{log.read().decode()}")


def make_ecs(url: str):
    return boto3.client(
        "ecs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def make_client(service: str, url: str):
    """A boto3 client that makes exactly one attempt per call (an injected fault is what the
    caller sees, not hidden by a retry) and uses S3 path-style addressing, as deckhand does."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def raw_request(
    url: str, method: str, path: str, service: str | None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One unsigned-but-scoped HTTP request: the Authorization header names `service` in its
    credential scope (moto checks no signatures), or is left out when `service` is None."""
    headers = {}
    if service is not None:
        headers["Authorization"] = (
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
            f"{service}/aws4_request, SignedHeaders=host, Signature=00"
        )
    req = urllib.request.Request(url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --------------------------------------------------------------------------- ECS helpers


def register(
    ecs,
    family: str,
    image: str = "registry.local/web:1",
    env: dict[str, str] | None = None,
    sidecar: bool = False,
    health_check: bool = False,
) -> str:
    app: dict[str, Any] = {"name": "app", "image": image, "memory": 128, "essential": True}
    if env:
        app["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    if health_check:
        app["healthCheck"] = {"command": ["CMD-SHELL", "true"]}
    containers = [app]
    if sidecar:
        containers.append({"name": "side", "image": "registry.local/side:1", "memory": 64})
    td = ecs.register_task_definition(family=family, containerDefinitions=containers)
    return td["taskDefinition"]["taskDefinitionArn"]


def create_service(
    ecs, name: str, task_definition: str, desired: int, breaker: tuple[bool, bool] | None = None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if breaker is not None:
        kwargs["deploymentConfiguration"] = {
            "deploymentCircuitBreaker": {"enable": breaker[0], "rollback": breaker[1]}
        }
    return ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=desired,
        **kwargs,
    )["service"]


def describe(ecs, name: str) -> dict[str, Any]:
    [service] = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
    return service


def primary(service: dict[str, Any]) -> dict[str, Any]:
    [deployment] = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
    return deployment


def messages(service: dict[str, Any]) -> list[str]:
    return [event["message"] for event in service["events"]]


def event(service: dict[str, Any], pattern: str) -> dict[str, Any]:
    """The newest event whose message fully matches the regex `pattern`."""
    for item in service["events"]:
        if re.fullmatch(pattern, item["message"]):
            return item
    raise AssertionError(f"no event matches {pattern!r} in {messages(service)}")


def ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def wait_for(probe: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Polls `probe` until it returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last probe: {last!r}")


def wait_service(
    ecs, name: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 15.0
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        service = describe(ecs, name)
        return service if check(service) else None

    return wait_for(probe, timeout, what)


def wait_completed(ecs, name: str, deployment_id: str | None = None) -> dict[str, Any]:
    def check(service: dict[str, Any]) -> bool:
        deployment = primary(service)
        return (
            deployment["rolloutState"] == "COMPLETED"
            and (deployment_id is None or deployment["id"] == deployment_id)
            and "has reached a steady state" in service["events"][0]["message"]
        )

    return wait_service(ecs, name, check, f"{name} COMPLETED")


def list_all_tasks(ecs, **filters: Any) -> list[str]:
    arns: list[str] = []
    kwargs = {"cluster": CLUSTER, **filters}
    while True:
        page = ecs.list_tasks(**kwargs)
        arns.extend(page["taskArns"])
        if not page.get("nextToken"):
            return arns
        kwargs["nextToken"] = page["nextToken"]


def describe_tasks(ecs, arns: list[str]) -> list[dict[str, Any]]:
    if not arns:
        return []
    answer = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)
    assert answer["failures"] == []
    return answer["tasks"]


def service_tasks(ecs, name: str, desired_status: str = "RUNNING") -> list[dict[str, Any]]:
    return describe_tasks(ecs, list_all_tasks(ecs, serviceName=name, desiredStatus=desired_status))


def task_id(task: dict[str, Any]) -> str:
    return task["taskArn"].rsplit("/", 1)[-1]


def ids_in(message: str) -> list[str]:
    return re.findall(rf"\(task ({TASK_ID})\)", message)


# --------------------------------------------------------------------------- S3 / CloudFront


def create_distribution(cloudfront, bucket: str = "bucket", origin_path: str = "") -> str:
    """A distribution in front of `bucket` (with `origin_path` when given); returns its id."""
    origin: dict[str, Any] = {
        "Id": "site",
        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    if origin_path:
        origin["OriginPath"] = origin_path
    answer = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": f"dist-{time.monotonic_ns()}",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
            },
        }
    )
    return answer["Distribution"]["Id"]


def invalidate(
    cloudfront, distribution_id: str, paths: list[str], reference: str
) -> dict[str, Any]:
    return cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": reference,
        },
    )
