#!/usr/bin/env bash
# Starts the local world (moto + the ECS rollout extension) in the background, for the demo and
# for humans. Prints one line to use it:   eval "$(world/start.sh)"
#
#   export AWS_ENDPOINT_URL=http://127.0.0.1:PORT
#
# State lives in .world/ at the repo root (gitignored): endpoint, pid, world.log.
# Safe to run twice: a server that is already running is reused.
set -euo pipefail

world_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$world_dir/.." && pwd)"
state="$repo_root/.world"

# True when $1 is the pid of a running deckhand-world server (guards against pid reuse).
is_world() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ps -p "$1" -o args= 2>/dev/null | grep -q deckhand_world
}

"$world_dir/install.sh"
mkdir -p "$state"

if [ -f "$state/pid" ] && [ -f "$state/endpoint" ] && is_world "$(cat "$state/pid")"; then
    echo "export AWS_ENDPOINT_URL=$(cat "$state/endpoint")"
    exit 0
fi
rm -f "$state/pid" "$state/endpoint" "$state/stdout"

PYTHONPATH="$world_dir${PYTHONPATH:+:$PYTHONPATH}" nohup "$repo_root/.venv/bin/python" \
    -m deckhand_world --port 0 >"$state/stdout" 2>"$state/world.log" </dev/null &
pid=$!

line=""
for _ in $(seq 1 300); do  # up to 30 s: importing moto takes a few seconds
    line="$(grep -m1 '^deckhand-world listening on ' "$state/stdout" 2>/dev/null || true)"
    [ -n "$line" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "start.sh: the server exited during startup; its log:" >&2
        cat "$state/world.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$line" ]; then
    kill "$pid" 2>/dev/null || true
    echo "start.sh: the server did not report listening within 30 s; see $state/world.log" >&2
    exit 1
fi

url="${line#deckhand-world listening on }"
echo "$url" >"$state/endpoint"
echo "$pid" >"$state/pid"
echo "export AWS_ENDPOINT_URL=$url"
