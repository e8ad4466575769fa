// The iptables side of IPVS mode: the iptables-restore payload kube-proxy
// writes every sync (writeIptablesRules, acceptIPVSTraffic, createAndLinkKubeChain)
// and the jump rules it ensures from the built-in chains. Line by line the
// payload is what kube-proxy hands to `iptables-restore --noflush --counters`:
// arguments joined by single spaces, comments in double quotes. No upstream test
// holds this text (the IPVS tests only check chain/target/set tuples), so it is
// reconstructed from proxier.go's argument lists.

import type { ProxyConfig } from '../config/types.ts';
import { parseCidr } from '../model/ip.ts';
import type { LocalNode } from '../model/node.ts';
import type { IpFamily } from '../model/types.ts';
import { type BaseSetName, SetName, setInfoByBase, setName } from './sets.ts';
import type { IptablesPayload, JumpRule } from './types.ts';

/** nat chains in kube-proxy's order. */
export const natChains = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'] as const;
/** filter chains in kube-proxy's order. */
export const filterChains = [
  'KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER',
] as const;

/** Jumps from built-in chains, in kube-proxy's iptablesJumpChain order (each is prepended with -I). */
export const jumpRules: readonly JumpRule[] = [
  ['nat', 'OUTPUT', 'kubernetes service portals', 'KUBE-SERVICES'],
  ['nat', 'PREROUTING', 'kubernetes service portals', 'KUBE-SERVICES'],
  ['nat', 'POSTROUTING', 'kubernetes postrouting rules', 'KUBE-POSTROUTING'],
  ['filter', 'FORWARD', 'kubernetes forwarding rules', 'KUBE-FORWARD'],
  ['filter', 'INPUT', 'kubernetes health check rules', 'KUBE-NODE-PORT'],
  ['filter', 'INPUT', 'kube-proxy firewall rules', 'KUBE-PROXY-FIREWALL'],
  ['filter', 'FORWARD', 'kube-proxy firewall rules', 'KUBE-PROXY-FIREWALL'],
  ['filter', 'INPUT', 'kubernetes ipvs access filter', 'KUBE-IPVS-FILTER'],
  ['filter', 'OUTPUT', 'kubernetes ipvs access filter', 'KUBE-IPVS-OUT-FILTER'],
].map(([table, chain, comment, to]) => ({
  table: table as 'nat' | 'filter', chain: chain!, args: ['-m', 'comment', '--comment', comment!, '-j', to!],
}));

/** Text of a jump rule as `iptables -t nat -I OUTPUT ...` would take it (comment quoted). */
export function renderJumpRule(rule: JumpRule, family: IpFamily): string {
  const args = rule.args.map((a, i) => (rule.args[i - 1] === '--comment' ? `"${a}"` : a));
  return `${family === 'IPv6' ? 'ip6tables' : 'iptables'} -t ${rule.table} -I ${rule.chain} ${args.join(' ')}`;
}

