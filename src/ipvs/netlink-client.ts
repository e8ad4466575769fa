import { NetlinkConnection, type Request } from '../netlink/connection.ts';
import type { Message } from '../netlink/message.ts';
import { KernelError } from '../netlink/errors.ts';
import { NETLINK_GENERIC, resolveFamily } from '../netlink/genl.ts';
import type { IpvsClient, IpvsOp, OpResult } from './client.ts';
import { DecodeError, decodeDest, decodeDestConnections, decodeInfo, decodeService, decodeServiceSettings, decodeTimeouts, encode } from './codec.ts';
import { IPVS_GENL_NAME } from './constants.ts';
import {
  type IpvsInfo, type RealServer, type RealServerConnections, type RealServerId, type RealServerStatus, type Timeouts, type VirtualServer,
  type VirtualServerId, type VirtualServerStatus, realServerKey, virtualServerKey,
} from './types.ts';

export interface NetlinkIpvsOptions {
  /** Timeout per kernel request, ms (default 5000). Batches get it per datagram. */
  readonly timeoutMs?: number;
  /** Sees every datagram sent and received (tracing, fixture recording). */
  readonly tap?: (direction: 'send' | 'receive', datagram: Buffer) => void;
}

function opLabel(op: IpvsOp): { name: string; object: string } {
  const vs = virtualServerKey(op.virtualServer);
  switch (op.op) {
    case 'add-virtual-server': case 'update-virtual-server': case 'delete-virtual-server':
      return { name: op.op.replace(/-/g, ' '), object: vs };
    default:
      return { name: op.op.replace(/-/g, ' '), object: `${vs} -> ${realServerKey(op.realServer)}` };
  }
}

function requestFor(family: number, op: IpvsOp): Request {
  switch (op.op) {
    case 'add-virtual-server': return { type: family, payload: encode.newService(op.virtualServer) };
    case 'update-virtual-server': return { type: family, payload: encode.setService(op.virtualServer) };
    case 'delete-virtual-server': return { type: family, payload: encode.delService(op.virtualServer) };
    case 'add-real-server': return { type: family, payload: encode.newDest(op.virtualServer, op.realServer) };
    case 'update-real-server': return { type: family, payload: encode.setDest(op.virtualServer, op.realServer) };
    case 'delete-real-server': return { type: family, payload: encode.delDest(op.virtualServer, op.realServer) };
  }
}

/**
 * The real IPVS client: generic netlink to the kernel's IPVS family, one request
 * in flight at a time, batched writes for `apply`.
 */
export class NetlinkIpvsClient implements IpvsClient {
  private readonly conn: NetlinkConnection;
  private readonly family: number;

  private constructor(conn: NetlinkConnection, family: number) {
    this.conn = conn;
    this.family = family;
  }

