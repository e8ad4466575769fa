import { describe, expect, it } from '@jest/globals';
import { canonicalIpText, cidrContains, parseCidr, parseIp } from './ip.ts';

describe('parseIp', () => {
  it.each([
    { name: 'IPv4', input: '10.0.0.1', want: { family: 'IPv4', text: '10.0.0.1' } },
    { name: 'IPv4 with leading zeros (ParseIPSloppy reads decimal)', input: '010.001.000.001', want: { family: 'IPv4', text: '10.1.0.1' } },
    { name: 'IPv6 compressed to RFC 5952', input: '2001:0DB8:0:0:0:0:0:1', want: { family: 'IPv6', text: '2001:db8::1' } },
    { name: 'IPv6 longest zero run, first on ties', input: '1:0:0:2:0:0:0:3', want: { family: 'IPv6', text: '1:0:0:2::3' } },
    { name: 'IPv6 single zero group is not compressed', input: '1:2:3:4:5:6:0:8', want: { family: 'IPv6', text: '1:2:3:4:5:6:0:8' } },
    { name: 'IPv6 with embedded IPv4', input: '64:ff9b::192.0.2.1', want: { family: 'IPv6', text: '64:ff9b::c000:201' } },
    { name: 'IPv4-mapped IPv6 is IPv4, as in Go', input: '::ffff:1.2.3.4', want: { family: 'IPv4', text: '1.2.3.4' } },
    { name: 'IPv4 extremes', input: '255.255.255.0', want: { family: 'IPv4', text: '255.255.255.0' } },
    { name: 'IPv4 zeros', input: '0.0.0.0', want: { family: 'IPv4', text: '0.0.0.0' } },
    { name: 'loopback', input: '::1', want: { family: 'IPv6', text: '::1' } },
    { name: 'unspecified', input: '::', want: { family: 'IPv6', text: '::' } },
  ])('$name', ({ input, want }) => {
    expect(parseIp(input)).toMatchObject(want);
  });

  it.each([
    { name: 'octet out of range', input: '10.0.0.256' },
    { name: 'three octets', input: '10.0.1' },
    { name: 'five octets', input: '10.0.0.1.2' },
    { name: 'an empty octet', input: '10..0.1' },
    { name: 'a trailing dot', input: '10.0.0.1.' },
    { name: 'a four-digit octet', input: '10.0.0.0001' },
    { name: 'a sign', input: '10.0.+1.1' },
    { name: 'a trailing space', input: '10.0.0.1 ' },
    { name: 'an embedded IPv4 out of range', input: '::ffff:1.2.3.300' },
    { name: 'spaces', input: ' 10.0.0.1' },
    { name: 'two ::', input: '1::2::3' },
    { name: 'too many groups', input: '1:2:3:4:5:6:7:8:9' },
    { name: 'hostname', input: 'example.com' },
    { name: 'empty', input: '' },
    { name: 'CIDR', input: '10.0.0.0/8' },
  ])('rejects $name', ({ input }) => {
    expect(parseIp(input)).toBeNull();
  });
});

describe('parseCidr', () => {
  it.each([
    { name: 'host bits cleared', input: '10.1.2.3/8', text: '10.0.0.0/8' },
    { name: 'IPv6', input: '2001:db8:1::5/48', text: '2001:db8:1::/48' },
    { name: 'zero', input: '0.0.0.0/0', text: '0.0.0.0/0' },
    { name: 'odd prefix', input: '192.168.255.255/17', text: '192.168.128.0/17' },
  ])('$name', ({ input, text }) => {
    expect(parseCidr(input)?.text).toBe(text);
  });

  it.each(['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', 'fd00::/129', 'x/8'])('rejects %s', (input) => {
    expect(parseCidr(input)).toBeNull();
  });

  it('tests containment within a family only', () => {
    const c = parseCidr('10.0.0.0/8')!;
    expect(cidrContains(c, parseIp('10.255.0.1')!)).toBe(true);
    expect(cidrContains(c, parseIp('11.0.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('::/0')!, parseIp('10.0.0.1')!)).toBe(false);
  });
});

describe('canonicalIpText', () => {
  it.each([
    '10.0.0.1', '0.0.0.0', '255.255.255.255', '010.001.000.001', '10.0.0.01', '0.0.0.00', '10.0.0.256', '10.0.1', '10.0.0.1.2',
    '10..0.1', ' 10.0.0.1', '10.0.0.1 ', '2001:0DB8:0:0:0:0:0:1', '::ffff:1.2.3.4', '::1', '1::2::3', 'example.com', '', '10.0.0.0/8',
  ])('agrees with parseIp on %j', (input) => {
    expect(canonicalIpText(input)).toBe(parseIp(input)?.text ?? null);
  });

  it('hands back the very string when it already is canonical IPv4, and a new one otherwise', () => {
    const written = ['10', '244', '0', '7'].join('.');
    expect(canonicalIpText(written)).toBe(written);
    expect(canonicalIpText('10.244.0.07')).toBe('10.244.0.7');
  });
});
