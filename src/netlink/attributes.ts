import { formatAttribute, getPadding } from 'netlink/dist/structs.js';

// Netlink attributes (TLV), on top of the npm `netlink` package's encoder.
// Byte order: attributes are host-endian (little-endian on every platform we
// ship) unless a field is documented as network order, like IPVS ports.

/** One attribute to encode: raw bytes, or nested attributes. */
export interface Attr {
  readonly type: number;
  readonly value: Buffer | readonly Attr[];
}

/** Encodes attributes with 4-byte alignment; nested lists get NLA_F_NESTED. */
export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const a of attrs) {
    const nested = !Buffer.isBuffer(a.value);
    const data = Buffer.isBuffer(a.value) ? a.value : encodeAttrs(a.value);
    const encoded = formatAttribute({ type: a.type, nested, data });
    parts.push(...encoded);
    parts.push(getPadding(4 + data.length));
  }
  return Buffer.concat(parts);
}

/**
 * Decodes one level of attributes into a map by type (flags stripped; a repeated
 * type keeps the last value). Throws on a malformed buffer (bad length).
 */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  // Walks the buffer by offset: one view per attribute and nothing else. The
  // package's parseAttributes makes two objects and two views per attribute,
  // which was the largest allocation of a partial sync (dumps of real servers
  // carry ~30 attributes each).
  const out = new Map<number, Buffer>();
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < 4) throw new Error(`Not enough data for an attribute header at offset ${offset}`);
    const length = buf.readUInt16LE(offset);
    if (length < 4 || offset + length > buf.length) throw new Error(`Invalid attribute length (${length}) at offset ${offset}`);
    // The top two bits are NLA_F_NESTED and NLA_F_NET_BYTEORDER.
    out.set(buf.readUInt16LE(offset + 2) & 0x3fff, buf.subarray(offset + 4, offset + length));
    offset += (length + 3) & ~3;
  }
  return out;
}

export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export function u16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; }
export function u32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; }
/** A u16 in network byte order (IPVS ports). */
export function be16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }
/** A u32 in network byte order. */
export function be32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; }
/** A NUL-terminated string. */
export const str = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

/** Readers: return undefined when the attribute is absent; throw when it is too short. */
export function readU16(m: Map<number, Buffer>, t: number): number | undefined { return m.get(t)?.readUInt16LE(0); }
export function readU32(m: Map<number, Buffer>, t: number): number | undefined { return m.get(t)?.readUInt32LE(0); }
/** A u64 as a number (rounded to the nearest double above 2^53, as Number(bigint) rounds), without a BigInt. */
export function readU64(m: Map<number, Buffer>, t: number): number | undefined {
  const b = m.get(t);
  return b === undefined ? undefined : b.readUInt32LE(4) * 0x1_0000_0000 + b.readUInt32LE(0);
}
export function readBe16(m: Map<number, Buffer>, t: number): number | undefined { return m.get(t)?.readUInt16BE(0); }
export function readBe32(m: Map<number, Buffer>, t: number): number | undefined { return m.get(t)?.readUInt32BE(0); }
export function readStr(m: Map<number, Buffer>, t: number): string | undefined {
  const b = m.get(t);
  if (b === undefined) return undefined;
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}
