"""The world's container registries (`--registry`): two `docker-registry serve` children (CNCF
distribution, Debian's package) and their fronts (registry_front.py) in the world process.

- "ecr": htpasswd auth with the one user `AWS` and the password moto's GetAuthorizationToken
  hands out for account 123456789012, behind the ECR front.
- "hub": no auth, behind the Docker-Hub-like front.

Each child gets a generated config (127.0.0.1 only, no TLS, filesystem storage in a temporary
directory the world owns, deletes enabled) and its own free port. The children must never
outlive the world: they are started with PR_SET_PDEATHSIG (the kernel kills them when the world
dies, however it dies, SIGKILL included), and shutdown() kills and reaps them and removes the
storage when the world exits normally (SIGTERM, SIGINT, stdin EOF). After a SIGKILL of the world
the temporary directory (`deckhand-world-registry-*` in $TMPDIR) is left behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

from . import registry_front

DOCKER_REGISTRY = "docker-registry"
HTPASSWD = "htpasswd"
# The user and password that moto 5.2.5's ECR GetAuthorizationToken encodes in its token
# (moto/ecr/responses.py: base64 of `AWS:{registry_id}-auth-token`).
ECR_USER = "AWS"
ECR_PASSWORD = f"{registry_front.ACCOUNT}-auth-token"
ECR_REALM = f"https://{registry_front.ACCOUNT}.dkr.ecr.{registry_front.REGION}.amazonaws.com/"

STARTUP_SECONDS = 15.0
PR_SET_PDEATHSIG = 1


class RegistryError(RuntimeError):
    """A registry child that could not be started."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on 127.0.0.1:`port`. An HTTP probe
    could not tell our child from another process that took the port first."""
    inodes = set()
    try:
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                address, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and address == "0100007F:%04X" % port:  # LISTEN, 127.0.0.1
                    inodes.add(f"socket:[{inode}]")
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
            except OSError:
                continue
    except OSError:
        pass
    return False


def _die_with_world() -> Callable[[], None]:
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child must not load libraries
    world = os.getpid()

    def preexec() -> None:
        # The signal is sent when the thread that forked dies: registries are started from the
        # world's main thread, which lives as long as the process.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != world:  # the world died before prctl took effect
            os._exit(1)

    return preexec


class Registries:
    def __init__(self, log_requests: bool):
        self.log_requests = log_requests
        self.directory = tempfile.mkdtemp(prefix="deckhand-world-registry-")
        self.children: list[subprocess.Popen[bytes]] = []
        self.fronts: dict[str, registry_front.Front] = {}

    def start(self) -> None:
        for program in (DOCKER_REGISTRY, HTPASSWD):
            if shutil.which(program) is None:
                raise RegistryError(
                    f"{program} is not installed: world/install.sh installs it "
                    "(Debian packages docker-registry and apache2-utils)"
                )
        htpasswd = os.path.join(self.directory, "ecr.htpasswd")
        with open(htpasswd, "wb") as out:
            # -B: distribution accepts bcrypt entries only.
            subprocess.run(
                [HTPASSWD, "-Bbn", ECR_USER, ECR_PASSWORD],
                stdout=out,
                stderr=subprocess.PIPE,
                check=True,
            )
        ecr = self._spawn("ecr", {"htpasswd": {"realm": ECR_REALM, "path": htpasswd}})
        hub = self._spawn("hub", None)
        self.fronts["ecr"] = registry_front.EcrFront(ecr, self.log_requests)
        self.fronts["hub"] = registry_front.HubFront(hub, self.log_requests)

    def _config(self, name: str, port: int, auth: dict[str, Any] | None) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": "0.1",
            "log": {
                "level": "warn" if self.log_requests else "error",
                "accesslog": {"disabled": not self.log_requests},
            },
            "storage": {
                "filesystem": {"rootdirectory": os.path.join(self.directory, f"{name}-data")},
                "delete": {"enabled": True},
            },
            # Upload state is signed with the secret; without one distribution makes one up and
            # warns about it.
            "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
        }
        if auth is not None:
            config["auth"] = auth
        return config

    def _spawn(self, name: str, auth: dict[str, Any] | None) -> int:
        """Starts the `name` child on a free port and returns the port once it listens."""
        path = os.path.join(self.directory, f"{name}.yml")
        output = sys.stderr if self.log_requests else subprocess.DEVNULL
        for _ in range(5):  # another process may take the free port before the child does
            port = _free_port()
            with open(path, "w") as out:
                json.dump(self._config(name, port, auth), out)  # JSON is YAML
            child = subprocess.Popen(
                [DOCKER_REGISTRY, "serve", path],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                preexec_fn=_die_with_world(),
            )
            self.children.append(child)
            deadline = time.monotonic() + STARTUP_SECONDS
            while child.poll() is None and time.monotonic() < deadline:
                if _listening(child.pid, port):
                    return port
                time.sleep(0.02)
            self._stop(child)
        raise RegistryError(f"the {name} registry (docker-registry serve {path}) did not start")

    @staticmethod
    def _stop(child: subprocess.Popen[bytes]) -> None:
        if child.poll() is None:
            child.kill()  # nothing to save: the storage is deleted next
        child.wait()

    def addresses(self) -> dict[str, str]:
        return {name: front.address for name, front in self.fronts.items()}

    def stats(self) -> dict[str, Any]:
        return {name: front.stats.snapshot() for name, front in self.fronts.items()}

    def reset_counters(self) -> None:
        for front in self.fronts.values():
            front.stats.reset()

    def close(self) -> None:
        for child in self.children:
            self._stop(child)
        shutil.rmtree(self.directory, ignore_errors=True)


_lock = threading.Lock()
_running: Registries | None = None
_closed = False


def start(log_requests: bool) -> Registries:
    """Starts the registries; call from the main thread (see _die_with_world)."""
    global _running
    with _lock:
        if _closed:
            raise RegistryError("the world is shutting down")
        registries = _running = Registries(log_requests)
    registries.start()
    return registries


def current() -> Registries | None:
    """The running registries once both fronts are up, else None."""
    running = _running
    return running if running is not None and len(running.fronts) == 2 else None


def shutdown() -> None:
    """Stops the children and removes their storage. Safe to call twice and from any thread."""
    global _closed
    with _lock:
        _closed = True
        if _running is not None:
            _running.close()
