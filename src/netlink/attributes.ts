// Netlink attributes (TLV): 2-byte length (header included, padding not),
// 2-byte type, value, padding to 4 bytes.
// Byte order: attributes are host-endian (little-endian on every platform we
// ship) unless a field is documented as network order, like IPVS ports.

/** One attribute to encode: raw bytes, or nested attributes. */
export interface Attr {
  readonly type: number;
  readonly value: Buffer | readonly Attr[];
}

const NLA_F_NESTED = 0x8000;
const align4 = (n: number): number => (n + 3) & ~3;

function encodedLength(attrs: readonly Attr[]): number {
  let n = 0;
  for (const a of attrs) n += align4(4 + (Buffer.isBuffer(a.value) ? a.value.length : encodedLength(a.value)));
  return n;
}

function writeAttrs(attrs: readonly Attr[], out: Buffer, offset: number): number {
  for (const a of attrs) {
    const start = offset;
    const nested = !Buffer.isBuffer(a.value);
    const end = Buffer.isBuffer(a.value) ? start + 4 + a.value.copy(out, start + 4) : writeAttrs(a.value, out, start + 4);
    if (end - start > 0xffff) throw new Error(`attribute ${a.type} is longer than 65535 bytes`);
    out.writeUInt16LE(end - start, start);
    out.writeUInt16LE((a.type & 0x3fff) | (nested ? NLA_F_NESTED : 0), start + 2);
    offset = align4(end);
    out.fill(0, end, offset);
  }
  return offset;
}

/**
 * Encodes attributes with 4-byte alignment into one buffer; nested lists get
 * NLA_F_NESTED. Throws if an attribute would exceed the 16-bit length field.
 */
export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const out = Buffer.allocUnsafe(encodedLength(attrs));
  writeAttrs(attrs, out, 0);
  return out;
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

/**
 * Steps through one level of attributes in place, for hot decoders that read
 * a few numbers where they lie: one small object per walk, no map, no view per
 * attribute. After `next()` returns true, `type` (flags stripped), `offset`
 * (of the value, in `buf`) and `length` (of the value) describe the current
 * attribute. `next()` throws on a malformed buffer (bad length).
 */
export class AttrCursor {
  private readonly buf: Buffer;
  private at = 0;
  type = 0;
  offset = 0;
  length = 0;

  /** Walks the attributes of `buf` from `start` (e.g. past a generic-netlink header) to its end. */
  constructor(buf: Buffer, start = 0) {
    this.buf = buf;
    this.at = start;
  }

  next(): boolean {
    const buf = this.buf;
    const at = this.at;
    if (at >= buf.length) return false;
    if (buf.length - at < 4) throw new Error(`Not enough data for an attribute header at offset ${at}`);
    const length = buf.readUInt16LE(at);
    if (length < 4 || at + length > buf.length) throw new Error(`Invalid attribute length (${length}) at offset ${at}`);
    this.type = buf.readUInt16LE(at + 2) & 0x3fff;
    this.offset = at + 4;
    this.length = length - 4;
    this.at = at + ((length + 3) & ~3);
    return true;
  }
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
/**
 * The u64 (host order) at `offset` as a number, without a BigInt (rounded to
 * the nearest double above 2^53, as Number(bigint) rounds). Throws a
 * RangeError when fewer than 8 bytes remain.
 */
export function u64At(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset + 4) * 0x1_0000_0000 + buf.readUInt32LE(offset);
}
export function readBe16(m: Map<number, Buffer>, t: number): number | undefined { return m.get(t)?.readUInt16BE(0); }
export function readBe32(m: Map<number, Buffer>, t: number): number | undefined { return m.get(t)?.readUInt32BE(0); }
export function readStr(m: Map<number, Buffer>, t: number): string | undefined {
  const b = m.get(t);
  if (b === undefined) return undefined;
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}
