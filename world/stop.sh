#!/usr/bin/env bash
# Stops the server started by world/start.sh: SIGTERM, then SIGKILL after 5 s. On SIGTERM the
# world stops its registry children (docker-registry) and removes their storage before it exits;
# after a SIGKILL the kernel kills them (PR_SET_PDEATHSIG) and only their temporary directory
# is left. Removes .world/pid, .world/endpoint and .world/registries. Safe to run twice (does
# nothing when nothing runs).
set -euo pipefail

world_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$(cd "$world_dir/.." && pwd)/.world"

is_world() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ps -p "$1" -o args= 2>/dev/null | grep -q deckhand_world
}

pid="$(cat "$state/pid" 2>/dev/null || true)"
if is_world "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -f "$state/pid" "$state/endpoint" "$state/stdout" "$state/registries"
