// SPDX-License-Identifier: Apache-2.0
// rtnetlink (NETLINK_ROUTE) messages for links and addresses: the request
// payloads we send and the answers we read. Pure: bytes in, bytes out.
//
// Byte order: the ifinfomsg/ifaddrmsg headers and every attribute are
// host-endian (little-endian on every platform we ship); addresses are raw
// network-order bytes. Constants are from include/uapi/linux/{rtnetlink,
// if_link,if_addr,if}.h.

import { type Attr, decodeAttrs, encodeAttrs, readStr, readU32, str } from './attributes.ts';
import type { Request } from './connection.ts';
import { NlmF } from './message.ts';

/** The NETLINK_ROUTE protocol number. */
export const NETLINK_ROUTE = 0;

/** rtnetlink message types. */
export const Rtm = {
  NewLink: 16,
  DelLink: 17,
  GetLink: 18,
  SetLink: 19,
  NewAddr: 20,
  DelAddr: 21,
  GetAddr: 22,
} as const;

/** Address families. */
export const Af = { Unspec: 0, Inet: 2, Inet6: 10 } as const;

/** Link attributes (IFLA_*) we use. */
export const Ifla = { Address: 1, Ifname: 3, Mtu: 4, LinkInfo: 18 } as const;
/** Nested in IFLA_LINKINFO. */
export const IflaInfo = { Kind: 1 } as const;
/** Address attributes (IFA_*) we use. */
export const Ifa = { Address: 1, Local: 2, Label: 3, Flags: 8 } as const;

/** Interface flags (ifi_flags). */
export const Iff = {
  Up: 0x1,
  Broadcast: 0x2,
  Loopback: 0x8,
  Running: 0x40,
  NoArp: 0x80,
  LowerUp: 0x10000,
} as const;

/** Address flags (ifa_flags, and the full set in IFA_FLAGS). */
export const IfaF = {
  NoDad: 0x02,
  DadFailed: 0x08,
  Tentative: 0x40,
  Permanent: 0x80,
} as const;

/** Raised when an answer cannot be decoded (too short, bad attribute lengths). */
export class RtDecodeError extends Error {
  readonly code = 'EBADMSG';
  constructor(message: string) {
    super(`rtnetlink: ${message}`);
    this.name = 'RtDecodeError';
  }
}

const ifinfomsgLength = 16;
const ifaddrmsgLength = 8;

/** struct ifinfomsg. */
export interface IfInfoMsg {
  readonly family: number;
  readonly type: number;
  readonly index: number;
  readonly flags: number;
  readonly change: number;
}

/** struct ifaddrmsg. */
export interface IfAddrMsg {
  readonly family: number;
  readonly prefixLength: number;
  readonly flags: number;
  readonly scope: number;
  readonly index: number;
}

/** Encodes struct ifinfomsg (16 bytes: family, pad, type u16, index s32, flags u32, change u32). */
export function encodeIfInfoMsg(m: IfInfoMsg): Buffer {
  const b = Buffer.alloc(ifinfomsgLength);
  b.writeUInt8(m.family, 0);
  b.writeUInt16LE(m.type, 2);
  b.writeInt32LE(m.index, 4);
  b.writeUInt32LE(m.flags >>> 0, 8);
  b.writeUInt32LE(m.change >>> 0, 12);
  return b;
}

/** Encodes struct ifaddrmsg (8 bytes: family, prefix length, flags, scope, index u32). */
export function encodeIfAddrMsg(m: IfAddrMsg): Buffer {
  const b = Buffer.alloc(ifaddrmsgLength);
  b.writeUInt8(m.family, 0);
  b.writeUInt8(m.prefixLength, 1);
  b.writeUInt8(m.flags, 2);
  b.writeUInt8(m.scope, 3);
  b.writeUInt32LE(m.index >>> 0, 4);
  return b;
}

const noInfo: IfInfoMsg = { family: Af.Unspec, type: 0, index: 0, flags: 0, change: 0 };

/** Create-only: the kernel answers EEXIST instead of modifying what exists. */
const createExcl = NlmF.Create | NlmF.Excl;

function nameAttr(name: string): Attr {
  return { type: Ifla.Ifname, value: str(name) };
}

/** An address to write: family number, raw bytes (4 or 16), prefix, ifindex, ifa_flags. */
export interface AddrSpec {
  readonly family: number;
  readonly address: Uint8Array;
  readonly prefixLength: number;
  readonly index: number;
  readonly flags: number;
}

function addrAttrs(a: AddrSpec): Attr[] {
  // IFA_LOCAL is the address; IFA_ADDRESS is the peer, equal to it on
  // non-point-to-point links. With IFA_ADDRESS present the kernel also matches
  // the prefix length on delete (IPv4), so both families delete by address+prefix.
  const bytes = Buffer.from(a.address);
  return [{ type: Ifa.Local, value: bytes }, { type: Ifa.Address, value: bytes }];
}

