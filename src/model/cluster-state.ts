// The cluster as the informers last reported it, converted to the model and
// kept up to date one object at a time. Each change returns the ServicePort
// keys it touched, so a sync can recompute only those; `snapshot()` gives the
// whole ClusterSnapshot for full syncs (identical to buildSnapshot over the
// same objects).

import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { emptyList, intern } from './compact.ts';
import { endpointKey, replacesEndpoint } from './endpoint-key.ts';
import { fromEndpointSlice, type SlicePortEndpoints } from './endpoint-slice.ts';
import { record, str } from './raw.ts';
import { fromService } from './service.ts';
import type { ClusterSnapshot, Endpoint, IpFamily, ServicePort, Warning } from './types.ts';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const familyOrder = (f: IpFamily): number => (f === 'IPv4' ? 0 : 1);

/** `namespace/name` of an object (namespace defaults to "default", as in buildSnapshot). */
export function objectId(o: { metadata?: unknown }): string {
  const m = record(o.metadata);
  return `${str(m?.namespace) || 'default'}/${str(m?.name) ?? ''}`;
}

/**
 * What ClusterState keeps of a converted slice (not its warnings): its family
 * and ports, the first port inline (most slices have one port, so one object
 * per slice instead of a record, an array and a port object).
 */
interface StoredSlice extends SlicePortEndpoints {
  readonly family: IpFamily;
  /** Ports after the first (usually the shared empty list). */
  readonly rest: readonly SlicePortEndpoints[];
}

function storeSlice(family: IpFamily, ports: readonly SlicePortEndpoints[]): StoredSlice {
  const [first, ...rest] = ports;
  return { family, key: first!.key, endpoints: first!.endpoints, rest: rest.length ? rest : emptyList };
}

function portsOf(s: StoredSlice | undefined): readonly SlicePortEndpoints[] {
  if (!s) return emptyList;
  return s.rest.length ? [s, ...s.rest] : [s];
}

/** The Service's ports: one ServicePort is kept without an array around it (the common case). */
type StoredPorts = ServicePort | readonly ServicePort[];

function servicePortsOf(v: StoredPorts | undefined): readonly ServicePort[] {
  if (v === undefined) return emptyList;
  return isPortList(v) ? v : [v];
}

function isPortList(v: StoredPorts): v is readonly ServicePort[] {
  return Array.isArray(v);
}

/**
 * Ids of the slices carrying one ServicePort key. Almost always one slice per
 * key, so a single id is kept as a plain string and upgraded to a Set only when
 * a second slice carries the key (a Set costs ~300 bytes, the string nothing).
 */
type SliceIds = string | Set<string>;

/** What a change did: the ServicePort keys it touched and the warnings of the new object. */
export interface Change {
  readonly keys: readonly string[];
  readonly warnings: readonly Warning[];
}

/**
 * Incrementally maintained model of Services and EndpointSlices. Never throws:
 * bad objects become warnings and contribute nothing.
 */
export class ClusterState {
  private readonly services = new Map<string, StoredPorts>();
  /** ServicePort key → `namespace/name` of its Service. */
  private readonly serviceOfKey = new Map<string, string>();
  private readonly slices = new Map<string, StoredSlice>();
  /** ServicePort key → ids of slices that carry endpoints for it. */
  private readonly slicesByKey = new Map<string, SliceIds>();
  /**
   * Merged, sorted endpoints per family of the keys that more than one slice
   * port carries. A key carried by one slice port (the common case) is not in
   * here: its merged list is that port's own list (sorted and unique since
   * conversion), read through `slicesByKey`, so endpoints are not stored twice.
   */
  private readonly merged: Record<IpFamily, Map<string, readonly Endpoint[]>> = { IPv4: new Map(), IPv6: new Map() };

  /** Adds or replaces a Service. */
  upsertService(svc: V1Service): Change {
    const id = intern(objectId(svc));
    const before = servicePortsOf(this.services.get(id));
    const r = fromService(svc);
    for (const sp of before) this.serviceOfKey.delete(sp.key);
    if (r.ports.length) this.services.set(id, r.ports.length === 1 ? r.ports[0]! : exact(r.ports)); else this.services.delete(id);
    for (const sp of r.ports) this.serviceOfKey.set(sp.key, id);
    return { keys: uniqueKeys([...before, ...r.ports]), warnings: r.warnings };
  }

  /** Removes a Service by `namespace/name`. */
  deleteService(id: string): Change {
    const before = servicePortsOf(this.services.get(id));
    for (const sp of before) this.serviceOfKey.delete(sp.key);
    this.services.delete(id);
    return { keys: uniqueKeys(before), warnings: [] };
  }

  /** Adds or replaces an EndpointSlice. */
  upsertSlice(slice: V1EndpointSlice): Change {
    const id = intern(objectId(slice));
    const before = this.slices.get(id);
    const r = fromEndpointSlice(slice);
    this.unindex(id, before);
    if (r.family !== null && r.ports.length) {
      this.slices.set(id, storeSlice(r.family, r.ports));
      for (const p of r.ports) this.index(id, p.key);
    } else {
      this.slices.delete(id);
    }
    const keys = uniqueStrings([...portsOf(before).map((p) => p.key), ...r.ports.map((p) => p.key)]);
    for (const f of new Set([before?.family, r.family])) if (f) this.remerge(f, keys);
    return { keys, warnings: r.warnings };
  }

