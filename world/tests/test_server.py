"""The server process and the control API."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import sys
from pathlib import Path

import pytest

from helpers import FAST, WORLD_DIR, make_ecs, start_world

sys.path.insert(0, str(WORLD_DIR))

from deckhand_world import sim  # noqa: E402

DEFAULTS = {
    "task_start_seconds": 2.0,
    "task_fail_seconds": 2.0,
    "drain_seconds": 1.0,
    "replace_seconds": 0.5,
    "stop_seconds": 0.5,
    "health_check_seconds": 1.0,
    "task_run_seconds": 1.0,
    "stage_seconds": 0.3,
    "bake_minute_seconds": 0.5,
}


def test_prints_exactly_the_listening_line(world):
    assert world.line == f"deckhand-world listening on {world.url}"


def test_health(world):
    assert world.request("GET", "/_deckhand/health") == (200, {"ok": True})


def test_config_defaults_partial_update_and_validation(world):
    assert world.post("/_deckhand/reset", {}) == {"ok": True}
    assert world.request("GET", "/_deckhand/config") == (200, DEFAULTS)

    assert world.post("/_deckhand/config", {"drain_seconds": 0.25}) == {
        **DEFAULTS,
        "drain_seconds": 0.25,
    }
    for bad in (
        {"drain_seconds": 1, "bogus": 2},
        {"drain_seconds": -1},
        {"drain_seconds": "x"},
        [1],
        {"drain_seconds": True},
    ):
        status, answer = world.request("POST", "/_deckhand/config", bad)
        assert status == 400, bad
        assert "error" in answer
    # Rejected updates change nothing, not even their valid keys.
    assert world.request("GET", "/_deckhand/config") == (200, {**DEFAULTS, "drain_seconds": 0.25})

    world.post("/_deckhand/config", FAST)
    assert world.request("GET", "/_deckhand/config") == (200, {**DEFAULTS, **FAST})


def test_reset_clears_moto_and_config(world):
    world.post("/_deckhand/config", FAST)
    ecs = make_ecs(world.url)
    ecs.create_cluster(clusterName="gone")
    assert world.post("/_deckhand/reset", {}) == {"ok": True}
    assert ecs.list_clusters()["clusterArns"] == []
    assert world.request("GET", "/_deckhand/config") == (200, DEFAULTS)


def test_unknown_control_endpoint_and_method(world):
    assert world.request("GET", "/_deckhand/nope")[0] == 404
    assert world.request("GET", "/_deckhand/reset")[0] == 405


def test_exits_at_stdin_eof():
    server = start_world()
    server.proc.stdin.close()
    assert server.proc.wait(timeout=10) == 0
    server.close()


def test_sigterm_exits_cleanly():
    server = start_world()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=10) == 0
    server.close()


def test_sigterm_during_startup_exits_cleanly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "deckhand_world", "--port", "0"],
        env={**os.environ, "PYTHONPATH": str(WORLD_DIR)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)  # moto is still importing
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


@pytest.mark.parametrize(
    "desired,threshold", [(0, 3), (1, 3), (6, 3), (7, 4), (10, 5), (399, 200), (1000, 200)]
)
def test_breaker_threshold(desired, threshold):
    assert sim.breaker_threshold(desired) == threshold


def test_scripts_are_executable():
    for script in ("install.sh", "start.sh", "stop.sh"):
        path = Path(WORLD_DIR, script)
        assert path.stat().st_mode & 0o111, script
        subprocess.run(["bash", "-n", str(path)], check=True)
