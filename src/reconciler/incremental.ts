// The desired state kept up to date one Service port at a time. A partial sync
// recomputes only the ports that changed and yields the difference: virtual
// servers to write or remove, set entries and addresses whose presence changed,
// and the iptables payload if it changed. Cost: O(changed ports), not O(cluster).
// Aggregates are reference-counted because several ports may contribute the
// same entry (two Services with one external IP, node ports in bitmap sets...).

import type { ProxyConfig } from '../config/types.ts';
import type { IpSet } from '../ipset/types.ts';
import { compareStrings } from '../model/compare.ts';
import { parseCidr } from '../model/ip.ts';
import type { LocalNode } from '../model/node.ts';
import type { ClusterSnapshot, Endpoint, IpFamily, ServicePort, Warning } from '../model/types.ts';
import { buildPortState, dedupeWarnings, type PortState, portVirtualServer } from './build.ts';
import { type OutFilterEntry, buildIptablesPayload, jumpRules } from './iptables.ts';
import { type FamilyNodeIPs, familyNodeIPs } from './node-ips.ts';
import { type BaseSetName, SetName, setInfos, setName } from './sets.ts';
import type { DesiredState, DesiredVirtualServer, FamilyState, IptablesPayload, ServicePortContribution, SetEntry } from './types.ts';
import { type PackedVirtualServer, samePackedVirtualServer } from './packed-virtual-server.ts';
import { VirtualServerOwners } from './vs-owners.ts';

/** What a partial sync must write in one family. */
export interface FamilyDelta {
  readonly family: IpFamily;
  /** Virtual servers whose desired value changed: the new value, or null when it must go. */
  readonly virtualServers: ReadonlyMap<string, DesiredVirtualServer | null>;
  readonly setAdds: readonly SetEntry[];
  readonly setDels: readonly SetEntry[];
  readonly addressAdds: readonly string[];
  readonly addressDels: readonly string[];
  /** The payload after the change; `iptablesChanged` says whether it differs from before. */
  readonly iptables: IptablesPayload;
  readonly iptablesChanged: boolean;
}

/** Where the index reads Service ports and endpoints (a ClusterState, or a snapshot). */
export interface PortSource {
  servicePorts(key: string): readonly ServicePort[];
  endpointsOf(family: IpFamily, key: string): readonly Endpoint[];
}

/** The per-family aggregates. */
class FamilyIndex {
  readonly family: IpFamily;
  readonly nodeIPs: FamilyNodeIPs;
  readonly ports = new Map<string, PortState>();
  /** vsKey → contributing ports; the greatest port key wins (as in the full build). */
  readonly vsOwners = new VirtualServerOwners<PortState>();
  /** set name → entry → reference count. */
  readonly setRefs = new Map<string, Map<string, number>>();
  readonly addrRefs = new Map<string, number>();
  readonly outFilterRefs = new Map<string, { entry: OutFilterEntry; count: number }>();
  payload: IptablesPayload;
  private readonly baseOfName = new Map<string, BaseSetName>();
  private readonly node: LocalNode;
  private readonly config: ProxyConfig;

  constructor(family: IpFamily, node: LocalNode, config: ProxyConfig) {
    this.family = family;
    this.node = node;
    this.config = config;
    this.nodeIPs = familyNodeIPs(config, node, family);
    for (const info of setInfos) {
      const name = setName(info.base, family);
      this.setRefs.set(name, new Map());
      this.baseOfName.set(name, info.base);
    }
    this.payload = this.buildPayload();
  }

