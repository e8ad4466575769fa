// buildDesiredState: kube-proxy's IPVS syncProxyRules as a pure function. For
// each family and each Service port it decides the virtual servers and their
// real servers, the ipset entries, the addresses to bind on kube-ipvs0, then
// the iptables payload that depends on which sets are non-empty.

import type { ProxyConfig } from '../config/types.ts';
import { type EntryProtocol, type IpSet, ipPortEntry, ipPortIpEntry, ipPortNetEntry } from '../ipset/types.ts';
import { type Family, type VirtualServer, virtualServerKey } from '../ipvs/types.ts';
import { compareStrings, sortedUnique } from '../model/compare.ts';
import { cidrContains, parseCidr } from '../model/ip.ts';
import { type LocalNode, zoneLabel } from '../model/node.ts';
import { type ClusterSnapshot, type Endpoint, type IpFamily, type ServicePort, type Warning, serviceName } from '../model/types.ts';
import { categorizeEndpoints, isLocal, selectEndpoints } from './endpoints.ts';
import { type OutFilterEntry, buildIptablesPayload, jumpRules } from './iptables.ts';
import { resolveIpvsSettings } from './ipvs-settings.ts';
import { type FamilyNodeIPs, familyNodeIPs } from './node-ips.ts';
import { PackedVirtualServer, RealServerList } from './packed-virtual-server.ts';
import { type BaseSetName, SetName, setInfos, setName } from './sets.ts';
import type { DesiredState, FamilyState, ServicePortContribution, SetEntry } from './types.ts';

/** Mutable accumulators of one family. */
interface FamilyBuild {
  readonly family: IpFamily;
  readonly vsFamily: Family;
  readonly nodeIPs: FamilyNodeIPs;
  readonly sets: Map<BaseSetName, Set<string>>;
  readonly virtualServers: Map<string, PackedVirtualServer>;
  readonly owners: Map<string, string>;
  readonly addresses: Set<string>;
  readonly outFilter: Map<string, OutFilterEntry>;
  readonly noLocalInternal: Set<string>;
  readonly noLocalExternal: Set<string>;
  readonly warnings: Warning[];
}

/** Accumulators of one Service port. */
interface PortBuild {
  readonly sp: ServicePort;
  readonly vsKeys: string[];
  readonly entries: SetEntry[];
  readonly addresses: string[];
}

/** The entries of `set` collected so far, created on first use. */
function setEntries(fb: FamilyBuild, set: BaseSetName): Set<string> {
  let entries = fb.sets.get(set);
  if (!entries) fb.sets.set(set, (entries = new Set()));
  return entries;
}

function addEntry(fb: FamilyBuild, pb: PortBuild, set: BaseSetName, entry: string): void {
  setEntries(fb, set).add(entry);
  pb.entries.push({ set: setName(set, fb.family), entry });
}

function bind(fb: FamilyBuild, pb: PortBuild, address: string): void {
  fb.addresses.add(address);
  if (!pb.addresses.includes(address)) pb.addresses.push(address);
}

