// SPDX-License-Identifier: Apache-2.0
import type { Logger } from 'pino';
import { KernelError } from '../netlink/errors.ts';
import { type ApplyResult, countOps } from '../sync/apply-result.ts';
import type { NetifClient } from './client.ts';
import { type BoundAddress, type DesiredAddresses, boundKey, diffAddresses, hostAddressAnyFamily } from './diff.ts';
import { type SysctlClient, sameSysctlValue } from './sysctl.ts';
import { kubeProxySysctls } from './sysctl-settings.ts';
import { type AddressFamily, type Link, type NetifOp, kubeIpvsLink } from './types.ts';

/** What the interface and kernel settings must be. */
export interface NetifDesired {
  /** Addresses to bind on kube-ipvs0, per family the proxier runs; absent families are left alone. */
  readonly addresses: DesiredAddresses;
  /** kube-proxy's ipvs.strictARP: also set arp_ignore=1 and arp_announce=2. */
  readonly strictARP: boolean;
}

export interface NetifApplierOptions {
  readonly client: NetifClient;
  readonly sysctl: SysctlClient;
  readonly logger: Logger;
  /** The dummy link (default kube-ipvs0; tests use their own). */
  readonly linkName?: string;
}

/** Counters of one apply, turned into an ApplyResult at the end. */
class Tally {
  readonly ops: string[] = [];
  readonly errors: Error[] = [];
  repaired = 0;

  result(): ApplyResult {
    return { subsystem: 'netif', writes: this.ops.length, ops: countOps(this.ops), repaired: this.repaired, errors: this.errors };
  }
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof KernelError && err.code === code;
}

/**
 * Keeps kube-ipvs0 and kube-proxy's IPVS sysctls as desired, writing only what
 * differs. Full syncs read the link, its addresses and the sysctls and repair
 * drift (counted in `repaired` against what this applier last left in the
 * kernel); partial syncs write address changes from its own cache without a
 * kernel read. Like kube-proxy it leaves kube-ipvs0 down: addresses on a down
 * dummy are local all the same (verified in the sandbox for IPv4 and IPv6).
 */
export class NetifApplier {
  private readonly client: NetifClient;
  private readonly sysctl: SysctlClient;
  private readonly log: Logger;
  private readonly linkName: string;
  /** ifindex of the link as last seen; null until a sync found or made it. */
  private linkIndex: number | null = null;
  /** boundKey → address, as we believe the kernel holds them (managed families); null until a full sync. */
  private bound: Map<string, BoundAddress> | null = null;
  /** Sysctl path → value we ensured. */
  private readonly ensured = new Map<string, string>();
  private kernelRelease: string | null = null;
  /** Messages already logged once (notes, failed checks), so periodic syncs do not repeat them. */
  private readonly said = new Set<string>();

  constructor(opts: NetifApplierOptions) {
    this.client = opts.client;
    this.sysctl = opts.sysctl;
    this.linkName = opts.linkName ?? kubeIpvsLink;
    this.log = opts.logger.child({ component: 'applier', subsystem: 'netif' });
  }

  /** True once a full sync succeeded (partial syncs then skip what is known to be bound). */
  get ready(): boolean {
    return this.bound !== null;
  }

