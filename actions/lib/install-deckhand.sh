#!/usr/bin/env bash
# Puts the deckhand binary on this runner for deckhand's actions and prints its path, the only
# thing it writes to stdout. Each action's step calls it as
#
#   deckhand="$("${GITHUB_ACTION_PATH}/../lib/install-deckhand.sh")" || exit $?
#
# and then runs "${deckhand}" itself, with the runner's whole environment and files.
#
# Where the binary comes from (the first that applies):
#   1. INPUT_DECKHAND_PATH (input `deckhand-path`): a deckhand already installed (self-hosted
#      runners, other systems, tests), a path or a command on PATH; it must answer --version.
#   2. An image: INPUT_DECKHAND_IMAGE (input `deckhand-image`); else the release pin in
#      actions/lib/release-image (written by .github/workflows/release.yml); else
#      ghcr.io/OWNER/REPO:edge of the repository these actions come from (built from each
#      push to main by .github/workflows/edge.yml). Its static binary `/deckhand` is taken
#      out over the registry's HTTP API with curl, jq, tar and sha256sum (no Docker daemon):
#      an anonymous Bearer token when the registry asks for one, the index, the manifest of
#      this runner's platform, then the layer that holds `deckhand`; every manifest and blob
#      is checked against its sha256 digest, and the top one against the pinned digest of a
#      `@sha256:` reference.
#
# Cached per job (RUNNER_TEMP is emptied after each job): the binary at
# ${RUNNER_TEMP}/deckhand/sha256-MANIFEST_DIGEST/deckhand, and under refs/ which manifest an
# image reference resolved to, so the later steps and actions of the job make no request and
# all of them run the same binary, even if a tag moves meanwhile. A binary is only ever put
# there by renaming a directory that holds it complete, checked and answering --version (a
# step killed mid-download leaves a `.partial.*` directory that nothing reads), and every call
# runs `--version` again before it hands the binary out.
#
# On failure: an `::error` annotation, the outputs deckhand writes on failure (verdict,
# exit-code, failure-report) appended to $GITHUB_OUTPUT, and exit code 2 (bad input or
# configuration, verdict invalid-input) or 1 (network, registry or integrity: error).
# Nothing secret is printed (the registry token only ever goes to curl through stdin).
#
# `install-deckhand.sh --image` prints the image reference it would use, and exits.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The root of the repository checkout these actions run from (actions/lib/ is two levels in).
root="$(dirname "$(dirname "${here}")")"

# CODE MESSAGE: the annotation and the outputs, then exit.
fail() {
    local code="$1" message="${2//[$'\r\n']/ }" verdict=error
    if [[ "${code}" == 2 ]]; then
        verdict=invalid-input
    fi
    echo "::error title=deckhand setup::${message//%/%25}" >&2
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
        printf 'verdict=%s\nexit-code=%s\nfailure-report=deckhand setup: %s\n' \
            "${verdict}" "${code}" "${message}" >>"${GITHUB_OUTPUT}"
    fi
    exit "${code}"
}

# BINARY: its `--version` line; fails when it does not run or is not deckhand.
version_of() {
    local out
    out="$("$1" --version 2>&1 </dev/null)" || return 1
    out="${out%%$'\n'*}"
    [[ "${out}" == "deckhand "* ]] || return 1
    printf '%s' "${out}"
}

# ---------------------------------------------------------------- 1. an installed deckhand