/** Builds everything one Service port contributes. */
function buildPort(fb: FamilyBuild, sp: ServicePort, endpoints: readonly Endpoint[], node: LocalNode, config: ProxyConfig): PortBuild {
  const pb: PortBuild = { sp, vsKeys: [], entries: [], addresses: [] };
  const proto = sp.protocol.toLowerCase() as EntryProtocol;
  const settings = resolveIpvsSettings(sp, config, fb.warnings);
  const cat = categorizeEndpoints(endpoints, sp, node.name, node.labels[zoneLabel] ?? '');
  const svc = serviceName(sp);
  const rsCache = new Map<string, RealServerList>();
  const persistence = sp.sessionAffinity
    ? { timeout: sp.sessionAffinity.timeoutSeconds, prefixLength: fb.family === 'IPv4' ? 32 : 128 }
    : null;

  const addVirtualServer = (address: string, port: number, onlyLocal: boolean, external: boolean): void => {
    const vs: VirtualServer = {
      family: fb.vsFamily, protocol: sp.protocol, address, port, fwmark: null,
      scheduler: settings.scheduler, flags: settings.flags, persistence, persistenceEngine: null,
    };
    const sel = selectEndpoints(cat, onlyLocal);
    if (sel.missingLocal) {
      if (sp.internalPolicyLocal) fb.noLocalInternal.add(svc);
      if (sp.externalPolicyLocal) fb.noLocalExternal.add(svc);
    }
    const forward = external ? settings.externalForward : 'masq';
    const cacheKey = `${String(onlyLocal)}/${forward}`;
    let realServers = rsCache.get(cacheKey);
    if (!realServers) {
      // Endpoints are sorted by `ip:port`, which is realServerKey within a family.
      realServers = new RealServerList(fb.vsFamily, forward, external ? settings.externalTunnel : null, sel.endpoints);
      rsCache.set(cacheKey, realServers);
    }
    const key = virtualServerKey(vs);
    const owner = fb.owners.get(key);
    if (owner !== undefined && owner !== sp.key) {
      // kube-proxy lets the last Service port in (random) map order win; we let the last in key order win and say so.
      fb.warnings.push({ object: `Service ${svc}`, field: 'spec', message: `virtual server ${key} is also claimed by ${owner}; using ${sp.key}` });
    }
    fb.owners.set(key, sp.key);
    fb.virtualServers.set(key, new PackedVirtualServer(vs, realServers));
    if (!pb.vsKeys.includes(key)) pb.vsKeys.push(key);
  };

  // Hairpin: every local endpoint, ready or not, is masqueraded when it reaches itself.
  for (const ep of endpoints) {
    if (isLocal(ep, node.name)) addEntry(fb, pb, SetName.LoopBack, ipPortIpEntry(ep.address, proto, ep.port, ep.address));
  }

  addEntry(fb, pb, SetName.ClusterIP, ipPortEntry(sp.clusterIP, proto, sp.port));
  addVirtualServer(sp.clusterIP, sp.port, sp.internalPolicyLocal, false);
  bind(fb, pb, sp.clusterIP);

  for (const ip of sp.externalIPs) {
    addEntry(fb, pb, sp.externalPolicyLocal ? SetName.ExternalIPLocal : SetName.ExternalIP, ipPortEntry(ip, proto, sp.port));
    addVirtualServer(ip, sp.port, sp.externalPolicyLocal, true);
    // An address already on another interface must not be bound to kube-ipvs0 too.
    if (!fb.nodeIPs.nodeAddressSet.has(ip)) bind(fb, pb, ip);
  }

  for (const ip of sp.loadBalancerVIPs) {
    addLoadBalancerEntries(fb, pb, ip, proto);
    addVirtualServer(ip, sp.port, sp.externalPolicyLocal, true);
    if (!fb.nodeIPs.nodeAddressSet.has(ip)) bind(fb, pb, ip);
  }

  if (sp.nodePort !== 0) {
    // No node IP to listen on: kube-proxy skips the rest of the port, health check port included.
    if (fb.nodeIPs.nodePortIPs.length === 0) return pb;
    addNodePortEntries(fb, pb, proto);
    for (const ip of fb.nodeIPs.nodePortIPs) addVirtualServer(ip, sp.nodePort, sp.externalPolicyLocal, false);
  }

  if (sp.healthCheckNodePort !== 0) addEntry(fb, pb, SetName.HealthCheckNodePort, String(sp.healthCheckNodePort));
  return pb;
}

function addLoadBalancerEntries(fb: FamilyBuild, pb: PortBuild, ip: string, proto: EntryProtocol): void {
  const sp = pb.sp;
  const entry = ipPortEntry(ip, proto, sp.port);
  addEntry(fb, pb, SetName.LoadBalancer, entry);
  if (sp.externalPolicyLocal) addEntry(fb, pb, SetName.LoadBalancerLocal, entry);
  if (sp.loadBalancerSourceRanges.length === 0) return;
  addEntry(fb, pb, SetName.LoadBalancerFW, entry);
  let allowFromNode = false;
  for (const text of sp.loadBalancerSourceRanges) {
    addEntry(fb, pb, SetName.LoadBalancerSourceCIDR, ipPortNetEntry(ip, proto, sp.port, text));
    const cidr = parseCidr(text);
    if (cidr && cidrContains(cidr, fb.nodeIPs.primaryIP)) allowFromNode = true;
  }
  if (allowFromNode) {
    // The node reaches its own VIP with the VIP as source (it is bound on kube-ipvs0).
    addEntry(fb, pb, SetName.LoadBalancerSourceIP, ipPortIpEntry(ip, proto, sp.port, ip));
  } else {
    // Source ranges do not cover the node: block the node itself (kubernetes#119656).
    fb.outFilter.set(`${ip}/${proto}/${sp.port}`, { ip, protocol: proto, port: sp.port });
  }
}

