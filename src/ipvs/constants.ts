// IPVS generic-netlink constants, from include/uapi/linux/ip_vs.h.

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

export const Cmd = {
  NewService: 1, SetService: 2, DelService: 3, GetService: 4,
  NewDest: 5, SetDest: 6, DelDest: 7, GetDest: 8,
  SetConfig: 12, GetConfig: 13, SetInfo: 14, GetInfo: 15, Zero: 16, Flush: 17,
} as const;

/** Top-level attributes (IPVS_CMD_ATTR_*). */
export const CmdAttr = { Service: 1, Dest: 2, Daemon: 3, TimeoutTcp: 4, TimeoutTcpFin: 5, TimeoutUdp: 6 } as const;

/** Virtual-server attributes (IPVS_SVC_ATTR_*). */
export const SvcAttr = {
  Af: 1, Protocol: 2, Addr: 3, Port: 4, Fwmark: 5, SchedName: 6, Flags: 7, Timeout: 8, Netmask: 9,
  Stats: 10, PeName: 11, Stats64: 12,
} as const;

/** Real-server attributes (IPVS_DEST_ATTR_*). */
export const DestAttr = {
  Addr: 1, Port: 2, FwdMethod: 3, Weight: 4, UThresh: 5, LThresh: 6, ActiveConns: 7, InactConns: 8,
  PersistConns: 9, Stats: 10, AddrFamily: 11, Stats64: 12, TunType: 13, TunPort: 14, TunFlags: 15,
} as const;

/** Statistics attributes (IPVS_STATS_ATTR_*); u32 in STATS (bytes are u64), all u64 in STATS64. */
export const StatsAttr = {
  Conns: 1, InPkts: 2, OutPkts: 3, InBytes: 4, OutBytes: 5, Cps: 6, InPps: 7, OutPps: 8, InBps: 9, OutBps: 10,
} as const;

export const InfoAttr = { Version: 1, ConnTabSize: 2 } as const;

export const AF_INET = 2;
export const AF_INET6 = 10;

/** IP_VS_SVC_F_PERSISTENT and IP_VS_SVC_F_HASHED. */
export const SVC_F_PERSISTENT = 0x0001;
export const SVC_F_HASHED = 0x0002;

/** IP_VS_CONN_F_FWD_MASK. */
export const FWD_MASK = 0x0007;

/** IP_VS_CONN_F_TUNNEL_TYPE_*. */
export const tunnelTypes = ['ipip', 'gue', 'gre'] as const;
