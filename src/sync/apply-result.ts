// What every applier reports after one apply, whatever its subsystem.

/** Kernel subsystems ipvs-proxy programs. */
export type Subsystem = 'ipvs' | 'ipset' | 'iptables' | 'netif';

/**
 * The outcome of one apply of one subsystem. `writes` counts kernel writes
 * (an IPVS op, an ipset add/del/create line, an iptables restore run or rule
 * insertion, an address or link change, a sysctl write); `ops` splits them by
 * operation name for metrics and logs (bounded names only, never object names).
 * `repaired` counts, on a full sync, the objects that differed from what this
 * applier had last written (drift someone else made) and were put back.
 * `errors` are failures of single writes that did not stop the apply; any error
 * means the caller must make the next sync a full one.
 */
export interface ApplyResult {
  readonly subsystem: Subsystem;
  readonly writes: number;
  readonly ops: Readonly<Record<string, number>>;
  readonly repaired: number;
  readonly errors: readonly Error[];
}

/** Counts `names` into an ops record (`['add','add','del']` → `{add: 2, del: 1}`). */
export function countOps(names: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}
