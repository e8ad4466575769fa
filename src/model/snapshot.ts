// Builds the ClusterSnapshot from Service and EndpointSlice objects: converts
// each, merges the endpoints of all slices of a Service port, and sorts
// everything so the snapshot does not depend on input order.

import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { endpointKey } from './endpoint-key.ts';
import { fromEndpointSlice } from './endpoint-slice.ts';
import { record, str } from './raw.ts';
import { fromService } from './service.ts';
import type { ClusterSnapshot, Endpoint, IpFamily, ServicePort, Warning } from './types.ts';

export { endpointKey } from './endpoint-key.ts';

/** A snapshot plus the warnings its conversion produced. */
export interface SnapshotResult {
  readonly snapshot: ClusterSnapshot;
  readonly warnings: Warning[];
}


function objectKey(o: { metadata?: unknown }): string {
  const m = record(o.metadata);
  return `${str(m?.namespace) || 'default'}/${str(m?.name) ?? ''}`;
}

function lastByKey<T extends { metadata?: unknown }>(objs: readonly T[], kind: string, warnings: Warning[]): T[] {
  const map = new Map<string, T>();
  for (const o of objs) {
    if (!record(o)) {
      warnings.push({ object: kind, field: '(object)', message: 'not an object; skipping it' });
      continue;
    }
    const k = objectKey(o);
    if (map.has(k)) warnings.push({ object: `${kind} ${k}`, field: 'metadata.name', message: 'appears more than once; using the last one' });
    map.set(k, o);
  }
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
}

const familyOrder = (f: IpFamily): number => (f === 'IPv4' ? 0 : 1);

/**
 * Converts and merges Services and EndpointSlices into a snapshot. Never
 * throws; every problem is a warning. Objects repeated by namespace/name keep
 * the last copy. An endpoint (ip:port) in several slices of one Service port is
 * kept once, preferring a non-terminating copy (EndpointSliceCache.addEndpoints).
 */
export function buildSnapshot(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): SnapshotResult {
  const warnings: Warning[] = [];
  const servicePorts: ServicePort[] = [];
  for (const svc of lastByKey(services, 'Service', warnings)) {
    const r = fromService(svc);
    warnings.push(...r.warnings);
    servicePorts.push(...r.ports);
  }
  servicePorts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : familyOrder(a.family) - familyOrder(b.family)));

  const merged: Record<IpFamily, Map<string, Map<string, Endpoint>>> = { IPv4: new Map(), IPv6: new Map() };
  for (const slice of lastByKey(slices, 'EndpointSlice', warnings)) {
    const r = fromEndpointSlice(slice);
    warnings.push(...r.warnings);
    if (r.family === null) continue;
    const byKey = merged[r.family];
    for (const { key, endpoints } of r.ports) {
      let set = byKey.get(key);
      if (!set) byKey.set(key, (set = new Map<string, Endpoint>()));
      for (const ep of endpoints) {
        const k = endpointKey(ep);
        if (!set.has(k) || !ep.terminating) set.set(k, ep);
      }
    }
  }
  const sortEndpoints = (m: Map<string, Map<string, Endpoint>>): Map<string, readonly Endpoint[]> => new Map(
    [...m.entries()].map(([key, set]) => [key, [...set.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ep]) => ep)]),
  );
  return {
    snapshot: { servicePorts, endpoints: { IPv4: sortEndpoints(merged.IPv4), IPv6: sortEndpoints(merged.IPv6) } },
    warnings,
  };
}