function addNodePortEntries(fb: FamilyBuild, pb: PortBuild, proto: EntryProtocol): void {
  const sp = pb.sp;
  const local = sp.externalPolicyLocal;
  if (sp.protocol === 'SCTP') {
    // bitmap:port cannot tell protocols apart, so SCTP uses hash:ip,port with one entry per node IP.
    for (const ip of fb.nodeIPs.nodePortIPs) {
      const entry = ipPortEntry(ip, proto, sp.nodePort);
      addEntry(fb, pb, SetName.NodePortSCTP, entry);
      if (local) addEntry(fb, pb, SetName.NodePortLocalSCTP, entry);
    }
    return;
  }
  const tcp = sp.protocol === 'TCP';
  addEntry(fb, pb, tcp ? SetName.NodePortTCP : SetName.NodePortUDP, String(sp.nodePort));
  if (local) addEntry(fb, pb, tcp ? SetName.NodePortLocalTCP : SetName.NodePortLocalUDP, String(sp.nodePort));
}

const noSetEntries: ReadonlySet<string> = new Set();

function newFamilyBuild(family: IpFamily, nodeIPs: FamilyNodeIPs, warnings: Warning[]): FamilyBuild {
  return {
    family,
    vsFamily: family === 'IPv4' ? 'inet' : 'inet6',
    nodeIPs,
    // Filled on first use: a partial sync builds one port and touches two or three of the 17.
    sets: new Map(),
    virtualServers: new Map(),
    owners: new Map(),
    addresses: new Set(),
    outFilter: new Map(),
    noLocalInternal: new Set(),
    noLocalExternal: new Set(),
    warnings,
  };
}

/** What one Service port contributes in its family, built on its own (for incremental syncs). */
export interface PortState {
  readonly key: string;
  readonly family: IpFamily;
  /** `namespace/name` of the Service. */
  readonly service: string;
  /** virtualServerKey()s in creation order; `vsValues[i]` is the value of `vsKeys[i]`. */
  readonly vsKeys: readonly string[];
  readonly vsValues: readonly PackedVirtualServer[];
  /** Set entries with full set names (KUBE-6- for IPv6); KUBE-IPVS-IPS is derived from `addresses`. */
  readonly setEntries: readonly SetEntry[];
  readonly addresses: readonly string[];
  /** OUT-FILTER entries keyed `ip/proto/port` (almost always empty). */
  readonly outFilter: ReadonlyMap<string, OutFilterEntry>;
  readonly noLocalInternal: boolean;
  readonly noLocalExternal: boolean;
  readonly healthCheckNodePort: number;
  readonly warnings: readonly Warning[];
}

// A PortState lives as long as its port (10,000s of them), so it keeps no
// empty containers and no spare array capacity: empties are shared, and arrays
// filled by push (which reserves room for 16 more) are copied to their size.
const noOutFilter: ReadonlyMap<string, OutFilterEntry> = new Map();
const noWarnings: readonly Warning[] = Object.freeze([]);
const noStrings: readonly string[] = Object.freeze([]);
const noEntries: readonly SetEntry[] = Object.freeze([]);

function exact<T>(xs: readonly T[], empty: readonly T[]): readonly T[] {
  return xs.length === 0 ? empty : xs.slice();
}

/** The value of a port's virtual server, or undefined if the port does not contribute it. */
export function portVirtualServer(ps: PortState, vsKey: string): PackedVirtualServer | undefined {
  const i = ps.vsKeys.indexOf(vsKey);
  return i < 0 ? undefined : ps.vsValues[i];
}

/**
 * Builds one Service port exactly as `buildDesiredState` would inside the full
 * build, but on its own, so a sync engine can recompute only the ports that
 * changed. `nodeIPs` is `familyNodeIPs(config, node, sp.family)` (computed once
 * by the caller). Pure; never throws.
 */
