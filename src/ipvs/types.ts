// Kernel vocabulary for IPVS: virtual servers (IPVS "services") and their real
// servers (IPVS "destinations"). Values mirror what the kernel stores; see
// include/uapi/linux/ip_vs.h.

/** Address family of a virtual or real server. */
export type Family = 'inet' | 'inet6';

/** Transport protocol of a non-fwmark virtual server. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** IP protocol numbers the kernel uses for each protocol. */
export const protocolNumbers: Readonly<Record<Protocol, number>> = { TCP: 6, UDP: 17, SCTP: 132 };

/** Schedulers the kernel ships (`ip_vs_<name>` modules). */
export const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf'] as const;

/**
 * Virtual-server flag bits we model (IP_VS_SVC_F_*). PERSISTENT is expressed by
 * `persistence`, and HASHED is kernel-internal (always set on read-back), so
 * neither appears in `VirtualServer.flags`.
 */
export const VsFlag = {
  /** IP_VS_SVC_F_ONEPACKET: schedule each UDP packet separately ("ops"). */
  OnePacket: 0x0004,
  /** IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback. */
  Sched1: 0x0008,
  /** IP_VS_SVC_F_SCHED2: sh-port / mh-port (kube-proxy's FlagSourceHash for mh). */
  Sched2: 0x0010,
  /** IP_VS_SVC_F_SCHED3: flag-3. */
  Sched3: 0x0020,
} as const;

/** Every bit `VirtualServer.flags` may hold. */
export const vsFlagMask = VsFlag.OnePacket | VsFlag.Sched1 | VsFlag.Sched2 | VsFlag.Sched3;

/** Client-IP persistence ("session affinity") of a virtual server. */
export interface Persistence {
  /** Seconds a client stays on its real server (kernel: service timeout). */
  readonly timeout: number;
  /** Prefix length grouping clients (32 or 128 for one client address). */
  readonly prefixLength: number;
}

/**
 * A virtual server: either protocol+address+port, or a firewall mark (fwmark).
 * Exactly one of the two identities is set; the other fields are null.
 */
export interface VirtualServer {
  readonly family: Family;
  readonly protocol: Protocol | null;
  readonly address: string | null;
  readonly port: number | null;
  readonly fwmark: number | null;
  readonly scheduler: string;
  /** Bits from `VsFlag` (one-packet scheduling and scheduler flags). */
  readonly flags: number;
  readonly persistence: Persistence | null;
  /** Persistence engine name (e.g. "sip"), or null. */
  readonly persistenceEngine: string | null;
}

/** The fields that identify a virtual server to the kernel. */
export type VirtualServerId = Pick<VirtualServer, 'family' | 'protocol' | 'address' | 'port' | 'fwmark'>;

/** Forwarding method of a real server (IP_VS_CONN_F_FWD_MASK values). */
export type ForwardMethod = 'masq' | 'local' | 'tunnel' | 'droute' | 'bypass';

/** Numeric kernel value of each forwarding method. */
export const forwardNumbers: Readonly<Record<ForwardMethod, number>> = { masq: 0, local: 1, tunnel: 2, droute: 3, bypass: 4 };

/** Tunnel encapsulation of a `tunnel` real server (kernel ≥ 5.3). */
export interface Tunnel {
  readonly type: 'ipip' | 'gue' | 'gre';
  /** UDP port for GUE (0 otherwise). */
  readonly port: number;
  /** IP_VS_TUNNEL_ENCAP_FLAG_* bits (checksum options). */
  readonly flags: number;
}

/** A real server (backend) of a virtual server. */
export interface RealServer {
  /** Family of the real server's address; differs from the virtual server's only for tunnels. */
  readonly family: Family;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly forward: ForwardMethod;
  /** Connection limits; 0 means none. */
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  /** Tunnel encapsulation when `forward` is `tunnel`, else null. */
  readonly tunnel: Tunnel | null;
}

/** The fields that identify a real server within its virtual server. */
export type RealServerId = Pick<RealServer, 'family' | 'address' | 'port'>;

/** Traffic counters of a virtual or real server (64-bit counters where the kernel offers them). */
export interface Stats {
  readonly connections: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Rates estimated by the kernel, per second. */
  readonly cps: number;
  readonly ppsIn: number;
  readonly ppsOut: number;
  readonly bpsIn: number;
  readonly bpsOut: number;
}

/** A real server as read back from the kernel, with its connection counts. */
export interface RealServerConnections extends RealServer {
  readonly activeConnections: number;
  readonly inactiveConnections: number;
  readonly persistentConnections: number;
}

/** A real server as read back from the kernel, with its connection counts and stats. */
export interface RealServerStatus extends RealServerConnections {
  readonly stats: Stats;
}

/** A virtual server as read back from the kernel, with its stats. */
export interface VirtualServerStatus extends VirtualServer {
  readonly stats: Stats;
}

/** Connection timeouts in seconds (0 in a write means "leave unchanged"). */
export interface Timeouts {
  readonly tcp: number;
  readonly tcpFin: number;
  readonly udp: number;
}

/** What `IPVS_CMD_GET_INFO` reports. */
export interface IpvsInfo {
  /** e.g. "1.2.1" */
  readonly version: string;
  readonly connectionTableSize: number;
}

export const zeroStats: Stats = {
  connections: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0,
  cps: 0, ppsIn: 0, ppsOut: 0, bpsIn: 0, bpsOut: 0,
};

function hostPort(family: Family, address: string, port: number): string {
  return family === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The one key of a virtual server: `TCP/10.96.0.1:80`, `UDP/[fd00::1]:53`,
 * `FWM/inet/4096`. Used by diffs, the fake, logs and metrics alike.
 */
export function virtualServerKey(vs: VirtualServerId): string {
  if (vs.fwmark !== null) return `FWM/${vs.family}/${vs.fwmark}`;
  return `${vs.protocol ?? '?'}/${hostPort(vs.family, vs.address ?? '?', vs.port ?? 0)}`;
}

/** The one key of a real server within its virtual server: `10.244.0.5:8080`, `[fd00::5]:80`. */
export function realServerKey(rs: RealServerId): string {
  return hostPort(rs.family, rs.address, rs.port);
}

/** Just the identity fields of a virtual server. */
export function virtualServerId(vs: VirtualServerId): VirtualServerId {
  return { family: vs.family, protocol: vs.protocol, address: vs.address, port: vs.port, fwmark: vs.fwmark };
}

/** Just the identity fields of a real server. */
export function realServerId(rs: RealServerId): RealServerId {
  return { family: rs.family, address: rs.address, port: rs.port };
}
