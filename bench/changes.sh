#!/usr/bin/env bash
# Path filter benchmark: `deckhand changes` vs the matching dorny/paths-filter does (picomatch
# 2.3.1 with {dot: true} and js-yaml 4, the versions it bundles, run by Node), on the same
# 10,000 changed files and 50 filters, in one run. Both results must be identical; the target
# is deckhand under 50 ms for the whole command (process start, YAML, matching, JSON out).
#
#   bench/changes.sh [FILES] [FILTERS] [RUNS]     (default 10000 50 20)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
files="${1:-10000}" filters="${2:-50}" runs="${3:-20}"
work="$root/.bench/changes"
node_dir="$root/.bench-tools/node"
export NODE_PATH="$node_dir/node_modules"
py="$root/.venv/bin/python"

say() { printf '\n==> %s\n' "$*" >&2; }

say "installing what the benchmark needs (release build; picomatch and js-yaml from npm)"
bash world/install.sh
cargo build --release --locked -p deckhand --quiet
deckhand="${CARGO_TARGET_DIR:-$root/target}/release/deckhand"
if [ ! -d "$node_dir/node_modules/picomatch" ]; then
    mkdir -p "$node_dir"
    (cd "$node_dir" && npm install --silent --no-audit --no-fund picomatch@2.3.1 js-yaml@4.1.0 >/dev/null)
fi

say "making $files changed files and $filters filters"
rm -rf "$work" && mkdir -p "$work"
"$py" - "$work" "$files" "$filters" <<'PY'
import os, random, sys
work, n_files, n_filters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
areas = [f"services/svc{i:02d}" for i in range(30)] + ["site", "nginx", "docs", ".github/workflows", "infra"]
exts = ["rs", "ts", "tsx", "js", "css", "md", "json", "yml", "conf", "html", "png"]
with open(os.path.join(work, "changed.txt"), "w") as f:
    for i in range(n_files):
        area = rng.choice(areas)
        depth = "/".join(f"d{rng.randrange(8)}" for _ in range(rng.randrange(0, 4)))
        path = f"{area}/{depth}/f{i:05d}.{rng.choice(exts)}".replace("//", "/")
        f.write(f"{rng.choice('AMMMD')}\t{path}\n")
with open(os.path.join(work, "filters.yml"), "w") as f:
    f.write("shared: &shared\n  - 'Cargo.toml'\n  - 'crates/**'\n")
    for i in range(n_filters - 1):
        kind = i % 5
        area = areas[i % len(areas)]
        if kind == 0:
            f.write(f"f{i:02d}:\n  - '{area}/**'\n  - *shared\n")
        elif kind == 1:
            f.write(f"f{i:02d}:\n  - '{area}/**/*.{{ts,tsx,js}}'\n  - '!{area}/**/*.test.ts'\n")
        elif kind == 2:
            f.write(f"f{i:02d}:\n  - added|modified: '{area}/**/*.rs'\n")
        elif kind == 3:
            f.write(f"f{i:02d}:\n  - '**/*.md'\n  - '{area}/d[0-3]/**'\n")
        else:
            f.write(f"f{i:02d}: '{area}/*/f0*.@(css|html)'\n")
PY

cat >"$work/paths-filter.js" <<'JS'
// The matching of dorny/paths-filter (src/filter.ts): picomatch with {dot: true}, `some`
// quantifier, status maps, nested lists flattened; output shaped like `deckhand changes`.
const fs = require('fs');
const picomatch = require('picomatch');
const yaml = require('js-yaml');
const [filtersPath, changedPath] = process.argv.slice(2);
const doc = yaml.load(fs.readFileSync(filtersPath, 'utf8'));
const statusWord = {A: 'added', C: 'copied', D: 'deleted', M: 'modified', R: 'renamed', U: 'unmerged'};
const files = fs.readFileSync(changedPath, 'utf8').split('\n').filter(Boolean).map(line => {
  const [s, filename] = line.split('\t');
  return {filename, status: statusWord[s[0]]};
});
const rules = {};
for (const [name, item] of Object.entries(doc)) {
  const out = [];
  const add = (i) => {
    if (Array.isArray(i)) i.forEach(add);
    else if (typeof i === 'string') out.push({status: undefined, isMatch: picomatch(i, {dot: true})});
    else for (const [k, v] of Object.entries(i)) {
      const globs = Array.isArray(v) ? v.flat(Infinity) : [v];
      out.push({status: k.split('|'), isMatch: picomatch(globs, {dot: true})});
    }
  };
  add(item);
  rules[name] = out;
}
const result = {changes: [], filters: {}};
for (const [name, patterns] of Object.entries(rules)) {
  result.filters[name] = files
    .filter(f => patterns.some(p => (p.status === undefined || p.status.includes(f.status)) && p.isMatch(f.filename)))
    .map(f => f.filename);
  if (result.filters[name].length > 0) result.changes.push(name);
}
process.stdout.write(JSON.stringify(result));
JS

