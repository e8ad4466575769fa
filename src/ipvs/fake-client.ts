import { KernelError, applyEach, fakeCall } from '../netlink/errors.ts';
import type { IpvsClient, IpvsOp, OpResult } from './client.ts';
import { canonicalAddress } from './codec.ts';
import {
  type IpvsInfo, type RealServer, type RealServerConnections, type RealServerId, type RealServerStatus, type Stats, type Timeouts,
  type VirtualServer, type VirtualServerId, type VirtualServerStatus,
  realServerKey, schedulers, virtualServerKey, vsFlagMask, zeroStats,
} from './types.ts';

// An in-memory IPVS table that follows the kernel's rules (net/netfilter/ipvs/
// ip_vs_ctl.c), for unit tests of everything above the IPVS client. The contract
// suite runs against this fake and the real kernel to keep the two the same.

interface StoredRealServer {
  rs: RealServer;
  active: number;
  inactive: number;
  persistent: number;
  stats: Stats;
}

interface StoredVirtualServer {
  vs: VirtualServer;
  stats: Stats;
  realServers: Map<string, StoredRealServer>;
}

/** One write the fake accepted, in order (see `writes`). */
export interface FakeWrite {
  readonly op: IpvsOp['op'] | 'flush' | 'set-timeouts' | 'zero';
  readonly object: string;
}

const persistenceEngines = new Set(['sip']);

function canonicalVs<T extends VirtualServerId>(vs: T, op: string): T {
  if (vs.fwmark !== null) return { ...vs, protocol: null, address: null, port: null };
  try {
    return { ...vs, address: canonicalAddress(vs.family, vs.address ?? '') };
  } catch {
    throw new KernelError('EINVAL', op, virtualServerKey(vs), 'bad address');
  }
}

function canonicalRs<T extends RealServerId>(rs: T, op: string, object: string): T {
  try {
    return { ...rs, address: canonicalAddress(rs.family, rs.address) };
  } catch {
    throw new KernelError('EINVAL', op, object, 'bad address');
  }
}

/**
 * In-memory kernel model of IPVS. Same errors as the kernel: EEXIST on adding an
 * existing object, ESRCH for a missing virtual server, ENOENT for a missing real
 * server, unknown scheduler or persistence engine, EINVAL for a bad netmask,
 * address or family mix, ERANGE for a bad weight or thresholds. Listing is
 * sorted by key, so it is deterministic.
 */
export class FakeIpvs implements IpvsClient {
  private readonly table = new Map<string, StoredVirtualServer>();
  private timeouts: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  private readonly log: FakeWrite[] = [];
  /** When set, every call rejects with this error (to test failure handling). */
  failWith: KernelError | null = null;

  /** Every accepted write so far; `writes.slice(mark)` gives those since `mark = writes.length`. */
  get writes(): readonly FakeWrite[] {
    return this.log;
  }

  /**
   * Sets the connection counters of a real server, as traffic would. Throws
   * ESRCH/ENOENT if the virtual or real server does not exist.
   */
  setConnections(vs: VirtualServerId, rs: RealServerId, counts: { active?: number; inactive?: number; persistent?: number }): void {
    const stored = this.realServer(vs, rs, 'set connections');
    if (counts.active !== undefined) stored.active = counts.active;
    if (counts.inactive !== undefined) stored.inactive = counts.inactive;
    if (counts.persistent !== undefined) stored.persistent = counts.persistent;
  }

  /** Sets the traffic counters of a virtual server (and optionally one real server). */
  setStats(vs: VirtualServerId, stats: Partial<Stats>, rs?: RealServerId): void {
    if (rs) {
      const stored = this.realServer(vs, rs, 'set stats');
      stored.stats = { ...stored.stats, ...stats };
    } else {
      const stored = this.virtualServer(vs, 'set stats');
      stored.stats = { ...stored.stats, ...stats };
    }
  }

  info(): Promise<IpvsInfo> {
    return this.guard(() => ({ version: '1.2.1', connectionTableSize: 4096 }));
  }

  getTimeouts(): Promise<Timeouts> {
    return this.guard(() => ({ ...this.timeouts }));
  }

