// The ClusterIPs and NodePorts that stored Services hold, counted per value and
// kept current from the store's writes, so admission asks "does another Service
// hold this?" in O(1) instead of scanning every Service per create (which made
// seeding 10,000 Services quadratic). Pure: no I/O, no clock.
//
// Values are counted, not just set: the server accepts an explicit ClusterIP or
// NodePort that another Service already has (as it always has), so one value may
// have several holders, and deleting one of them must not free it.

import { isIP } from 'node:net';
import type { Allocation } from './admission.ts';
import { type KubeObject, isJsonObject } from './types.ts';

/** The NodePort range kube-apiserver allocates from by default (`--service-node-port-range`). */
export const nodePortRange = { first: 30000, last: 32767 } as const;

/** What one Service holds: the values admission must not hand to another Service. */
export interface Holdings {
  /** `spec.clusterIPs` when it is a list, else `spec.clusterIP`; strings only ("None" included, harmlessly). */
  readonly clusterIPs: readonly string[];
  /** Every numeric `spec.ports[].nodePort` and `spec.healthCheckNodePort`, repeats kept. */
  readonly nodePorts: readonly number[];
}

/** The values `s` holds (any object; a missing or malformed spec holds nothing). */
export function holdingsOf(s: Readonly<KubeObject>): Holdings {
  const spec = isJsonObject(s.spec) ? s.spec : {};
  const clusterIPs: string[] = [];
  for (const ip of Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [spec.clusterIP ?? null]) if (typeof ip === 'string') clusterIPs.push(ip);
  const nodePorts: number[] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) if (isJsonObject(p) && typeof p.nodePort === 'number') nodePorts.push(p.nodePort);
  if (typeof spec.healthCheckNodePort === 'number') nodePorts.push(spec.healthCheckNodePort);
  return { clusterIPs, nodePorts };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Offsets 1 .. below `size - 1` from `start`: an IPv4 CIDR without its network and broadcast addresses; an unusable CIDR has none. */
interface IpRange { readonly start: number; readonly size: number }

function parseCidr(cidr: string): IpRange {
  const [base, bits] = cidr.split('/');
  if (!base || isIP(base) !== 4) return { start: 0, size: 0 };
  const size = 2 ** (32 - Number(bits ?? 32));
  return { start: ipv4ToInt(base) - (ipv4ToInt(base) % size), size };
}

function bump<K>(m: Map<K, number>, k: K, by: number): number {
  const n = (m.get(k) ?? 0) + by;
  if (n <= 0) m.delete(k); else m.set(k, n);
  return n;
}

function counts<K>(values: readonly K[]): Map<K, number> {
  const m = new Map<K, number>();
  for (const v of values) bump(m, v, 1);
  return m;
}

/**
 * Counts of the ClusterIPs and NodePorts held by the stored Services, by
 * object key, with lowest-free allocation over them. Feed it every write of a
 * Service (`set`); it keeps each key's holdings as they were when set, so
 * later changes to the object itself cannot unbalance the counts.
 */
export class ServiceAllocations {
  private readonly byKey = new Map<string, Holdings>();
  private readonly ips = new Map<string, number>();
  private readonly ports = new Map<number, number>();
  private readonly range: IpRange;
  // Every ClusterIP offset in [1, ipHint) and NodePort in [first, portHint) is held:
  // scans start there. Raised lazily by lookups, lowered when a value is freed.
  private ipHint = 1;
  private portHint: number = nodePortRange.first;

  /** `serviceCidr`: the IPv4 CIDR ClusterIPs come from (anything else: every allocation fails as "range is full"). */
  constructor(serviceCidr: string) {
    this.range = parseCidr(serviceCidr);
  }

  /** Records that the Service stored under `key` is now `s` (null: deleted): its old values are released, its new ones taken. */
  set(key: string, s: Readonly<KubeObject> | null): void {
    const before = this.byKey.get(key);
    if (before) {
      for (const ip of before.clusterIPs) if (bump(this.ips, ip, -1) === 0) this.freedIP(ip);
      for (const p of before.nodePorts) if (bump(this.ports, p, -1) === 0) this.freedPort(p);
      this.byKey.delete(key);
    }
    if (!s) return;
    const h = holdingsOf(s);
    for (const ip of h.clusterIPs) bump(this.ips, ip, 1);
    for (const p of h.nodePorts) bump(this.ports, p, 1);
    this.byKey.set(key, h);
  }

  private freedPort(p: number): void {
    if (Number.isInteger(p) && p >= nodePortRange.first && p < this.portHint) this.portHint = p;
  }

  private freedIP(ip: string): void {
    const off = this.ipOffset(ip);
    if (off !== undefined && off < this.ipHint) this.ipHint = off;
  }

  /** The offset of `ip` in the range when it is an address allocation could return (canonical text, inside, not network/broadcast). */
  private ipOffset(ip: string): number | undefined {
    if (isIP(ip) !== 4) return undefined;
    const off = ipv4ToInt(ip) - this.range.start;
    if (!Number.isInteger(off) || off < 1 || !(off < this.range.size - 1) || intToIpv4(this.range.start + off) !== ip) return undefined;
    return off;
  }

  /** How many stored Services hold `ip`. */
  clusterIPHolders(ip: string): number {
    return this.ips.get(ip) ?? 0;
  }

  /** How many times stored Services hold NodePort `port`. */
  nodePortHolders(port: number): number {
    return this.ports.get(port) ?? 0;
  }

  /**
   * What admission sees when writing the object under `key` (null: count
   * everything): all values held except those the Service now stored under
   * `key` holds, so an update never conflicts with its own values. O(values of
   * that Service) to build; valid until the next `set`.
   */
  except(key: string | null): Allocation {
    const own = (key === null ? undefined : this.byKey.get(key)) ?? { clusterIPs: [], nodePorts: [] };
    const ownIPs = counts(own.clusterIPs);
    const ownPorts = counts(own.nodePorts);
    const ipHeld = (ip: string): boolean => (this.ips.get(ip) ?? 0) > (ownIPs.get(ip) ?? 0);
    const portHeld = (p: number): boolean => (this.ports.get(p) ?? 0) > (ownPorts.get(p) ?? 0);
    return {
      freeClusterIP: () => {
        const { start, size } = this.range;
        while (this.ipHint < size - 1 && this.ips.has(intToIpv4(start + this.ipHint))) this.ipHint += 1;
        // Below the hint only values that the Service under `key` alone holds are free for it.
        let from = this.ipHint;
        for (const ip of ownIPs.keys()) {
          const off = this.ipOffset(ip);
          if (off !== undefined && off < from && !ipHeld(ip)) from = off;
        }
        for (let off = from; off < size - 1; off += 1) {
          const ip = intToIpv4(start + off);
          if (!ipHeld(ip)) return ip;
        }
        return undefined;
      },
      freeNodePort: (taken) => {
        while (this.portHint <= nodePortRange.last && this.ports.has(this.portHint)) this.portHint += 1;
        let from = this.portHint;
        for (const p of ownPorts.keys()) if (Number.isInteger(p) && p >= nodePortRange.first && p < from && !portHeld(p)) from = p;
        for (let p = from; p <= nodePortRange.last; p += 1) if (!portHeld(p) && !taken.has(p)) return p;
        return undefined;
      },
    };
  }
}
