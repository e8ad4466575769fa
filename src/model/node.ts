// v1.Node → NodeInfo, and the LocalNode context the reconciler reads: the
// node's name, topology labels, pod CIDRs, primary IP per family and the
// addresses on its interfaces.

import type { V1Node } from '@kubernetes/client-node';
import { parseCidr, parseIp } from './ip.ts';
import { list, record, show, str, stringMap } from './raw.ts';
import type { IpFamily, NodeInfo, Warning } from './types.ts';

/** The node label kube-proxy reads the zone from for topology hints. */
export const zoneLabel = 'topology.kubernetes.io/zone';

/** What the reconciler knows about the node it programs. */
export interface LocalNode {
  /** Node name (kube-proxy's hostname); endpoints with this nodeName are local. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** spec.podCIDRs, for the NodeCIDR local-traffic detector. */
  readonly podCIDRs: readonly string[];
  /**
   * kube-proxy's nodeIP per family: bindAddress if set, else the Node's first
   * address of that family. null means kube-proxy's fallback (127.0.0.1 / ::1).
   * Used only to decide whether loadBalancerSourceRanges cover the node.
   */
  readonly primaryIPs: Readonly<Record<IpFamily, string | null>>;
  /**
   * Every address on the node's interfaces except kube-ipvs0, any family,
   * canonical. NodePort virtual servers listen on these (after nodePortAddresses
   * filtering), and externalIPs/LoadBalancer IPs found here are not bound on kube-ipvs0.
   */
  readonly localAddresses: readonly string[];
  /** Families the proxier runs in; kube-proxy runs both when the host supports IPv4 and IPv6 iptables. */
  readonly ipFamilies: readonly IpFamily[];
  /** Whether iptables supports `MASQUERADE --random-fully` (iptables >= 1.6.2). */
  readonly iptablesRandomFully: boolean;
}

/** Result of converting a Node. */
export interface NodeConversion {
  readonly node: NodeInfo | null;
  readonly warnings: Warning[];
}

/**
 * Converts a Node. Never throws: invalid addresses and pod CIDRs give warnings
 * naming the field and are left out; a Node without a name is skipped.
 */
export function fromNode(node: V1Node): NodeConversion {
  const warnings: Warning[] = [];
  if (!record(node)) return { node: null, warnings: [{ object: 'Node', field: '(object)', message: 'not an object; skipping it' }] };
  const meta = record(node.metadata);
  const name = str(meta?.name) ?? '';
  const object = `Node ${name}`;
  if (name === '') {
    warnings.push({ object: 'Node', field: 'metadata.name', message: 'missing; skipping the Node' });
    return { node: null, warnings };
  }
  const addresses: { type: string; address: string }[] = [];
  (list(record(node.status)?.addresses) ?? []).forEach((raw, i) => {
    const a = record(raw);
    const type = str(a?.type) ?? '';
    if (type !== 'InternalIP' && type !== 'ExternalIP') return;
    const ip = parseIp(str(a?.address) ?? '');
    if (!ip) warnings.push({ object, field: `status.addresses[${i}].address`, message: `${show(a?.address)} is not a valid IP address; ignoring it` });
    else addresses.push({ type, address: ip.text });
  });
  const spec = record(node.spec);
  const rawCidrs = list(spec?.podCIDRs) ?? (str(spec?.podCIDR) ? [spec?.podCIDR] : []);
  const podCIDRs: string[] = [];
  rawCidrs.forEach((raw, i) => {
    const c = parseCidr(str(raw) ?? '');
    if (!c) warnings.push({ object, field: `spec.podCIDRs[${i}]`, message: `${show(raw)} is not a valid CIDR; ignoring it` });
    else podCIDRs.push(c.text);
  });
  return { node: { name, labels: stringMap(meta?.labels), addresses, podCIDRs }, warnings };
}

/**
 * The Node's IPs as kube-proxy picks them (GetNodeHostIPs): InternalIPs, then
 * ExternalIPs; the first address is primary and the first of the other family
 * secondary. Returns at most one address per family, primary first.
 */
export function nodeHostIPs(info: NodeInfo): string[] {
  const ordered = [
    ...info.addresses.filter((a) => a.type === 'InternalIP'),
    ...info.addresses.filter((a) => a.type === 'ExternalIP'),
  ].map((a) => a.address);
  const out: string[] = [];
  const seen = new Set<IpFamily>();
  for (const a of ordered) {
    const fam = parseIp(a)?.family;
    if (fam && !seen.has(fam)) {
      seen.add(fam);
      out.push(a);
    }
  }
  return out;
}

/** Options for `buildLocalNode`. */
export interface LocalNodeOptions {
  readonly name: string;
  /** The Node object, if known. */
  readonly info?: NodeInfo | null;
  /** Interface addresses; without them the Node's InternalIPs (or host IPs) stand in. */
  readonly localAddresses?: readonly string[];
  /** kube-proxy's bindAddress; "" or unspecified (0.0.0.0, ::) means "not set". */
  readonly bindAddress?: string;
  readonly ipFamilies?: readonly IpFamily[];
  readonly iptablesRandomFully?: boolean;
}

/**
 * Builds the LocalNode context. Never throws; invalid addresses in
 * `localAddresses` are dropped (callers validate user input first).
 */
export function buildLocalNode(opts: LocalNodeOptions): LocalNode {
  const info = opts.info ?? null;
  const internal = info ? info.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address) : [];
  const fallback = internal.length > 0 ? internal : (info ? nodeHostIPs(info) : []);
  const local = (opts.localAddresses ?? fallback).map((a) => parseIp(a)).filter((a) => a !== null).map((a) => a.text);
  const primaryIPs: Record<IpFamily, string | null> = { IPv4: null, IPv6: null };
  // Precedence as in kube-proxy's detectNodeIPs: bindAddress, then the Node's IPs.
  // For plan, explicit local addresses stand in for the Node's IPs.
  const candidates = [...(opts.localAddresses ?? (info ? nodeHostIPs(info) : []))];
  const bind = opts.bindAddress ? parseIp(opts.bindAddress) : null;
  if (bind && bind.text !== '0.0.0.0' && bind.text !== '::') candidates.unshift(bind.text);
  for (const c of candidates) {
    const ip = parseIp(c);
    if (ip && primaryIPs[ip.family] === null) primaryIPs[ip.family] = ip.text;
  }
  return {
    name: opts.name,
    labels: info?.labels ?? {},
    podCIDRs: info?.podCIDRs ?? [],
    primaryIPs,
    localAddresses: [...new Set(local)],
    ipFamilies: opts.ipFamilies ?? ['IPv4', 'IPv6'],
    iptablesRandomFully: opts.iptablesRandomFully ?? true,
  };
}
