#!/bin/sh
# `npm start`: the main job. Installs what it needs, then:
#   - with arguments (npm start -- <args>): runs `ipvs-proxy <args>`;
#   - with a cluster configured (KUBECONFIG, ~/.kube/config, or in-cluster
#     service account): runs the agent, `ipvs-proxy run`;
#   - otherwise: the built-in demo, `ipvs-proxy demo`, in the kernel sandbox.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd -P)
sh "$here/scripts/install.sh"
if [ "$#" -gt 0 ]; then
  exec "$here/bin/ipvs-proxy" "$@"
fi
if [ -n "${KUBECONFIG:-}" ] || [ -f "${HOME:-/root}/.kube/config" ] || [ -f /var/run/secrets/kubernetes.io/serviceaccount/token ]; then
  echo "start: a cluster is configured; running the agent (ipvs-proxy run)" >&2
  exec "$here/bin/ipvs-proxy" run
fi
exec "$here/bin/ipvs-proxy" demo
