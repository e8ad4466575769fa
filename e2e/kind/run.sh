#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of the ipvs-proxy DaemonSet on a kind cluster without kube-proxy.
# Needs Docker, kind and kubectl (see README.md: our development machines have
# neither Docker nor kind, so this does not run there).
#
# Builds the image, creates the cluster (e2e/kind/cluster.yaml), loads the image,
# installs manifests/ and runs the checks of e2e/apply.kernel.test.ts against real
# pods: ClusterIP (from the node, from a pod with its source kept, hairpin), UDP,
# session affinity, NodePort (masqueraded), externalTrafficPolicy Local (client IP
# kept), externalIPs and loadBalancerSourceRanges, plus curl through cluster DNS.
# Ends with "N passed, N failed" and exits 1 when a check failed.
#
# Environment: IMAGE (localhost/ipvs-proxy:dev), BUILD (docker | buildah | none:
# use an image already loaded), KEEP_CLUSTER=1 keeps the cluster afterwards.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
IMAGE=${IMAGE:-localhost/ipvs-proxy:dev}
BUILD=${BUILD:-docker}
KEEP_CLUSTER=${KEEP_CLUSTER:-0}
cluster=ipvs-proxy   # the name in cluster.yaml; node names derive from it
worker=$cluster-worker
ns=ipvs-e2e
client_js=/opt/ipvs-proxy/dist/sandbox/whoami-client.js
passed=0
failed=0

say() { echo "kind-e2e: $*" >&2; }
die() { say "$*"; exit 1; }
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null 2>&1 || die "needs $tool (see e2e/kind/README.md)"
done

cleanup() {
  docker rm -f "$ns-ext1" "$ns-ext2" >/dev/null 2>&1 || true
  if [ "$KEEP_CLUSTER" != 1 ]; then kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- image ----
case "$BUILD" in
  docker) say "docker build $IMAGE"; docker build -t "$IMAGE" "$repo" ;;
  buildah)
    say "npm run image, then into Docker"
    (cd "$repo" && IMAGE="$IMAGE" sh scripts/image.sh)
    buildah --storage-driver vfs push "$IMAGE" "docker-daemon:$IMAGE" ;;
  none) ;;
  *) die "BUILD must be docker, buildah or none" ;;
esac

# ---- cluster ----
if ! kind get clusters | grep -qx "$cluster"; then
  say "kind create cluster"
  kind create cluster --config "$here/cluster.yaml" --wait 0s
fi
kubectl config use-context "kind-$cluster" >/dev/null
kind load docker-image "$IMAGE" --name "$cluster"

# ---- ipvs-proxy ----
# The API server directly: without a service proxy the kubernetes Service's cluster IP
# leads nowhere (docs/install.md).
cp_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cluster-control-plane")
kubectl -n kube-system create configmap ipvs-proxy-apiserver --from-literal=host="$cp_ip" --from-literal=port=6443 \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -k "$repo/manifests"
kubectl -n kube-system set image daemonset/ipvs-proxy "ipvs-proxy=$IMAGE" "init=$IMAGE" >/dev/null
kubectl -n kube-system rollout status daemonset/ipvs-proxy --timeout=300s
kubectl wait --for=condition=Ready nodes --all --timeout=300s

# ---- workloads and external hosts ----
kubectl apply -f "$here/workloads.yaml"
kubectl -n "$ns" wait --for=condition=Ready pod --all --timeout=300s
worker_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$worker")
for ext in ext1 ext2; do
  docker rm -f "$ns-$ext" >/dev/null 2>&1 || true
  docker run -d --name "$ns-$ext" --network kind --cap-add NET_ADMIN --entrypoint sleep "$IMAGE" infinity >/dev/null
  # The load-balancer IP and the external IP are routed to the worker, as a router would.
  docker exec "$ns-$ext" ip route replace 203.0.113.10/32 via "$worker_ip"
  docker exec "$ns-$ext" ip route replace 203.0.113.20/32 via "$worker_ip"
done
ext1_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$ns-ext1")
kubectl -n "$ns" patch service lb --type=merge -p "{\"spec\":{\"loadBalancerSourceRanges\":[\"$ext1_ip/32\"]}}" >/dev/null
kubectl -n "$ns" patch service lb --subresource=status --type=merge \
  -p '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"}]}}}' >/dev/null
pod1_ip=$(kubectl -n "$ns" get pod pod1 -o jsonpath='{.status.podIP}')
pod2_ip=$(kubectl -n "$ns" get pod pod2 -o jsonpath='{.status.podIP}')

