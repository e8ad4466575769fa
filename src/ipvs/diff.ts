// Pure diff of IPVS tables: desired virtual servers (with real servers) against
// what the kernel holds, into the fewest ops in dependency order. Graceful
// termination: a TCP real server that is no longer wanted but still has
// connections goes to weight 0 and is listed as draining instead of deleted.

import type { IpvsOp } from './client.ts';
import {
  type RealServer, type RealServerConnections, type Tunnel, type VirtualServer, realServerId, realServerKey, virtualServerId,
} from './types.ts';

/** A virtual server with its real servers (desired, or as last written). */
export interface VirtualServerEntry {
  readonly virtualServer: VirtualServer;
  readonly realServers: readonly RealServer[];
}

/** A virtual server as the kernel holds it; real servers carry connection counts when read from the kernel. */
export interface ObservedEntry {
  readonly virtualServer: VirtualServer;
  readonly realServers: readonly (RealServer | RealServerConnections)[];
}

/** A real server kept at weight 0 until its connections end. */
export interface DrainingRealServer {
  readonly vsKey: string;
  readonly virtualServer: VirtualServer;
  readonly realServer: RealServer;
}

export interface DiffResult {
  /** Ops in dependency order: virtual servers before their real servers; deletions of virtual servers last. */
  readonly ops: IpvsOp[];
  /** Real servers left at weight 0 (existing and newly drained). */
  readonly draining: DrainingRealServer[];
}

const defaultTunnel: Tunnel = { type: 'ipip', port: 0, flags: 0 };

function tunnelOf(rs: RealServer): Tunnel | null {
  return rs.forward === 'tunnel' ? (rs.tunnel ?? defaultTunnel) : null;
}

/** True when two real servers have the same writable settings. */
export function sameRealServer(a: RealServer, b: RealServer): boolean {
  const ta = tunnelOf(a);
  const tb = tunnelOf(b);
  return a.weight === b.weight && a.forward === b.forward && a.upperThreshold === b.upperThreshold
    && a.lowerThreshold === b.lowerThreshold
    && (ta === tb || (!!ta && !!tb && ta.type === tb.type && ta.port === tb.port && ta.flags === tb.flags));
}

/** Lists up to this long are compared pairwise; longer ones through key maps. */
const pairwiseLimit = 32;

/**
 * True when `have` holds exactly the real servers of `want`, with the same
 * settings, in any order (neither list repeats a real server, as neither the
 * kernel nor the desired state does). Pairwise for short lists, so the common
 * case of a full sync, a virtual server that is already right, builds no keys
 * and no maps. Pure.
 */
export function sameRealServers(want: readonly RealServer[], have: readonly (RealServer | RealServerConnections)[]): boolean {
  if (want.length !== have.length) return false;
  if (want.length > pairwiseLimit) {
    const byKey = new Map<string, RealServer>(have.map((rs) => [realServerKey(rs), rs]));
    return want.every((rs) => { const h = byKey.get(realServerKey(rs)); return h !== undefined && sameRealServer(rs, h); });
  }
  outer: for (const w of want) {
    for (const h of have) {
      if (h.port === w.port && h.address === w.address && h.family === w.family) {
        if (!sameRealServer(w, h)) return false;
        continue outer;
      }
    }
    return false;
  }
  return true;
}

/** True when two virtual servers have the same writable settings (identity aside). */
export function sameVirtualServer(a: VirtualServer, b: VirtualServer): boolean {
  return a.scheduler === b.scheduler && a.flags === b.flags
    && (a.persistence?.timeout ?? null) === (b.persistence?.timeout ?? null)
    && (a.persistence?.prefixLength ?? null) === (b.persistence?.prefixLength ?? null)
    && (a.persistenceEngine ?? null) === (b.persistenceEngine ?? null);
}

function connections(rs: RealServer | RealServerConnections): number | null {
  return 'activeConnections' in rs ? rs.activeConnections + rs.inactiveConnections : null;
}

/**
 * Whether a real server that is no longer wanted must drain instead of going at
 * once: only TCP keeps connections worth waiting for (kube-proxy deletes UDP and
 * SCTP real servers at once; with expire_nodest_conn their flows move on the
 * next packet). Unknown counts (null) count as "has connections".
 */