  setTimeouts(t: Partial<Timeouts>): Promise<void> {
    return this.guard(() => {
      this.timeouts = {
        tcp: t.tcp || this.timeouts.tcp,
        tcpFin: t.tcpFin || this.timeouts.tcpFin,
        udp: t.udp || this.timeouts.udp,
      };
      this.log.push({ op: 'set-timeouts', object: '' });
    });
  }

  listVirtualServers(): Promise<VirtualServerStatus[]> {
    return this.guard(() => [...this.table.keys()].sort().map((k) => {
      const s = this.table.get(k)!;
      return { ...s.vs, stats: { ...s.stats } };
    }));
  }

  async listVirtualServerSettings(): Promise<VirtualServer[]> {
    return (await this.listVirtualServers()).map(({ stats: _stats, ...vs }) => vs);
  }

  getVirtualServer(id: VirtualServerId): Promise<VirtualServerStatus> {
    return this.guard(() => {
      const s = this.virtualServer(id, 'get virtual server');
      return { ...s.vs, stats: { ...s.stats } };
    });
  }

  addVirtualServer(vs: VirtualServer): Promise<void> {
    return this.guard(() => this.write({ op: 'add-virtual-server', virtualServer: vs }));
  }

  updateVirtualServer(vs: VirtualServer): Promise<void> {
    return this.guard(() => this.write({ op: 'update-virtual-server', virtualServer: vs }));
  }

  deleteVirtualServer(id: VirtualServerId): Promise<void> {
    return this.guard(() => this.write({ op: 'delete-virtual-server', virtualServer: id }));
  }

  listRealServers(vs: VirtualServerId): Promise<RealServerStatus[]> {
    return this.guard(() => {
      // The kernel's destination dump answers nothing (not ESRCH) for a missing virtual server.
      const s = this.table.get(virtualServerKey(canonicalVs(vs, 'list real servers')));
      if (!s) return [];
      return [...s.realServers.keys()].sort().map((k) => {
        const r = s.realServers.get(k)!;
        return {
          ...r.rs, activeConnections: r.active, inactiveConnections: r.inactive,
          persistentConnections: r.persistent, stats: { ...r.stats },
        };
      });
    });
  }

  async listRealServerConnections(vs: VirtualServerId): Promise<RealServerConnections[]> {
    return (await this.listRealServers(vs)).map(({ stats: _stats, ...rs }) => rs);
  }

  addRealServer(vs: VirtualServerId, rs: RealServer): Promise<void> {
    return this.guard(() => this.write({ op: 'add-real-server', virtualServer: vs, realServer: rs }));
  }

  updateRealServer(vs: VirtualServerId, rs: RealServer): Promise<void> {
    return this.guard(() => this.write({ op: 'update-real-server', virtualServer: vs, realServer: rs }));
  }

  deleteRealServer(vs: VirtualServerId, rs: RealServerId): Promise<void> {
    return this.guard(() => this.write({ op: 'delete-real-server', virtualServer: vs, realServer: rs }));
  }

  flush(): Promise<void> {
    return this.guard(() => {
      this.table.clear();
      this.log.push({ op: 'flush', object: '' });
    });
  }

  zero(vs?: VirtualServerId): Promise<void> {
    return this.guard(() => {
      const targets = vs ? [this.virtualServer(vs, 'zero')] : [...this.table.values()];
      for (const t of targets) {
        t.stats = zeroStats;
        for (const r of t.realServers.values()) r.stats = zeroStats;
      }
      this.log.push({ op: 'zero', object: vs ? virtualServerKey(vs) : '' });
    });
  }

  apply(ops: readonly IpvsOp[]): Promise<OpResult[]> {
    return this.guard(() => applyEach(ops, (op) => this.write(op)));
  }

  close(): void {
    // Nothing to release.
  }

  private guard<T>(fn: () => T): Promise<T> {
    return fakeCall(this.failWith, fn);
  }

  private virtualServer(id: VirtualServerId, op: string): StoredVirtualServer {
    const key = virtualServerKey(canonicalVs(id, op));
    const s = this.table.get(key);
    if (!s) throw new KernelError('ESRCH', op, key);
    return s;
  }

