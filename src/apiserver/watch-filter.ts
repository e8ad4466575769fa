// Which watch event a client with a selector sees for one store event. As in
// kube-apiserver's watch cache (cacheWatcher.convertToWatchEvent): an object
// that starts matching arrives as ADDED, one that stops matching leaves as
// DELETED carrying its previous content with the new resourceVersion. Pure.

import type { StoreEvent } from './store.ts';
import type { KubeObject } from './types.ts';

/** A watch event on the wire (BOOKMARK and ERROR are built by the stream). */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject | Readonly<Record<string, unknown>>;
}

function withRv(o: KubeObject, rv: number): KubeObject {
  return { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } };
}

/** The event a watcher whose filter is `matches` receives for `e`, or null for none. */
export function toWatchEvent(e: StoreEvent, matches: (o: KubeObject) => boolean): WatchEvent | null {
  switch (e.type) {
    case 'ADDED':
      return matches(e.object) ? { type: 'ADDED', object: e.object } : null;
    case 'DELETED':
      return e.prev && matches(e.prev) ? { type: 'DELETED', object: e.object } : null;
    case 'MODIFIED': {
      const now = matches(e.object);
      const before = e.prev !== null && matches(e.prev);
      if (now && before) return { type: 'MODIFIED', object: e.object };
      if (now) return { type: 'ADDED', object: e.object };
      if (before) return { type: 'DELETED', object: withRv(e.prev, e.rv) };
      return null;
    }
  }
}
