import type { Logger } from 'pino';
import { cidrContains, parseCidr, parseIp } from '../model/ip.ts';
import { KernelError } from '../netlink/errors.ts';
import { type ApplyResult, countOps } from '../sync/apply-result.ts';
import { type CachedEntry, losesRealServers, withRealServers, withoutRealServer } from './applier-cache.ts';
import type { IpvsClient, IpvsOp } from './client.ts';
import {
  type DrainingRealServer, type ObservedEntry, type VirtualServerEntry, diffVirtualServers, plainRealServer,
  plainVirtualServer, sameRealServer, sameRealServers, sameVirtualServer,
} from './diff.ts';
import { type Family, type RealServer, type VirtualServer, realServerKey, virtualServerKey } from './types.ts';

/** The desired IPVS state of one family. */
export interface IpvsScope {
  readonly family: Family;
  /** Keyed by virtualServerKey. */
  readonly virtualServers: ReadonlyMap<string, VirtualServerEntry>;
  /** Virtual servers inside these CIDRs are not ours: never deleted (kube-proxy's ipvs.excludeCIDRs). */
  readonly excludeCIDRs: readonly string[];
}

/**
 * Writes IPVS: full syncs read the whole table and repair anything that differs;
 * partial syncs write only the virtual servers that changed, from a cache of
 * what was last written, reading the kernel only for connection counts of real
 * servers about to go. Owns every virtual server of the families it runs except
 * those in excludeCIDRs and fwmark ones (kube-proxy's rule, minus fwmark, which
 * kube-proxy never creates and we never delete).
 */
export class IpvsApplier {
  private readonly client: IpvsClient;
  private readonly log: Logger;
  /**
   * Believed kernel state of our virtual servers; null until a full sync
   * succeeded. Values are the desired entries as written (shared, not copied)
   * unless real servers are draining.
   */
  private cache: Map<string, CachedEntry> | null = null;
  /** vsKey → rsKey → drained real server. */
  private readonly draining = new Map<string, Map<string, DrainingRealServer>>();

  /** Virtual servers per read-diff-write step of a full sync. */
  private readonly chunkSize: number;

  /** `chunkSize`: virtual servers per step of a full sync (default 256); tests make it small. */
  constructor(client: IpvsClient, logger: Logger, opts: { chunkSize?: number } = {}) {
    this.client = client;
    this.chunkSize = Math.max(1, opts.chunkSize ?? 256);
    this.log = logger.child({ component: 'applier', subsystem: 'ipvs' });
  }

  /** Number of real servers currently held at weight 0 while their connections drain. */
  get drainingCount(): number {
    let n = 0;
    for (const m of this.draining.values()) n += m.size;
    return n;
  }

  /** True once a full sync succeeded (partial syncs need it). */
  get ready(): boolean {
    return this.cache !== null;
  }

  /**
   * Full sync: reads every virtual and real server, diffs against `scopes`, and
   * writes the difference. Counts in `repaired` what differed from what it had
   * last written. Works through the table `chunkSize` virtual servers at a
   * time (read, diff, write), so memory holds one chunk's kernel answers and
   * ops, not the whole table's: at 10,000 virtual servers x 10 real servers the
   * whole table read back and its ops are tens of MB. Rejects only if the table
   * cannot be read or the kernel stops answering (then the next sync must be
   * full again; chunks written before stay written).
   */
  async applyFull(scopes: readonly IpvsScope[]): Promise<ApplyResult> {
    const owned = ownership(scopes);
    const desired = new Map<string, VirtualServerEntry>();
    for (const s of scopes) for (const [k, v] of s.virtualServers) desired.set(k, v);
    // What we wrote last time, to count drift; forgotten now, as a failure
    // part-way leaves the kernel neither as cached nor as desired.
    const before = this.cache;
    this.cache = null;
    this.draining.clear();
    const opNames: string[] = [];
    const errors: KernelError[] = [];
    const draining: DrainingRealServer[] = [];
    let repaired = 0;
    const writeChunk = async (observed: ReadonlyMap<string, ObservedEntry>, keys: readonly string[]): Promise<void> => {
      if (before) repaired += countDrift(before, observed, owned, keys);
      const diff = diffVirtualServers({ desired, observed, owned, keys });
      for (const op of diff.ops) opNames.push(op.op);
      errors.push(...await this.write(diff.ops));
      draining.push(...diff.draining);
    };

    // The virtual servers the kernel has, chunk by chunk, then the desired ones it lacks.
    const listed = await this.client.listVirtualServerSettings();
    const seen = new Set<string>();
    for (let i = 0; i < listed.length; i += this.chunkSize) {
      const observed = new Map<string, ObservedEntry>();
      for (const vs of listed.slice(i, i + this.chunkSize)) {
        const key = virtualServerKey(vs);
        seen.add(key);
        observed.set(key, { virtualServer: plainVirtualServer(vs), realServers: await this.client.listRealServerConnections(vs) });
      }
      await writeChunk(observed, [...observed.keys()].sort());
    }
    const missing = [...desired.keys()].filter((k) => !seen.has(k)).sort();
    for (let i = 0; i < missing.length; i += this.chunkSize) await writeChunk(new Map(), missing.slice(i, i + this.chunkSize));
    if (before) for (const [key, want] of before) if (!seen.has(key)) repaired += 1 + want.realServers.length;

    for (const d of draining) this.addDraining(d);
    if (errors.length === 0) {
      addDrainingTo(desired, draining);
      this.cache = desired;
    }
    if (repaired) this.log.warn({ repaired }, 'repaired IPVS drift');
    return this.result(opNames, repaired, errors);
  }

