// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { countDrift, diffIpsets } from './diff.ts';
import type { IpSet, ObservedSet } from './types.ts';

const hashHeader = { hashsize: '1024', maxelem: '65536', bucketsize: '12', initval: '0x1234abcd' };

function want(name: string, type: IpSet['type'], entries: string[], family: IpSet['family'] = 'inet'): IpSet {
  return { name, type, family, entries };
}

function seen(name: string, type: string, entries: string[], over: Partial<ObservedSet> = {}): ObservedSet {
  return {
    name, type, entries, family: type === 'bitmap:port' ? null : 'inet',
    options: type === 'bitmap:port' ? { range: '0-65535' } : hashHeader, ...over,
  };
}

describe('diffIpsets', () => {
  it('creates a missing set, then adds its entries sorted', () => {
    const plan = diffIpsets([want('KUBE-CLUSTER-IP', 'hash:ip,port', ['10.96.0.10,udp:53', '10.96.0.1,tcp:443'])], []);
    expect(plan.lines).toEqual([
      'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536',
      'add KUBE-CLUSTER-IP 10.96.0.1,tcp:443',
      'add KUBE-CLUSTER-IP 10.96.0.10,udp:53',
    ]);
    expect(plan.creates).toEqual(['KUBE-CLUSTER-IP']);
  });

  it('deletes extra entries before adding missing ones, and leaves matching ones alone', () => {
    const plan = diffIpsets(
      [want('KUBE-NODE-PORT-TCP', 'bitmap:port', ['30001', '30003'])],
      [seen('KUBE-NODE-PORT-TCP', 'bitmap:port', ['30001', '30002'])],
    );
    expect(plan.lines).toEqual(['del KUBE-NODE-PORT-TCP 30002', 'add KUBE-NODE-PORT-TCP 30003']);
    expect({ adds: plan.adds, dels: plan.dels }).toEqual({
      adds: [{ set: 'KUBE-NODE-PORT-TCP', entry: '30003' }], dels: [{ set: 'KUBE-NODE-PORT-TCP', entry: '30002' }],
    });
  });

  it.each([
    { name: '/32 source range printed bare', type: 'hash:ip,port,net' as const, family: 'inet' as const, desired: '1.2.3.4,tcp:80,10.0.0.5/32', observed: '1.2.3.4,tcp:80,10.0.0.5' },
    { name: 'host bits in a range', type: 'hash:ip,port,net' as const, family: 'inet' as const, desired: '1.2.3.4,tcp:80,10.1.2.3/8', observed: '1.2.3.4,tcp:80,10.0.0.0/8' },
    { name: 'IPv6 spelling', type: 'hash:ip,port' as const, family: 'inet6' as const, desired: 'FD00:0::1,tcp:80', observed: 'fd00::1,tcp:80' },
    { name: 'port without protocol', type: 'hash:ip,port' as const, family: 'inet' as const, desired: '10.0.0.1,80', observed: '10.0.0.1,tcp:80' },
  ])('writes nothing when entries differ only in spelling: $name', ({ type, family, desired, observed }) => {
    const plan = diffIpsets([want('S', type, [desired], family)], [seen('S', type, [observed], { family })]);
    expect(plan.lines).toEqual([]);
    expect([...plan.result.get('S') ?? []]).toEqual([observed]);
  });

  it('skips and reports invalid entries, writing the valid ones', () => {
    const plan = diffIpsets([want('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', ['1.2.3.4,tcp:80,0.0.0.0/0', '1.2.3.4,tcp:80,10.0.0.0/8', 'fd00::1,tcp:80,fd00::/8'])], []);
    expect(plan.lines.slice(1)).toEqual(['add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,10.0.0.0/8']);
    expect(plan.invalid.map((e) => [e.code, e.object, e.entry])).toEqual([
      ['EINVAL', 'KUBE-LOAD-BALANCER-SOURCE-CIDR', '1.2.3.4,tcp:80,0.0.0.0/0'],
      ['EINVAL', 'KUBE-LOAD-BALANCER-SOURCE-CIDR', 'fd00::1,tcp:80,fd00::/8'],
    ]);
  });

  it.each([
    { name: 'another type', observed: seen('S', 'hash:ip', []), field: 'type' },
    { name: 'another family', observed: seen('S', 'hash:ip,port', [], { family: 'inet6' }), field: 'family' },
    { name: 'another maxelem', observed: seen('S', 'hash:ip,port', [], { options: { hashsize: '1024', maxelem: '1000' } }), field: 'maxelem' },
    { name: 'a timeout (entries would expire)', observed: seen('S', 'hash:ip,port', [], { options: { ...hashHeader, timeout: '300' } }), field: 'timeout' },
  ])('reports a set that exists with $name and writes nothing to it', ({ observed, field }) => {
    const plan = diffIpsets([want('S', 'hash:ip,port', ['10.0.0.1,tcp:80']), want('T', 'hash:ip', ['10.0.0.2'])], [observed]);
    expect(plan.conflicts.map((c) => [c.code, c.object, c.field])).toEqual([['EEXIST', 'S', field]]);
    expect(plan.lines.every((l) => l.split(' ')[1] === 'T')).toBe(true);
    expect(plan.result.has('S')).toBe(false);
  });

  it('reports a bitmap:port set with another range', () => {
    const plan = diffIpsets([want('P', 'bitmap:port', [])], [seen('P', 'bitmap:port', [], { options: { range: '1-65535' } })]);
    expect(plan.conflicts.map((c) => [c.field, c.have, c.want])).toEqual([['range', '1-65535', '0-65535']]);
  });

  it('accepts a set whose hash size, bucket size or initval differ (the kernel chooses them)', () => {
    const plan = diffIpsets([want('S', 'hash:ip', ['10.0.0.1'])], [seen('S', 'hash:ip', ['10.0.0.1'], { options: { hashsize: '4096', maxelem: '65536', bucketsize: '14', initval: '0x1' } })]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.lines).toEqual([]);
  });

  it('never touches sets it was not given', () => {
    const plan = diffIpsets([want('S', 'hash:ip', [])], [seen('cali40-all', 'hash:net', ['10.0.0.0/8']), seen('KUBE-6-CLUSTER-IP', 'hash:ip,port', ['x'])]);
    expect(plan.lines).toEqual(['create S hash:ip family inet hashsize 1024 maxelem 65536']);
  });

  it('gives the same lines whatever the order of observed entries', () => {
    const desired = [want('S', 'hash:ip', ['10.0.0.1', '10.0.0.9', '10.0.0.3'])];
    const a = diffIpsets(desired, [seen('S', 'hash:ip', ['10.0.0.7', '10.0.0.2', '10.0.0.1'])]);
    const b = diffIpsets(desired, [seen('S', 'hash:ip', ['10.0.0.1', '10.0.0.2', '10.0.0.7'])]);
    expect(a.lines).toEqual(b.lines);
    expect(a.lines).toEqual(['del S 10.0.0.2', 'del S 10.0.0.7', 'add S 10.0.0.3', 'add S 10.0.0.9']);
  });
});

describe('countDrift', () => {
  const last = new Map([['S', new Set(['10.0.0.1', '10.0.0.2'])], ['GONE', new Set(['10.0.0.5'])]]);

  it('counts re-created sets, re-added entries and removed strangers, not our own changes', () => {
    const desired = [want('S', 'hash:ip', ['10.0.0.1', '10.0.0.3']), want('GONE', 'hash:ip', ['10.0.0.5'])];
    // 10.0.0.1 was removed by someone (re-add: drift), 10.0.0.9 added by someone (del: drift),
    // 10.0.0.2 we no longer want (del: ours), 10.0.0.3 is new (add: ours), GONE was destroyed (1 + 1 entry).
    const plan = diffIpsets(desired, [seen('S', 'hash:ip', ['10.0.0.2', '10.0.0.9'])]);
    expect(countDrift(plan, last)).toBe(4);
  });

  it('counts nothing when nothing was applied before', () => {
    const plan = diffIpsets([want('S', 'hash:ip', ['10.0.0.1'])], []);
    expect(countDrift(plan, null)).toBe(0);
  });
});