  buildPayload(): IptablesPayload {
    const outFilter = [...this.outFilterRefs.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, v]) => v.entry);
    return buildIptablesPayload({
      family: this.family,
      nonEmpty: (base) => (this.setRefs.get(setName(base, this.family))?.size ?? 0) > 0,
      outFilter,
    }, this.config, this.node);
  }

  winner(vsKey: string): PackedVirtualServer | undefined {
    const owner = this.vsOwners.winner(vsKey);
    return owner && portVirtualServer(owner, vsKey);
  }

  /** Adds (sign 1) or removes (sign -1) a port's contribution. */
  account(ps: PortState, sign: 1 | -1, touched: Touched): void {
    for (const vsKey of ps.vsKeys) {
      if (!touched.vs.has(vsKey)) touched.vs.set(vsKey, this.winner(vsKey));
      if (sign > 0) this.vsOwners.add(vsKey, ps); else this.vsOwners.remove(vsKey, ps.key);
    }
    for (const e of ps.setEntries) this.refEntry(e.set, e.entry, sign, touched);
    for (const a of ps.addresses) {
      const id = a;
      if (!touched.addresses.has(id)) touched.addresses.set(id, (this.addrRefs.get(a) ?? 0) > 0);
      const n = (this.addrRefs.get(a) ?? 0) + sign;
      if (n > 0) this.addrRefs.set(a, n); else this.addrRefs.delete(a);
      // KUBE-IPVS-IPS holds exactly the bound addresses.
      this.refEntry(setName(SetName.IpvsIPs, this.family), a, sign, touched);
    }
    for (const [k, entry] of ps.outFilter) {
      const cur = this.outFilterRefs.get(k);
      const n = (cur?.count ?? 0) + sign;
      if (n > 0) this.outFilterRefs.set(k, { entry, count: n }); else this.outFilterRefs.delete(k);
      touched.outFilter = true;
    }
  }

  private refEntry(set: string, entry: string, sign: 1 | -1, touched: Touched): void {
    const refs = this.setRefs.get(set);
    if (!refs) return;
    const id = `${set}\u0000${entry}`;
    if (!touched.entries.has(id)) touched.entries.set(id, { set, entry, before: (refs.get(entry) ?? 0) > 0 });
    const wasEmpty = refs.size === 0;
    const n = (refs.get(entry) ?? 0) + sign;
    if (n > 0) refs.set(entry, n); else refs.delete(entry);
    if (wasEmpty !== (refs.size === 0)) touched.nonEmptyChanged = true;
  }

  materialize(): FamilyState {
    const vsFamily = this.family === 'IPv4' ? 'inet' : 'inet6';
    const virtualServers = new Map<string, DesiredVirtualServer>();
    for (const key of [...this.vsOwners.keys()].sort(compareStrings)) virtualServers.set(key, this.winner(key)!);
    const ipsets: IpSet[] = setInfos.map((info) => {
      const name = setName(info.base, this.family);
      return { name, type: info.type, family: vsFamily, entries: [...(this.setRefs.get(name)?.keys() ?? [])].sort(compareStrings) };
    });
    const healthCheckNodePorts = new Map<string, number>();
    const noLocalInternal = new Set<string>();
    const noLocalExternal = new Set<string>();
    const byServicePort = new Map<string, ServicePortContribution>();
    for (const key of [...this.ports.keys()].sort(compareStrings)) {
      const ps = this.ports.get(key)!;
      if (ps.healthCheckNodePort !== 0) healthCheckNodePorts.set(ps.service, ps.healthCheckNodePort);
      if (ps.noLocalInternal) noLocalInternal.add(ps.service);
      if (ps.noLocalExternal) noLocalExternal.add(ps.service);
      byServicePort.set(key, { virtualServers: ps.vsKeys, setEntries: ps.setEntries, addresses: ps.addresses });
    }
    return {
      family: this.family,
      virtualServers,
      ipsets,
      addresses: [...this.addrRefs.keys()].sort(compareStrings),
      iptables: this.payload,
      jumpRules,
      healthCheckNodePorts,
      noLocalEndpoints: { internal: noLocalInternal.size, external: noLocalExternal.size },
      excludeCIDRs: this.config.ipvs.excludeCIDRs.filter((c) => parseCidr(c)?.family === this.family),
      byServicePort,
    };
  }
}

interface Touched {
  /** vsKey → winner before the change. */
  vs: Map<string, PackedVirtualServer | undefined>;
  /** set\0entry → presence before the change. */
  entries: Map<string, { set: string; entry: string; before: boolean }>;
  /** address → bound before the change. */
  addresses: Map<string, boolean>;
  outFilter: boolean;
  nonEmptyChanged: boolean;
}

/**
 * The desired state of a node, maintained incrementally. `rebuild` computes
 * everything (full syncs); `update` recomputes the given ServicePort keys and
 * returns what changed (partial syncs). After any sequence of updates,
 * `current()` equals `buildDesiredState` over the same snapshot. Pure: no I/O,
 * no clock; never throws.
 */
