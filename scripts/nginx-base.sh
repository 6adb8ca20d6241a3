#!/usr/bin/env bash
# Builds a small, runnable nginx base image from the host's Debian nginx files, without a
# container engine (umoci writes the OCI layout, skopeo pushes it), and pushes it to REF.
#
#   scripts/nginx-base.sh REF [--platform-arch ARCH]
#
# REF is `HOST[:PORT]/REPO:TAG`, e.g. `127.0.0.1:5001/library/nginx:1.22`. The registry may be
# plain HTTP (TLS is not verified: this is for local and test registries). NGINX_BASE_CREDS=user:pass
# is passed to skopeo as `--dest-creds`; an anonymous bearer-token flow needs nothing.
# --platform-arch only sets the architecture the image claims (default: the host's); the binaries
# are always the host's, so another value is for registry tests, not for running the image.
#
# The image plays the role of the official nginx image for deckhand's tests and demo: the same
# Cmd, ports, stop signal and file layout (/etc/nginx/conf.d/default.conf serving
# /usr/share/nginx/html), with one layer holding /usr/sbin/nginx and the shared libraries `ldd`
# lists. Times come from SOURCE_DATE_EPOCH (default: the mtime of /usr/sbin/nginx, which dpkg
# sets from the package), so the same host packages give the same digest.
#
# stdout: the pushed manifest digest and nothing else. Errors go to stderr.
set -euo pipefail

die() {
    printf 'nginx-base.sh: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s REF [--platform-arch ARCH]\n' "$0" >&2
    exit 2
}

ref=""
arch=""
while (($#)); do
    case "$1" in
    --platform-arch)
        (($# >= 2)) || usage
        arch="$2"
        shift 2
        ;;
    --platform-arch=*)
        arch="${1#*=}"
        shift
        ;;
    -h | --help) usage ;;
    -*) die "unknown option \`$1\`" ;;
    *)
        [[ -z "$ref" ]] || die "more than one REF given (\`$ref\`, \`$1\`)"
        ref="$1"
        shift
        ;;
    esac
