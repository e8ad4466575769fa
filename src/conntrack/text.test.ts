import { describe, expect, it } from '@jest/globals';
import { KernelError } from '../netlink/errors.ts';
import { classifyStderr, deleteArgs, deleteBatch, listArgs, parseFlowLine, parseFlowLines, summaryCount } from './text.ts';

// Lines below were printed by conntrack v1.4.7 in the sandbox (kernel 6.1).
const v4Extended = 'ipv4     2 udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.244.0.11 dst=10.0.0.1 sport=8053 dport=40000 mark=0 use=1';
const v4Plain = 'udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=40001 dport=53 src=10.96.0.10 dst=10.0.0.1 sport=53 dport=40001 mark=0 use=1';
const v4Acct = 'ipv4     2 udp      17 59 src=10.0.0.2 dst=10.96.0.10 sport=40000 dport=53 packets=0 bytes=0 [UNREPLIED] src=10.244.0.11 dst=10.0.0.2 sport=8053 dport=40000 packets=0 bytes=0 mark=0 use=1';
const v4Assured = 'ipv4     2 udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=40009 dport=53 src=10.244.0.11 dst=10.0.0.1 sport=8053 dport=40009 [ASSURED] mark=6 use=1 id=166133494';
const v6Extended = 'ipv6     10 udp      17 59 src=fd00::1 dst=fd00:96::10 sport=40001 dport=53 src=fd00:244::12 dst=fd00::1 sport=8053 dport=40001 [ASSURED] mark=0 use=1';
const tcp = 'tcp      6 59 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.244.0.11 dst=10.0.0.1 sport=8053 dport=40000 [ASSURED] mark=0 use=1';

