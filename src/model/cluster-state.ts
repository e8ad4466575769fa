// The cluster as the informers last reported it, converted to the model and
// kept up to date one object at a time. Each change returns the ServicePort
// keys it touched, so a sync can recompute only those; `snapshot()` gives the
// whole ClusterSnapshot for full syncs (identical to buildSnapshot over the
// same objects).

import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { intern } from './compact.ts';
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

/** What ClusterState keeps of a converted slice (not its warnings). */
interface StoredSlice {
  readonly family: IpFamily;
  readonly ports: readonly SlicePortEndpoints[];
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
  private readonly services = new Map<string, readonly ServicePort[]>();
  /** ServicePort key → `namespace/name` of its Service. */
  private readonly serviceOfKey = new Map<string, string>();
  private readonly slices = new Map<string, StoredSlice>();
  /** ServicePort key → ids of slices that carry endpoints for it. */
  private readonly slicesByKey = new Map<string, SliceIds>();
  /**
   * Merged, sorted endpoints per family and ServicePort key. When one slice
   * carries the key this is that slice's own list (already sorted and unique),
   * so endpoints are not stored twice.
   */
  private readonly endpoints: Record<IpFamily, Map<string, readonly Endpoint[]>> = { IPv4: new Map(), IPv6: new Map() };

  /** Adds or replaces a Service. */
  upsertService(svc: V1Service): Change {
    const id = intern(objectId(svc));
    const before = this.services.get(id) ?? [];
    const r = fromService(svc);
    for (const sp of before) this.serviceOfKey.delete(sp.key);
    if (r.ports.length) this.services.set(id, exact(r.ports)); else this.services.delete(id);
    for (const sp of r.ports) this.serviceOfKey.set(sp.key, id);
    return { keys: uniqueKeys([...before, ...r.ports]), warnings: r.warnings };
  }

  /** Removes a Service by `namespace/name`. */
  deleteService(id: string): Change {
    const before = this.services.get(id) ?? [];
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
      this.slices.set(id, { family: r.family, ports: exact(r.ports) });
      for (const p of r.ports) this.index(id, p.key);
    } else {
      this.slices.delete(id);
    }
    const keys = uniqueStrings([...(before?.ports ?? []).map((p) => p.key), ...r.ports.map((p) => p.key)]);
    for (const f of new Set([before?.family, r.family])) if (f) this.remerge(f, keys);
    return { keys, warnings: r.warnings };
  }

  /** Removes an EndpointSlice by `namespace/name`. */
  deleteSlice(id: string): Change {
    const before = this.slices.get(id);
    this.unindex(id, before);
    this.slices.delete(id);
    const keys = uniqueStrings((before?.ports ?? []).map((p) => p.key));
    if (before?.family) this.remerge(before.family, keys);
    return { keys, warnings: [] };
  }

  /** The ServicePorts (one per family) with this key. */
  servicePorts(key: string): ServicePort[] {
    const id = this.serviceOfKey.get(key);
    return id === undefined ? [] : (this.services.get(id) ?? []).filter((sp) => sp.key === key);
  }

  /** Merged endpoints of a ServicePort key in one family. */
  endpointsOf(family: IpFamily, key: string): readonly Endpoint[] {
    return this.endpoints[family].get(key) ?? [];
  }

  /** Number of Services held. */
  get serviceCount(): number {
    return this.services.size;
  }

  /** The whole snapshot, sorted as buildSnapshot sorts it. O(size of the cluster). */
  snapshot(): ClusterSnapshot {
    const servicePorts = [...this.services.values()].flat()
      .sort((a, b) => byString(a.key, b.key) || familyOrder(a.family) - familyOrder(b.family));
    const sorted = (m: Map<string, readonly Endpoint[]>): Map<string, readonly Endpoint[]> =>
      new Map([...m.entries()].sort(([a], [b]) => byString(a, b)));
    return { servicePorts, endpoints: { IPv4: sorted(this.endpoints.IPv4), IPv6: sorted(this.endpoints.IPv6) } };
  }

  private index(id: string, key: string): void {
    const ids = this.slicesByKey.get(key);
    if (ids === undefined) this.slicesByKey.set(key, id);
    else if (typeof ids !== 'string') ids.add(id);
    else if (ids !== id) this.slicesByKey.set(key, new Set([ids, id]));
  }

  private unindex(id: string, stored: StoredSlice | undefined): void {
    for (const p of stored?.ports ?? []) {
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
   * Recomputes the merged endpoints of `keys` in `family` from every slice that
   * has them. A key carried by a single port of a single slice takes that
   * port's list as is (sorted and unique since conversion): no merge, no sort.
   */
  private remerge(family: IpFamily, keys: readonly string[]): void {
    for (const key of keys) {
      const lists: (readonly Endpoint[])[] = [];
      for (const id of this.sliceIds(key)) {
        const stored = this.slices.get(id);
        if (stored?.family !== family) continue;
        for (const p of stored.ports) if (p.key === key) lists.push(p.endpoints);
      }
      // A port carried by a slice with no endpoints is kept as an empty list, as buildSnapshot does.
      if (lists.length === 0) this.endpoints[family].delete(key);
      else this.endpoints[family].set(key, lists.length === 1 ? lists[0]! : mergeEndpoints(lists));
    }
  }
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
