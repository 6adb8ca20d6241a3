#!/usr/bin/env bash
# Site sync benchmark: deckhand vs `aws s3 sync` vs rclone on the same work, in one run.
# 5,000 files of ~10 KiB: (a) full upload into an empty bucket, (b) redeploy of the same
# build from a fresh copy (new mtimes, as a CI checkout has). The S3 server is s3s-fs 0.14.1
# (crates.io) on 127.0.0.1: moto serves ~100-140 PUTs a second and would be the bottleneck.
#
#   bench/site.sh [FILES]        (default 5000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
files="${1:-5000}"
work="$root/.bench/site"
tools="$root/.bench-tools"

say() { printf '\n==> %s\n' "$*" >&2; }

say "installing what the benchmark needs"
bash world/install.sh
[ -x "$tools/bin/s3s-fs" ] || cargo install s3s-fs --version 0.14.1 --locked --root "$tools" --features binary --quiet
command -v rclone >/dev/null || { apt-get update -qq && apt-get install -y -qq rclone >/dev/null; }
cargo build --release --locked -p deckhand --quiet
deckhand="${CARGO_TARGET_DIR:-$root/target}/release/deckhand"

say "making $files files"
rm -rf "$work" && mkdir -p "$work/build" "$work/data"
"$root/.venv/bin/python" - "$work/build" "$files" <<'PY'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
for i in range(n):
    d = os.path.join(root, "assets", f"d{i % 50:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"chunk{i:05d}-{rng.getrandbits(32):08x}.js"), "wb") as f:
        f.write(rng.randbytes(10 * 1024))
open(os.path.join(root, "index.html"), "w").write("<!doctype html>")
PY

port="$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$tools/bin/s3s-fs" --host 127.0.0.1 --port "$port" --access-key bench --secret-key bench-secret "$work/data" >"$work/s3s-fs.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
# rclone 1.60 fails when AWS_CA_BUNDLE is set (DESIGN.md section 4).
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT="$AWS_ENDPOINT_URL"
export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=bench RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=bench-secret

now() { date +%s.%N; }
elapsed() { "$root/.venv/bin/python" -c "print(f'{$2 - $1:.2f}')"; }
fresh_copy() { rm -rf "$work/copy" && cp -r "$work/build" "$work/copy"; }

declare -A full noop puts_full puts_noop
run_tool() { # NAME BUCKET CMD...  (the command gets the directory as its last argument)
    local name=$1 bucket=$2; shift 2
    mkdir -p "$work/data/$bucket"
    local t0 t1 out
    t0=$(now); out="$("$@" "$work/build" 2>&1)"; t1=$(now)
    full[$name]=$(elapsed "$t0" "$t1"); puts_full[$name]=$(count_puts "$name" "$out")
    fresh_copy
    t0=$(now); out="$("$@" "$work/copy" 2>&1)"; t1=$(now)
    noop[$name]=$(elapsed "$t0" "$t1"); puts_noop[$name]=$(count_puts "$name" "$out")
}
count_puts() { # NAME OUTPUT
    case "$1" in
        deckhand) "$root/.venv/bin/python" -c 'import json,sys; t=sys.stdin.read(); r=json.loads(t[t.index("{"):]); print(r["api_calls"]["by_operation"].get("S3.PutObject", 0))' <<<"$2" ;;
        aws) grep -c '^upload: ' <<<"$2" || true ;;
        rclone) grep -c ': Copied (' <<<"$2" || true ;;
    esac
}

deckhand_sync() { "$deckhand" --output json site deploy --bucket bench-deckhand --concurrency 64 --dir "$1" 2>/dev/null; }
aws_sync() { "$root/.venv/bin/aws" s3 sync "$1" s3://bench-aws --no-progress; }
rclone_sync() { rclone sync --checksum --fast-list --transfers 64 --checkers 64 --stats-one-line -v "$1" bench:bench-rclone; }

say "deckhand";  run_tool deckhand bench-deckhand deckhand_sync
say "aws s3 sync"; run_tool aws bench-aws aws_sync
say "rclone";    run_tool rclone bench-rclone rclone_sync

say "results ($files files of 10 KiB, s3s-fs 0.14.1 on 127.0.0.1)"
printf '| tool | (a) full upload | PUTs | (b) no-op from a fresh copy | PUTs |\n|---|---|---|---|---|\n'
for t in deckhand aws rclone; do
    printf '| %s | %ss | %s | %ss | %s |\n' "$t" "${full[$t]}" "${puts_full[$t]}" "${noop[$t]}" "${puts_noop[$t]}"
done
for t in aws rclone; do
    printf 'deckhand vs %s: (a) %sx faster, (b) %sx faster\n' "$t" \
        "$("$root/.venv/bin/python" -c "print(f'{${full[$t]} / ${full[deckhand]}:.1f}')")" \
        "$("$root/.venv/bin/python" -c "print(f'{${noop[$t]} / ${noop[deckhand]}:.1f}')")"
done
