#!/usr/bin/env bash
# A Docker engine for the tests of the smoke run's `docker` runtime (docs/images.md), on a
# private socket so that nothing else on the machine finds it by default:
#
#   eval "$(world/dockerd.sh start)"   # export DOCKER_HOST=unix://REPO/.world/docker.sock
#   world/dockerd.sh stop
#
# Debian's docker.io (world/install.sh installs it), started as root with the vfs storage driver
# (no overlay mounts needed) and without iptables rules (published ports go through Docker's
# userland proxy on 127.0.0.1). State in .world/docker/ (gitignored). `start` reuses an engine
# that answers on the socket; both commands are safe to run twice.
set -euo pipefail

world_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$(cd "$world_dir/.." && pwd)/.world"
socket="$state/docker.sock"
host="unix://$socket"

answers() {
    DOCKER_HOST="$host" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

case "${1:-}" in
    start)
        mkdir -p "$state/docker"
        if ! answers; then
            if ! command -v dockerd >/dev/null 2>&1 && ! [ -x /usr/sbin/dockerd ]; then
                echo "dockerd.sh: dockerd is not installed (world/install.sh installs docker.io)" >&2
                exit 1
            fi
            rm -f "$socket"
            PATH="$PATH:/usr/sbin:/sbin" setsid dockerd \
                --host "$host" \
                --data-root "$state/docker/data" \
                --exec-root "$state/docker/exec" \
                --pidfile "$state/docker/dockerd.pid" \
                --storage-driver vfs \
                --iptables=false \
                --ip-masq=false \
                >"$state/docker/dockerd.log" 2>&1 </dev/null &
            for _ in $(seq 1 150); do
                answers && break
                sleep 0.2
            done
            if ! answers; then
                echo "dockerd.sh: the engine did not answer on $socket within 30 s; its log:" >&2
                tail -20 "$state/docker/dockerd.log" >&2
                exit 1
            fi
        fi
        echo "export DOCKER_HOST=$host"
        ;;
    stop)
        pid="$(cat "$state/docker/dockerd.pid" 2>/dev/null || true)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
        ;;
    *)
        echo "usage: world/dockerd.sh start|stop" >&2
        exit 2
        ;;
esac