describe('parseFlowLine', () => {
  it.each([
    { name: 'IPv4 -o extended, unreplied', line: v4Extended, family: 'inet', protocol: 'udp', original: ['10.0.0.1', 40000, '10.96.0.10', 53], reply: ['10.244.0.11', 8053, '10.0.0.1', 40000] },
    { name: 'IPv4 without the family prefix (what -D prints), never DNATed', line: v4Plain, family: 'inet', protocol: 'udp', original: ['10.0.0.1', 40001, '10.96.0.10', 53], reply: ['10.96.0.10', 53, '10.0.0.1', 40001] },
    { name: 'IPv4 with nf_conntrack_acct counters after each tuple', line: v4Acct, family: 'inet', protocol: 'udp', original: ['10.0.0.2', 40000, '10.96.0.10', 53], reply: ['10.244.0.11', 8053, '10.0.0.2', 40000] },
    { name: 'IPv4 assured, with mark and id', line: v4Assured, family: 'inet', protocol: 'udp', original: ['10.0.0.1', 40009, '10.96.0.10', 53], reply: ['10.244.0.11', 8053, '10.0.0.1', 40009] },
    { name: 'IPv6 -o extended', line: v6Extended, family: 'inet6', protocol: 'udp', original: ['fd00::1', 40001, 'fd00:96::10', 53], reply: ['fd00:244::12', 8053, 'fd00::1', 40001] },
    { name: 'TCP with its state word', line: tcp, family: 'inet', protocol: 'tcp', original: ['10.0.0.1', 40000, '10.96.0.10', 53], reply: ['10.244.0.11', 8053, '10.0.0.1', 40000] },
  ])('reads $name', ({ line, family, protocol, original, reply }) => {
    const t = ([src, srcPort, dst, dstPort]: (string | number)[]) => ({ src, srcPort, dst, dstPort });
    expect(parseFlowLine(line)).toEqual({ family, protocol, original: t(original), reply: t(reply), timeout: 59 });
  });

  it('returns IPv6 addresses in RFC 5952 form', () => {
    const line = 'ipv6     10 udp      17 30 src=FD00:0:0:0::1 dst=fd00:96:0::10 sport=1 dport=53 src=fd00:244::12 dst=fd00::1 sport=8053 dport=1 mark=0 use=1';
    expect(parseFlowLine(line).original).toEqual({ src: 'fd00::1', dst: 'fd00:96::10', srcPort: 1, dstPort: 53 });
  });

  it.each([
    { name: 'the summary line', line: 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.' },
    { name: 'an ICMP flow', line: 'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=1 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=1 mark=0 use=1' },
    { name: 'a line without the reply tuple', line: 'udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=40001 dport=53 mark=0 use=1' },
    { name: 'a protocol number that does not match the name', line: 'udp      6 59 src=10.0.0.1 dst=10.96.0.10 sport=1 dport=53 src=10.96.0.10 dst=10.0.0.1 sport=53 dport=1' },
    { name: 'a bad address', line: 'udp      17 59 src=10.0.0.300 dst=10.96.0.10 sport=1 dport=53 src=10.96.0.10 dst=10.0.0.1 sport=53 dport=1' },
    { name: 'a port out of range', line: 'udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=70000 dport=53 src=10.96.0.10 dst=10.0.0.1 sport=53 dport=1' },
    { name: 'an IPv6 address on an ipv4 line', line: 'ipv4     2 udp      17 59 src=fd00::1 dst=10.96.0.10 sport=1 dport=53 src=10.96.0.10 dst=10.0.0.1 sport=53 dport=1' },
  ])('refuses $name with EBADMSG', ({ line }) => {
    expect(() => parseFlowLine(line)).toThrow(KernelError);
    expect(() => parseFlowLine(line)).toThrow(expect.objectContaining({ code: 'EBADMSG' }));
  });

  it('reads every non-empty line of an output', () => {
    expect(parseFlowLines(`${v4Extended}\n\n${v4Assured}\n`)).toHaveLength(2);
    expect(parseFlowLines('')).toEqual([]);
  });
});

describe('tool arguments', () => {
  it('lists one family and protocol with the family on every line', () => {
    expect(listArgs('inet6', 'udp')).toEqual(['-L', '-f', 'ipv6', '-p', 'udp', '-o', 'extended']);
  });

  it('deletes by every given field, protocol before ports', () => {
    expect(deleteArgs({ family: 'inet', protocol: 'udp', original: { dst: '10.96.0.10', dstPort: 53 }, reply: { src: '10.244.0.11', srcPort: 8053 } }))
      .toEqual(['-D', '-f', 'ipv4', '-p', 'udp', '--orig-dst', '10.96.0.10', '--orig-port-dst', '53', '--reply-src', '10.244.0.11', '--reply-port-src', '8053']);
    expect(deleteArgs({ family: 'inet6', protocol: 'udp', original: { src: 'fd00::1', srcPort: 1 }, reply: { dst: 'fd00::1', dstPort: 2 } }))
      .toEqual(['-D', '-f', 'ipv6', '-p', 'udp', '--orig-src', 'fd00::1', '--orig-port-src', '1', '--reply-dst', 'fd00::1', '--reply-port-dst', '2']);
  });

  it('writes one -D command per line for conntrack -R', () => {
    expect(deleteBatch([
      { family: 'inet', protocol: 'udp', original: { dstPort: 30053 }, reply: { src: '10.244.0.11', srcPort: 8053 } },
      { family: 'inet', protocol: 'udp', original: { dst: '10.96.0.10' } },
    ])).toBe('-D -f ipv4 -p udp --orig-port-dst 30053 --reply-src 10.244.0.11 --reply-port-src 8053\n-D -f ipv4 -p udp --orig-dst 10.96.0.10\n');
  });
});

describe('stderr', () => {
  it('reads the summary counts', () => {
    expect(summaryCount('conntrack v1.4.7 (conntrack-tools): 1002 flow entries have been shown.\n', 'shown')).toBe(1002);
    expect(summaryCount('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n', 'deleted')).toBe(0);
    expect(summaryCount('', 'shown')).toBeNull();
  });

  it.each([
    { name: 'no zone support', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not supported', exit: 1, code: 'EOPNOTSUPP' },
    { name: 'a tracked tuple', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Such conntrack exists, try -U to update', exit: 1, code: 'EEXIST' },
    { name: 'no CAP_NET_ADMIN', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted', exit: 1, code: 'EPERM' },
    { name: 'an interrupted dump', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Interrupted system call', exit: 1, code: 'EINTR' },
    { name: 'a refused argument', stderr: "conntrack v1.4.7 (conntrack-tools): Invalid IP address `300.1.1.1'\nTry `conntrack -h' or 'conntrack --help' for more information.", exit: 2, code: 'EINVAL' },
    { name: 'something unknown', stderr: 'conntrack v1.4.7 (conntrack-tools): something odd', exit: 1, code: null },
  ])('classifies $name as $code', ({ stderr, exit, code }) => {
    expect(classifyStderr(stderr, exit)).toBe(code);
  });
});
