// Which conntrack flows are stale: kube-proxy's CleanStaleEntries
// (pkg/proxy/conntrack/cleanup.go, the version that matches endpoint IP *and*
// port) as a pure function of the desired Services and the listed flows.
//
// For every UDP ServicePort of the family with at least one serving endpoint,
// the frontends ClusterIP:port, each LoadBalancer VIP:port and each externalIP:port,
// and the NodePort, are mapped to the set of serving endpoints `ip:port`. A UDP
// flow is stale when its original destination is such a frontend (or its
// original destination port is such a NodePort, whatever the address) and its
// reply source `ip:port` is not one of those endpoints: an endpoint that is gone
// or not serving, an endpoint whose port changed, or no endpoint at all (a flow
// that was never DNATed: reply source = the Service IP itself).
//
// As in kube-proxy, deliberately:
// - only `serving` counts; ready, terminating, traffic policies and topology do
//   not (changing a Service must not cut flows that TCP would keep);
// - a Service port with no serving endpoint contributes nothing (its flows are kept);
// - TCP and SCTP flows are never touched.
// One difference: when two UDP ServicePorts claim the same frontend, kube-proxy
// keeps whichever its (random) map order wrote last; we keep the union of their
// endpoints, so the result is deterministic and never deletes more.

import { endpointKey } from '../model/snapshot.ts';
import type { ClusterSnapshot, IpFamily } from '../model/types.ts';
import { type Family, type Flow, type FlowFilter, filterKey } from './types.ts';

/** Serving endpoints (`ip:port`, `[ip]:port`) by UDP frontend of one family. */
export interface UdpFrontends {
  readonly family: Family;
  /** `address:port` (`[address]:port` for IPv6) → serving endpoints. */
  readonly byAddress: ReadonlyMap<string, ReadonlySet<string>>;
  /** NodePort → serving endpoints. */
  readonly byNodePort: ReadonlyMap<number, ReadonlySet<string>>;
}

/** What the planner found: the filters to delete with, and how many flows they cover. */
export interface StaleFlowPlan {
  /** Deduplicated, sorted by `filterKey`. */
  readonly filters: readonly FlowFilter[];
  /** UDP flows found stale (a flow may be stale by address and by NodePort: counted once). */
  readonly staleFlows: number;
}

/** The model's name of a kernel family. */
export function modelFamily(family: Family): IpFamily {
  return family === 'inet' ? 'IPv4' : 'IPv6';
}

/** Go's net.JoinHostPort. */
function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function addTo<K>(map: Map<K, Set<string>>, key: K, endpoints: ReadonlySet<string>): void {
  const set = map.get(key);
  if (set) for (const e of endpoints) set.add(e);
  else map.set(key, new Set(endpoints));
}

/** The UDP frontends of `family` and their serving endpoints. Pure. */
export function buildUdpFrontends(snapshot: ClusterSnapshot, family: Family): UdpFrontends {
  const f = modelFamily(family);
  const byAddress = new Map<string, Set<string>>();
  const byNodePort = new Map<number, Set<string>>();
  for (const sp of snapshot.servicePorts) {
    if (sp.family !== f || sp.protocol !== 'UDP') continue;
    const serving = new Set<string>();
    for (const ep of snapshot.endpoints[f].get(sp.key) ?? []) if (ep.serving) serving.add(endpointKey(ep));
    if (serving.size === 0) continue;
    for (const ip of [sp.clusterIP, ...sp.loadBalancerVIPs, ...sp.externalIPs]) addTo(byAddress, hostPort(ip, sp.port), serving);
    if (sp.nodePort !== 0) addTo(byNodePort, sp.nodePort, serving);
  }
  return { family, byAddress, byNodePort };
}

/** True when no flow of this family can be stale (no UDP Service port with a serving endpoint). */
export function hasNoUdpFrontends(frontends: UdpFrontends): boolean {
  return frontends.byAddress.size === 0 && frontends.byNodePort.size === 0;
}

/** The filters deleting the stale UDP flows among `flows` (flows of other families or protocols are ignored). Pure. */
export function planStaleFlows(frontends: UdpFrontends, flows: readonly Flow[]): StaleFlowPlan {
  const filters = new Map<string, FlowFilter>();
  const add = (filter: FlowFilter): void => { filters.set(filterKey(filter), filter); };
  let staleFlows = 0;
  for (const flow of flows) {
    if (flow.protocol !== 'udp' || flow.family !== frontends.family) continue;
    const backend = hostPort(flow.reply.src, flow.reply.srcPort);
    const reply = { src: flow.reply.src, srcPort: flow.reply.srcPort };
    let stale = false;
    const byAddress = frontends.byAddress.get(hostPort(flow.original.dst, flow.original.dstPort));
    if (byAddress && !byAddress.has(backend)) {
      add({ family: flow.family, protocol: 'udp', original: { dst: flow.original.dst, dstPort: flow.original.dstPort }, reply });
      stale = true;
    }
    const byNodePort = frontends.byNodePort.get(flow.original.dstPort);
    if (byNodePort && !byNodePort.has(backend)) {
      add({ family: flow.family, protocol: 'udp', original: { dstPort: flow.original.dstPort }, reply });
      stale = true;
    }
    if (stale) staleFlows++;
  }
  const sorted = [...filters.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, f]) => f);
  return { filters: sorted, staleFlows };
}

/** buildUdpFrontends + planStaleFlows in one call. Pure. */
export function planConntrackCleanup(snapshot: ClusterSnapshot, family: Family, flows: readonly Flow[]): StaleFlowPlan {
  return planStaleFlows(buildUdpFrontends(snapshot, family), flows);
}

/**
 * Whether a sync must run the cleanup: kube-proxy runs it when the endpoints of
 * any UDP Service port changed (ConntrackCleanupRequired). `changedEndpointKeys`
 * are the ServicePort keys whose endpoints changed (e.g. `ClusterState.upsertSlice`'s
 * `keys`); UDP keys end in `/UDP`. Pure.
 */
export function conntrackCleanupRequired(changedEndpointKeys: Iterable<string>): boolean {
  for (const key of changedEndpointKeys) if (key.endsWith('/UDP')) return true;
  return false;
}
