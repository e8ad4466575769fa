// SPDX-License-Identifier: Apache-2.0
import { NetlinkConnection, type Request } from '../netlink/connection.ts';
import { KernelError } from '../netlink/errors.ts';
import {
  type AddrSpec, type RtAddress, type RtLink, Iff, IfaF, NETLINK_ROUTE, RtDecodeError, decodeAddress, decodeLink, rtRequest,
} from '../netlink/rtnetlink.ts';
import { addressBytes, addressText, compareAddressIds, familyName, familyNumber, maxPrefix } from './address.ts';
import type { AddressFilter, NetifClient, NetifOpResult } from './client.ts';
import { type AddressId, type AddressSpec, type InterfaceAddress, type Link, type NetifOp, addressKey } from './types.ts';

export interface RtNetlinkOptions {
  /** Timeout per kernel request, ms (default 5000). Batches get it per datagram. */
  readonly timeoutMs?: number;
  /** Sees every datagram sent and received (tracing, fixture recording). */
  readonly tap?: (direction: 'send' | 'receive', datagram: Buffer) => void;
}

/** Runs a decoder; a malformed answer becomes KernelError EBADMSG, so callers see one error type. */
function decoded<T>(decode: () => T, op: string, object = ''): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof RtDecodeError) throw new KernelError('EBADMSG', op, object, err.message);
    throw err;
  }
}

function toLink(l: RtLink): Link {
  return { index: l.index, name: l.name, kind: l.kind, flags: l.flags, up: (l.flags & Iff.Up) !== 0 };
}

function opName(op: NetifOp): string {
  return op.op.replace(/-/g, ' ');
}

/**
 * The wire form of an address, or a KernelError EINVAL for what the kernel
 * would refuse anyway (a malformed address, a prefix out of range). The kernel
 * checks the prefix too; checking here keeps a bad value from reaching it.
 */
function addrSpec(a: AddressSpec, op: string): AddrSpec {
  const bytes = addressBytes(a.family, a.address);
  const object = `${addressKey(a)} ifindex ${a.ifindex}`;
  if (!bytes) throw new KernelError('EINVAL', op, object, `not an ${a.family} address`);
  if (!Number.isInteger(a.prefixLength) || a.prefixLength < 0 || a.prefixLength > maxPrefix(a.family)) {
    throw new KernelError('EINVAL', op, object, 'prefix length out of range');
  }
  const flags = a.family === 'inet6' && a.noDad ? IfaF.NoDad : 0;
  return { family: familyNumber(a.family), address: bytes, prefixLength: a.prefixLength, index: a.ifindex, flags };
}

function requestFor(op: NetifOp): Request {
  return op.op === 'add-address'
    ? rtRequest.newAddr(addrSpec(op.address, opName(op)))
    : rtRequest.delAddr(addrSpec(op.address, opName(op)));
}

function objectOf(a: AddressId): string {
  return `${addressKey(a)} ifindex ${a.ifindex}`;
}

/**
 * The real interface client: rtnetlink (NETLINK_ROUTE) through our
 * `NetlinkConnection`, one request in flight at a time, batched address writes.
 */
export class RtNetlinkClient implements NetifClient {
  private readonly conn: NetlinkConnection;

  private constructor(conn: NetlinkConnection) {
    this.conn = conn;
  }

  /** Opens a NETLINK_ROUTE socket. Throws the socket's error (as thrown by the native layer) if it cannot. */
  static open(opts: RtNetlinkOptions = {}): RtNetlinkClient {
    return new RtNetlinkClient(new NetlinkConnection(NETLINK_ROUTE, {
      timeoutMs: opts.timeoutMs ?? 5000,
      ...(opts.tap ? { tap: opts.tap } : {}),
    }));
  }

  async getLink(name: string): Promise<Link> {
    const replies = await this.conn.request(rtRequest.getLink(name), 'get link', name);
    const reply = replies[0];
    if (!reply) throw new KernelError('ENODEV', 'get link', name, 'no answer');
    return toLink(decoded(() => decodeLink(reply.data), 'get link', name));
  }

  async listLinks(): Promise<Link[]> {
    const replies = await this.conn.dump(rtRequest.dumpLinks(), 'list links');
    return replies.map((r) => toLink(decoded(() => decodeLink(r.data), 'list links'))).sort((a, b) => a.index - b.index);
  }

  async addDummyLink(name: string): Promise<void> {
    await this.conn.request(rtRequest.newLink(name, 'dummy'), 'add dummy link', name);
  }

  async setLinkUp(name: string): Promise<void> {
    await this.conn.request(rtRequest.setLinkFlags(name, Iff.Up, Iff.Up), 'set link up', name);
  }

  async deleteLink(name: string): Promise<void> {
    await this.conn.request(rtRequest.delLink(name), 'delete link', name);
  }

  async listAddresses(filter: AddressFilter = {}): Promise<InterfaceAddress[]> {
    // Two dumps, one after the other: the link names, then the addresses
    // (IPv6 addresses carry no label, so names come from the links).
    const links = new Map((await this.listLinks()).map((l) => [l.index, l.name]));
    const family = filter.family ? familyNumber(filter.family) : 0;
    const replies = await this.conn.dump(rtRequest.dumpAddresses(family), 'list addresses');
    const out: InterfaceAddress[] = [];
    for (const r of replies) {
      const a = decoded(() => decodeAddress(r.data), 'list addresses');
      const listed = this.toAddress(a, links);
      if (!listed) continue;
      // Without NETLINK_GET_STRICT_CHK the kernel ignores ifa_index in a dump: filter here.
      if (filter.ifindex !== undefined && listed.ifindex !== filter.ifindex) continue;
      out.push(listed);
    }
    return out.sort(compareAddressIds);
  }

  async addAddress(a: AddressSpec): Promise<void> {
    await this.one({ op: 'add-address', address: a });
  }

  async deleteAddress(a: AddressId): Promise<void> {
    await this.one({ op: 'delete-address', address: a });
  }

  async apply(ops: readonly NetifOp[]): Promise<NetifOpResult[]> {
    // Ops whose values cannot be encoded fail with EINVAL here, as the kernel
    // would; the rest go out packed into as few datagrams as fit.
    const requests: Request[] = [];
    const sent: number[] = [];
    const errors = new Array<KernelError | null>(ops.length).fill(null);
    ops.forEach((op, i) => {
      try {
        requests.push(requestFor(op));
        sent.push(i);
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        errors[i] = err;
      }
    });
    const outcomes = await this.conn.batch(requests, 'apply addresses');
    sent.forEach((opIndex, k) => {
      const code = outcomes[k];
      const op = ops[opIndex]!;
      if (code) errors[opIndex] = new KernelError(code, opName(op), objectOf(op.address));
    });
    return ops.map((op, i) => ({ op, error: errors[i] ?? null }));
  }

  close(): void {
    this.conn.close();
  }

  private toAddress(a: RtAddress, links: ReadonlyMap<number, string>): InterfaceAddress | null {
    const family = familyName(a.family);
    if (!family || a.address.length !== (family === 'inet' ? 4 : 16)) return null;
    return {
      ifindex: a.index,
      family,
      address: addressText(a.address),
      prefixLength: a.prefixLength,
      interfaceName: links.get(a.index) ?? a.label ?? '',
      tentative: (a.flags & IfaF.Tentative) !== 0,
      noDad: (a.flags & IfaF.NoDad) !== 0,
    };
  }

  private async one(op: NetifOp): Promise<void> {
    await this.conn.request(requestFor(op), opName(op), objectOf(op.address));
  }
}