/** Set-matching rules emitted when their set is non-empty (ipsetWithIptablesChain), in order. */
const setRules: readonly { set: BaseSetName; table: 'nat' | 'filter'; from: string; to: string; match: string; proto?: string }[] = [
  { set: SetName.LoopBack, table: 'nat', from: 'KUBE-POSTROUTING', to: 'MASQUERADE', match: 'dst,dst,src' },
  { set: SetName.LoadBalancer, table: 'nat', from: 'KUBE-SERVICES', to: 'KUBE-LOAD-BALANCER', match: 'dst,dst' },
  { set: SetName.LoadBalancerLocal, table: 'nat', from: 'KUBE-LOAD-BALANCER', to: 'RETURN', match: 'dst,dst' },
  // The Local sets come before their plain sets so Local NodePorts RETURN before being marked.
  { set: SetName.NodePortLocalTCP, table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', match: 'dst', proto: 'tcp' },
  { set: SetName.NodePortTCP, table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', match: 'dst', proto: 'tcp' },
  { set: SetName.NodePortLocalUDP, table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', match: 'dst', proto: 'udp' },
  { set: SetName.NodePortUDP, table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', match: 'dst', proto: 'udp' },
  { set: SetName.NodePortLocalSCTP, table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', match: 'dst,dst', proto: 'sctp' },
  { set: SetName.NodePortSCTP, table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', match: 'dst,dst', proto: 'sctp' },
  { set: SetName.LoadBalancerFW, table: 'filter', from: 'KUBE-PROXY-FIREWALL', to: 'KUBE-SOURCE-RANGES-FIREWALL', match: 'dst,dst' },
  { set: SetName.LoadBalancerSourceCIDR, table: 'filter', from: 'KUBE-SOURCE-RANGES-FIREWALL', to: 'RETURN', match: 'dst,dst,src' },
  { set: SetName.LoadBalancerSourceIP, table: 'filter', from: 'KUBE-SOURCE-RANGES-FIREWALL', to: 'RETURN', match: 'dst,dst,src' },
];

/** A LoadBalancer VIP:port the node itself must not reach (source ranges exclude the node IP). */
export interface OutFilterEntry {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

/** Inputs of the payload besides the configuration. */
export interface IptablesInput {
  readonly family: IpFamily;
  /** Whether the set (by base name) has entries in this family. */
  readonly nonEmpty: (set: BaseSetName) => boolean;
  readonly outFilter: readonly OutFilterEntry[];
}

/** kube-proxy's mark text: Go's `%#08x` of 1<<bit, i.e. eight hex digits after 0x. */
export function masqueradeMark(bit: number): string {
  return `0x${(2 ** bit).toString(16).padStart(8, '0')}`;
}

/**
 * The local-traffic detector's "not local" arguments for one family, or null
 * for the no-op detector (no CIDR of the family configured). ClusterCIDR and
 * NodeCIDR use the first CIDR of the family (cmd/kube-proxy getLocalDetectors).
 */
export function localDetectorArgs(config: ProxyConfig, node: LocalNode, family: IpFamily): string[] | null {
  switch (config.detectLocalMode) {
    case 'ClusterCIDR':
    case 'NodeCIDR': {
      const cidrs = config.detectLocalMode === 'ClusterCIDR' ? config.clusterCIDRs : node.podCIDRs;
      const first = cidrs.map((c) => parseCidr(c)).find((c) => c !== null && c.family === family);
      return first ? ['!', '-s', first.text] : null;
    }
    case 'BridgeInterface':
      return config.bridgeInterface ? ['!', '-i', config.bridgeInterface] : null;
    case 'InterfaceNamePrefix':
      return config.interfaceNamePrefix ? ['!', '-i', `${config.interfaceNamePrefix}+`] : null;
  }
}

const q = (s: string): string => `"${s}"`;

/**
 * Builds the iptables-restore payload (nat and filter) of one family. Pure;
 * never throws. Rules that match a set are emitted only when the set has
 * entries, exactly as kube-proxy decides.
 */
export function buildIptablesPayload(input: IptablesInput, config: ProxyConfig, node: LocalNode): IptablesPayload {
  const { family, nonEmpty } = input;
  const name = (s: BaseSetName): string => setName(s, family);
  const comment = (s: BaseSetName): string => q(setInfoByBase.get(s)!.comment);
  const mark = masqueradeMark(config.masqueradeBit);
  const nat: string[] = ['*nat', ...natChains.map((c) => `:${c} - [0:0]`)];
  const filter: string[] = ['*filter', ...filterChains.map((c) => `:${c} - [0:0]`)];

  // Connections from localhost never reach a service (IPVS cannot answer them).
  nat.push(`-A KUBE-SERVICES -s ${family === 'IPv6' ? '::1/128' : '127.0.0.0/8'} -j RETURN`);
  for (const r of setRules) {
    if (!nonEmpty(r.set)) continue;
    const line = `-A ${r.from}${r.proto ? ` -p ${r.proto}` : ''} -m comment --comment ${comment(r.set)} -m set --match-set ${name(r.set)} ${r.match} -j ${r.to}`;
    (r.table === 'nat' ? nat : filter).push(line);
  }
  if (nonEmpty(SetName.ClusterIP)) {
    const base = `-A KUBE-SERVICES -m comment --comment ${comment(SetName.ClusterIP)} -m set --match-set ${name(SetName.ClusterIP)}`;
    const detector = localDetectorArgs(config, node, family);
    if (config.masqueradeAll) nat.push(`${base} dst,dst -j KUBE-MARK-MASQ`);
    else if (detector) nat.push(`${base} dst,dst ${detector.join(' ')} -j KUBE-MARK-MASQ`);
    // Without a detector kube-proxy masquerades node-originated traffic whose
    // source is a VIP (src,dst): the VIPs on kube-ipvs0 get picked as source.
    else nat.push(`${base} src,dst -j KUBE-MARK-MASQ`);
  }
  const externalRules = (base: string): void => {
    // Accept off-node traffic (not from a bridge, not local) and traffic to local addresses.
    nat.push(`${base} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`);
    nat.push(`${base} -m addrtype --dst-type LOCAL -j ACCEPT`);
  };
  if (nonEmpty(SetName.ExternalIP)) {
    const base = `-A KUBE-SERVICES -m comment --comment ${comment(SetName.ExternalIP)} -m set --match-set ${name(SetName.ExternalIP)} dst,dst`;
    nat.push(`${base} -j KUBE-MARK-MASQ`);
    externalRules(base);
  }
  if (nonEmpty(SetName.ExternalIPLocal)) {
    externalRules(`-A KUBE-SERVICES -m comment --comment ${comment(SetName.ExternalIPLocal)} -m set --match-set ${name(SetName.ExternalIPLocal)} dst,dst`);
  }
  nat.push('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
  nat.push('-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ');
  filter.push('-A KUBE-SOURCE-RANGES-FIREWALL -j DROP');
  for (const e of input.outFilter) {
    // The node reaches its own LB VIP from the VIP (bound on kube-ipvs0), hence -s VIP.
    filter.push(`-A KUBE-IPVS-OUT-FILTER -s ${e.ip} -m ipvs --vaddr ${e.ip} --vproto ${e.protocol} --vport ${e.port} -j DROP`);
  }
  // Accept everything headed for a virtual server, in case other rules would drop it.
  for (const s of [SetName.ClusterIP, SetName.LoadBalancer] as const) {
    if (nonEmpty(s)) nat.push(`-A KUBE-SERVICES -m set --match-set ${name(s)} dst,dst -j ACCEPT`);
  }
  filter.push(`-A KUBE-FORWARD -m comment --comment ${q('kubernetes forwarding rules')} -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filter.push(`-A KUBE-FORWARD -m comment --comment ${q('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  filter.push(`-A KUBE-NODE-PORT -m comment --comment ${comment(SetName.HealthCheckNodePort)} -m set --match-set ${name(SetName.HealthCheckNodePort)} dst -j ACCEPT`);
  // KUBE-IPVS-FILTER (kubernetes#72236): new connections to other ports of a VIP are rejected.
  for (const s of [SetName.LoadBalancer, SetName.ClusterIP, SetName.ExternalIP, SetName.ExternalIPLocal] as const) {
    filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${name(s)} dst,dst -j RETURN`);
  }
  filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${name(SetName.HealthCheckNodePort)} dst -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set ${name(SetName.IpvsIPs)} dst -j REJECT`);

  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`);
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`);
  nat.push(`-A KUBE-POSTROUTING -m comment --comment ${q('kubernetes service traffic requiring SNAT')} -j MASQUERADE${node.iptablesRandomFully ? ' --random-fully' : ''}`);
  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);
  nat.push('COMMIT');
  filter.push('COMMIT');
  return { nat: `${nat.join('\n')}\n`, filter: `${filter.join('\n')}\n` };
}