now() { date +%s%N; }
median_ms() { "$py" -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]) / 1e6:.1f}")' "$@"; }
time_runs() { # CMD...: median wall time of $runs runs, in ms
    local t=()
    for _ in $(seq 1 "$runs"); do
        local t0; t0="$(now)"
        "$@" >/dev/null
        t+=($(( $(now) - t0 )))
    done
    median_ms "${t[@]}"
}

say "checking that both give the same result"
# deckhand's result is paths-filter's {"changes", "filters"} inside its common fields.
"$deckhand" --output json changes --filters "$work/filters.yml" --files-from "$work/changed.txt" 2>/dev/null \
    | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"changes": d["changes"], "filters": d["filters"]}, sort_keys=True))' >"$work/deckhand.json"
node "$work/paths-filter.js" "$work/filters.yml" "$work/changed.txt" \
    | "$py" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' >"$work/paths-filter.json"
same=yes
cmp -s "$work/deckhand.json" "$work/paths-filter.json" || same=no
matched="$("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["changes"]), sum(len(v) for v in d["filters"].values()))' "$work/deckhand.json")"

peak_mb() { # CMD...: peak resident memory in MB
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1
    "$py" -c "print(f'{int(open(\"$work/rss\").read().split()[-1]) / 1024:.1f}')"
}
in_actions() { # as on a runner: every filter's outputs written to $GITHUB_OUTPUT, file lists too
    : >"$work/github_output"
    GITHUB_OUTPUT="$work/github_output" DECKHAND_LIST_FILES=json "$@"
}

say "timing ($runs runs each, median)"
d_ms="$(time_runs "$deckhand" --output json changes --filters "$work/filters.yml" --files-from "$work/changed.txt")"
a_ms="$(time_runs in_actions "$deckhand" --output json changes --filters "$work/filters.yml" --files-from "$work/changed.txt")"
n_ms="$(time_runs node "$work/paths-filter.js" "$work/filters.yml" "$work/changed.txt")"
d_mb="$(peak_mb "$deckhand" --output json changes --filters "$work/filters.yml" --files-from "$work/changed.txt")"
a_mb="$(peak_mb env GITHUB_OUTPUT="$work/github_output" DECKHAND_LIST_FILES=json "$deckhand" --output json changes --filters "$work/filters.yml" --files-from "$work/changed.txt")"
n_mb="$(peak_mb node "$work/paths-filter.js" "$work/filters.yml" "$work/changed.txt")"
printf '\n%s files, %s filters; filters matched and (filter, file) matches: %s; identical results: %s\n\n' "$files" "$filters" "$matched" "$same"
printf '| tool | wall (ms, median of %s) | ratio | peak memory (MB) |\n|---|---|---|---|\n' "$runs"
printf '| deckhand changes | %s | 1.0x | %s |\n' "$d_ms" "$d_mb"
printf '| deckhand changes, writing $GITHUB_OUTPUT (every filter'"'"'s files) | %s | %sx | %s |\n' "$a_ms" "$("$py" -c "print(f'{$a_ms / $d_ms:.1f}')")" "$a_mb"
printf '| paths-filter matching (node + picomatch 2.3.1) | %s | %sx | %s |\n' "$n_ms" "$("$py" -c "print(f'{$n_ms / $d_ms:.1f}')")" "$n_mb"
"$py" -c "import sys; sys.exit(0 if '$same' == 'yes' and $d_ms < 50 else 1)"