if [[ "${1:-}" != --image && -n "${INPUT_DECKHAND_PATH:-}" ]]; then
    given="${INPUT_DECKHAND_PATH}"
    if [[ "${given}" != */* ]]; then
        given="$(command -v -- "${given}")" ||
            fail 2 "input deckhand-path: \`${INPUT_DECKHAND_PATH}\` is not a command on PATH; give the binary's path"
    elif [[ "${given}" != /* ]]; then
        given="${PWD}/${given}"
    fi
    if [[ ! -f "${given}" || ! -x "${given}" ]]; then
        fail 2 "input deckhand-path: ${given} is not an executable file"
    fi
    version="$(version_of "${given}")" ||
        fail 2 "input deckhand-path: \`${given} --version\` does not answer \`deckhand X.Y.Z ...\`: is it deckhand, built for this runner?"
    echo "deckhand: ${version} (deckhand-path ${given})" >&2
    printf '%s\n' "${given}"
    exit 0
fi

# ---------------------------------------------------------------- 2. which image

image="$(printf '%s' "${INPUT_DECKHAND_IMAGE:-}" | tr -d '[:space:]')"
origin="input deckhand-image"
if [[ -z "${image}" && -f "${here}/release-image" ]]; then
    image="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "${here}/release-image" | sed -n '/./{p;q;}')"
    origin="the release pin (actions/lib/release-image)"
fi
derived_tag=""
if [[ -z "${image}" ]]; then
    # The runner keeps a downloaded action at _actions/OWNER/REPO/REF/ of its work directory.
    # GITHUB_ACTION_REPOSITORY and GITHUB_ACTION_REF would say the same, but they are empty
    # in a composite action's run steps (actions/runner#2473), and name the outer action when
    # ours is wrapped in another composite action: the path is the reliable witness.
    repository=""
    case "${root}" in
        */_actions/*/*/*)
            rest="${root##*/_actions/}"
            repository="${rest%%/*}/"
            rest="${rest#*/}"
            repository+="${rest%%/*}"
            ;;
        *)
            # A local `uses: ./actions/...`: this repository's own image.
            repository="${GITHUB_REPOSITORY:-}"
            ;;
    esac
    if [[ -z "${repository}" ]]; then
        fail 2 "no deckhand image to use: input deckhand-image is empty, this commit has no release pin, and GITHUB_REPOSITORY is not set; set deckhand-image (or deckhand-path)"
    fi
    # `edge` also for actions used at a commit SHA: edge.yml tags `sha-COMMIT` only for the
    # head of each push to main, and only once its build is done (minutes after the push), and
    # `$/` references from a pull request run its merge commit, which is never built; `edge`
    # is always there. docs/install.md says how to pin `sha-COMMIT` by hand.
    derived_tag=edge
    image="ghcr.io/${repository,,}:edge"
    origin="the edge image of ${repository}"
fi

if [[ "${1:-}" == --image ]]; then
    printf '%s\n' "${image}"
    exit 0
fi

# ---------------------------------------------------------------- this runner

os="${RUNNER_OS:-$(uname -s)}"
if [[ "${os}" != Linux ]]; then
    fail 2 "this runner runs ${os}: deckhand's image has Linux binaries only (linux/amd64, linux/arm64); run the job on a Linux runner (runs-on: ubuntu-latest), or install deckhand for ${os} and set deckhand-path"
fi
arch="${RUNNER_ARCH:-}"
if [[ -z "${arch}" ]]; then
    case "$(uname -m)" in
        x86_64 | amd64) arch=X64 ;;
        aarch64 | arm64) arch=ARM64 ;;
        *) arch="$(uname -m)" ;;
    esac
fi
case "${arch}" in
    X64) platform=amd64 ;;
    ARM64) platform=arm64 ;;
    *) fail 2 "this runner's architecture is ${arch}: deckhand's image has linux/amd64 (X64) and linux/arm64 (ARM64) binaries only; use such a runner, or install deckhand and set deckhand-path" ;;
esac

missing=()
for tool in curl jq tar gzip sha256sum; do
    command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
done
if [[ "${#missing[@]}" -gt 0 ]]; then
    fail 2 "this runner lacks ${missing[*]} (GitHub's hosted runners have them), needed to take deckhand out of ${image}; install them, or install deckhand and set deckhand-path"
fi

# ---------------------------------------------------------------- the reference

# [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], as docker reads it.
name="${image}" tag="" pinned=""
if [[ "${name}" == *@* ]]; then
    pinned="${name##*@}"
    name="${name%@*}"
fi
if [[ "${name##*/}" == *:* ]]; then
    tag="${name##*:}"
    name="${name%:*}"
