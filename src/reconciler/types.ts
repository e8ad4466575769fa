// What the kernel must contain, per IP family: the output of buildDesiredState.
// Kernel vocabulary (VirtualServer, RealServer, ipset entries, iptables rules);
// every piece a Service port contributes is also listed under its key so a
// partial sync can diff just the ports that changed.

import type { IpSet } from '../ipset/types.ts';
import type { RealServer, VirtualServer } from '../ipvs/types.ts';
import type { IpFamily, Warning } from '../model/types.ts';

/** A virtual server with its real servers, sorted by realServerKey. */
export interface DesiredVirtualServer {
  readonly virtualServer: VirtualServer;
  readonly realServers: readonly RealServer[];
}

/** One ipset entry, naming its set. */
export interface SetEntry {
  readonly set: string;
  readonly entry: string;
}

/** What one Service port contributes in one family (for partial syncs). */
export interface ServicePortContribution {
  /** virtualServerKey()s, in creation order (cluster IP, external IPs, LB IPs, node IPs). */
  readonly virtualServers: readonly string[];
  readonly setEntries: readonly SetEntry[];
  /** Addresses to bind on kube-ipvs0. */
  readonly addresses: readonly string[];
}

/**
 * A rule ensured outside the restore, from a built-in chain into a kube chain
 * (`iptables -t <table> -C/-I <chain> <args>`).
 */
export interface JumpRule {
  readonly table: 'nat' | 'filter';
  readonly chain: string;
  /** Arguments after the chain, e.g. `['-m','comment','--comment','kubernetes service portals','-j','KUBE-SERVICES']`. */
  readonly args: readonly string[];
}

/** The iptables-restore payload of one family (`--noflush`): each table ends in COMMIT. */
export interface IptablesPayload {
  readonly nat: string;
  readonly filter: string;
}

/** Services with a Local policy and no local endpoint, as kube-proxy's sync_proxy_rules_no_local_endpoints_total counts them. */
export interface NoLocalEndpoints {
  readonly internal: number;
  readonly external: number;
}

/** Desired kernel state of one IP family. */
export interface FamilyState {
  readonly family: IpFamily;
  /** Keyed by virtualServerKey. */
  readonly virtualServers: ReadonlyMap<string, DesiredVirtualServer>;
  /** All 17 sets in kube-proxy's order, entries sorted. */
  readonly ipsets: readonly IpSet[];
  /** Addresses to bind on kube-ipvs0 (also the KUBE-IPVS-IPS entries), sorted. */
  readonly addresses: readonly string[];
  readonly iptables: IptablesPayload;
  readonly jumpRules: readonly JumpRule[];
  /** `namespace/name` → healthCheckNodePort, for the per-Service health servers. */
  readonly healthCheckNodePorts: ReadonlyMap<string, number>;
  readonly noLocalEndpoints: NoLocalEndpoints;
  /** Virtual servers in these CIDRs are never deleted as stale (ipvs.excludeCIDRs of this family). */
  readonly excludeCIDRs: readonly string[];
  /** ServicePort key → what it contributes. */
  readonly byServicePort: ReadonlyMap<string, ServicePortContribution>;
}

/** The desired state of every family the proxier runs in. */
export interface DesiredState {
  readonly families: readonly FamilyState[];
  /** Problems found while building (e.g. scheduler flags that do not fit the scheduler). */
  readonly warnings: readonly Warning[];
}
