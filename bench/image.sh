#!/usr/bin/env bash
# nginx image rebuild benchmark: deckhand vs a daemonless reference pipeline doing the same work
# with Debian's umoci + skopeo, in one run, on the local world's registries (world/README.md:
# the base in the Docker-Hub-like front, the target in the ECR front, which counts what it
# receives per repository).
#
# Per round, each tool (its own repository):
#   (a) rebuild after an index.html change, (b) rebuild with nothing changed.
# The reference pipeline is what a CI job without a Docker daemon does on a fresh runner:
#   skopeo copy docker://BASE oci:layout  ->  umoci insert (html, default.conf)  ->
#   skopeo copy oci:layout docker://TARGET
#
# Two bases: the small nginx base of scripts/nginx-base.sh (4 MiB), and the same with a 64 MiB
# layer added, about the compressed size of the official nginx image (which a fresh runner
# must download for the reference pipeline; deckhand never downloads base layers).
# deckhand runs with --skip-validate: the reference does not run `nginx -t` either.
#
#   bench/image.sh [ROUNDS]      (default 5)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
rounds="${1:-5}"
work="$root/.bench/image"
# shellcheck source=bench/nginx-bases.sh
source bench/nginx-bases.sh
creds="AWS:123456789012-auth-token"
for repo in deckhand reference deckhand-large reference-large; do
    aws ecr create-repository --repository-name "bench/$repo" >/dev/null
done

mkdir -p "$work/site/html"
cp examples/demo/nginx/default.conf "$work/site/default.conf"
page() { printf '<!doctype html><h1>bench %s</h1>\n' "$1" >"$work/site/html/index.html"; }

stats() { # REPO -> "requests bytes_received"
    curl -s "$AWS_ENDPOINT_URL/_deckhand/registry-stats" | "$py" -c '
import json, sys
repo = json.load(sys.stdin)["ecr"]["repositories"].get(sys.argv[1], {})
print(repo.get("requests", 0), repo.get("bytes_received", 0))' "$1"
}
now() { date +%s.%N; }

# The base and the repository suffix of the scenario being measured.
base="" suffix=""
deckhand_build() {
    "$deckhand" nginx build --html "$work/site/html" --conf "$work/site/default.conf" --base "$base" \
        --tag "$ecr/bench/deckhand$suffix:main" --ecr-registry "$ecr" --skip-validate >/dev/null 2>"$work/deckhand.log"
}
reference_build() {
    local layout="$work/layout"
    rm -rf "$layout"
    skopeo copy -q --src-tls-verify=false "docker://$base" "oci:$layout:base"
    umoci insert --image "$layout:base" --tag new "$work/site/html" /usr/share/nginx/html 2>/dev/null
    umoci insert --image "$layout:new" "$work/site/default.conf" /etc/nginx/conf.d/default.conf 2>/dev/null
    skopeo copy -q --dest-tls-verify=false --dest-creds "$creds" "oci:$layout:new" "docker://$ecr/bench/reference$suffix:main"
}

# measure TOOL REPO -> "seconds requests bytes"
measure() {
    local before after t0 t1
    read -r -a before <<<"$(stats "$2")"
    t0="$(now)"
    "$1"
    t1="$(now)"
    read -r -a after <<<"$(stats "$2")"
    "$py" -c "print(f'{$t1 - $t0:.3f}', ${after[0]} - ${before[0]}, ${after[1]} - ${before[1]})"
}

ok=0
for scenario in small large; do
    if [ "$scenario" = small ]; then base="$hub/library/nginx:1.22" suffix=""; else base="$hub/library/nginx-large:1.22" suffix="-large"; fi
    say "$scenario base: warm-up (the first push of each: base layers reach the target repository)"
    page 0
    deckhand_build
    reference_build
    d_change=() r_change=() d_same=() r_same=()
    for round in $(seq 1 "$rounds"); do
        say "$scenario base: round $round/$rounds"
        page "$scenario-$round"
        d_change+=("$(measure deckhand_build "bench/deckhand$suffix")")
        r_change+=("$(measure reference_build "bench/reference$suffix")")
        d_same+=("$(measure deckhand_build "bench/deckhand$suffix")")
        r_same+=("$(measure reference_build "bench/reference$suffix")")
    done
    layer_size="$("$deckhand" --output json nginx build --html "$work/site/html" --conf "$work/site/default.conf" \
        --base "$base" --tag "$ecr/bench/deckhand$suffix:main" --ecr-registry "$ecr" --dry-run --skip-validate 2>/dev/null \
        | "$py" -c 'import json,sys; print(json.load(sys.stdin)["layer"]["size"])')"
    base_size="$(skopeo inspect --raw --tls-verify=false "docker://$base" \
        | "$py" -c 'import json, sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')"
    say "results, $scenario base ($base_size bytes of layers; median of $rounds rounds; bytes and requests as the ECR front received them)"
    "$py" - "$layer_size" "${d_change[@]}" "|" "${r_change[@]}" "|" "${d_same[@]}" "|" "${r_same[@]}" <<'PY' || ok=1
import statistics, sys
layer = int(sys.argv[1])
groups, cur = [], []
for a in sys.argv[2:]:
    if a == "|":
        groups.append(cur); cur = []
    else:
        cur.append([float(x) for x in a.split()])
groups.append(cur)
def med(rows, i):
    return statistics.median(r[i] for r in rows)
names = ["index.html changed", "nothing changed"]
print(f"new compressed layer: {layer} bytes\n")
print("| rebuild | tool | wall (s) | requests | bytes received | time ratio (reference / deckhand) |")
print("|---|---|---|---|---|---|")
for k, (d, r) in enumerate([(groups[0], groups[1]), (groups[2], groups[3])]):
    ratio = med(r, 0) / med(d, 0)
    print(f"| {names[k]} | deckhand | {med(d,0):.3f} | {med(d,1):.0f} | {med(d,2):.0f} | |")
    print(f"| {names[k]} | umoci + skopeo | {med(r,0):.3f} | {med(r,1):.0f} | {med(r,2):.0f} | {ratio:.1f}x |")
d_change, d_same = groups[0], groups[2]
checks = {
    "changed <= layer + 16 KiB": med(d_change, 2) <= layer + 16 * 1024,
    "unchanged = 0 bytes": med(d_same, 2) == 0,
    "faster than the reference": med(d_change, 0) < med(groups[1], 0) and med(d_same, 0) < med(groups[3], 0),
}
print("\ntargets: " + "; ".join(f"{k}: {v}" for k, v in checks.items()))
sys.exit(0 if all(checks.values()) else 1)
PY
done
exit "$ok"
