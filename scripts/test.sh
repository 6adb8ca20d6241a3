#!/usr/bin/env bash
# The test command (README's second command; .ci/run calls it). Installs what it needs itself:
# the Python venv of the local world (moto + awscli, pinned), then runs every check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing the local world (world/install.sh)"
bash world/install.sh

step "cargo fmt --check"
cargo fmt --all --check

step "deckhand-core stays pure (no AWS SDK, octocrab, tokio or reqwest)"
if cargo tree -p deckhand-core -e normal --prefix none | grep -E '^(aws-[a-z0-9-]+|octocrab|tokio|reqwest) '; then
    echo "deckhand-core must not depend on the crates above" >&2
    exit 1
fi

step "the ECS task definition shapes are what the pinned botocore gives (scripts/ecs-taskdef-shapes.py)"
.venv/bin/python scripts/ecs-taskdef-shapes.py --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo deny: licenses, banned crates (openssl, native-tls, serde_yaml, unsafe-libyaml), sources (deny.toml)"
# shellcheck source=world/tools.sh
. world/tools.sh
# cargo-deny reads `cargo metadata` offline: every platform's crates must be in the local cache.
cargo fetch --locked -q
PATH="$CARGO_DENY_ROOT/bin:$PATH" cargo deny --offline check --hide-inclusion-graph \
    licenses bans sources

step "zizmor: workflow and action security lints"
.venv/bin/zizmor --offline --persona auditor .github/workflows actions

step "actionlint: workflow checks (with shellcheck on run: scripts)"
.venv/bin/actionlint

step "shellcheck: the actions' run: scripts"
.venv/bin/python scripts/shellcheck-actions.py

step "the local world's own tests: ECS rollouts, fault injection (pytest)"
PYTHONPATH=world .venv/bin/python -m pytest -q world/tests

step "cargo test (unit tests, then scenarios against the local world)"
cargo test --workspace --locked

# The demo (README's first command) checks its own outcomes and exits non-zero when one is
# off: the ECS verdicts, the site deploys, the nginx rebuilds, and the chain on the example
# app's git history (only the changed parts deploy). It is the end-to-end test of the chain.
step "the demo, end to end on the local world"
bash scripts/demo.sh >/dev/null 2>"${TMPDIR:-/tmp}/deckhand-demo.log" || {
    cat "${TMPDIR:-/tmp}/deckhand-demo.log" >&2
    echo "scripts/demo.sh failed (its log is above)" >&2
    exit 1
}