  /**
   * Full sync: ensures the sysctls (writing those that differ), ensures the
   * dummy link, reads its addresses and adds/deletes the difference in one
   * batch. A sysctl or address write the kernel refuses goes into `errors`;
   * rejects with the `KernelError` when the link cannot be read or created or
   * its addresses cannot be listed (the next sync must then be full again).
   */
  async applyFull(desired: NetifDesired): Promise<ApplyResult> {
    const t = new Tally();
    await this.ensureSysctls(desired.strictARP, t);
    const link = await this.ensureLink(t);
    const observed = await this.client.listAddresses({ ifindex: link.index });
    const diff = diffAddresses(desired.addresses, observed);
    for (const text of diff.invalid) this.once(`invalid ${text}`, () => this.log.warn({ address: text }, 'not an address of its family; not bound'));
    const before = this.bound;
    if (before) {
      // Drift: what we had bound and someone removed, and what someone else bound.
      t.repaired += diff.adds.filter((a) => before.has(boundKey(a))).length;
      t.repaired += diff.deletes.filter((a) => !before.has(boundKey(a))).length;
    }
    const managed = new Set<AddressFamily>(Object.keys(desired.addresses).map((f) => (f === 'IPv4' ? 'inet' : 'inet6')));
    const now = new Map<string, BoundAddress>();
    for (const o of observed) {
      const a = { family: o.family, address: o.address, prefixLength: o.prefixLength };
      if (managed.has(a.family)) now.set(boundKey(a), a);
    }
    await this.write(link.index, diff.adds, diff.deletes, now, t);
    this.bound = now;
    return t.result();
  }

  /**
   * Partial sync: binds `adds` and unbinds `deletes` (address text, either
   * family) without reading the kernel, skipping what the cache says is
   * already so. An address in both lists is bound. Refused writes go into
   * `errors`; rejects with `ENODEV` when the link is not known and absent.
   */
  async applyDelta(adds: readonly string[], deletes: readonly string[]): Promise<ApplyResult> {
    const t = new Tally();
    const index = this.linkIndex ?? (await this.client.getLink(this.linkName)).index;
    this.linkIndex = index;
    const parse = (texts: readonly string[]): BoundAddress[] => texts.flatMap((text) => {
      const a = hostAddressAnyFamily(text);
      if (!a) t.errors.push(new KernelError('EINVAL', 'bind address', text, 'not an IP address'));
      return a ? [a] : [];
    });
    const bound = this.bound ?? new Map<string, BoundAddress>();
    const addKeys = new Set<string>();
    const toAdd = parse(adds).filter((a) => {
      addKeys.add(boundKey(a));
      return this.bound === null || !bound.has(boundKey(a));
    });
    const toDelete = parse(deletes).filter((a) => !addKeys.has(boundKey(a)) && (this.bound === null || bound.has(boundKey(a))));
    await this.write(index, toAdd, toDelete, bound, t);
    if (this.bound) this.bound = bound;
    return t.result();
  }

  /**
   * Deletes the dummy link (and so every address on it), as kube-proxy's
   * cleanup does; nothing to do if it is absent. A link of that name that is
   * not a dummy is left alone and reported in `errors`. Sysctls are left as they are.
   */
  async cleanup(): Promise<ApplyResult> {
    const t = new Tally();
    this.linkIndex = null;
    this.bound = null;
    let link: Link;
    try {
      link = await this.client.getLink(this.linkName);
    } catch (err) {
      if (isCode(err, 'ENODEV')) return t.result();
      throw err;
    }
    if (link.kind !== 'dummy') {
      t.errors.push(new KernelError('EOPNOTSUPP', 'delete link', this.linkName, `not a dummy link (kind ${link.kind ?? 'none'}); left alone`));
      return t.result();
    }
    try {
      await this.client.deleteLink(this.linkName);
      t.ops.push('delete-link');
    } catch (err) {
      if (!isCode(err, 'ENODEV')) throw err;
    }
    return t.result();
  }

  private async ensureLink(t: Tally): Promise<Link> {
    try {
      const link = await this.client.getLink(this.linkName);
      if (this.linkIndex !== null && link.index !== this.linkIndex) t.repaired++; // deleted and re-created by someone
      if (link.kind !== 'dummy') this.once(`kind ${link.kind}`, () => this.log.warn({ link: this.linkName, kind: link.kind }, 'link is not a dummy; using it anyway, as kube-proxy does'));
      this.linkIndex = link.index;
      return link;
    } catch (err) {
      if (!isCode(err, 'ENODEV')) throw err;
    }
    // kube-proxy's EnsureDummyDevice: create it when missing, every sync.
    try {
      await this.client.addDummyLink(this.linkName);
      t.ops.push('add-link');
      if (this.linkIndex !== null) t.repaired++;
      this.log.debug({ link: this.linkName }, 'created link');
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw err; // made by someone else since we looked
    }
    const link = await this.client.getLink(this.linkName);
    this.linkIndex = link.index;
    return link;
  }

