// Netlink message framing: what decodeMessages reads from a datagram, checked
// against the netlink package's own parser on the same bytes.
import { describe, expect, it } from '@jest/globals';
import { parseMessages } from 'netlink/dist/structs.js';
import { decodeGenl, decodeMessages, encodeGenl, encodeMessage, type Message } from './message.ts';

const msg = (seq: number, data: string, flags = 2): Message => ({ type: 30, flags, seq, port: 4242, data: Buffer.from(data) });

describe('decodeMessages', () => {
  it('splits a datagram of padded messages, as the netlink package does', () => {
    const sent = [msg(1, 'a'), msg(2, 'abcd'), msg(0xffffffff, ''), msg(4, 'abcdefg', 3)];
    const datagram = Buffer.concat(sent.map(encodeMessage));
    const got = decodeMessages(datagram);
    expect(got).toEqual(sent);
    expect(got).toEqual(parseMessages(datagram).map((m) => ({ type: m.type, flags: m.flags, seq: m.seq, port: m.port, data: m.data })));
  });

  it('returns payloads as views into the datagram, without copying', () => {
    const datagram = encodeMessage(msg(1, 'xyz'));
    const [m] = decodeMessages(datagram);
    expect(m?.data.buffer).toBe(datagram.buffer);
  });

  it('throws on a truncated header, a length shorter than the header, or a length past the end', () => {
    const one = encodeMessage(msg(1, 'abcd'));
    expect(() => decodeMessages(Buffer.concat([one, Buffer.alloc(8)]))).toThrow(/Invalid header length/);
    const short = Buffer.from(one);
    short.writeUInt32LE(12, 0);
    expect(() => decodeMessages(short)).toThrow(/Invalid header length \(12\)/);
    const long = Buffer.from(one);
    long.writeUInt32LE(64, 0);
    expect(() => decodeMessages(long)).toThrow(/Invalid header length \(64\)/);
    expect(decodeMessages(Buffer.alloc(0))).toEqual([]);
  });
});

describe('decodeGenl', () => {
  it('reads the command and version and returns the attribute bytes; throws when shorter than the header', () => {
    const payload = encodeGenl({ cmd: 5, version: 1 }, Buffer.from([1, 2, 3, 4]));
    expect(decodeGenl(payload)).toEqual({ header: { cmd: 5, version: 1 }, attrs: Buffer.from([1, 2, 3, 4]) });
    expect(() => decodeGenl(Buffer.from([5, 1]))).toThrow(/genl header length/);
  });
});
