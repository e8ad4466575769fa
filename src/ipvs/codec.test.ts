import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  DecodeError, addressBytes, canonicalAddress, decodeDest, decodeDestConnections, decodeInfo, decodeService, decodeServiceSettings, decodeTimeouts,
  encode, formatAddress,
} from './codec.ts';
import { Cmd, CmdAttr, DestAttr } from './constants.ts';
import { type Attr, be16, encodeAttrs, u16, u32 } from '../netlink/attributes.ts';
import { encodeGenl } from '../netlink/message.ts';
import type { RealServer, VirtualServer } from './types.ts';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../test/fixtures/netlink/${name}.bin`, import.meta.url));

const bytes = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');
const hex = (b: Buffer): string => b.toString('hex').replace(/(.{8})/g, '$1 ').trim();

const vs4: VirtualServer = {
  family: 'inet', protocol: 'TCP', address: '198.51.100.10', port: 80, fwmark: null,
  scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null,
};

describe('IPVS codec: encoding (exact bytes)', () => {
  it('encodes NEW_SERVICE for an IPv4 TCP virtual server', () => {
    // genlmsghdr {cmd 1, version 1}, then IPVS_CMD_ATTR_SERVICE (nested, 0x8001):
    // AF=2, PROTOCOL=6, ADDR=198.51.100.10, PORT=80 (big-endian), SCHED_NAME="rr",
    // FLAGS={0, mask 0xffffffff}, TIMEOUT=0, NETMASK=255.255.255.255 (network order).
    expect(hex(encode.newService(vs4))).toBe(hex(bytes(
      '01010000' + '48000180' + '06000100 02000000' + '06000200 06000000' + '08000300 c633640a' +
      '06000400 00500000' + '07000600 72720000' + '0c000700 00000000 ffffffff' + '08000800 00000000' +
      '08000900 ffffffff')));
  });

  it('encodes persistence: the IPv4 mask in network order, the IPv6 prefix in host order', () => {
    const p4 = encode.newService({ ...vs4, persistence: { timeout: 300, prefixLength: 24 } });
    expect(hex(p4)).toContain(hex(bytes('0c000700 01000000 ffffffff 08000800 2c010000 08000900 ffffff00')));
    const p6 = encode.newService({ ...vs4, family: 'inet6', address: 'fd00::1', persistence: { timeout: 60, prefixLength: 64 } });
    expect(hex(p6)).toContain('08000900 40000000');
    expect(hex(p6)).toContain('14000300 fd000000 00000000 00000000 00000001');
  });

  it('encodes a fwmark virtual server by mark alone', () => {
    const b = encode.delService({ family: 'inet6', protocol: null, address: null, port: null, fwmark: 4096 });
    expect(hex(b)).toBe(hex(bytes('03010000 14000180 06000100 0a000000 08000500 00100000')));
  });

  it('encodes NEW_DEST with family, forwarding, u32 weight, thresholds and tunnel', () => {
    const r: RealServer = {
      family: 'inet', address: '10.244.1.6', port: 80, weight: 70000, forward: 'tunnel',
      upperThreshold: 100, lowerThreshold: 10, tunnel: { type: 'gue', port: 6080, flags: 1 },
    };
    const dest = hex(encode.newDest(vs4, r)).split(' ');
    const destHex = dest.join('');
    expect(destHex.slice(0, 8)).toBe('05010000');
    expect(destHex).toContain('08000100' + '0af40106'); // ADDR
    expect(destHex).toContain('06000200' + '00500000'); // PORT 80, big-endian
    expect(destHex).toContain('06000b00' + '02000000'); // ADDR_FAMILY AF_INET
    expect(destHex).toContain('08000300' + '02000000'); // FWD_METHOD tunnel
    expect(destHex).toContain('08000400' + '70110100'); // WEIGHT 70000
    expect(destHex).toContain('08000500' + '64000000'); // U_THRESH
    expect(destHex).toContain('08000600' + '0a000000'); // L_THRESH
    expect(destHex).toContain('05000d00' + '01000000'); // TUN_TYPE gue (u8, padded)
    expect(destHex).toContain('06000e00' + '17c00000'); // TUN_PORT 6080, big-endian
    expect(destHex).toContain('06000f00' + '01000000'); // TUN_FLAGS csum
  });

  it('encodes SET_CONFIG with all three timeouts (0 = unchanged)', () => {
    expect(hex(encode.setConfig({ tcp: 900 }))).toBe(hex(bytes('0c010000 08000400 84030000 08000500 00000000 08000600 00000000')));
  });

  it('encodes FLUSH, GET_INFO and a service dump with no attributes', () => {
    expect(hex(encode.flush())).toBe('11010000');
    expect(hex(encode.getInfo())).toBe('0f010000');
    expect(hex(encode.dumpServices())).toBe('04010000');
  });
});

describe('IPVS codec: decoding kernel answers recorded in the sandbox', () => {
  it('decodes an IPv4 TCP service with persistence and a /24 mask', () => {
    const s = decodeService(fixture('service-tcp4'));
    expect({ ...s, stats: undefined }).toEqual({
      family: 'inet', protocol: 'TCP', address: '10.96.0.10', port: 80, fwmark: null, scheduler: 'rr', flags: 0,
      persistence: { timeout: 300, prefixLength: 24 }, persistenceEngine: null, stats: undefined,
    });
    expect(s.stats.connections).toBe(0);
  });

  it('decodes an IPv6 UDP service with mh flags and one-packet scheduling', () => {
    const s = decodeService(fixture('service-udp6'));
    expect(s).toMatchObject({
      family: 'inet6', protocol: 'UDP', address: 'fd00::a', port: 53, fwmark: null, scheduler: 'mh',
      flags: 0x4 | 0x8 | 0x10, persistence: null,
    });
  });

  it('decodes an IPv6 fwmark service with a /64 persistence prefix', () => {
    expect(decodeService(fixture('service-fwmark6'))).toMatchObject({
      family: 'inet6', protocol: null, address: null, port: null, fwmark: 4096, scheduler: 'sh',
      persistence: { timeout: 60, prefixLength: 64 },
    });
  });

  it('decodes a masquerading real server with a weight above 16 bits and thresholds', () => {
    expect(decodeDest(fixture('dest-masq4'), 'inet')).toMatchObject({
      family: 'inet', address: '10.244.1.5', port: 8080, weight: 70000, forward: 'masq',
      upperThreshold: 100, lowerThreshold: 10, tunnel: null, activeConnections: 0, inactiveConnections: 0,
    });
  });

  it('decodes a GUE tunnel real server', () => {
    expect(decodeDest(fixture('dest-tunnel4'), 'inet')).toMatchObject({
      address: '10.244.1.6', port: 80, forward: 'tunnel', tunnel: { type: 'gue', port: 6080, flags: 1 },
    });
  });

  it.each([
    { name: 'masquerading, IPv4', file: 'dest-masq4' },
    { name: 'GUE tunnel', file: 'dest-tunnel4' },
  ])('decodes a real server without stats to the same fields: $name', ({ file }) => {
    const { stats, ...rest } = decodeDest(fixture(file), 'inet');
    expect(stats).toHaveProperty('bytesIn');
    expect(decodeDestConnections(fixture(file), 'inet')).toEqual(rest);
  });

  const destMessage = (attrs: Attr[]): Buffer => encodeGenl({ cmd: Cmd.NewDest, version: 1 }, encodeAttrs([{ type: CmdAttr.Dest, value: attrs }]));
  const addr = { type: DestAttr.Addr, value: Buffer.from([10, 244, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) };
  it.each([
    { name: 'no address', attrs: [{ type: DestAttr.Port, value: be16(80) }], error: /missing destination address/ },
    { name: 'no port', attrs: [addr], error: /missing destination port/ },
    { name: 'a 2-byte weight', attrs: [addr, { type: DestAttr.Port, value: be16(80) }, { type: DestAttr.Weight, value: u16(1) }], error: /weight is 2 bytes/ },
    { name: 'an IPv6 family with a 4-byte address', attrs: [{ type: DestAttr.Addr, value: u32(1) }, { type: DestAttr.Port, value: be16(80) }, { type: DestAttr.AddrFamily, value: u16(10) }], error: /address is 4 bytes/ },
  ])('refuses a real server with $name, with or without stats', ({ attrs, error }) => {
    for (const decode of [decodeDest, decodeDestConnections]) {
      expect(() => decode(destMessage(attrs), 'inet')).toThrow(error);
      expect(() => decode(destMessage(attrs), 'inet')).toThrow(DecodeError);
    }
  });

  const u64 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
  const port80 = { type: DestAttr.Port, value: be16(80) };
  it('reads STATS64 counters as numbers, 64-bit values included, and prefers them to STATS', () => {
    const s64 = Array.from({ length: 10 }, (_, i) => ({ type: i + 1, value: u64(i === 3 ? 2 ** 40 + 7 : (i + 1) * 11) }));
    const s32 = Array.from({ length: 10 }, (_, i) => ({ type: i + 1, value: i === 3 || i === 4 ? u64(1) : u32(1) }));
    const got = decodeDest(destMessage([addr, port80, { type: DestAttr.Stats, value: s32 }, { type: DestAttr.Stats64, value: s64 }]), 'inet');
    expect(got.stats).toEqual({
      connections: 11, packetsIn: 22, packetsOut: 33, bytesIn: 2 ** 40 + 7, bytesOut: 55,
      cps: 66, ppsIn: 77, ppsOut: 88, bpsIn: 99, bpsOut: 110,
    });
  });

  it('reads the 32-bit STATS nest (bytes are u64 there) when STATS64 is absent, and zeroes without either', () => {
    const s32 = [
      { type: 1, value: u32(3) }, { type: 2, value: u32(4) }, { type: 4, value: u64(2 ** 33) }, { type: 5, value: u64(9) }, { type: 10, value: u32(5) },
    ];
    expect(decodeDest(destMessage([addr, port80, { type: DestAttr.Stats, value: s32 }]), 'inet').stats).toEqual({
      connections: 3, packetsIn: 4, packetsOut: 0, bytesIn: 2 ** 33, bytesOut: 9, cps: 0, ppsIn: 0, ppsOut: 0, bpsIn: 0, bpsOut: 5,
    });
    expect(decodeDest(destMessage([addr, port80]), 'inet').stats.bytesIn).toBe(0);
    expect(() => decodeDest(destMessage([addr, port80, { type: DestAttr.Stats64, value: [{ type: 4, value: u32(1) }] }]), 'inet')).toThrow(/stats counter 4 is 4 bytes/);
  });

  it('finds the destination nest among other top-level attributes, and refuses another command, a short payload or no nest', () => {
    const withService = encodeGenl({ cmd: Cmd.NewDest, version: 1 }, encodeAttrs([
      { type: CmdAttr.Service, value: [{ type: 1, value: u16(2) }] }, { type: CmdAttr.Dest, value: [addr, port80] }]));
    for (const decode of [decodeDest, decodeDestConnections]) {
      expect(decode(withService, 'inet')).toMatchObject({ address: '10.244.1.5', port: 80 });
      expect(() => decode(encodeGenl({ cmd: Cmd.NewService, version: 1 }, encodeAttrs([{ type: CmdAttr.Dest, value: [addr, port80] }])), 'inet'))
        .toThrow(/expected IPVS command/);
      expect(() => decode(Buffer.from([Cmd.NewDest, 1]), 'inet')).toThrow(DecodeError);
      expect(() => decode(encodeGenl({ cmd: Cmd.NewDest, version: 1 }, encodeAttrs([{ type: CmdAttr.Service, value: [] }])), 'inet'))
        .toThrow(/missing destination attribute/);
    }
  });

  it('refuses a real server whose attributes overrun their nest', () => {
    const msg = destMessage([addr, { type: DestAttr.Port, value: be16(80) }]);
    msg.writeUInt16LE(200, 4 + 4 + 20); // the port attribute claims 200 bytes
    expect(() => decodeDestConnections(msg, 'inet')).toThrow(DecodeError);
  });

  it('decodes GET_INFO and GET_CONFIG answers', () => {
    expect(decodeInfo(fixture('info'))).toEqual({ version: '1.2.1', connectionTableSize: 4096 });
    expect(decodeTimeouts(fixture('config'))).toEqual({ tcp: 7200, tcpFin: 60, udp: 600 });
  });

  it('decodes a service without stats to the same settings', () => {
    for (const file of ['service-tcp4', 'service-udp6', 'service-fwmark6']) {
      const { stats, ...rest } = decodeService(fixture(file));
      expect(stats).toHaveProperty('bytesIn');
      expect(decodeServiceSettings(fixture(file))).toEqual(rest);
    }
  });

  it('refuses an answer of the wrong command', () => {
    expect(() => decodeService(fixture('dest-masq4'))).toThrow(/expected IPVS command 1, got 5/);
  });
});

describe('addresses', () => {
  it.each([
    { name: 'IPv4', family: 'inet' as const, text: '10.0.0.1', out: '10.0.0.1' },
    { name: 'IPv6 compressed', family: 'inet6' as const, text: 'FD00:0:0:0:0:0:0:1', out: 'fd00::1' },
    { name: 'IPv6 all zeros', family: 'inet6' as const, text: '::', out: '::' },
    { name: 'IPv6 leading run', family: 'inet6' as const, text: '0:0:0:1:2:3:4:5', out: '::1:2:3:4:5' },
    { name: 'IPv6 longest run wins', family: 'inet6' as const, text: '1:0:0:2:0:0:0:3', out: '1:0:0:2::3' },
    { name: 'IPv6 single zero group stays', family: 'inet6' as const, text: '1:0:2:3:4:5:6:7', out: '1:0:2:3:4:5:6:7' },
    { name: 'IPv6 with embedded IPv4', family: 'inet6' as const, text: '::ffff:10.1.2.3', out: '::ffff:a01:203' },
  ])('canonicalises $name', ({ family, text, out }) => {
    expect(canonicalAddress(family, text)).toBe(out);
    expect(formatAddress(family, addressBytes(family, out))).toBe(out);
  });

  it.each(['10.0.0', '10.0.0.256', 'fd00::1', 'x'])('refuses %s as IPv4', (a) => {
    expect(() => addressBytes('inet', a)).toThrow(/not an IPv4 address/);
  });

  it.each(['10.0.0.1', 'fd00:::1', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9'])('refuses %s as IPv6', (a) => {
    expect(() => addressBytes('inet6', a)).toThrow(/not an IPv6 address/);
  });
});
