// What the IPVS applier believes the kernel holds, per virtual server. Almost
// always that is exactly the desired entry it wrote, so the cache keeps that
// very object (shared with the desired state, not copied); it makes its own
// entry only when the kernel holds more, i.e. real servers left draining at
// weight 0. At 100,000 real servers a Map of real servers per virtual server
// would cost more than the desired state itself.

import type { ObservedEntry, VirtualServerEntry } from './diff.ts';
import { type RealServer, realServerKey } from './types.ts';

/** A virtual server with the real servers we believe the kernel holds. */
export type CachedEntry = VirtualServerEntry;

/**
 * `entry` with `extras` added (an extra with the key of a real server already
 * there replaces it); `entry` itself when there are none. Pure.
 */
export function withRealServers(entry: CachedEntry, extras: readonly RealServer[]): CachedEntry {
  if (extras.length === 0) return entry;
  const byKey = new Map(entry.realServers.map((rs) => [realServerKey(rs), rs]));
  for (const rs of extras) byKey.set(realServerKey(rs), rs);
  return { virtualServer: entry.virtualServer, realServers: [...byKey.values()] };
}

/** `entry` without the real server keyed `rsKey`; `entry` itself when it has none. Pure. */
export function withoutRealServer(entry: CachedEntry, rsKey: string): CachedEntry {
  const realServers = entry.realServers.filter((rs) => realServerKey(rs) !== rsKey);
  return realServers.length === entry.realServers.length ? entry : { virtualServer: entry.virtualServer, realServers };
}

/** Whether some real server of `have` is not among `want`'s. Pure. */
export function losesRealServers(have: ObservedEntry, want: VirtualServerEntry): boolean {
  if (have.realServers.length === 0) return false;
  const wanted = new Set(want.realServers.map(realServerKey));
  return have.realServers.some((rs) => !wanted.has(realServerKey(rs)));
}
