// Endpoint selection: kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go,
// newest version: no hints annotation check; node hints honoured, as with the
// PreferSameTrafficDistribution gate on by default) and the IPVS proxier's
// syncEndpoint choice between cluster and local endpoints.

import type { Endpoint, ServicePort } from '../model/types.ts';

/** The endpoints a ServicePort may use on this node. */
export interface CategorizedEndpoints {
  /** Cluster-policy endpoints (topology-filtered), or null if the port never uses them. */
  readonly cluster: readonly Endpoint[] | null;
  /** Local-policy endpoints, or null if the port never uses them (or none are usable). */
  readonly local: readonly Endpoint[] | null;
  /** Whether any usable endpoint exists anywhere in the cluster. */
  readonly hasAny: boolean;
}

/** Whether the port is reachable other than through its cluster IP (in its family). */
export function externallyAccessible(sp: ServicePort): boolean {
  return sp.nodePort !== 0 || sp.loadBalancerVIPs.length > 0 || sp.externalIPs.length > 0;
}

/** Whether an endpoint runs on the node named `nodeName` (never when the name is empty). */
export function isLocal(ep: Endpoint, nodeName: string): boolean {
  return nodeName !== '' && ep.nodeName === nodeName;
}

type TopologyMode = '' | 'PreferSameNode' | 'PreferSameZone';

function topologyMode(endpoints: readonly Endpoint[], nodeName: string, zone: string): TopologyMode {
  let allNode = true;
  let forNode = false;
  let allZone = true;
  let forZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints.length === 0) allNode = false;
    else if (ep.nodeHints.includes(nodeName)) forNode = true;
    if (ep.zoneHints.length === 0) allZone = false;
    else if (ep.zoneHints.includes(zone)) forZone = true;
  }
  if (allNode && forNode) return 'PreferSameNode';
  if (allZone && forZone) return 'PreferSameZone';
  return '';
}

function availableForTopology(ep: Endpoint, mode: TopologyMode, nodeName: string, zone: string): boolean {
  if (mode === 'PreferSameNode') return ep.nodeHints.includes(nodeName);
  if (mode === 'PreferSameZone') return ep.zoneHints.includes(zone);
  return true;
}

/**
 * Splits a port's endpoints into usable cluster and local endpoints. Ready
 * endpoints are preferred; when there are none, serving+terminating ones are
 * used instead (separately for cluster and local). Topology hints narrow the
 * cluster endpoints only when every ready endpoint carries a hint and one
 * matches this node (or its zone).
 */
export function categorizeEndpoints(
  endpoints: readonly Endpoint[], sp: ServicePort, nodeName: string, zone: string,
): CategorizedEndpoints {
  const accessible = externallyAccessible(sp);
  const usesCluster = !sp.internalPolicyLocal || accessible;
  const usesLocal = sp.internalPolicyLocal || (sp.externalPolicyLocal && accessible);
  let cluster: Endpoint[] | null = null;
  let hasAny = false;
  if (usesCluster) {
    const mode = topologyMode(endpoints, nodeName, zone);
    cluster = endpoints.filter((ep) => ep.ready && availableForTopology(ep, mode, nodeName, zone));
    // Topology was already ignored if it left no ready endpoint, so an empty list
    // here means no ready endpoint anywhere: fall back to serving+terminating.
    if (cluster.length === 0) cluster = endpoints.filter((ep) => ep.serving && ep.terminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocal) return { cluster, local: null, hasAny };
  let localReady = false;
  let localTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAny = true;
      if (isLocal(ep, nodeName)) localReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAny = true;
      if (isLocal(ep, nodeName)) localTerminating = true;
    }
  }
  let local: Endpoint[] | null = null;
  if (localReady) local = endpoints.filter((ep) => isLocal(ep, nodeName) && ep.ready);
  else if (localTerminating) local = endpoints.filter((ep) => isLocal(ep, nodeName) && ep.serving && ep.terminating);
  return { cluster, local, hasAny };
}

/** Which endpoints a virtual server gets, and whether this counts as "no local endpoints". */
export interface Selection {
  readonly endpoints: readonly Endpoint[];
  /** onlyLocal was asked for, no local endpoint exists, and endpoints exist elsewhere. */
  readonly missingLocal: boolean;
}

/**
 * The IPVS proxier's choice for one virtual server: cluster endpoints, or with
 * `onlyLocal` the local ones. Unlike iptables mode, IPVS mode falls back to the
 * cluster endpoints when no local endpoint exists (kubernetes PR #97081: "allow
 * access from local pods even if no local endpoints exist"); for a ClusterIP-only
 * port with internalTrafficPolicy Local those are null, so it gets none.
 */
export function selectEndpoints(cat: CategorizedEndpoints, onlyLocal: boolean): Selection {
  if (!onlyLocal) return { endpoints: cat.cluster ?? [], missingLocal: false };
  if (cat.local && cat.local.length > 0) return { endpoints: cat.local, missingLocal: false };
  return { endpoints: cat.cluster ?? [], missingLocal: cat.hasAny };
}