  /** Adds then deletes in one batch; updates `bound` with what took effect. */
  private async write(index: number, adds: readonly BoundAddress[], deletes: readonly BoundAddress[], bound: Map<string, BoundAddress>, t: Tally): Promise<void> {
    const ops: NetifOp[] = [
      ...adds.map((a): NetifOp => ({ op: 'add-address', address: { ...a, ifindex: index } })),
      ...deletes.map((a): NetifOp => ({ op: 'delete-address', address: { ...a, ifindex: index } })),
    ];
    if (ops.length === 0) return;
    const results = await this.client.apply(ops);
    for (const { op, error } of results) {
      const a = { family: op.address.family, address: op.address.address, prefixLength: op.address.prefixLength };
      // EEXIST on add and EADDRNOTAVAIL on delete: already as desired (someone was faster); no write.
      const settled = error === null || (op.op === 'add-address' ? isCode(error, 'EEXIST') : isCode(error, 'EADDRNOTAVAIL'));
      if (!settled) {
        t.errors.push(error);
        this.log.warn({ op: op.op, address: a.address, err: error }, 'address write refused');
        continue;
      }
      if (op.op === 'add-address') bound.set(boundKey(a), a);
      else bound.delete(boundKey(a));
      if (error === null) {
        t.ops.push(op.op);
        this.log.debug({ op: op.op, address: a.address }, 'address written');
      }
    }
  }

  private async release(t: Tally): Promise<string> {
    if (this.kernelRelease !== null) return this.kernelRelease;
    try {
      this.kernelRelease = await this.sysctl.read('kernel/osrelease');
    } catch (err) {
      t.errors.push(err as Error);
      return '';
    }
    return this.kernelRelease;
  }

  private async ensureSysctls(strictARP: boolean, t: Tally): Promise<void> {
    const plan = kubeProxySysctls({ kernelRelease: await this.release(t), strictARP });
    for (const note of plan.notes) this.once(note, () => this.log.info({ note }, 'sysctl left alone'));
    for (const s of plan.settings) {
      try {
        const current = await this.sysctl.read(s.path);
        if (sameSysctlValue(current, s.value)) {
          this.ensured.set(s.path, s.value);
          continue;
        }
        await this.sysctl.write(s.path, s.value);
        t.ops.push('write-sysctl');
        if (this.ensured.get(s.path) === s.value) t.repaired++;
        this.ensured.set(s.path, s.value);
        this.log.info({ sysctl: s.path, from: current, to: s.value, reason: s.reason }, 'sysctl set');
      } catch (err) {
        t.errors.push(err as Error);
        this.log.error({ sysctl: s.path, err }, 'cannot ensure sysctl');
      }
    }
    for (const c of plan.checks) {
      let current: string;
      try {
        current = await this.sysctl.read(c.path);
      } catch (err) {
        // ENOENT: br_netfilter not loaded, so nothing is bridged through iptables to check.
        if (!isCode(err, 'ENOENT')) this.once(`check ${c.path}`, () => this.log.warn({ sysctl: c.path, err }, 'cannot read sysctl'));
        continue;
      }
      if (!sameSysctlValue(current, c.expected)) {
        this.once(`check ${c.path}=${current}`, () => this.log.warn({ sysctl: c.path, value: current, expected: c.expected, reason: c.reason }, 'sysctl differs from what Kubernetes needs'));
      }
    }
  }

  private once(key: string, say: () => void): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    say();
  }
}
