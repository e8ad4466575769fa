// The 17 ipsets of kube-proxy's IPVS mode (proxier.go ipsetInfo, ipset.go), in
// kube-proxy's order, with their types and comments, and the IPv6 naming rule.

import type { IpSetType } from '../ipset/types.ts';
import type { IpFamily } from '../model/types.ts';

/** Base (IPv4) names of the sets, as identifiers. */
export const SetName = {
  LoopBack: 'KUBE-LOOP-BACK',
  ClusterIP: 'KUBE-CLUSTER-IP',
  ExternalIP: 'KUBE-EXTERNAL-IP',
  ExternalIPLocal: 'KUBE-EXTERNAL-IP-LOCAL',
  LoadBalancer: 'KUBE-LOAD-BALANCER',
  LoadBalancerFW: 'KUBE-LOAD-BALANCER-FW',
  LoadBalancerLocal: 'KUBE-LOAD-BALANCER-LOCAL',
  LoadBalancerSourceIP: 'KUBE-LOAD-BALANCER-SOURCE-IP',
  LoadBalancerSourceCIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  NodePortTCP: 'KUBE-NODE-PORT-TCP',
  NodePortLocalTCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  NodePortUDP: 'KUBE-NODE-PORT-UDP',
  NodePortLocalUDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  NodePortSCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  NodePortLocalSCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  HealthCheckNodePort: 'KUBE-HEALTH-CHECK-NODE-PORT',
  IpvsIPs: 'KUBE-IPVS-IPS',
} as const;

/** A base set name. */
export type BaseSetName = (typeof SetName)[keyof typeof SetName];

/** One of kube-proxy's sets: base name, type and the comment its iptables rules carry. */
export interface SetInfo {
  readonly base: BaseSetName;
  readonly type: IpSetType;
  readonly comment: string;
}

/** Every set, in kube-proxy's ipsetInfo order. */
export const setInfos: readonly SetInfo[] = [
  { base: SetName.LoopBack, type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { base: SetName.ClusterIP, type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { base: SetName.ExternalIP, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { base: SetName.ExternalIPLocal, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { base: SetName.LoadBalancer, type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { base: SetName.LoadBalancerFW, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { base: SetName.LoadBalancerLocal, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { base: SetName.LoadBalancerSourceIP, type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { base: SetName.LoadBalancerSourceCIDR, type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { base: SetName.NodePortTCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { base: SetName.NodePortLocalTCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { base: SetName.NodePortUDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { base: SetName.NodePortLocalUDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { base: SetName.NodePortSCTP, type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  { base: SetName.NodePortLocalSCTP, type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  { base: SetName.HealthCheckNodePort, type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  // The comment of KUBE-IPVS-IPS is unverified against upstream (seen only in an annotated copy); it is not used in any rule.
  { base: SetName.IpvsIPs, type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

/** The set info for a base name. */
export const setInfoByBase: ReadonlyMap<BaseSetName, SetInfo> = new Map(setInfos.map((s) => [s.base, s]));

/** ipset names are at most 31 characters (IPSET_MAXNAMELEN 32 with the NUL). */
const maxSetNameLength = 31;

/**
 * The kernel name of a set in a family. IPv6 sets replace the first `KUBE-`
 * with `KUBE-6-` and are cut to 31 characters, exactly as kube-proxy's NewIPSet
 * does, so `KUBE-LOAD-BALANCER-SOURCE-CIDR` becomes `KUBE-6-LOAD-BALANCER-SOURCE-CID`.
 */
export function setName(base: string, family: IpFamily): string {
  if (family === 'IPv4' || !base.startsWith('KUBE-')) return base;
  return base.replace('KUBE-', 'KUBE-6-').slice(0, maxSetNameLength);
}