fi
first="${name%%/*}"
if [[ "${name}" == */* && ("${first}" == *.* || "${first}" == *:* || "${first}" == localhost) ]]; then
    host="${first}"
    repo="${name#*/}"
else
    host=docker.io
    repo="${name}"
    if [[ "${repo}" != */* ]]; then
        repo="library/${repo}"
    fi
fi
component='[a-z0-9]+([._-]+[a-z0-9]+)*'
repo_re="^${component}(/${component})*\$"
host_re='^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:[0-9]+)?$'
tag_re='^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$'
digest_re='^sha256:[0-9a-f]{64}$'
if [[ ! "${repo}" =~ ${repo_re} || ! "${host}" =~ ${host_re} ]] ||
    [[ -n "${tag}" && ! "${tag}" =~ ${tag_re} ]] ||
    [[ -n "${pinned}" && ! "${pinned}" =~ ${digest_re} ]]; then
    fail 2 "${origin}: \`${image}\` is not an image reference (REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], lowercase)"
fi
if [[ -z "${tag}" && -z "${pinned}" ]]; then
    tag=latest
fi

# ---------------------------------------------------------------- the job's cache

cache="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/deckhand"
mkdir -p "${cache}/refs"
key="$(printf '%s\nlinux/%s\n' "${image}" "${platform}" | sha256sum)"
pointer="${cache}/refs/${key%% *}"

# DIGEST: true when the job's cache has the binary of that manifest and it runs; sets `bin`
# and `version`.
cached() {
    bin="${cache}/${1/:/-}/deckhand"
    [[ "$1" =~ ${digest_re} && -x "${bin}" ]] && version="$(version_of "${bin}")"
}

if [[ -f "${pointer}" ]]; then
    manifest_digest="$(<"${pointer}")"
    if cached "${manifest_digest}"; then
        echo "deckhand: ${version} from ${image} (linux/${platform} ${manifest_digest}, cached in this job)" >&2
        printf '%s\n' "${bin}"
        exit 0
    fi
fi

# ---------------------------------------------------------------- the registry

started="${EPOCHREALTIME/./}"
scheme=https
case "${host}" in
    # As docker does: plain HTTP for a registry on this machine.
    localhost | localhost:* | 127.0.0.1 | 127.0.0.1:* | "[::1]" | "[::1]:"*) scheme=http ;;
esac
api_host="${host}"
if [[ "${host}" == docker.io ]]; then
    api_host=registry-1.docker.io
fi
base="${scheme}://${api_host}/v2/${repo}"

work="$(mktemp -d "${cache}/.partial.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
token=""
status=""

# URL OUT [ACCEPT]: one GET, following redirects (blobs often live on a CDN, which never gets
# the token: curl sends a custom Authorization header to the first host only); sets `status`.
request() {
    local args=(--silent --show-error --location --proto '=http,https'
        --connect-timeout 20 --retry 3 --speed-limit 1024 --speed-time 60
        --output "$2" --dump-header "${work}/headers" --write-out '%{http_code}')
    if [[ -n "${3:-}" ]]; then
        args+=(--header "Accept: $3")
    fi
    if [[ -n "${token}" ]]; then
        # Through stdin, so the token is never on a command line.
        status="$(printf 'header = "Authorization: Bearer %s"\n' "${token}" |
            curl --config - "${args[@]}" -- "$1" 2>"${work}/curl-error")"
    else
        status="$(curl "${args[@]}" -- "$1" 2>"${work}/curl-error")"
    fi
}

# The registry's error, `CODE: message`, from the body in FILE (empty when it has none).
registry_error() {
    jq -r '.errors[0] // empty | "\(.code // ""): \(.message // "")"' "$1" 2>/dev/null | head -c 300 || true
}

# VALUE for a URL's query: the characters that would end or change it encoded (`:` and `/`
# may stay, RFC 3986), without one more jq process per value.
query_value() {
    local v="${1//%/%25}"
    v="${v// /%20}"
    v="${v//&/%26}"
    v="${v//+/%2B}"
    v="${v//#/%23}"
    printf '%s' "${v//=/%3D}"
}

# The anonymous Bearer token the last 401's challenge asks for (ghcr.io and Docker Hub ask
# for one even for public images).
authenticate() {
    local challenge realm service scope url
    challenge="$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate:[[:space:]]*//p' "${work}/headers" | tail -n 1 | tr -d '\r')"
    case "${challenge,,}" in
        bearer\ *) ;;
        basic*) fail 2 "${image} (${origin}): the registry asks for a user and password, and deckhand is fetched anonymously: make the image public (package settings -> change visibility), or install deckhand and set deckhand-path" ;;
        *) fail 1 "${image}: the registry answered 401 without a Bearer challenge" ;;
    esac
    param() { sed -n "s/.*[[:space:],]$1=\"\([^\"]*\)\".*/\1/Ip" <<<"${challenge}" | head -n 1; }
    realm="$(param realm)"
    service="$(param service)"
    scope="$(param scope)"
    if [[ ! "${realm}" =~ ^https?:// ]]; then
        fail 1 "${image}: the registry's Bearer challenge names no token URL (${challenge})"
    fi
    url="${realm}?scope=$(query_value "${scope:-repository:${repo}:pull}")"
    if [[ -n "${service}" ]]; then
        url+="&service=$(query_value "${service}")"
    fi
    request "${url}" "${work}/token" ||
        fail 1 "${image}: cannot reach the registry's token service ${realm}: $(head -c 300 "${work}/curl-error")"
    if [[ "${status}" != 200 ]]; then
        fail 2 "${image} (${origin}): the registry refused an anonymous token (HTTP ${status} from ${realm}): make the image public (package settings -> change visibility), or install deckhand and set deckhand-path"
    fi
    token="$(jq -r '.token // .access_token // empty' "${work}/token" 2>/dev/null || true)"
    rm -f "${work}/token"
    if [[ -z "${token}" ]]; then
        fail 1 "${image}: the token service ${realm} answered without a token"
    fi
}

# URL OUT WHAT [ACCEPT]: GET with the token flow; anything but 200 fails, saying what.
get() {
    local url="$1" out="$2" what="$3" accept="${4:-}" detail hint=""
    request "${url}" "${out}" "${accept}" ||
        fail 1 "${image}: cannot reach ${scheme}://${api_host}: $(head -c 300 "${work}/curl-error")"
    if [[ "${status}" == 401 && -z "${token}" ]]; then
        authenticate
        request "${url}" "${out}" "${accept}" ||
            fail 1 "${image}: cannot reach ${scheme}://${api_host}: $(head -c 300 "${work}/curl-error")"
    fi
    [[ "${status}" == 200 ]] && return 0
    detail="$(registry_error "${out}")"
    detail="HTTP ${status}${detail:+ ${detail}}"
    case "${status}" in
        401 | 403)
            fail 2 "${image} (${origin}): the registry refused an anonymous pull of the ${what} (${detail}): make the image public (package settings -> change visibility), or install deckhand and set deckhand-path"
            ;;
        404)
            if [[ -n "${derived_tag}" ]]; then
                hint="; ${image%:*} has no edge image yet (.github/workflows/edge.yml publishes it on each push to main): use a release, or set deckhand-image or deckhand-path"
            fi
            fail 2 "${image} (${origin}): the ${what} is not in the registry (${detail})${hint}"
            ;;
        *) fail 1 "${image}: the registry answered ${detail} for the ${what}" ;;
    esac
}