done
[[ -n "$ref" ]] || usage
[[ "$ref" == */*:* ]] || die "REF must look like HOST[:PORT]/REPO:TAG, got \`$ref\`"

for tool in umoci skopeo ldd; do
    command -v "$tool" >/dev/null || die "\`$tool\` is not installed (world/install.sh installs it)"
done
nginx_bin=/usr/sbin/nginx
[[ -x "$nginx_bin" ]] || die "$nginx_bin not found (install Debian's nginx-light)"
[[ -f /etc/nginx/mime.types ]] || die "/etc/nginx/mime.types not found (Debian's nginx-common)"

if [[ -z "$arch" ]]; then
    # dpkg's names are Debian's; OCI uses Go's GOARCH names.
    case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
    amd64 | x86_64) arch=amd64 ;;
    arm64 | aarch64) arch=arm64 ;;
    armhf | armel | armv7l) arch=arm ;;
    i386 | i686) arch=386 ;;
    ppc64el | ppc64le) arch=ppc64le ;;
    s390x) arch=s390x ;;
    riscv64) arch=riscv64 ;;
    *) die "cannot tell the OCI architecture of this host; pass --platform-arch" ;;
    esac
fi

# `nginx -v` prints `nginx version: nginx/1.22.1` on stderr.
version="$("$nginx_bin" -v 2>&1 | sed -n 's|^nginx version: nginx/\([^ ]*\).*|\1|p')"
[[ -n "$version" ]] || die "cannot read the nginx version from \`$nginx_bin -v\`"

epoch="${SOURCE_DATE_EPOCH:-$(stat -c %Y "$nginx_bin")}"
[[ "$epoch" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be whole seconds, got \`$epoch\`"
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"

work="$(mktemp -d "${TMPDIR:-/tmp}/nginx-base.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
root="$work/rootfs"
layout="$work/oci"
tag=base

# --- the root filesystem ------------------------------------------------------------------------

mkdir -p "$root"
# Merged /usr like the host (Debian 12: /lib -> usr/lib, ...), so the loader and libraries land at
# the paths ldd reports and the ELF interpreter path resolves. Only relative links inside the
# root are copied; anything else becomes a real directory.
for d in bin sbin lib lib32 lib64 libx32; do
    if [[ -L "/$d" ]]; then
        target="$(readlink "/$d")"
        if [[ "$target" == usr/* && "$target" != *..* ]]; then
            mkdir -p "$root/$target"
            ln -s "$target" "$root/$d"
        fi
    fi
done
mkdir -p "$root/usr/sbin" "$root/usr/bin"

# copy_file SRC: the contents of SRC (symlinks followed) at the same path in the root.
copy_file() {
    local dest="$root$1"
    mkdir -p "$(dirname "$dest")"
    cp -L --preserve=mode "$1" "$dest"
}

copy_file "$nginx_bin"
# ldd lines: `libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)`, `/lib64/ld-linux-x86-64.so.2
# (0x...)` for the loader, and `linux-vdso.so.1 (0x...)` (in the kernel, no file).
libs="$(ldd "$nginx_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')"
[[ -n "$libs" ]] || die "ldd listed no libraries for $nginx_bin"
while IFS= read -r lib; do
    [[ -f "$lib" ]] || die "ldd listed $lib, which is not a file"
    copy_file "$lib"
done <<<"$libs"

mkdir -p "$root/etc/nginx/conf.d" "$root/usr/share/nginx/html" "$root/var/log/nginx" \
    "$root/var/cache/nginx" "$root/run/lock" "$root/tmp" "$root/dev" "$root/proc" "$root/sys"
chmod 1777 "$root/tmp"
ln -s ../run/lock "$root/var/lock"
ln -s ../run "$root/var/run"

# The temp dirs compiled into this nginx (Debian: /var/lib/nginx/{body,proxy,...}); the workers
# run as nobody and write request bodies and proxy buffers there.
temp_dirs="$("$nginx_bin" -V 2>&1 | grep -o -- '--http-[a-z-]*-temp-path=[^ ]*' | cut -d= -f2)"
mkdir -p "$root/var/lib/nginx"
while IFS= read -r dir; do
    [[ -n "$dir" ]] || continue
    mkdir -p "$root$dir"
    chown 65534:65534 "$root$dir"
    chmod 0700 "$root$dir"
done <<<"$temp_dirs"

cp /etc/nginx/mime.types "$root/etc/nginx/mime.types"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
# glibc reads users and hosts from files only (nss_files and nss_dns are built into libc 2.34+).
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
EOF
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF
mkdir -p "$root/root"
chmod 0700 "$root/root"

# `error_log stderr` is nginx's own name for fd 2, which works with or without a /dev (a chroot
# has none). The access log is /dev/stdout as in the official image; in a bare chroot nginx
# creates it as a plain file under /dev instead.
cat >"$root/etc/nginx/nginx.conf" <<'EOF'
user nobody nogroup;
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;

    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" '
                    '"$http_user_agent" "$http_x_forwarded_for"';
    access_log /dev/stdout main;

    sendfile on;
    keepalive_timeout 65;

    include /etc/nginx/conf.d/*.conf;
}
EOF

# As the official image's, without its `listen [::]:80` (its entrypoint drops that line when the
# host has no IPv6; this image has no entrypoint).
cat >"$root/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen 80;
    server_name localhost;

    location / {
        root /usr/share/nginx/html;
        index index.html index.htm;
    }

    error_page 500 502 503 504 /50x.html;
    location = /50x.html {
        root /usr/share/nginx/html;
    }
}
EOF

cat >"$root/usr/share/nginx/html/index.html" <<'EOF'
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and working.</p>
<p><em>deckhand nginx base image.</em></p>
</body>
</html>
EOF
cat >"$root/usr/share/nginx/html/50x.html" <<'EOF'
<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.</p>
</body>
</html>
EOF

# Reproducible metadata: modes from here, not from the caller's umask; owners root except the
# temp dirs above; every mtime the epoch (umoci writes file mtimes into the tar).
find "$root" -type d ! -path "$root/tmp" ! -path "$root/var/lib/nginx/*" ! -path "$root/root" \
    -exec chmod 0755 {} +
find "$root" -type f -path "$root/etc/*" -exec chmod 0644 {} +
find "$root" -type f -path "$root/usr/share/*" -exec chmod 0644 {} +
find "$root" -exec touch -h -d "@$epoch" {} +

# --- the image -----------------------------------------------------------------------------------

run() {
    # Quiet on success; on failure, show what the tool said.
    local out
    if ! out="$("$@" 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "\`$1 ${2:-}\` failed"
    fi
}

run umoci init --layout "$layout"
run umoci new --image "$layout:$tag"
run umoci insert --image "$layout:$tag" \
    --history.created "$created" \
    --history.created_by "deckhand scripts/nginx-base.sh: nginx $version from Debian packages" \
    --history.comment "" --history.author "" \
    "$root" /
run umoci config --image "$layout:$tag" --no-history \
    --created "$created" \
    --os linux --architecture "$arch" \
    --config.cmd nginx --config.cmd -g --config.cmd "daemon off;" \
    --config.exposedports 80/tcp \
    --config.stopsignal SIGQUIT \
    --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env "NGINX_VERSION=$version" \
    --config.label "org.opencontainers.image.title=deckhand nginx base" \
    --config.label "org.opencontainers.image.version=$version"
run umoci gc --layout "$layout"

# umoci 0.4.7 leaves `mediaType` out of the manifest (optional in OCI), while images built by
# buildx and the official ones carry it and some registries want it (ECR: containers/image#584).
# Put it in: a new manifest blob, and index.json pointing at it.
index="$layout/index.json"
old_digest="$(grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$index" | cut -d'"' -f4)"
[[ "$old_digest" =~ ^sha256:[0-9a-f]{64}$ ]] || die "expected one manifest in umoci's index.json"
old_blob="$layout/blobs/sha256/${old_digest#sha256:}"
old_size="$(stat -c %s "$old_blob")"
new_blob="$work/manifest.json"
sed '1s|^{"schemaVersion":2,"config"|{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config"|' \
    "$old_blob" >"$new_blob"
grep -q '^{"schemaVersion":2,"mediaType":' "$new_blob" || die "unexpected manifest from umoci"
new_hex="$(sha256sum "$new_blob" | cut -d' ' -f1)"
new_size="$(stat -c %s "$new_blob")"
mv "$new_blob" "$layout/blobs/sha256/$new_hex"
rm -f "$old_blob"
sed -i "s|\"digest\":\"$old_digest\",\"size\":$old_size,|\"digest\":\"sha256:$new_hex\",\"size\":$new_size,|" "$index"
grep -q "sha256:$new_hex" "$index" || die "could not point index.json at the new manifest"

copy_args=(--quiet --dest-tls-verify=false --digestfile "$work/digest")
if [[ -n "${NGINX_BASE_CREDS:-}" ]]; then
    copy_args+=(--dest-creds "$NGINX_BASE_CREDS")
fi
run skopeo copy "${copy_args[@]}" "oci:$layout:$tag" "docker://$ref"

digest="$(cat "$work/digest")"
[[ "$digest" == sha256:* ]] || die "skopeo wrote no digest for $ref"
printf '%s\n' "$digest"
