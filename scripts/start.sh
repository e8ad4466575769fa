#!/bin/sh
# `npm start`: the main job. Installs what it needs, then runs the CLI.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd -P)
sh "$here/scripts/install.sh"
exec "$here/bin/ipvs-proxy" "$@"