  /**
   * Opens a socket and resolves the IPVS family. Rejects with `EAFNOSUPPORT`
   * when the kernel has no IPVS (module `ip_vs` not loaded or not built), or the
   * socket's error.
   */
  static async open(opts: NetlinkIpvsOptions = {}): Promise<NetlinkIpvsClient> {
    const conn = new NetlinkConnection(NETLINK_GENERIC, { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.tap ? { tap: opts.tap } : {}) });
    try {
      const family = await resolveFamily(conn, IPVS_GENL_NAME);
      return new NetlinkIpvsClient(conn, family);
    } catch (err) {
      conn.close();
      if (err instanceof KernelError && err.code === 'ENOENT') {
        throw new KernelError('EAFNOSUPPORT', 'open IPVS', '', 'the kernel has no IPVS; load the ip_vs module');
      }
      throw err;
    }
  }

  /** The generic-netlink family id the kernel gave IPVS. */
  get familyId(): number {
    return this.family;
  }

  async info(): Promise<IpvsInfo> {
    const [reply] = await this.conn.request({ type: this.family, payload: encode.getInfo() }, 'get info');
    if (!reply) throw new KernelError('EBADMSG', 'get info', '', 'no answer');
    return decodeInfo(reply.data);
  }

  async getTimeouts(): Promise<Timeouts> {
    const [reply] = await this.conn.request({ type: this.family, payload: encode.getConfig() }, 'get timeouts');
    if (!reply) throw new KernelError('EBADMSG', 'get timeouts', '', 'no answer');
    return decodeTimeouts(reply.data);
  }

  async setTimeouts(t: Partial<Timeouts>): Promise<void> {
    await this.conn.request({ type: this.family, payload: encode.setConfig(t) }, 'set timeouts');
  }

  async listVirtualServers(): Promise<VirtualServerStatus[]> {
    return (await this.serviceDump()).map((r) => decodeService(r.data));
  }

  async listVirtualServerSettings(): Promise<VirtualServer[]> {
    return (await this.serviceDump()).map((r) => decodeServiceSettings(r.data));
  }

  async getVirtualServer(id: VirtualServerId): Promise<VirtualServerStatus> {
    const [reply] = await this.conn.request({ type: this.family, payload: encode.getService(id) }, 'get virtual server', virtualServerKey(id));
    if (!reply) throw new KernelError('ESRCH', 'get virtual server', virtualServerKey(id));
    return decodeService(reply.data);
  }

  async addVirtualServer(vs: VirtualServer): Promise<void> {
    await this.one({ op: 'add-virtual-server', virtualServer: vs });
  }

  async updateVirtualServer(vs: VirtualServer): Promise<void> {
    await this.one({ op: 'update-virtual-server', virtualServer: vs });
  }

  async deleteVirtualServer(id: VirtualServerId): Promise<void> {
    await this.one({ op: 'delete-virtual-server', virtualServer: id });
  }

  async listRealServers(vs: VirtualServerId): Promise<RealServerStatus[]> {
    return (await this.destDump(vs)).map((r) => decodeDest(r.data, vs.family));
  }

  async listRealServerConnections(vs: VirtualServerId): Promise<RealServerConnections[]> {
    return (await this.destDump(vs)).map((r) => decodeDestConnections(r.data, vs.family));
  }

  /** The kernel's answer to a service dump, one message per virtual server. */
  private serviceDump(): Promise<Message[]> {
    return this.conn.dump({ type: this.family, payload: encode.dumpServices() }, 'list virtual servers');
  }

  /** The kernel's answer to a destination dump of `vs`, one message per real server. */
  private destDump(vs: VirtualServerId): Promise<Message[]> {
    return this.conn.dump({ type: this.family, payload: encode.dumpDests(vs) }, 'list real servers', virtualServerKey(vs));
  }

  async addRealServer(vs: VirtualServerId, rs: RealServer): Promise<void> {
    await this.one({ op: 'add-real-server', virtualServer: vs, realServer: rs });
  }

  async updateRealServer(vs: VirtualServerId, rs: RealServer): Promise<void> {
    await this.one({ op: 'update-real-server', virtualServer: vs, realServer: rs });
  }

  async deleteRealServer(vs: VirtualServerId, rs: RealServerId): Promise<void> {
    await this.one({ op: 'delete-real-server', virtualServer: vs, realServer: rs });
  }

  async flush(): Promise<void> {
    await this.conn.request({ type: this.family, payload: encode.flush() }, 'flush');
  }

  async zero(vs?: VirtualServerId): Promise<void> {
    await this.conn.request({ type: this.family, payload: encode.zero(vs) }, 'zero', vs ? virtualServerKey(vs) : '');
  }

  async apply(ops: readonly IpvsOp[]): Promise<OpResult[]> {
    // Ops whose values cannot be encoded (a malformed address) fail with EINVAL
    // here, as the kernel would; the rest go out in one batch.
    const requests: Request[] = [];
    const sent: number[] = [];
    const codes = new Array<string | null>(ops.length).fill(null);
    ops.forEach((op, i) => {
      try {
        requests.push(requestFor(this.family, op));
        sent.push(i);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        codes[i] = 'EINVAL';
      }
    });
    const outcomes = await this.conn.batch(requests, 'apply');
    sent.forEach((opIndex, k) => { codes[opIndex] = outcomes[k] ?? null; });
    return ops.map((op, i) => {
      const code = codes[i];
      if (!code) return { op, error: null };
      const { name, object } = opLabel(op);
      return { op, error: new KernelError(code, name, object) };
    });
  }

  close(): void {
    this.conn.close();
  }

  private async one(op: IpvsOp): Promise<void> {
    const { name, object } = opLabel(op);
    let req: Request;
    try {
      req = requestFor(this.family, op);
    } catch (err) {
      if (err instanceof DecodeError) throw new KernelError('EINVAL', name, object, err.message);
      throw err;
    }
    await this.conn.request(req, name, object);
  }
}
