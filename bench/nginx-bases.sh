# Sourced by bench/image.sh and bench/smoke.sh: a release build, a local world with registries,
# and two nginx bases in its Docker-Hub-like front: the small one of scripts/nginx-base.sh
# (`$hub/library/nginx:1.22`) and the same plus a 64 MiB incompressible layer, about the
# official nginx image's compressed size (`$hub/library/nginx-large:1.22`).
# Needs: root, work (a scratch directory). Sets: deckhand, hub, ecr, py, and aws().
# shellcheck shell=bash disable=SC2034,SC2154 # the variables are the caller's, both ways
py="$root/.venv/bin/python"

say() { printf '\n==> %s\n' "$*" >&2; }

say "installing what the benchmark needs (release build)"
bash world/install.sh
cargo build --release --locked -p deckhand --quiet
deckhand="${CARGO_TARGET_DIR:-$root/target}/release/deckhand"

say "starting a local world with registries"
bash world/stop.sh >/dev/null 2>&1 || true
eval "$(bash world/start.sh --registry)"
trap 'bash world/stop.sh >/dev/null 2>&1 || true' EXIT
# shellcheck source=world/client-env.sh
source world/client-env.sh
aws() { "$root/.venv/bin/aws" "$@"; }
hub="$DECKHAND_WORLD_HUB_REGISTRY"
ecr="$DECKHAND_WORLD_ECR_REGISTRY"
scripts/nginx-base.sh "$hub/library/nginx:1.22" >/dev/null
rm -rf "$work" && mkdir -p "$work"
say "making the large base: the nginx base plus a 64 MiB incompressible layer"
skopeo copy -q --src-tls-verify=false "docker://$hub/library/nginx:1.22" "oci:$work/fat:base"
mkdir -p "$work/fat-files" && head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/fat-files/payload.bin"
umoci insert --image "$work/fat:base" --tag fat "$work/fat-files/payload.bin" /opt/payload.bin 2>/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$work/fat:fat" "docker://$hub/library/nginx-large:1.22"
