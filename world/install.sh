#!/usr/bin/env bash
# Creates the repo's Python venv (.venv at the repo root) and installs world/requirements.txt
# into it. Idempotent and quiet on success: pip only runs when the requirements file changed
# since the last successful install (tracked by a stamp file holding its hash).
set -euo pipefail

world_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$world_dir/.." && pwd)"
venv="$repo_root/.venv"
requirements="$world_dir/requirements.txt"
stamp="$venv/.deckhand-world-requirements.sha256"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" >"$log" 2>&1; then
    cat "$log" >&2
    echo "install.sh: pip install -r world/requirements.txt failed" >&2
    exit 1
fi
echo "$wanted" >"$stamp"
