#!/usr/bin/env bash
# What the smoke run adds to an `nginx build`: the same rebuild (an index.html change, pushed to
# the local world's ECR front) with the smoke run (the default) and without it (--skip-smoke),
# alternating, in one run, on the small nginx base of scripts/nginx-base.sh and on the same with
# a 64 MiB layer added (about the official nginx image's compressed size: the smoke run fetches
# and unpacks the base's layers, which the push itself never does).
#
#   bench/smoke.sh [ROUNDS]      (default 5; needs root, like the smoke run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
rounds="${1:-5}"
work="$root/.bench/smoke"
# shellcheck source=bench/nginx-bases.sh
source bench/nginx-bases.sh
for repo in smoke skip smoke-large skip-large; do
    aws ecr create-repository --repository-name "bench/$repo" >/dev/null
done
mkdir -p "$work/site/html"
cp examples/demo/nginx/default.conf "$work/site/default.conf"
page() { printf '<!doctype html><h1>bench %s</h1>\n' "$1" >"$work/site/html/index.html"; }

# build REPO [FLAGS...] -> "seconds smoke_ms" (smoke_ms: the smoke run's own duration, 0 when off)
build() {
    local repo="$1" t0 t1 out
    shift
    t0="$(date +%s.%N)"
    out="$("$deckhand" --output json nginx build --html "$work/site/html" --conf "$work/site/default.conf" \
        --base "$base" --tag "$ecr/bench/$repo:main" --ecr-registry "$ecr" --skip-validate "$@" 2>"$work/build.log")"
    t1="$(date +%s.%N)"
    "$py" -c '
import json, sys
r = json.loads(sys.argv[3])
assert r["verdict"] == "succeeded", r["verdict"]
smoke = r.get("smoke") or {}
print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f}", smoke.get("duration_ms", 0))' "$t0" "$t1" "$out"
}

ok=0
for scenario in small large; do
    if [ "$scenario" = small ]; then base="$hub/library/nginx:1.22" suffix=""; else base="$hub/library/nginx-large:1.22" suffix="-large"; fi
    say "$scenario base: warm-up (the first push of each repository)"
    page "warm-$scenario"
    build "smoke$suffix" >/dev/null
    build "skip$suffix" --skip-smoke >/dev/null
    with=() without=()
    for round in $(seq 1 "$rounds"); do
        say "$scenario base: round $round/$rounds"
        page "$scenario-$round"
        with+=("$(build "smoke$suffix")")
        without+=("$(build "skip$suffix" --skip-smoke)")
    done
    base_size="$(skopeo inspect --raw --tls-verify=false "docker://$base" \
        | "$py" -c 'import json, sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')"
    say "results, $scenario base ($base_size bytes of layers; median of $rounds rounds)"
    "$py" - "${with[@]}" "|" "${without[@]}" <<'PY' || ok=1
import statistics, sys
groups, cur = [], []
for a in sys.argv[1:]:
    if a == "|":
        groups.append(cur); cur = []
    else:
        cur.append([float(x) for x in a.split()])
groups.append(cur)
with_, without = groups
med = lambda rows, i: statistics.median(r[i] for r in rows)
print("| nginx build (index.html changed) | wall (s) | smoke run's own time (ms) |")
print("|---|---|---|")
print(f"| with the smoke run (default) | {med(with_, 0):.3f} | {med(with_, 1):.0f} |")
print(f"| `--skip-smoke` | {med(without, 0):.3f} | |")
print(f"\nthe smoke run adds {med(with_, 0) - med(without, 0):.3f} s (median wall difference)")
PY
done
exit "$ok"
