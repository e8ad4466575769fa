import { formatGenlHeader, formatMessage } from 'netlink/dist/structs.js';

// Netlink message framing (nlmsghdr) and the generic-netlink header.

/** nlmsghdr flags. */
export const NlmF = {
  Request: 0x1,
  Multi: 0x2,
  Ack: 0x4,
  DumpIntr: 0x10,
  Dump: 0x300,
  Excl: 0x200,
  Create: 0x400,
} as const;

/** Control message types. */
export const NlmsgType = { Noop: 1, Error: 2, Done: 3, Overrun: 4 } as const;

/** A decoded netlink message. */
export interface Message {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly port: number;
  readonly data: Buffer;
}

/** Encodes one netlink message (header + payload, padded). */
export function encodeMessage(m: Message): Buffer {
  const parts = formatMessage({ type: m.type, flags: m.flags, seq: m.seq, port: m.port, data: m.data });
  // formatMessage does not pad the tail; messages packed into one datagram must
  // each start on a 4-byte boundary (NLMSG_ALIGN), so pad here.
  const length = parts.reduce((n, p) => n + p.length, 0);
  return Buffer.concat([...parts, Buffer.alloc((4 - (length % 4)) % 4)]);
}

const headerLength = 16;

/**
 * Splits a received datagram into messages (each payload a view into `buf`).
 * Throws on a truncated or malformed buffer: fewer than 16 bytes left for a
 * header, or a length shorter than the header or past the end.
 */
export function decodeMessages(buf: Buffer): Message[] {
  // Reads each nlmsghdr where it lies: one object and one view per message. The
  // package's parseMessages made five objects and two views per message, the
  // largest allocation of a full sync (one message per real server).
  const out: Message[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < headerLength) throw new Error(`Invalid header length (${buf.length - at})`);
    const length = buf.readUInt32LE(at);
    if (length < headerLength || length > buf.length - at) throw new Error(`Invalid header length (${length})`);
    out.push({
      type: buf.readUInt16LE(at + 4), flags: buf.readUInt16LE(at + 6),
      seq: buf.readUInt32LE(at + 8), port: buf.readUInt32LE(at + 12),
      data: buf.subarray(at + headerLength, at + length),
    });
    at += (length + 3) & ~3;
  }
  return out;
}

/**
 * The errno carried by an NLMSG_ERROR payload: 0 for an acknowledgement, else a
 * positive errno. Throws if the payload is shorter than the 4-byte error field.
 */
export function errorCode(data: Buffer): number {
  if (data.length < 4) throw new Error('netlink: truncated NLMSG_ERROR');
  return -data.readInt32LE(0);
}

/** The sequence number of the request an NLMSG_ERROR refers to (from its echoed header). */
export function errorRequestSeq(data: Buffer): number | undefined {
  return data.length >= 4 + 16 ? data.readUInt32LE(4 + 8) : undefined;
}

/** Generic-netlink header: command and family version. */
export interface GenlHeader {
  readonly cmd: number;
  readonly version: number;
}

/** genlmsghdr + attributes. */
export function encodeGenl(h: GenlHeader, attrs: Buffer): Buffer {
  return Buffer.concat([formatGenlHeader({ cmd: h.cmd, version: h.version }), attrs]);
}

/** Length of genlmsghdr: cmd, version, 2 reserved bytes. */
export const genlHeaderLength = 4;

/** Splits a generic-netlink payload into its header and attribute bytes. Throws if shorter than the header. */
export function decodeGenl(data: Buffer): { header: GenlHeader; attrs: Buffer } {
  if (data.length < genlHeaderLength) throw new Error(`Invalid genl header length (${data.length})`);
  return { header: { cmd: data[0]!, version: data[1]! }, attrs: data.subarray(genlHeaderLength) };
}
