import { describe, expect, it } from '@jest/globals';
import { AttrCursor, decodeAttrs, encodeAttrs, str, u16, u32, u64At, u8 } from './attributes.ts';

describe('decodeAttrs', () => {
  it('reads back what encodeAttrs wrote, padding skipped and the nested flag stripped', () => {
    const buf = encodeAttrs([
      { type: 1, value: u8(7) },
      { type: 2, value: str('rr') },
      { type: 3, value: [{ type: 1, value: u32(0xdeadbeef) }] },
      { type: 4, value: u16(65535) },
    ]);
    const m = decodeAttrs(buf);
    expect([...m.keys()]).toEqual([1, 2, 3, 4]);
    expect(m.get(1)).toEqual(Buffer.from([7]));
    expect(m.get(2)?.toString()).toBe('rr\0');
    expect(decodeAttrs(m.get(3)!).get(1)?.readUInt32LE(0)).toBe(0xdeadbeef);
    expect(m.get(4)?.readUInt16LE(0)).toBe(65535);
  });

  it('keeps the last value of a repeated type, and reads an empty buffer as no attributes', () => {
    const buf = encodeAttrs([{ type: 5, value: u32(1) }, { type: 5, value: u32(2) }]);
    expect(decodeAttrs(buf).get(5)?.readUInt32LE(0)).toBe(2);
    expect(decodeAttrs(Buffer.alloc(0)).size).toBe(0);
  });

  it.each([
    { name: 'a length below the header size', buf: Buffer.from([3, 0, 1, 0]) },
    { name: 'a length past the end', buf: Buffer.from([12, 0, 1, 0, 0, 0, 0, 0]) },
    { name: 'a header cut short', buf: Buffer.concat([encodeAttrs([{ type: 1, value: u32(1) }]), Buffer.from([8, 0])]) },
  ])('throws on $name', ({ buf }) => {
    expect(() => decodeAttrs(buf)).toThrow(/attribute/);
  });
});

describe('encodeAttrs', () => {
  it('writes length (header included, padding not), type, value and zero padding; nested lists get NLA_F_NESTED', () => {
    const buf = encodeAttrs([
      { type: 1, value: u8(7) },
      { type: 3, value: [{ type: 2, value: str('rr') }, { type: 1, value: u32(0xdeadbeef) }] },
    ]);
    expect(buf.toString('hex')).toBe([
      '0500', '0100', '07000000', // u8 7: length 5, padded to 8
      '1400', '0380', // nested: length 4 + 8 + 8 = 20, type 3 | 0x8000
      '0700', '0200', '72720000', // "rr\0": length 7, padded
      '0800', '0100', 'efbeadde',
    ].join(''));
  });

  it('encodes nothing as an empty buffer and refuses a value longer than the 16-bit length', () => {
    expect(encodeAttrs([]).length).toBe(0);
    expect(() => encodeAttrs([{ type: 1, value: Buffer.alloc(65532) }])).toThrow(/longer than 65535/);
  });
});

describe('AttrCursor', () => {
  const walk = (buf: Buffer, seen: [number, number, number][]): void => {
    const c = new AttrCursor(buf);
    while (c.next()) seen.push([c.type, c.offset, c.length]);
  };

  it('steps through each attribute in order with the offset and length of its value', () => {
    const buf = encodeAttrs([{ type: 1, value: u8(7) }, { type: 2, value: [{ type: 1, value: u16(9) }] }, { type: 3, value: u32(42) }]);
    const seen: [number, number, number][] = [];
    walk(buf, seen);
    expect(seen).toEqual([[1, 4, 1], [2, 12, 8], [3, 24, 4]]);
    expect(buf.readUInt32LE(seen[2]![1])).toBe(42);
    walk(Buffer.alloc(0), seen);
    expect(seen).toHaveLength(3);
  });

  it('throws on a malformed length, after the good attributes before it', () => {
    const buf = Buffer.concat([encodeAttrs([{ type: 1, value: u32(1) }]), Buffer.from([12, 0, 2, 0, 0, 0, 0, 0])]);
    const seen: [number, number, number][] = [];
    expect(() => walk(buf, seen)).toThrow(/Invalid attribute length \(12\) at offset 8/);
    expect(seen.map(([t]) => t)).toEqual([1]);
  });
});

describe('u64At', () => {
  const u64 = (v: bigint, at = 0): Buffer => { const b = Buffer.alloc(at + 8); b.writeBigUInt64LE(v, at); return b; };
  it.each([
    { name: 'zero', v: 0n },
    { name: 'above 2^32', v: 2n ** 32n + 5n },
    { name: 'exactly 2^53', v: 2n ** 53n },
    { name: 'above 2^53 (rounded)', v: 2n ** 53n + 1n },
    { name: 'the largest u64', v: 2n ** 64n - 1n },
  ])('reads $name as Number(bigint) does', ({ v }) => {
    expect(u64At(u64(v), 0)).toBe(Number(v));
    expect(u64At(u64(v, 4), 4)).toBe(Number(v));
  });
  it('throws when fewer than 8 bytes remain', () => {
    expect(() => u64At(Buffer.alloc(8), 4)).toThrow(/out of range/);
  });
});