export class DesiredStateIndex {
  private families: FamilyIndex[] = [];
  private readonly node: LocalNode;
  private readonly config: ProxyConfig;

  constructor(node: LocalNode, config: ProxyConfig) {
    this.node = node;
    this.config = config;
    this.reset();
  }

  private reset(): void {
    this.families = this.node.ipFamilies.map((f) => new FamilyIndex(f, this.node, this.config));
  }

  /** Recomputes everything from a snapshot and returns the whole desired state. */
  rebuild(snapshot: ClusterSnapshot): DesiredState {
    this.reset();
    const warnings: Warning[] = [];
    for (const fi of this.families) {
      const touched = newTouched();
      for (const sp of snapshot.servicePorts) {
        if (sp.family !== fi.family) continue;
        const ps = buildPortState(sp, snapshot.endpoints[fi.family].get(sp.key) ?? [], this.node, this.config, fi.nodeIPs);
        warnings.push(...ps.warnings);
        fi.ports.set(sp.key, ps);
        fi.account(ps, 1, touched);
      }
      fi.payload = fi.buildPayload();
    }
    return { families: this.families.map((f) => f.materialize()), warnings: dedupeWarnings(warnings) };
  }

  /**
   * Recomputes the ports with these keys (in every family) from `source`, and
   * returns per family what must be written. Keys of ports that no longer exist
   * remove their contribution.
   */
  update(source: PortSource, keys: Iterable<string>): { deltas: FamilyDelta[]; warnings: Warning[] } {
    const warnings: Warning[] = [];
    const keyList = [...new Set(keys)];
    const deltas = this.families.map((fi) => {
      const touched = newTouched();
      for (const key of keyList) {
        const old = fi.ports.get(key);
        if (old) {
          fi.account(old, -1, touched);
          fi.ports.delete(key);
        }
        for (const sp of source.servicePorts(key)) {
          if (sp.family !== fi.family) continue;
          const ps = buildPortState(sp, source.endpointsOf(fi.family, key), this.node, this.config, fi.nodeIPs);
          warnings.push(...ps.warnings);
          fi.ports.set(key, ps);
          fi.account(ps, 1, touched);
        }
      }
      return delta(fi, touched);
    });
    return { deltas, warnings: dedupeWarnings(warnings) };
  }

  /** The whole desired state as it stands (O(cluster)). */
  current(): DesiredState {
    return { families: this.families.map((f) => f.materialize()), warnings: [] };
  }
}

function newTouched(): Touched {
  return { vs: new Map(), entries: new Map(), addresses: new Map(), outFilter: false, nonEmptyChanged: false };
}

function delta(fi: FamilyIndex, touched: Touched): FamilyDelta {
  const virtualServers = new Map<string, DesiredVirtualServer | null>();
  for (const [key, before] of touched.vs) {
    const after = fi.winner(key);
    if (!samePackedVirtualServer(before, after)) virtualServers.set(key, after ?? null);
  }
  const setAdds: SetEntry[] = [];
  const setDels: SetEntry[] = [];
  for (const t of touched.entries.values()) {
    const after = (fi.setRefs.get(t.set)?.get(t.entry) ?? 0) > 0;
    if (after && !t.before) setAdds.push({ set: t.set, entry: t.entry });
    if (!after && t.before) setDels.push({ set: t.set, entry: t.entry });
  }
  const addressAdds: string[] = [];
  const addressDels: string[] = [];
  for (const [a, before] of touched.addresses) {
    const after = (fi.addrRefs.get(a) ?? 0) > 0;
    if (after && !before) addressAdds.push(a);
    if (!after && before) addressDels.push(a);
  }
  let iptablesChanged = false;
  if (touched.nonEmptyChanged || touched.outFilter) {
    const next = fi.buildPayload();
    iptablesChanged = next.nat !== fi.payload.nat || next.filter !== fi.payload.filter;
    fi.payload = next;
  }
  return { family: fi.family, virtualServers, setAdds, setDels, addressAdds, addressDels, iptables: fi.payload, iptablesChanged };
}
