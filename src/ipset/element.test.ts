// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { formatAddress, parseAddress } from './address.ts';
import { canonicalElement } from './element.ts';

describe('addresses as ipset prints them (glibc inet_ntop)', () => {
  // Expected texts produced by the host's glibc inet_ntop (Python socket.inet_ntop).
  it.each([
    { name: 'all zeros', input: '0:0:0:0:0:0:0:0', want: '::' },
    { name: 'loopback', input: '::1', want: '::1' },
    { name: 'trailing zeros', input: '1::', want: '1::' },
    { name: 'longest zero run wins', input: '1:0:0:1:0:0:0:1', want: '1:0:0:1::1' },
    { name: 'first run wins a tie', input: '1:0:0:1:0:0:1:1', want: '1::1:0:0:1:1' },
    { name: 'a single zero group stays', input: '1:0:1:0:1:0:1:0', want: '1:0:1:0:1:0:1:0' },
    { name: 'upper case and explicit zeros', input: 'FD00:0:0::1', want: 'fd00::1' },
    { name: 'IPv4-mapped keeps the dotted quad', input: '::ffff:1.2.3.4', want: '::ffff:1.2.3.4' },
    { name: 'IPv4-compatible becomes a dotted quad', input: '::2:3', want: '::0.2.0.3' },
    { name: 'not mapped: hex', input: '::ffff:0:1.2.3.4', want: '::ffff:0:102:304' },
    { name: 'zeros at the end', input: '0:0:0:0:0:1:0:0', want: '::1:0:0' },
  ])('IPv6 $name: $input → $want', ({ input, want }) => {
    const ip = parseAddress('inet6', input);
    expect(ip && formatAddress(ip)).toBe(want);
  });

  it.each([
    { name: 'IPv4 in an IPv6 family', family: 'inet6' as const, input: '10.0.0.1' },
    { name: 'IPv6 in an IPv4 family', family: 'inet' as const, input: 'fd00::1' },
    { name: 'octal-looking IPv4 octet (the tool reads it as octal)', family: 'inet' as const, input: '010.0.0.9' },
    { name: 'IPv4 octet over 255', family: 'inet' as const, input: '10.0.0.256' },
    { name: 'two ::', family: 'inet6' as const, input: '1::2::3' },
    { name: 'nine groups', family: 'inet6' as const, input: '1:2:3:4:5:6:7:8:9' },
    { name: 'group of five digits', family: 'inet6' as const, input: '12345::1' },
  ])('refuses $name', ({ family, input }) => {
    expect(parseAddress(family, input)).toBeNull();
  });
});

describe('canonicalElement', () => {
  it.each([
    { name: 'hash:ip,port keeps sctp', type: 'hash:ip,port' as const, family: 'inet' as const, input: '10.0.0.1,sctp:30001', want: '10.0.0.1,sctp:30001' },
    { name: 'hash:ip,port,net IPv6 network', type: 'hash:ip,port,net' as const, family: 'inet6' as const, input: '2001:db8:1::10,tcp:80,2001:db8:2:ffff::1/48', want: '2001:db8:1::10,tcp:80,2001:db8:2::/48' },
    { name: 'hash:ip,port,net /1', type: 'hash:ip,port,net' as const, family: 'inet' as const, input: '1.2.3.4,udp:53,200.0.0.0/1', want: '1.2.3.4,udp:53,128.0.0.0/1' },
    { name: 'bitmap:port 0', type: 'bitmap:port' as const, family: 'inet' as const, input: '0', want: '0' },
  ])('$name', ({ type, family, input, want }) => {
    expect(canonicalElement({ type, family }, input)).toEqual({ ok: true, element: want, port: type === 'bitmap:port' ? Number(want) : null });
  });

  it.each([
    { name: 'service name as port (not modelled)', type: 'hash:ip,port' as const, input: '10.0.0.1,tcp:http', stage: 'parse', reportsLine: false },
    { name: 'icmp protocol (not modelled)', type: 'hash:ip,port' as const, input: '10.0.0.1,icmp:8', stage: 'parse', reportsLine: true },
    { name: 'CIDR in hash:ip (the tool would add a range)', type: 'hash:ip' as const, input: '10.0.0.0/30', stage: 'parse', reportsLine: true },
    { name: 'too many parts', type: 'hash:ip,port' as const, input: '10.0.0.1,tcp:80,10.0.0.1', stage: 'parse', reportsLine: true },
    { name: 'zero prefix (the kernel refuses it)', type: 'hash:ip,port,net' as const, input: '1.2.3.4,tcp:80,0.0.0.0/0', stage: 'kernel', reportsLine: true },
    { name: 'port range in bitmap:port (not modelled)', type: 'bitmap:port' as const, input: '100-102', stage: 'parse', reportsLine: false },
  ])('refuses $name', ({ type, input, stage, reportsLine }) => {
    expect(canonicalElement({ type, family: 'inet' }, input)).toMatchObject({ ok: false, code: 'EINVAL', stage, reportsLine });
  });
});
