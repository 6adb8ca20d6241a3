#!/usr/bin/env bash
# Installs what the local world needs, idempotent and quiet on success:
# - the Debian packages of the container registries and image tools (docker-registry, skopeo,
#   umoci, nginx-light, apache2-utils, util-linux, iproute2, mount, docker.io), shellcheck (for
#   actionlint), curl and jq (the actions' installer, actions/lib/install-deckhand.sh, as
#   GitHub's runners have them), and nodejs (act's JavaScript actions), with apt-get, only when
#   one of their binaries is missing;
# - cargo-deny, pinned (world/tools.sh), built with `cargo install --locked` into its own root
#   outside the checkout, only when that root does not hold that version;
# - the repo's Python venv (.venv at the repo root) with world/requirements.txt. pip only runs
#   when the requirements file changed since the last successful install (tracked by a stamp
#   file holding its hash).
set -euo pipefail

world_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$world_dir/.." && pwd)"
venv="$repo_root/.venv"
requirements="$world_dir/requirements.txt"
stamp="$venv/.deckhand-world-requirements.sha256"

log="$(mktemp)"
policy=/usr/sbin/policy-rc.d
policy_saved=""
policy_ours=""
cleanup() {
    rm -f "$log"
    if [ -n "$policy_ours" ]; then
        rm -f "$policy"
        if [ -n "$policy_saved" ]; then mv "$policy_saved" "$policy"; fi
    fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ Debian packages

# binary:package pairs. nginx and htpasswd may live in /usr/sbin, outside a user's PATH.
# unshare, setpriv, ip and mount: the smoke run's daemonless runtime; dockerd: the engine of its
# `docker` runtime's tests (world/dockerd.sh; docs/images.md). curl and jq: the actions'
# installer (actions/lib/install-deckhand.sh), run by crates/deckhand/tests/action_install.rs.
# node: the JavaScript action (actions/changes) when act runs workflows in the tests
# (crates/deckhand-testkit/src/act.rs).
missing=()
for pair in docker-registry:docker-registry skopeo:skopeo umoci:umoci nginx:nginx-light \
    htpasswd:apache2-utils shellcheck:shellcheck unshare:util-linux setpriv:util-linux \
    ip:iproute2 mount:mount dockerd:docker.io curl:curl jq:jq node:nodejs; do
    if ! PATH="$PATH:/usr/sbin:/sbin" command -v "${pair%%:*}" >/dev/null 2>&1; then
        missing+=("${pair#*:}")
    fi
done
# jq runs deploy.yml's `parts` step, node and npm its frontend build, in the steps
# crates/deckhand/tests/deploy_workflow.rs executes (GitHub's runners have all three).
for pair in jq:jq node:nodejs npm:npm; do
    if ! command -v "${pair%%:*}" >/dev/null 2>&1; then
        missing+=("${pair#*:}")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install.sh: missing Debian packages: ${missing[*]}" >&2
        echo "install.sh: run it as root, or: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    # Exit status 101 tells the packages' maintainer scripts not to start their services: the
    # packaged nginx would listen on port 80 and the packaged registry on :5000 on every
    # interface. The world runs its own, on 127.0.0.1. A policy already in place is put back.
    if [ -e "$policy" ]; then
        policy_saved="$policy.deckhand-world-saved"
        mv "$policy" "$policy_saved"
    fi
    policy_ours=1
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"

    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1
    }
    # The package lists are fetched only when the install cannot do without them (a fresh
    # machine has none).
    if ! apt_install "${missing[@]}"; then
        if ! { apt-get update -q >>"$log" 2>&1 && apt_install "${missing[@]}"; }; then
            cat "$log" >&2
            echo "install.sh: apt-get install ${missing[*]} failed" >&2
            exit 1
        fi
    fi
    : >"$log"
fi

# ------------------------------------------------------------------ cargo-deny

# The test command's `cargo deny check licenses bans sources` (deny.toml). cargo-deny 0.20 has no
# cargo features to leave out: this is its lightest build.
# shellcheck source=world/tools.sh
. "$world_dir/tools.sh"
if [ "$("$CARGO_DENY_ROOT/bin/cargo-deny" --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
    echo "install.sh: building cargo-deny $CARGO_DENY_VERSION into $CARGO_DENY_ROOT (once per machine; minutes)" >&2
    if ! cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked \
        --root "$CARGO_DENY_ROOT" >"$log" 2>&1; then
        cat "$log" >&2
        echo "install.sh: cargo install cargo-deny $CARGO_DENY_VERSION failed" >&2
        exit 1
    fi
    : >"$log"
fi

# ------------------------------------------------------------------ Python venv

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" >"$log" 2>&1; then
    cat "$log" >&2
    echo "install.sh: pip install -r world/requirements.txt failed" >&2
    exit 1
fi
echo "$wanted" >"$stamp"