  /**
   * Partial sync: `changes` maps virtualServerKey to the new desired entry, or
   * null when the virtual server must go. Rejects with `ENOTREADY` (a
   * KernelError) before the first successful full sync.
   */
  async applyDelta(changes: ReadonlyMap<string, VirtualServerEntry | null>): Promise<ApplyResult> {
    const cache = this.cache;
    if (!cache) throw new KernelError('ENOTREADY', 'apply IPVS delta', '', 'no full sync yet');
    if (changes.size === 0) return this.result([], 0, []);
    const observed = new Map<string, ObservedEntry>();
    for (const key of changes.keys()) {
      const have = cache.get(key);
      if (!have) continue;
      const want = changes.get(key);
      const goes = want && want.virtualServer.protocol === 'TCP' && losesRealServers(have, want);
      // Connection counts decide between deleting and draining: read them only when a TCP real server goes.
      observed.set(key, goes
        ? { virtualServer: have.virtualServer, realServers: await this.client.listRealServerConnections(have.virtualServer) }
        : have);
    }
    const { ops, draining } = diffVirtualServers({ desired: changes, observed, owned: () => true, keys: changes.keys() });
    const errors = await this.write(ops);
    for (const key of changes.keys()) this.draining.delete(key);
    for (const d of draining) this.addDraining(d);
    if (errors.length) {
      this.cache = null;
    } else {
      for (const [key, want] of changes) {
        if (want) cache.set(key, want); else cache.delete(key);
      }
      addDrainingTo(cache, draining);
    }
    return this.result(ops.map((o) => o.op), 0, errors);
  }

  /**
   * Deletes drained TCP real servers whose connections have ended (kube-proxy
   * checks once a minute). Reads the real servers of each virtual server that
   * has draining ones. Rejects if the kernel cannot be read.
   */
  async checkDraining(): Promise<ApplyResult> {
    const ops: IpvsOp[] = [];
    for (const [vsKey, group] of [...this.draining]) {
      const first = group.values().next().value;
      if (!first) continue;
      const current = new Map((await this.client.listRealServerConnections(first.virtualServer)).map((rs) => [realServerKey(rs), rs]));
      for (const [rsKey, d] of group) {
        const rs = current.get(rsKey);
        if (!rs || rs.weight !== 0) {
          group.delete(rsKey); // gone, or wanted again and restored
          continue;
        }
        if (rs.activeConnections + rs.inactiveConnections === 0) {
          ops.push({ op: 'delete-real-server', virtualServer: d.virtualServer, realServer: rs });
          group.delete(rsKey);
          const have = this.cache?.get(vsKey);
          if (have) this.cache?.set(vsKey, withoutRealServer(have, rsKey));
        }
      }
      if (group.size === 0) this.draining.delete(vsKey);
    }
    const errors = await this.write(ops);
    if (errors.length) this.cache = null;
    return this.result(ops.map((o) => o.op), 0, errors);
  }