export function buildPortState(sp: ServicePort, endpoints: readonly Endpoint[], node: LocalNode, config: ProxyConfig, nodeIPs: FamilyNodeIPs): PortState {
  const warnings: Warning[] = [];
  const fb = newFamilyBuild(sp.family, nodeIPs, warnings);
  const pb = buildPort(fb, sp, endpoints, node, config);
  // pb.vsKeys is the creation order and fb.virtualServers holds each key's last value.
  const vsKeys = exact(pb.vsKeys, noStrings);
  return {
    key: sp.key,
    family: sp.family,
    service: serviceName(sp),
    vsKeys,
    vsValues: vsKeys.map((k) => fb.virtualServers.get(k)!),
    setEntries: exact(pb.entries, noEntries),
    addresses: exact(pb.addresses, noStrings),
    outFilter: fb.outFilter.size === 0 ? noOutFilter : fb.outFilter,
    noLocalInternal: fb.noLocalInternal.size > 0,
    noLocalExternal: fb.noLocalExternal.size > 0,
    healthCheckNodePort: sp.healthCheckNodePort,
    warnings: exact(warnings, noWarnings),
  };
}

function buildFamily(snapshot: ClusterSnapshot, node: LocalNode, config: ProxyConfig, family: IpFamily, warnings: Warning[]): FamilyState {
  const fb = newFamilyBuild(family, familyNodeIPs(config, node, family), warnings);
  const endpointsMap = snapshot.endpoints[family];
  const byServicePort = new Map<string, ServicePortContribution>();
  const healthCheckNodePorts = new Map<string, number>();
  for (const sp of snapshot.servicePorts) {
    if (sp.family !== family) continue;
    const pb = buildPort(fb, sp, endpointsMap.get(sp.key) ?? [], node, config);
    byServicePort.set(sp.key, { virtualServers: pb.vsKeys, setEntries: pb.entries, addresses: pb.addresses });
    if (sp.healthCheckNodePort !== 0) healthCheckNodePorts.set(serviceName(sp), sp.healthCheckNodePort);
  }
  const addresses = sortedUnique(fb.addresses);
  // KUBE-IPVS-IPS holds exactly the addresses bound on kube-ipvs0.
  for (const a of addresses) setEntries(fb, SetName.IpvsIPs).add(a);
  const ipsets: IpSet[] = setInfos.map((info) => ({
    name: setName(info.base, family), type: info.type, family: fb.vsFamily, entries: sortedUnique(fb.sets.get(info.base) ?? noSetEntries),
  }));
  const outFilter = [...fb.outFilter.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, e]) => e);
  const iptables = buildIptablesPayload({ family, nonEmpty: (s) => (fb.sets.get(s)?.size ?? 0) > 0, outFilter }, config, node);
  return {
    family,
    virtualServers: new Map([...fb.virtualServers.entries()].sort(([a], [b]) => compareStrings(a, b))),
    ipsets,
    addresses,
    iptables,
    jumpRules,
    healthCheckNodePorts,
    noLocalEndpoints: { internal: fb.noLocalInternal.size, external: fb.noLocalExternal.size },
    excludeCIDRs: config.ipvs.excludeCIDRs.filter((c) => parseCidr(c)?.family === family),
    byServicePort,
  };
}

/** Drops repeated warnings (same object, field and message), keeping the first. */
export function dedupeWarnings(warnings: readonly Warning[]): Warning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const k = `${w.object}\u0000${w.field}\u0000${w.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Decides what the kernel must contain for this node: per IP family in
 * `node.ipFamilies`, the virtual servers with their real servers, all 17
 * ipsets, the kube-ipvs0 addresses, the iptables-restore payload and jump
 * rules, health check node ports and no-local-endpoint counts. Pure and
 * deterministic: no I/O, no clock, output independent of input order. Never
 * throws; problems (e.g. scheduler flags that do not fit the scheduler, two
 * Services claiming one virtual server) are returned as warnings.
 */
export function buildDesiredState(snapshot: ClusterSnapshot, node: LocalNode, config: ProxyConfig): DesiredState {
  const warnings: Warning[] = [];
  const families = node.ipFamilies.map((f) => buildFamily(snapshot, node, config, f, warnings));
  return { families, warnings: dedupeWarnings(warnings) };
}
