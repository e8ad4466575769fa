// The local API server's storage: every object of every served resource, one
// global resourceVersion counter (like etcd's revision), and a bounded window of
// recent events so watches can resume from a past resourceVersion and lists can
// be served "as of" one. Older history is compacted away; asking for it gives
// 410 Expired, as a real cluster does after etcd compaction. No I/O.

import { type KubeObject, type ResourceInfo, cloneJson } from './types.ts';

/** What a write did. */
export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * One write. `object` is the object after the write (for DELETED: the last state,
 * stamped with the deletion's resourceVersion, as etcd's watch reports it);
 * `prev` the object before it (null for ADDED). Never mutate either.
 */
export interface StoreEvent {
  readonly type: StoreEventType;
  readonly resource: string;
  readonly key: string;
  readonly rv: number;
  readonly object: KubeObject;
  readonly prev: KubeObject | null;
}

/** Store-wide identity of a resource (`discovery.k8s.io/endpointslices`, `/services`). */
export function resourceId(r: ResourceInfo): string {
  return `${r.group}/${r.plural}`;
}

function stamp(o: KubeObject, rv: number): KubeObject {
  return { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } };
}

const byKey = (a: [string, KubeObject], b: [string, KubeObject]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Options of a VersionedStore. */
export interface StoreOptions {
  /** The resourceVersion of the empty store (default 1). */
  readonly initialResourceVersion?: number;
  /** How many events the watch window keeps (default 1000; kube-apiserver's watch cache keeps 100+ per resource). */
  readonly historyLimit?: number;
}

/**
 * Versioned in-memory object store. Reads return copies; writes take ownership
 * of what they are given. Listeners are called synchronously after each write.
 */
export class VersionedStore {
  private rv: number;
  private oldest: number;
  private readonly limit: number;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private events: StoreEvent[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(opts: StoreOptions = {}) {
    this.rv = opts.initialResourceVersion ?? 1;
    this.oldest = this.rv;
    this.limit = Math.max(1, opts.historyLimit ?? 1000);
  }

  /** The current resourceVersion (that of the last write). */
  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may resume from; older ones are expired. */
  get oldestResourceVersion(): number {
    return this.oldest;
  }

  private table(resource: string): Map<string, KubeObject> {
    let t = this.objects.get(resource);
    if (!t) { t = new Map(); this.objects.set(resource, t); }
    return t;
  }

  /** A copy of the object under `key`, or undefined. */
  get(resource: string, key: string): KubeObject | undefined {
    const o = this.objects.get(resource)?.get(key);
    return o ? cloneJson(o) : undefined;
  }

  /**
   * The current objects of a resource themselves, in no order, for read-only
   * scans that must not copy the whole resource (the registry fills its index
   * of allocated cluster IPs and node ports with it). Callers must not change them.
   */
  values(resource: string): Iterable<Readonly<KubeObject>> {
    return this.table(resource).values();
  }

  /** Copies of all current objects of a resource, sorted by key. */
  list(resource: string): KubeObject[] {
    return [...this.table(resource).entries()].sort(byKey).map(([, o]) => cloneJson(o));
  }

  /**
   * The objects of a resource as they were at resourceVersion `rv`, sorted by key.
   * Returns undefined when `rv` is older than the retained history or newer than
   * the store.
   */
  listAt(resource: string, rv: number): KubeObject[] | undefined {
    if (rv < this.oldest || rv > this.rv) return undefined;
    const state = new Map(this.table(resource));
    for (let i = this.events.length - 1; i >= 0; i -= 1) {
      const e = this.events[i]!;
      if (e.rv <= rv) break;
      if (e.resource !== resource) continue;
      if (e.type === 'ADDED') state.delete(e.key);
      else state.set(e.key, e.prev!);
    }
    return [...state.entries()].sort(byKey).map(([, o]) => cloneJson(o));
  }

  /** Events after resourceVersion `rv`, oldest first; undefined when `rv` is expired. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.oldest) return undefined;
    return this.events.filter((e) => e.rv > rv);
  }

  /**
   * Writes `next` under `key` (null deletes), stamping a new resourceVersion.
   * Returns the event, or undefined when deleting a key that does not exist.
   */
  write(resource: string, key: string, next: KubeObject | null): StoreEvent | undefined {
    const t = this.table(resource);
    const prev = t.get(key) ?? null;
    if (next === null && prev === null) return undefined;
    const rv = this.rv + 1;
    let event: StoreEvent;
    if (next === null) {
      t.delete(key);
      event = { type: 'DELETED', resource, key, rv, object: stamp(prev!, rv), prev };
    } else {
      const obj = stamp(next, rv);
      t.set(key, obj);
      event = { type: prev ? 'MODIFIED' : 'ADDED', resource, key, rv, object: obj, prev };
    }
    this.rv = rv;
    this.events.push(event);
    if (this.events.length > this.limit) {
      const dropped = this.events.splice(0, this.events.length - this.limit);
      this.oldest = dropped[dropped.length - 1]!.rv;
    }
    for (const l of [...this.listeners]) l(event);
    return event;
  }

  /** Forgets all history: watches and exact lists from any older resourceVersion now get 410. */
  compact(): void {
    this.events = [];
    this.oldest = this.rv;
  }

  /** Calls `fn` after every write until the returned function is called. */
  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }
}