# FILE DIGEST WHAT: the bytes must hash to the digest they were asked by.
verify() {
    local sum
    sum="$(sha256sum "$1")"
    if [[ "sha256:${sum%% *}" != "$2" ]]; then
        fail 1 "${image}: the ${3} served as $2 hashes to sha256:${sum%% *}; refusing it"
    fi
}

manifest_types="application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json"

get "${base}/manifests/${pinned:-${tag}}" "${work}/top.json" "image index" "${manifest_types}"
top_sum="$(sha256sum "${work}/top.json")"
top_digest="sha256:${top_sum%% *}"
if [[ -n "${pinned}" && "${top_digest}" != "${pinned}" ]]; then
    fail 1 "${image}: the registry served a manifest whose digest is ${top_digest}, not the pinned ${pinned}; refusing it"
fi

# One jq for the whole index: `index DIGEST` (this runner's platform's manifest; attestation
# entries are `unknown/unknown`), `index - PLATFORMS` when it has none, or `manifest`.
read -r kind manifest_digest have < <(jq -r --arg arch "${platform}" '
    if (.manifests | type) == "array" then
        "index " + (first(.manifests[]
            | select(.platform.os == "linux" and .platform.architecture == $arch
                and ($arch != "arm64" or (.platform.variant // "v8") == "v8")) | .digest) // "-")
        + " " + ([.manifests[].platform // {} | select(.os != null and .os != "unknown")
            | "\(.os)/\(.architecture)\(if .variant then "/" + .variant else "" end)"] | join(","))
    else "manifest" end' "${work}/top.json" 2>/dev/null || true) || true
if [[ "${kind:-}" != index && "${kind:-}" != manifest ]]; then
    fail 1 "${image}: the registry served ${top_digest}, which is not an image index or manifest"
fi
if [[ "${kind}" == index ]]; then
    if [[ "${manifest_digest}" == - ]]; then
        have="${have//,/, }"
        fail 2 "${image} (${origin}) has no linux/${platform} image (it has ${have:-no platform}), and this runner is ${arch}: use a runner of a platform it has, an image built for linux/${platform}, or deckhand-path"
    fi
    if [[ ! "${manifest_digest}" =~ ${digest_re} ]]; then
        fail 1 "${image}: the index names the linux/${platform} manifest by \`${manifest_digest}\`, not a sha256 digest"
    fi
    if cached "${manifest_digest}"; then
        printf '%s\n' "${manifest_digest}" >"${work}/pointer" && mv -f "${work}/pointer" "${pointer}"
        echo "deckhand: ${version} from ${image} (linux/${platform} ${manifest_digest}, cached in this job)" >&2
        printf '%s\n' "${bin}"
        exit 0
    fi
    get "${base}/manifests/${manifest_digest}" "${work}/manifest.json" "linux/${platform} manifest" "${manifest_types}"
    verify "${work}/manifest.json" "${manifest_digest}" "linux/${platform} manifest"
else
    # One manifest: its config says which platform it is for.
    manifest_digest="${top_digest}"
    mv "${work}/top.json" "${work}/manifest.json"
    config="$(jq -r '.config.digest // empty' "${work}/manifest.json" 2>/dev/null || true)"
    if [[ "${config}" =~ ${digest_re} ]]; then
        get "${base}/blobs/${config}" "${work}/config.json" "image config"
        verify "${work}/config.json" "${config}" "image config"
        for_platform="$(jq -r '"\(.os // "")/\(.architecture // "")"' "${work}/config.json")"
        if [[ "${for_platform}" != / && "${for_platform}" != "linux/${platform}" ]]; then
            fail 2 "${image} (${origin}) is a ${for_platform} image, and this runner is ${arch} (linux/${platform}): use an image built for linux/${platform}, or deckhand-path"
        fi
    fi
fi
# Its layers, the top one first (deckhand's image has deckhand last).
layers="$(jq -r 'if (.layers | type) == "array" and (.layers | length) > 0
    then .layers | reverse | .[] | "\(.digest) \(.size) \(.mediaType)" else empty end' \
    "${work}/manifest.json" 2>/dev/null || true)"
if [[ -z "${layers}" ]]; then
    fail 1 "${image}: the linux/${platform} manifest ${manifest_digest} lists no layers"
fi

# The layer that holds `deckhand`.
found=""
while read -r layer size media_type; do
    case "${media_type}" in
        *tar+gzip | *tar.gzip) compression=(--gzip) ;;
        *tar+zstd | *tar.zstd) compression=(--zstd) ;;
        *.tar) compression=() ;;
        *) continue ;;
    esac
    if [[ ! "${layer}" =~ ${digest_re} ]]; then
        fail 1 "${image}: a layer of ${manifest_digest} is named by \`${layer}\`, not a sha256 digest"
    fi
    get "${base}/blobs/${layer}" "${work}/layer" "layer ${layer}"
    verify "${work}/layer" "${layer}" "layer"
    if [[ "${size}" =~ ^[0-9]+$ && "$(stat -c %s "${work}/layer")" != "${size}" ]]; then
        fail 1 "${image}: layer ${layer} is $(stat -c %s "${work}/layer") bytes, not the ${size} its manifest says"
    fi
    # Only that member, under either name tar may give it; one pass (no listing first). The
    # name it does not have is "not found", which is not an error here.
    mkdir -p "${work}/bin"
    tar "${compression[@]}" -xf "${work}/layer" -C "${work}/bin" --no-same-owner \
        --occurrence=1 -- deckhand ./deckhand 2>/dev/null || true
    rm -f "${work}/layer"
    if [[ -e "${work}/bin/deckhand" || -L "${work}/bin/deckhand" ]]; then
        found="${layer}"
        break
    fi
done <<<"${layers}"

if [[ -z "${found}" ]]; then
    fail 2 "${image} (${origin}): no layer of its linux/${platform} image holds /deckhand: is it deckhand's image?"
fi
if [[ -L "${work}/bin/deckhand" || ! -f "${work}/bin/deckhand" ]]; then
    fail 1 "${image}: /deckhand in layer ${found} is not a regular file"
fi
chmod 0755 "${work}/bin/deckhand"
version="$(version_of "${work}/bin/deckhand")" ||
    fail 1 "${image}: the linux/${platform} deckhand it holds does not run on this runner (\`deckhand --version\` failed)"

# Into the cache by one rename of the complete directory. When the directory is there already
# and its binary runs, another call of this job got there first (the same verified bytes);
# anything else there (a binary cut short by something that wrote it in place) is set aside.
final="${cache}/${manifest_digest/:/-}"
if ! mv -T "${work}/bin" "${final}" 2>/dev/null && ! cached "${manifest_digest}"; then
    mv -T "${final}" "${work}/set-aside" 2>/dev/null || true
    mv -T "${work}/bin" "${final}" || fail 1 "cannot write deckhand's cache ${final}"
fi
printf '%s\n' "${manifest_digest}" >"${work}/pointer" && mv -f "${work}/pointer" "${pointer}"
took="$(((${EPOCHREALTIME/./} - started) / 1000))"
echo "deckhand: ${version} from ${image} (linux/${platform} ${manifest_digest}, fetched in ${took} ms)" >&2
printf '%s\n' "${final}/deckhand"