/** Requests, ready for `NetlinkConnection.request` / `.dump` / `.batch`. */
export const rtRequest = {
  /** RTM_GETLINK by name: answered by one RTM_NEWLINK, or ENODEV. */
  getLink(name: string): Request {
    return { type: Rtm.GetLink, payload: Buffer.concat([encodeIfInfoMsg(noInfo), encodeAttrs([nameAttr(name)])]) };
  },
  /** RTM_GETLINK dump of every link. */
  dumpLinks(): Request {
    return { type: Rtm.GetLink, payload: encodeIfInfoMsg(noInfo) };
  },
  /**
   * RTM_NEWLINK creating a link of `kind` (e.g. "dummy"), create-only (EEXIST if
   * the name is taken). IFLA_LINKINFO { IFLA_INFO_KIND } is nested by hand.
   */
  newLink(name: string, kind: string): Request {
    const attrs: Attr[] = [nameAttr(name), { type: Ifla.LinkInfo, value: [{ type: IflaInfo.Kind, value: str(kind) }] }];
    return { type: Rtm.NewLink, flags: createExcl, payload: Buffer.concat([encodeIfInfoMsg(noInfo), encodeAttrs(attrs)]) };
  },
  /** RTM_SETLINK by name changing only the bits of `change` to `flags` (ENODEV if absent). */
  setLinkFlags(name: string, flags: number, change: number): Request {
    const info = encodeIfInfoMsg({ ...noInfo, flags, change });
    return { type: Rtm.SetLink, payload: Buffer.concat([info, encodeAttrs([nameAttr(name)])]) };
  },
  /** RTM_DELLINK by name (ENODEV if absent). */
  delLink(name: string): Request {
    return { type: Rtm.DelLink, payload: Buffer.concat([encodeIfInfoMsg(noInfo), encodeAttrs([nameAttr(name)])]) };
  },
  /** RTM_GETADDR dump of one family's addresses (Af.Unspec: all). */
  dumpAddresses(family: number = Af.Unspec): Request {
    return { type: Rtm.GetAddr, payload: encodeIfAddrMsg({ family, prefixLength: 0, flags: 0, scope: 0, index: 0 }) };
  },
  /** RTM_NEWADDR, create-only (EEXIST if present), scope global. */
  newAddr(a: AddrSpec): Request {
    const head = encodeIfAddrMsg({ family: a.family, prefixLength: a.prefixLength, flags: a.flags, scope: 0, index: a.index });
    return { type: Rtm.NewAddr, flags: createExcl, payload: Buffer.concat([head, encodeAttrs(addrAttrs(a))]) };
  },
  /** RTM_DELADDR by address and prefix (EADDRNOTAVAIL if absent, ENODEV for no such link). */
  delAddr(a: AddrSpec): Request {
    const head = encodeIfAddrMsg({ family: a.family, prefixLength: a.prefixLength, flags: 0, scope: 0, index: a.index });
    return { type: Rtm.DelAddr, payload: Buffer.concat([head, encodeAttrs(addrAttrs(a))]) };
  },
};

/** A link as read from an RTM_NEWLINK answer. */
export interface RtLink {
  readonly index: number;
  readonly name: string;
  /** IFLA_INFO_KIND ("dummy", "veth", …); null for links without one (lo). */
  readonly kind: string | null;
  readonly flags: number;
  readonly mtu: number | null;
}

/** An address as read from an RTM_NEWADDR answer. */
export interface RtAddress {
  readonly family: number;
  readonly prefixLength: number;
  /** IFA_FLAGS when present (it carries all 32 bits), else ifa_flags. */
  readonly flags: number;
  readonly scope: number;
  readonly index: number;
  /** IFA_LOCAL when present (IPv4), else IFA_ADDRESS (IPv6). */
  readonly address: Buffer;
  /** IFA_LABEL (IPv4 only), null when absent. */
  readonly label: string | null;
}

function attrsOf(payload: Buffer, headLength: number, what: string): Map<number, Buffer> {
  if (payload.length < headLength) throw new RtDecodeError(`${what}: ${payload.length} bytes, header needs ${headLength}`);
  try {
    return decodeAttrs(payload.subarray(headLength));
  } catch (err) {
    throw new RtDecodeError(`${what}: ${(err as Error).message}`);
  }
}

/** Decodes an RTM_NEWLINK payload. Throws `RtDecodeError` when malformed or nameless. */
export function decodeLink(payload: Buffer): RtLink {
  const attrs = attrsOf(payload, ifinfomsgLength, 'link');
  const name = readStr(attrs, Ifla.Ifname);
  if (name === undefined) throw new RtDecodeError('link without IFLA_IFNAME');
  const info = attrs.get(Ifla.LinkInfo);
  let kind: string | null = null;
  if (info) {
    try {
      kind = readStr(decodeAttrs(info), IflaInfo.Kind) ?? null;
    } catch (err) {
      throw new RtDecodeError(`IFLA_LINKINFO: ${(err as Error).message}`);
    }
  }
  return {
    index: payload.readInt32LE(4),
    name,
    kind,
    flags: payload.readUInt32LE(8),
    mtu: readU32(attrs, Ifla.Mtu) ?? null,
  };
}

/** Decodes an RTM_NEWADDR payload. Throws `RtDecodeError` when malformed or address-less. */
export function decodeAddress(payload: Buffer): RtAddress {
  const attrs = attrsOf(payload, ifaddrmsgLength, 'address');
  const address = attrs.get(Ifa.Local) ?? attrs.get(Ifa.Address);
  if (!address) throw new RtDecodeError('address without IFA_LOCAL or IFA_ADDRESS');
  return {
    family: payload.readUInt8(0),
    prefixLength: payload.readUInt8(1),
    flags: readU32(attrs, Ifa.Flags) ?? payload.readUInt8(2),
    scope: payload.readUInt8(3),
    index: payload.readUInt32LE(4),
    address: Buffer.from(address),
    label: readStr(attrs, Ifa.Label) ?? null,
  };
}
