// kube-proxy's EndpointsMap.LocalReadyEndpoints (pkg/proxy/endpointschangetracker.go):
// per Service, the number of distinct IPs of ready endpoints on this node. The
// health check node ports report it; terminating endpoints do not count, so a
// node with only terminating endpoints fails its load-balancer health check.

import type { ClusterSnapshot, IpFamily } from '../model/types.ts';
import { isLocal } from './endpoints.ts';

/** `namespace/name` of a ServicePort key (`ns/name:port/TCP` or `ns/name/TCP`). */
function serviceOfKey(key: string): string {
  const [ns = '', name = ''] = key.split('/');
  return `${ns}/${name.split(':')[0]}`;
}

/**
 * Local ready endpoint counts by `namespace/name`, over the given families
 * (kube-proxy runs one proxier per family, each counting its own family; pass
 * one family to match that exactly). An endpoint IP serving several ports of a
 * Service counts once. Services without local ready endpoints are absent.
 * Pure; never throws.
 */
export function localReadyEndpoints(snapshot: ClusterSnapshot, nodeName: string, families: readonly IpFamily[] = ['IPv4', 'IPv6']): Map<string, number> {
  const ips = new Map<string, Set<string>>();
  for (const family of families) {
    for (const [key, endpoints] of snapshot.endpoints[family]) {
      for (const ep of endpoints) {
        if (!ep.ready || !isLocal(ep, nodeName)) continue;
        const svc = serviceOfKey(key);
        let set = ips.get(svc);
        if (!set) ips.set(svc, (set = new Set()));
        set.add(ep.address);
      }
    }
  }
  return new Map([...ips.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([svc, set]) => [svc, set.size]));
}
