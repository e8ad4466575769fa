// The node addresses one family's proxier works with: the addresses on other
// interfaces (kube-proxy's nodeAddressSet), the NodePort addresses after
// nodePortAddresses filtering, and the primary IP that source ranges are checked against.

import type { ProxyConfig } from '../config/types.ts';
import { sortedUnique } from '../model/compare.ts';
import { type ParsedCidr, type ParsedIp, cidrContains, isIpv6LinkLocal, isLoopback, isZeroCidr, parseCidr, parseIp } from '../model/ip.ts';
import type { LocalNode } from '../model/node.ts';
import type { IpFamily } from '../model/types.ts';

/** Node addresses of one family. */
export interface FamilyNodeIPs {
  /**
   * Addresses of this family on interfaces other than kube-ipvs0, without
   * loopback and IPv6 link-local (GetAllLocalAddressesExcept + isValidForSet).
   * externalIPs and LoadBalancer IPs in here are not bound on kube-ipvs0.
   */
  readonly nodeAddressSet: ReadonlySet<string>;
  /** Addresses NodePort virtual servers listen on, sorted. */
  readonly nodePortIPs: readonly string[];
  /** kube-proxy's nodeIP for this family (127.0.0.1 or ::1 when unknown). */
  readonly primaryIP: ParsedIp;
}

/**
 * The nodePortAddresses CIDRs of one family. `primary` becomes the node's
 * primary IPs as /32 and /128 (cmd/kube-proxy). When no CIDR of the family is
 * left, the family matches all addresses (NewNodePortAddresses), even if CIDRs
 * of the other family were given. Returns null for "match all".
 */
export function nodePortCidrs(config: ProxyConfig, node: LocalNode, family: IpFamily): ParsedCidr[] | null {
  let raw = [...config.nodePortAddresses];
  if (raw.length === 1 && raw[0] === 'primary') {
    raw = [];
    const v4 = node.primaryIPs.IPv4 ? parseIp(node.primaryIPs.IPv4) : null;
    const v6 = node.primaryIPs.IPv6 ? parseIp(node.primaryIPs.IPv6) : null;
    if (v4 && !isLoopback(v4)) raw.push(`${v4.text}/32`);
    if (v6 && !isLoopback(v6)) raw.push(`${v6.text}/128`);
  }
  const cidrs = raw.map((c) => parseCidr(c)).filter((c): c is ParsedCidr => c !== null && c.family === family);
  if (cidrs.length === 0 || cidrs.some(isZeroCidr)) return null;
  return cidrs;
}

/** Computes the family's node addresses from the node context and configuration. */
export function familyNodeIPs(config: ProxyConfig, node: LocalNode, family: IpFamily): FamilyNodeIPs {
  const local = node.localAddresses.map((a) => parseIp(a)).filter((a): a is ParsedIp => a !== null && a.family === family);
  const valid = local.filter((a) => !isLoopback(a) && !isIpv6LinkLocal(a));
  const nodeAddressSet = new Set(valid.map((a) => a.text));
  const cidrs = nodePortCidrs(config, node, family);
  const nodePortIPs = cidrs === null
    ? sortedUnique(nodeAddressSet)
    : sortedUnique(local.filter((a) => !isLoopback(a) && cidrs.some((c) => cidrContains(c, a))).map((a) => a.text));
  const primaryText = node.primaryIPs[family];
  const primaryIP = (primaryText ? parseIp(primaryText) : null) ?? parseIp(family === 'IPv4' ? '127.0.0.1' : '::1')!;
  return { nodeAddressSet, nodePortIPs, primaryIP };
}