  /** Removes an EndpointSlice by `namespace/name`. */
  deleteSlice(id: string): Change {
    const before = this.slices.get(id);
    this.unindex(id, before);
    this.slices.delete(id);
    const keys = uniqueStrings(portsOf(before).map((p) => p.key));
    if (before?.family) this.remerge(before.family, keys);
    return { keys, warnings: [] };
  }

  /** The ServicePorts (one per family) with this key. */
  servicePorts(key: string): ServicePort[] {
    const id = this.serviceOfKey.get(key);
    return id === undefined ? [] : servicePortsOf(this.services.get(id)).filter((sp) => sp.key === key);
  }

  /** Merged endpoints of a ServicePort key in one family (empty when no slice carries it). */
  endpointsOf(family: IpFamily, key: string): readonly Endpoint[] {
    return this.lookup(family, key) ?? emptyList;
  }

  /** Number of Services held. */
  get serviceCount(): number {
    return this.services.size;
  }

  /** The whole snapshot, sorted as buildSnapshot sorts it. O(size of the cluster). */
  snapshot(): ClusterSnapshot {
    const servicePorts = [...this.services.values()].flatMap(servicePortsOf)
      .sort((a, b) => byString(a.key, b.key) || familyOrder(a.family) - familyOrder(b.family));
    const endpoints: Record<IpFamily, Map<string, readonly Endpoint[]>> = { IPv4: new Map(), IPv6: new Map() };
    for (const key of [...this.slicesByKey.keys()].sort(byString)) {
      for (const family of ['IPv4', 'IPv6'] as const) {
        const list = this.lookup(family, key);
        if (list) endpoints[family].set(key, list);
      }
    }
    return { servicePorts, endpoints };
  }

  /**
   * The merged endpoints of `key` in `family`, or undefined when no slice of
   * that family carries the key (a carried key without endpoints gives [], as
   * buildSnapshot does).
   */
  private lookup(family: IpFamily, key: string): readonly Endpoint[] | undefined {
    const ids = this.slicesByKey.get(key);
    if (ids === undefined) return undefined;
    const merged = this.merged[family].get(key);
    if (merged) return merged;
    // Not merged: at most one slice port of this family carries the key.
    if (typeof ids === 'string') return portList(this.slices.get(ids), family, key);
    for (const id of ids) {
      const list = portList(this.slices.get(id), family, key);
      if (list) return list;
    }
    return undefined;
  }

  private index(id: string, key: string): void {
    const ids = this.slicesByKey.get(key);
    if (ids === undefined) this.slicesByKey.set(key, id);
    else if (typeof ids !== 'string') ids.add(id);
    else if (ids !== id) this.slicesByKey.set(key, new Set([ids, id]));
  }

  private unindex(id: string, stored: StoredSlice | undefined): void {
    for (const p of portsOf(stored)) {
      const ids = this.slicesByKey.get(p.key);
      if (ids === id) {
        this.slicesByKey.delete(p.key);
      } else if (ids !== undefined && typeof ids !== 'string') {
        ids.delete(id);
        // Back to the plain-string form when one slice is left.
        if (ids.size === 1) this.slicesByKey.set(p.key, ids.values().next().value!);
      }
    }
  }

  /** Sorted ids of the slices carrying `key`. */
  private sliceIds(key: string): readonly string[] {
    const ids = this.slicesByKey.get(key);
    if (ids === undefined) return [];
    return typeof ids === 'string' ? [ids] : [...ids].sort(byString);
  }

  /**
   * Recomputes the merged endpoints of `keys` in `family` when more than one
   * slice port carries them. A key carried by a single port of a single slice
   * needs nothing: `lookup` reads that port's list (no merge, no sort).
   */
  private remerge(family: IpFamily, keys: readonly string[]): void {
    for (const key of keys) {
      const lists: (readonly Endpoint[])[] = [];
      for (const id of this.sliceIds(key)) {
        const stored = this.slices.get(id);
        if (stored?.family !== family) continue;
        for (const p of portsOf(stored)) if (p.key === key) lists.push(p.endpoints);
      }
      if (lists.length < 2) this.merged[family].delete(key);
      else this.merged[family].set(key, mergeEndpoints(lists));
    }
  }
}

/** The endpoints of `key` in a slice of `family`, or undefined. */
function portList(s: StoredSlice | undefined, family: IpFamily, key: string): readonly Endpoint[] | undefined {
  if (s?.family !== family) return undefined;
  if (s.key === key) return s.endpoints;
  return s.rest.find((p) => p.key === key)?.endpoints;
}

/** One endpoint per ip:port over lists in slice order (replacesEndpoint decides), sorted by endpointKey. */
function mergeEndpoints(lists: readonly (readonly Endpoint[])[]): readonly Endpoint[] {
  const merged = new Map<string, Endpoint>();
  for (const list of lists) {
    for (const ep of list) {
      const k = endpointKey(ep);
      if (!merged.has(k) || replacesEndpoint(ep)) merged.set(k, ep);
    }
  }
  return [...merged.entries()].sort(([a], [b]) => byString(a, b)).map(([, ep]) => ep);
}

/**
 * A copy without spare capacity. Why: an array grown by `push` reserves room
 * (17 slots for one element, ~150 bytes); a copy by `slice` has exactly its length.
 */
function exact<T>(values: readonly T[]): readonly T[] {
  return values.slice();
}

function uniqueKeys(ports: readonly ServicePort[]): string[] {
  return uniqueStrings(ports.map((p) => p.key));
}

function uniqueStrings(values: readonly string[]): string[] {
  return [...new Set(values)].sort(byString);
}