function mustDrain(vs: VirtualServer, rs: RealServer | RealServerConnections): boolean {
  if (vs.protocol !== 'TCP') return false;
  const n = connections(rs);
  return n === null || n > 0;
}

/**
 * Diffs one scope of virtual servers. `desired` and `observed` are keyed by
 * virtualServerKey; `keys` limits the diff (all keys of both when omitted).
 * Observed virtual servers without a desired value are deleted only when
 * `owned` says they are ours. `draining` lists real servers drained earlier:
 * those that come back are restored to their desired weight, the rest stay.
 */
export function diffVirtualServers(input: {
  readonly desired: ReadonlyMap<string, VirtualServerEntry | null>;
  readonly observed: ReadonlyMap<string, ObservedEntry>;
  readonly owned: (vs: VirtualServer) => boolean;
  readonly keys?: Iterable<string>;
}): DiffResult {
  const ops: IpvsOp[] = [];
  const deletions: IpvsOp[] = [];
  const draining: DrainingRealServer[] = [];
  const keys = input.keys ? [...input.keys] : [...new Set([...input.desired.keys(), ...input.observed.keys()])].sort();
  for (const key of keys) {
    const want = input.desired.get(key) ?? null;
    const have = input.observed.get(key);
    if (!want) {
      if (have && input.owned(have.virtualServer)) {
        deletions.push({ op: 'delete-virtual-server', virtualServer: virtualServerId(have.virtualServer) });
      }
      continue;
    }
    const vsId = virtualServerId(want.virtualServer);
    if (!have) {
      ops.push({ op: 'add-virtual-server', virtualServer: want.virtualServer });
      for (const rs of want.realServers) ops.push({ op: 'add-real-server', virtualServer: vsId, realServer: rs });
      continue;
    }
    if (!sameVirtualServer(want.virtualServer, have.virtualServer)) {
      ops.push({ op: 'update-virtual-server', virtualServer: want.virtualServer });
    }
    const wantRealServers = want.realServers; // built on each read for packed entries: read once
    if (sameRealServers(wantRealServers, have.realServers)) continue;
    const current = new Map(have.realServers.map((rs) => [realServerKey(rs), rs]));
    const wanted = new Set<string>();
    for (const rs of wantRealServers) {
      const k = realServerKey(rs);
      wanted.add(k);
      const cur = current.get(k);
      if (!cur) ops.push({ op: 'add-real-server', virtualServer: vsId, realServer: rs });
      else if (!sameRealServer(rs, cur)) ops.push({ op: 'update-real-server', virtualServer: vsId, realServer: rs });
    }
    for (const [k, cur] of current) {
      if (wanted.has(k)) continue;
      if (mustDrain(want.virtualServer, cur)) {
        const drained: RealServer = { ...plainRealServer(cur), weight: 0 };
        if (cur.weight !== 0) ops.push({ op: 'update-real-server', virtualServer: vsId, realServer: drained });
        draining.push({ vsKey: key, virtualServer: want.virtualServer, realServer: drained });
      } else {
        ops.push({ op: 'delete-real-server', virtualServer: vsId, realServer: realServerId(cur) });
      }
    }
  }
  return { ops: [...ops, ...deletions], draining };
}

/** The writable fields of a real server (drops counts and stats read from the kernel). */
export function plainRealServer(rs: RealServer | RealServerConnections): RealServer {
  return {
    family: rs.family, address: rs.address, port: rs.port, weight: rs.weight, forward: rs.forward,
    upperThreshold: rs.upperThreshold, lowerThreshold: rs.lowerThreshold, tunnel: tunnelOf(rs),
  };
}

/** The writable fields of a virtual server (drops stats read from the kernel). */
export function plainVirtualServer(vs: VirtualServer): VirtualServer {
  return {
    family: vs.family, protocol: vs.protocol, address: vs.address, port: vs.port, fwmark: vs.fwmark,
    scheduler: vs.scheduler, flags: vs.flags, persistence: vs.persistence, persistenceEngine: vs.persistenceEngine,
  };
}