  /**
   * Removes every virtual server we own in `families` (all but excludeCIDRs and
   * fwmark ones), as `kube-proxy --cleanup` does. Rejects if the table cannot be read.
   */
  async cleanup(scopes: readonly Pick<IpvsScope, 'family' | 'excludeCIDRs'>[]): Promise<ApplyResult> {
    const owned = ownership(scopes.map((s) => ({ ...s, virtualServers: new Map() })));
    const ops: IpvsOp[] = [];
    for (const vs of await this.client.listVirtualServers()) {
      if (owned(vs)) ops.push({ op: 'delete-virtual-server', virtualServer: vs });
    }
    const errors = await this.write(ops);
    this.cache = null;
    this.draining.clear();
    return this.result(ops.map((o) => o.op), 0, errors);
  }

  private addDraining(d: DrainingRealServer): void {
    let group = this.draining.get(d.vsKey);
    if (!group) this.draining.set(d.vsKey, (group = new Map<string, DrainingRealServer>()));
    group.set(realServerKey(d.realServer), d);
  }

  private async write(ops: readonly IpvsOp[]): Promise<KernelError[]> {
    if (ops.length === 0) return [];
    const results = await this.client.apply(ops);
    const errors = results.flatMap((r) => (r.error ? [r.error] : []));
    for (const e of errors) this.log.warn({ err: e }, 'IPVS write failed');
    return errors;
  }

  /** The ApplyResult of a sync that wrote ops of these kinds (one name per op). */
  private result(opNames: readonly string[], repaired: number, errors: readonly Error[]): ApplyResult {
    return { subsystem: 'ipvs', writes: opNames.length, ops: countOps(opNames), repaired, errors };
  }
}

/** Adds drained real servers (still in the kernel at weight 0) to the cached entries of their virtual servers. */
function addDrainingTo(cache: Map<string, CachedEntry>, draining: readonly DrainingRealServer[]): void {
  const byVs = new Map<string, RealServer[]>();
  for (const d of draining) {
    const list = byVs.get(d.vsKey);
    if (list) list.push(d.realServer); else byVs.set(d.vsKey, [d.realServer]);
  }
  for (const [vsKey, extras] of byVs) {
    const have = cache.get(vsKey);
    if (have) cache.set(vsKey, withRealServers(have, extras));
  }
}

/** kube-proxy's ownership rule (cleanLegacyService), for the families in `scopes`. */
function ownership(scopes: readonly IpvsScope[]): (vs: VirtualServer) => boolean {
  const byFamily = new Map(scopes.map((s) => [s.family, s.excludeCIDRs.map(parseCidr).filter((c) => c !== null)]));
  return (vs) => {
    if (vs.fwmark !== null || vs.address === null) return false;
    const excludes = byFamily.get(vs.family);
    if (!excludes) return false;
    const ip = parseIp(vs.address);
    return !ip || !excludes.some((c) => cidrContains(c, ip));
  };
}

/**
 * Objects of ours among `keys` (all observed) whose kernel state differs from
 * what we last wrote (`cache`). Virtual servers we wrote that the kernel lacks
 * are counted by the caller.
 */
function countDrift(cache: ReadonlyMap<string, CachedEntry>, observed: ReadonlyMap<string, ObservedEntry>, owned: (vs: VirtualServer) => boolean, keys: readonly string[]): number {
  let n = 0;
  for (const key of keys) {
    const have = observed.get(key);
    if (!have) continue;
    const want = cache.get(key);
    if (!want) { if (owned(have.virtualServer)) n++; continue; }
    if (!sameVirtualServer(want.virtualServer, have.virtualServer)) n++;
    if (sameRealServers(want.realServers, have.realServers)) continue;
    const current = new Map(have.realServers.map((rs) => [realServerKey(rs), plainRealServer(rs)]));
    const wanted = new Set<string>();
    for (const rs of want.realServers) {
      const k = realServerKey(rs);
      wanted.add(k);
      const cur = current.get(k);
      if (!cur || !sameRealServer(rs, cur)) n++;
    }
    for (const k of current.keys()) if (!wanted.has(k)) n++;
  }
  return n;
}