# ---- requests ----
# request FROM PROTO HOST PORT COUNT [MESSAGE]: one answer per line ("I'm pod1",
# "I'm pod1; client IP:PORT" or "error CODE"). FROM: node, pod1, pod2, ext1, ext2.
request() {
  from=$1; shift
  set -- --proto "$1" --host "$2" --port "$3" --count "$4" --timeout-ms 3000 --message "${5:-hello}"
  case "$from" in
    node) out=$(kubectl -n "$ns" exec node-client -- node "$client_js" "$@") ;;
    pod1|pod2) out=$(kubectl -n "$ns" exec "$from" -- node "$client_js" "$@") ;;
    ext1|ext2) out=$(docker exec "$ns-$from" node "$client_js" "$@") ;;
    *) die "unknown source $from" ;;
  esac
  echo "$out" | grep -o '"answer":"[^"]*"\|"error":"[^"]*"' | sed -e 's/^"answer":"//' -e 's/^"error":"/error /' -e 's/"$//'
}

# check NAME EXPECTED ACTUAL: EXPECTED is a grep -E pattern the whole ACTUAL (its lines
# joined with "|", hence the "\|" in patterns) must match.
check() {
  if printf '%s' "$3" | tr '\n' '|' | grep -Eqx "$2"; then
    passed=$((passed + 1)); say "ok   $1"
  else
    failed=$((failed + 1)); say "FAIL $1: got '$(printf '%s' "$3" | tr '\n' '|')', want /$2/"
  fi
}

# The agent programs new Services within its sync period; wait until one answers.
tries=0
until request node tcp 10.96.100.11 80 1 | grep -q "I'm pod1"; do
  tries=$((tries + 1)); [ "$tries" -lt 60 ] || die "Services were not programmed within 60 s"
  sleep 1
done

sorted() { request "$@" | sort; }
dot() { echo "$1" | sed 's/\./\\./g'; }

check "ClusterIP from the node alternates between the pods" \
  "I'm pod1\|I'm pod1\|I'm pod2\|I'm pod2\|?" "$(sorted node tcp 10.96.100.10 80 4)"
check "ClusterIP from a pod reaches the other pod with the pod source kept" \
  "I'm pod1; client $(dot "$pod2_ip"):[0-9]+\|?" "$(request pod2 tcp 10.96.100.11 80 1 '?client')"
check "hairpin: a pod reaches itself through its Service" \
  "I'm pod1\|I'm pod1\|?" "$(request pod1 tcp 10.96.100.11 80 2)"
check "UDP Service answers" \
  "I'm pod1\|I'm pod1\|I'm pod2\|I'm pod2\|?" "$(sorted node udp 10.96.100.53 53 4)"
sticky=$(request node tcp 10.96.100.12 80 4 || true)
check "session affinity sticks to one pod" \
  "(I'm pod1\|I'm pod1\|I'm pod1\|I'm pod1|I'm pod2\|I'm pod2\|I'm pod2\|I'm pod2)\|?" "$sticky"
np=$(request ext1 tcp "$worker_ip" 30080 1 '?client' || true)
check "NodePort from an external host answers (externalTrafficPolicy Cluster)" "I'm pod2; client .*\|?" "$np"
case "$np" in
  *"client $ext1_ip:"*) check "NodePort (Cluster) is masqueraded" "masqueraded" "client IP kept: $np" ;;
  *) check "NodePort (Cluster) is masqueraded" "masqueraded" "masqueraded" ;;
esac
check "externalTrafficPolicy Local keeps the client source IP" \
  "I'm pod2; client $(dot "$ext1_ip"):[0-9]+\|?" "$(request ext1 tcp "$worker_ip" 30081 1 '?client')"
check "externalIPs answer from outside the cluster" \
  "I'm pod2\|?" "$(request ext1 tcp 203.0.113.20 80 1)"
check "loadBalancerSourceRanges admit an allowed source" \
  "I'm pod1\|?" "$(request ext1 tcp 203.0.113.10 80 1)"
check "loadBalancerSourceRanges drop another source" \
  "error [A-Z]+\|?" "$(request ext2 tcp 203.0.113.10 80 1)"
check "curl reaches a Service by name through cluster DNS (both through IPVS)" \
  "I'm pod[12]" "$(kubectl -n "$ns" exec curl -- curl -sS --max-time 5 "http://web.$ns.svc.cluster.local/" || true)"
check "pod IPs are distinct" "different" "$([ "$pod1_ip" != "$pod2_ip" ] && echo different)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
