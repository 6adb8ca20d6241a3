#!/usr/bin/env bash
# What getting deckhand costs an action's step (actions/lib/install-deckhand.sh): the first
# step of a job fetches the binary out of the image (cold), the later steps and actions of the
# job find it in the job's cache (cached), and a runner with deckhand installed skips both
# (deckhand-path). Against the local world's Docker-Hub-like registry front on 127.0.0.1, which
# asks for anonymous Bearer tokens as ghcr.io does; the image is shaped like the release image
# (an index with buildx's attestation entry; a CA layer, then /deckhand, gzip).
#
#   bench/action-setup.sh [ROUNDS]      (default 20)
#
# DECKHAND_BIN=path puts that binary in the image instead of building the release one (it is
# stripped first, as the release profile strips). Loopback only: on a GitHub runner the cold
# fetch adds ghcr.io's round trips (token, index, manifest, layer) and the layer's download.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
rounds="${1:-20}"
work="$root/.bench/action-setup"
py="$root/.venv/bin/python"
say() { printf '\n==> %s\n' "$*" >&2; }

if [ -n "${DECKHAND_BIN:-}" ]; then
    binary="$DECKHAND_BIN"
else
    say "release build"
    cargo build --release --locked -p deckhand --quiet
    binary="${CARGO_TARGET_DIR:-$root/target}/release/deckhand"
fi
bash world/install.sh
say "starting a local world with registries"
bash world/stop.sh >/dev/null 2>&1 || true
eval "$(bash world/start.sh --registry)"
trap 'bash world/stop.sh >/dev/null 2>&1 || true' EXIT
hub="$DECKHAND_WORLD_HUB_REGISTRY"

say "the image: $hub/bench/deckhand:edge"
rm -rf "$work" && mkdir -p "$work/root/etc/ssl/certs" "$work/layout/blobs/sha256"
cp /etc/ssl/certs/ca-certificates.crt "$work/root/etc/ssl/certs/"
cp "$binary" "$work/root/deckhand"
strip "$work/root/deckhand" 2>/dev/null || true
blobs="$work/layout/blobs/sha256"
sha() { sha256sum "$1" | cut -c1-64; }
size() { stat -c %s "$1"; }
# layer MEMBER -> "DIFF_ID DIGEST SIZE" (tar sorted, owned by 0:0, dated 0; gzip's default level)
layer() {
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/root" -cf "$work/$1.tar" "$1"
    gzip -n -6 -c "$work/$1.tar" >"$work/$1.tar.gz"
    local digest
    digest="$(sha "$work/$1.tar.gz")"
    cp "$work/$1.tar.gz" "$blobs/$digest"
    echo "$(sha "$work/$1.tar") $digest $(size "$work/$1.tar.gz")"
}
# blob FILE -> "DIGEST SIZE"
blob() {
    local digest
    digest="$(sha "$1")"
    cp "$1" "$blobs/$digest"
    echo "$digest $(size "$1")"
}
read -r certs_diff certs_digest certs_size < <(layer etc)
read -r bin_diff bin_digest bin_size < <(layer deckhand)
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/deckhand"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
    "$certs_diff" "$bin_diff" >"$work/config.json"
read -r config_digest config_size < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config_digest" "$config_size" "$certs_digest" "$certs_size" "$bin_digest" "$bin_size" >"$work/manifest.json"
read -r manifest_digest manifest_size < <(blob "$work/manifest.json")
# buildx's attestation entry: an unknown/unknown manifest with an in-toto layer.
printf '{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"%s"}}]}' "$manifest_digest" >"$work/statement.json"
read -r statement_digest statement_size < <(blob "$work/statement.json")
printf '{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$statement_digest" >"$work/att-config.json"
read -r att_config_digest att_config_size < <(blob "$work/att-config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.in-toto+json","digest":"sha256:%s","size":%s}]}' \
    "$att_config_digest" "$att_config_size" "$statement_digest" "$statement_size" >"$work/att.json"
read -r att_digest att_size < <(blob "$work/att.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"unknown","os":"unknown"},"annotations":{"vnd.docker.reference.digest":"sha256:%s","vnd.docker.reference.type":"attestation-manifest"}}]}' \
    "$manifest_digest" "$manifest_size" "$att_digest" "$att_size" "$manifest_digest" >"$work/index.json"
read -r index_digest index_size < <(blob "$work/index.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"edge"}}]}' \
    "$index_digest" "$index_size" >"$work/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$work/layout:edge" "docker://$hub/bench/deckhand:edge"

# setup RUNNER_TEMP [ENV...] -> milliseconds of one installer run (its binary must answer)
setup() {
    local temp="$1" t0 t1 path
    shift
    mkdir -p "$temp"
    t0="$(date +%s%N)"
    path="$(env -u INPUT_DECKHAND_PATH -u INPUT_DECKHAND_IMAGE RUNNER_TEMP="$temp" RUNNER_OS=Linux RUNNER_ARCH=X64 \
        "$@" bash actions/lib/install-deckhand.sh 2>>"$work/setup.log")"
    t1="$(date +%s%N)"
    "$path" --version >/dev/null
    echo $(((t1 - t0) / 1000000))
}

tag="$hub/bench/deckhand:edge"
pinned="$hub/bench/deckhand:edge@sha256:$index_digest"
say "warm-up"
setup "$work/jobs/warm" INPUT_DECKHAND_IMAGE="$tag" >/dev/null
cold=() cold_pinned=() cached=() given=()
for round in $(seq 1 "$rounds"); do
    say "round $round/$rounds"
    job="$work/jobs/$round"
    cold+=("$(setup "$job" INPUT_DECKHAND_IMAGE="$tag")")
    cached+=("$(setup "$job" INPUT_DECKHAND_IMAGE="$tag")")
    cold_pinned+=("$(setup "$job-pinned" INPUT_DECKHAND_IMAGE="$pinned")")
    given+=("$(setup "$job-given" INPUT_DECKHAND_PATH="$work/root/deckhand")")
    rm -rf "$job" "$job-pinned" "$job-given"
done

say "results (ms per step, $rounds rounds; layer with deckhand: $bin_size bytes gzip, binary $(size "$work/root/deckhand") bytes)"
"$py" - "${cold[*]}" "${cold_pinned[*]}" "${cached[*]}" "${given[*]}" <<'PY'
import statistics, sys
names = ["cold fetch, by tag (first step of a job)", "cold fetch, by pinned digest (a release)",
         "cached (every later step of the job)", "deckhand-path (installed binary)"]
print("| setup | median | min | max |")
print("| --- | ---: | ---: | ---: |")
for name, arg in zip(names, sys.argv[1:]):
    ms = [int(x) for x in arg.split()]
    print(f"| {name} | {statistics.median(ms):.0f} ms | {min(ms)} ms | {max(ms)} ms |")
PY
