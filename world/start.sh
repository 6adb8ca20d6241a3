#!/usr/bin/env bash
# Starts the local world (moto + the ECS rollout extension) in the background, for the demo and
# for humans. Prints the lines to use it:   eval "$(world/start.sh)"
#
#   export AWS_ENDPOINT_URL=http://127.0.0.1:PORT
#
# With --registry the world also runs its container registries, and two more lines follow:
#
#   export DECKHAND_WORLD_ECR_REGISTRY=127.0.0.1:P1
#   export DECKHAND_WORLD_HUB_REGISTRY=127.0.0.1:P2
#
# State lives in .world/ at the repo root (gitignored): endpoint, pid, world.log, and registries
# when the world runs them. Safe to run twice: a server that is already running is reused. A
# running world without registries is stopped and replaced when --registry asks for them (its
# moto state is lost; a note goes to stderr).
set -euo pipefail

world_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$world_dir/.." && pwd)"
state="$repo_root/.world"

registry=""
for arg in "$@"; do
    case "$arg" in
        --registry) registry=1 ;;
        *)
            echo "start.sh: unknown argument $arg (usage: world/start.sh [--registry])" >&2
            exit 2
            ;;
    esac
done

# True when $1 is the pid of a running deckhand-world server (guards against pid reuse).
is_world() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ps -p "$1" -o args= 2>/dev/null | grep -q deckhand_world
}

# Prints the export lines for the running world described by .world/.
print_exports() {
    echo "export AWS_ENDPOINT_URL=$(cat "$state/endpoint")"
    if [ -n "$registry" ]; then
        cat "$state/registries"
    fi
}

"$world_dir/install.sh"
mkdir -p "$state"

if [ -f "$state/pid" ] && [ -f "$state/endpoint" ] && is_world "$(cat "$state/pid")"; then
    if [ -z "$registry" ] || [ -f "$state/registries" ]; then
        print_exports
        exit 0
    fi
    echo "start.sh: the running world has no registries; restarting it with --registry" >&2
    "$world_dir/stop.sh"
fi
rm -f "$state/pid" "$state/endpoint" "$state/stdout" "$state/registries"

PYTHONPATH="$world_dir${PYTHONPATH:+:$PYTHONPATH}" nohup "$repo_root/.venv/bin/python" \
    -m deckhand_world --port 0 ${registry:+--registry} >"$state/stdout" 2>"$state/world.log" </dev/null &
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
if [ -n "$registry" ]; then
    # The fronts' addresses, from the control API (no curl on a fresh machine; the venv is there).
    if ! "$repo_root/.venv/bin/python" - "$url" >"$state/registries" <<'EOF'
import json
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1] + "/_deckhand/registries", timeout=10) as response:
    fronts = json.load(response)
print(f"export DECKHAND_WORLD_ECR_REGISTRY={fronts['ecr']}")
print(f"export DECKHAND_WORLD_HUB_REGISTRY={fronts['hub']}")
EOF
    then
        kill "$pid" 2>/dev/null || true
        rm -f "$state/registries"
        echo "start.sh: could not read the registries' addresses; see $state/world.log" >&2
        exit 1
    fi
fi
echo "$url" >"$state/endpoint"
echo "$pid" >"$state/pid"
print_exports