  private realServer(vs: VirtualServerId, rs: RealServerId, op: string): StoredRealServer {
    const s = this.virtualServer(vs, op);
    const object = `${virtualServerKey(vs)} -> ${realServerKey(rs)}`;
    const r = s.realServers.get(realServerKey(canonicalRs(rs, op, object)));
    if (!r) throw new KernelError('ENOENT', op, object);
    return r;
  }

  private checkVirtualServer(vs: VirtualServer, op: string): void {
    const key = virtualServerKey(vs);
    if (!(schedulers as readonly string[]).includes(vs.scheduler)) throw new KernelError('ENOENT', op, key, `no scheduler ${vs.scheduler}`);
    if (vs.persistenceEngine && !persistenceEngines.has(vs.persistenceEngine)) {
      throw new KernelError('ENOENT', op, key, `no persistence engine ${vs.persistenceEngine}`);
    }
    // The kernel checks the IPv6 prefix length (1..128); an IPv4 mask is taken as given.
    if (vs.family === 'inet6' && vs.persistence && (vs.persistence.prefixLength < 1 || vs.persistence.prefixLength > 128)) {
      throw new KernelError('EINVAL', op, key, 'netmask out of range');
    }
  }

  private checkRealServer(vs: VirtualServer, rs: RealServer, op: string, object: string): void {
    // Mixed families are only forwardable through a tunnel.
    if (rs.family !== vs.family && rs.forward !== 'tunnel') throw new KernelError('EINVAL', op, object, 'family mix needs tunnel');
    if (rs.weight < 0 || rs.weight > 0x7fffffff) throw new KernelError('ERANGE', op, object, 'weight');
    if (rs.lowerThreshold > rs.upperThreshold) throw new KernelError('ERANGE', op, object, 'lower threshold above upper');
    if (rs.forward === 'tunnel' && rs.tunnel?.type === 'gue' && rs.tunnel.port === 0) {
      throw new KernelError('EINVAL', op, object, 'GUE tunnel needs a port');
    }
  }

  private write(op: IpvsOp): void {
    const name = op.op.replace(/-/g, ' ');
    const vsId = canonicalVs(op.virtualServer, name);
    const key = virtualServerKey(vsId);
    switch (op.op) {
      case 'add-virtual-server': {
        const vs = { ...(vsId as VirtualServer), flags: (vsId as VirtualServer).flags & vsFlagMask };
        if (this.table.has(key)) throw new KernelError('EEXIST', name, key);
        this.checkVirtualServer(vs, name);
        this.table.set(key, { vs, stats: zeroStats, realServers: new Map() });
        break;
      }
      case 'update-virtual-server': {
        const s = this.virtualServer(vsId, name);
        const vs = { ...(vsId as VirtualServer), flags: (vsId as VirtualServer).flags & vsFlagMask };
        this.checkVirtualServer(vs, name);
        s.vs = vs;
        break;
      }
      case 'delete-virtual-server':
        this.virtualServer(vsId, name);
        this.table.delete(key);
        break;
      case 'add-real-server': case 'update-real-server': {
        const s = this.virtualServer(vsId, name);
        const object = `${key} -> ${realServerKey(op.realServer)}`;
        const rs: RealServer = {
          ...canonicalRs(op.realServer, name, object),
          tunnel: op.realServer.forward === 'tunnel' ? (op.realServer.tunnel ?? { type: 'ipip', port: 0, flags: 0 }) : null,
        };
        const rsKey = realServerKey(rs);
        const existing = s.realServers.get(rsKey);
        if (op.op === 'add-real-server' && existing) throw new KernelError('EEXIST', name, object);
        if (op.op === 'update-real-server' && !existing) throw new KernelError('ENOENT', name, object);
        this.checkRealServer(s.vs, rs, name, object);
        if (existing) existing.rs = rs;
        else s.realServers.set(rsKey, { rs, active: 0, inactive: 0, persistent: 0, stats: zeroStats });
        break;
      }
      case 'delete-real-server': {
        const s = this.virtualServer(vsId, name);
        const object = `${key} -> ${realServerKey(op.realServer)}`;
        const rsKey = realServerKey(canonicalRs(op.realServer, name, object));
        if (!s.realServers.delete(rsKey)) throw new KernelError('ENOENT', name, object);
        break;
      }
    }
    this.log.push({ op: op.op, object: 'realServer' in op ? `${key} -> ${realServerKey(op.realServer)}` : key });
  }
}
