#!/usr/bin/env bash
# Fan-out benchmark on the local world: `ecs deploy` of 1, 5 and 20 services of one family in
# one run (`--service` repeated), against the same N services deployed one after another (one
# `ecs deploy` each, the only way with the peer tools). Prints the wall time per N, its ratio
# to the one-service time, and the AWS API calls. Results go to docs/benchmarks.md.
#
#   bench/fanout.sh [N...]        (default: 1 5 20)
#
# DECKHAND_BIN=path runs that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
sizes=("$@")
if [ "${#sizes[@]}" -eq 0 ]; then
    sizes=(1 5 20)
fi

if [ -n "${DECKHAND_BIN:-}" ]; then
    deckhand="$DECKHAND_BIN"
else
    cargo build --release --locked -p deckhand --quiet
    deckhand="${CARGO_TARGET_DIR:-$root/target}/release/deckhand"
fi
bash world/install.sh
eval "$(bash world/start.sh)"
trap 'bash world/stop.sh >/dev/null 2>&1 || true' EXIT
# shellcheck source=world/client-env.sh
source world/client-env.sh
py="$root/.venv/bin/python"
aws() { "$root/.venv/bin/aws" "$@"; }
out="$(mktemp -d)"

# The emulator's default pace: tasks start in 2 s, old tasks drain 1 s after.
"$py" -c 'import os,urllib.request as u; u.urlopen(u.Request(os.environ["AWS_ENDPOINT_URL"]+"/_deckhand/reset", b"", method="POST")).read()'

cluster() { # NAME N: a cluster of N settled services NAME-1..N of family NAME, 1 task each
    aws ecs create-cluster --cluster-name "$1" >/dev/null
    aws ecs register-task-definition --family "$1" \
        --container-definitions '[{"name":"app","image":"registry.local/bench/app:1","memory":128}]' >/dev/null
    for i in $(seq 1 "$2"); do
        aws ecs create-service --cluster "$1" --service-name "$1-$i" --task-definition "$1:1" --desired-count 1 \
            --deployment-configuration '{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}' >/dev/null
    done
    for _ in $(seq 1 200); do
        pending="$(aws ecs list-services --cluster "$1" --query 'serviceArns' --output text | tr '\t' '\n' | xargs -n 10 \
            aws ecs describe-services --cluster "$1" --query 'services[?deployments[0].rolloutState!=`COMPLETED`].serviceName' \
            --output text --services | tr -d '[:space:]')"
        [ -z "$pending" ] && return
        sleep 0.3
    done
    echo "cluster $1 did not settle" >&2
    exit 1
}

now() { "$py" -c 'import time; print(time.monotonic())'; }
flags=(--image app=registry.local/bench/app:2 --skip-image-check --poll-interval 1s)

echo "| services | fan-out wall | ratio to 1 service | fan-out API calls | sequential wall | sequential API calls | fan-out speed-up |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
one=""
for n in "${sizes[@]}"; do
    cluster "fan$n" "$n"
    cluster "seq$n" "$n"
    services=()
    for i in $(seq 1 "$n"); do services+=(--service "fan$n-$i"); done
    start="$(now)"
    "$deckhand" --output json ecs deploy --cluster "fan$n" "${services[@]}" "${flags[@]}" >"$out/fan$n.json" 2>"$out/fan$n.log"
    fan="$("$py" -c "print($(now) - $start)")"
    seq_calls=0
    start="$(now)"
    for i in $(seq 1 "$n"); do
        "$deckhand" --output json ecs deploy --cluster "seq$n" --service "seq$n-$i" "${flags[@]}" >"$out/seq$n-$i.json" 2>/dev/null
        seq_calls=$((seq_calls + $("$py" -c "import json; print(json.load(open('$out/seq$n-$i.json'))['api_calls']['total'])")))
    done
    seq="$("$py" -c "print($(now) - $start)")"
    one="${one:-$fan}"
    "$py" - "$out/fan$n.json" "$n" "$fan" "$one" "$seq" "$seq_calls" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, fan, one, seq, seq_calls = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
assert r["verdict"] == "succeeded", r["headline"]
# One service takes the one-service path (its report has `registered`); several, the fan-out.
assert len(r.get("registered_task_definitions", [None] if r.get("registered") else [])) == 1, r
calls = r["api_calls"]["total"]
print(f"| {n} | {fan:.1f} s | {fan / one:.2f} | {calls} | {seq:.1f} s | {seq_calls} | {seq / fan:.1f}x |")
PY
done
echo
echo "(each fan-out registered 1 task definition revision for its N services; logs in $out)"
