// The one key of an endpoint, and the order and merge rule of endpoint lists
// (kube-proxy's Endpoint.String() and EndpointSliceCache.addEndpoints).

import type { Endpoint } from './types.ts';

/** kube-proxy's Endpoint.String(): `ip:port` or `[ip]:port`. Never throws. */
export function endpointKey(ep: Pick<Endpoint, 'address' | 'port'>): string {
  return ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
}

/**
 * Whether `next` replaces `kept` when both have the same `endpointKey`: a later
 * copy wins unless it is terminating (so a non-terminating copy is preferred,
 * and among terminating ones the first stays). Applying this rule to a list and
 * then across lists gives the same result as applying it to their concatenation,
 * which is why a slice can be deduplicated once, at conversion.
 */
export function replacesEndpoint(next: Pick<Endpoint, 'terminating'>): boolean {
  return !next.terminating;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The endpoints sorted by `endpointKey` with one per key (chosen by
 * `replacesEndpoint`), as buildSnapshot lists them. Never throws. Returns
 * `endpoints` itself when it is already sorted and unique (no copy).
 */
export function sortedUniqueEndpoints<E extends Pick<Endpoint, 'address' | 'port' | 'terminating'>>(endpoints: readonly E[]): readonly E[] {
  const keys = endpoints.map(endpointKey);
  let ordered = true;
  for (let i = 1; i < keys.length && ordered; i++) ordered = keys[i - 1]! < keys[i]!;
  if (ordered) return endpoints;
  const byKey = new Map<string, E>();
  endpoints.forEach((ep, i) => {
    const k = keys[i]!;
    if (!byKey.has(k) || replacesEndpoint(ep)) byKey.set(k, ep);
  });
  return [...byKey.entries()].sort(([a], [b]) => byString(a, b)).map(([, ep]) => ep);
}
