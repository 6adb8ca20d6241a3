#!/usr/bin/env bash
# Verdict benchmark on the local world: how fast deckhand turns red after ECS marks a deployment
# FAILED, how many AWS API calls one successful deploy costs, and what the standard
# `aws ecs wait services-stable` waiter (what aws-actions/amazon-ecs-deploy-task-definition
# uses) says about the same circuit-breaker rollback. Results go to docs/benchmarks.md.
#
#   bench/verdict.sh [RUNS]      (default 3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
runs="${1:-3}"

cargo build --locked -p deckhand --quiet
deckhand="$root/target/debug/deckhand"
bash world/install.sh
eval "$(bash world/start.sh)"
trap 'bash world/stop.sh >/dev/null 2>&1 || true' EXIT
# shellcheck source=world/client-env.sh
source world/client-env.sh
py="$root/.venv/bin/python"
aws() { "$root/.venv/bin/aws" "$@"; }

# The emulator's default pace (tasks start in 2 s, crash 2 s later).
"$py" -c 'import os,urllib.request as u; u.urlopen(u.Request(os.environ["AWS_ENDPOINT_URL"]+"/_deckhand/reset", b"", method="POST")).read()'

service() { # NAME BREAKER_JSON
    aws ecs create-cluster --cluster-name "$1" >/dev/null
    aws ecs register-task-definition --family "$1" \
        --container-definitions '[{"name":"app","image":"registry.local/bench/app:1","memory":128}]' >/dev/null
    aws ecs create-service --cluster "$1" --service-name "$1" --task-definition "$1:1" --desired-count 2 \
        --deployment-configuration "{\"deploymentCircuitBreaker\":$2}" >/dev/null
    for _ in $(seq 1 100); do
        [ "$(aws ecs describe-services --cluster "$1" --services "$1" --query 'services[0].deployments[0].rolloutState' --output text)" = COMPLETED ] && return
        sleep 0.2
    done
    echo "service $1 did not settle" >&2; exit 1
}

echo "## verdict latency: breaker on, rollback off, default --poll-interval 5s"
for i in $(seq 1 "$runs"); do
    service "lat$i" '{"enable":true,"rollback":false}'
    # Each run fails at a different point of the 5 s poll cycle (the emulator is deterministic).
    fail_after="$("$py" -c "print(round(1 + ($i - 1) * 5 / $runs, 2))")"
    "$deckhand" --output json ecs deploy --cluster "lat$i" --service "lat$i" \
        --image app=registry.local/bench/app:fault-exit --env "app:DECKHAND_WORLD_FAIL_SECONDS=$fail_after" \
        --rollback never >"/tmp/deckhand-bench-lat$i.json" 2>/dev/null || true
    "$py" - "/tmp/deckhand-bench-lat$i.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
failed = [e for e in r["events"] if "deployment failed" in e["message"]]
t = failed[0]["createdAtMs"]
print(f"  run: verdict={r['verdict']} exit={r['exit_code']} latency_after_FAILED={(r['decided_at_ms'] - t) / 1000:.2f}s "
      f"elapsed={r['elapsed_seconds']:.1f}s api_calls={r['api_calls']['total']}")
PY
done

echo "## API calls for one successful deploy (2 tasks, default --poll-interval 5s)"
service ok '{"enable":true,"rollback":true}'
"$deckhand" --output json ecs deploy --cluster ok --service ok --image app=registry.local/bench/app:2 >/tmp/deckhand-bench-ok.json 2>/dev/null
"$py" -c 'import json; r=json.load(open("/tmp/deckhand-bench-ok.json")); print("  verdict=%s elapsed=%.1fs api_calls=%d %s" % (r["verdict"], r["elapsed_seconds"], r["api_calls"]["total"], json.dumps(r["api_calls"]["by_operation"])))'

echo "## peer: the ServicesStable waiter on a circuit-breaker rollback"
service peer '{"enable":true,"rollback":true}'
aws ecs register-task-definition --family peer \
    --container-definitions '[{"name":"app","image":"registry.local/bench/app:fault-exit","memory":128}]' >/dev/null
aws ecs update-service --cluster peer --service peer --task-definition peer:2 >/dev/null
start=$(date +%s.%N)
if aws ecs wait services-stable --cluster peer --services peer; then waiter=0; else waiter=$?; fi
end=$(date +%s.%N)
primary="$(aws ecs describe-services --cluster peer --services peer --query 'services[0].taskDefinition' --output text)"
printf '  aws ecs wait services-stable: exit %s after %.1fs (0 = "stable"); the service runs %s, not peer:2\n' \
    "$waiter" "$("$py" -c "print($end - $start)")" "${primary##*/}"
service peer2 '{"enable":true,"rollback":true}'
"$deckhand" --output json ecs deploy --cluster peer2 --service peer2 --image app=registry.local/bench/app:fault-exit >/tmp/deckhand-bench-peer.json 2>/dev/null || true
"$py" -c 'import json; r=json.load(open("/tmp/deckhand-bench-peer.json")); print("  deckhand on the same change: verdict=%s exit=%d after %.1fs" % (r["verdict"], r["exit_code"], r["elapsed_seconds"]))'
