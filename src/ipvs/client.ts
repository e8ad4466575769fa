import type { KernelError } from '../netlink/errors.ts';
import type {
  IpvsInfo, RealServer, RealServerConnections, RealServerId, RealServerStatus, Timeouts, VirtualServer, VirtualServerId, VirtualServerStatus,
} from './types.ts';

/** One write in a batch, in the kernel's verbs. */
export type IpvsOp =
  | { readonly op: 'add-virtual-server'; readonly virtualServer: VirtualServer }
  | { readonly op: 'update-virtual-server'; readonly virtualServer: VirtualServer }
  | { readonly op: 'delete-virtual-server'; readonly virtualServer: VirtualServerId }
  | { readonly op: 'add-real-server'; readonly virtualServer: VirtualServerId; readonly realServer: RealServer }
  | { readonly op: 'update-real-server'; readonly virtualServer: VirtualServerId; readonly realServer: RealServer }
  | { readonly op: 'delete-real-server'; readonly virtualServer: VirtualServerId; readonly realServer: RealServerId };

/** Result of one op of a batch: `error` is null when the kernel accepted it. */
export interface OpResult {
  readonly op: IpvsOp;
  readonly error: KernelError | null;
}

/**
 * The IPVS table of the kernel, with the kernel's verbs and rules. Every method
 * rejects with `KernelError`: `EEXIST` for adding what exists, `ESRCH` for a
 * missing virtual server, `ENOENT` for a missing real server (or an unknown
 * scheduler or persistence engine), `EINVAL` for values the kernel refuses,
 * `EPERM` without CAP_NET_ADMIN, `EAFNOSUPPORT` when IPVS is absent, `ETIMEDOUT`
 * when the kernel does not answer.
 */
export interface IpvsClient {
  /** IPVS version and connection-table size. */
  info(): Promise<IpvsInfo>;
  /** Connection timeouts in seconds. */
  getTimeouts(): Promise<Timeouts>;
  /** Sets connection timeouts; a 0 (or absent) field leaves that timeout unchanged. */
  setTimeouts(timeouts: Partial<Timeouts>): Promise<void>;

  /** Every virtual server, with stats. */
  listVirtualServers(): Promise<VirtualServerStatus[]>;
  /** Every virtual server's settings, without stats: what a full sync compares. */
  listVirtualServerSettings(): Promise<VirtualServer[]>;
  /** One virtual server; rejects with `ESRCH` if absent. */
  getVirtualServer(id: VirtualServerId): Promise<VirtualServerStatus>;
  addVirtualServer(vs: VirtualServer): Promise<void>;
  /** Replaces scheduler, flags and persistence of an existing virtual server (its real servers stay). */
  updateVirtualServer(vs: VirtualServer): Promise<void>;
  /** Deletes a virtual server and all its real servers. */
  deleteVirtualServer(id: VirtualServerId): Promise<void>;

  /** The real servers of a virtual server, with connection counts and stats; empty if the virtual server is missing. */
  listRealServers(vs: VirtualServerId): Promise<RealServerStatus[]>;
  /**
   * The same list without stats: what deciding between deleting and draining
   * needs, at a third of the decoding. Empty if the virtual server is missing.
   */
  listRealServerConnections(vs: VirtualServerId): Promise<RealServerConnections[]>;
  addRealServer(vs: VirtualServerId, rs: RealServer): Promise<void>;
  /** Replaces weight, forwarding method and thresholds of an existing real server. */
  updateRealServer(vs: VirtualServerId, rs: RealServer): Promise<void>;
  deleteRealServer(vs: VirtualServerId, rs: RealServerId): Promise<void>;

  /** Deletes every virtual server. */
  flush(): Promise<void>;
  /** Zeroes the counters of one virtual server, or of all. */
  zero(vs?: VirtualServerId): Promise<void>;

  /**
   * Applies writes in order and reports one result per op (kernel refusals are
   * results, not rejections). Rejects only if the kernel stopped answering; then
   * which ops took effect is unknown, and the caller must re-read the table.
   */
  apply(ops: readonly IpvsOp[]): Promise<OpResult[]>;

  /** Releases the kernel connection. */
  close(): void;
}
