import { describe, expect, it } from '@jest/globals';
import type { VirtualServer } from '../ipvs/types.ts';
import type { Endpoint } from '../model/types.ts';
import { PackedVirtualServer, RealServerList, samePackedVirtualServer, sameRealServerList } from './packed-virtual-server.ts';

const ep = (address: string, port = 8080): Endpoint => ({
  address, port, ready: true, serving: true, terminating: false, nodeName: null, zone: null, zoneHints: [], nodeHints: [],
});
const vs = (scheduler = 'rr'): VirtualServer => ({
  family: 'inet', protocol: 'TCP', address: '10.96.0.1', port: 80, fwmark: null, scheduler, flags: 0, persistence: null, persistenceEngine: null,
});
const gue = { type: 'gue' as const, port: 6080, flags: 0 };

describe('RealServerList', () => {
  it('makes the real servers buildDesiredState always made: weight 1, no thresholds, in endpoint order', () => {
    const list = new RealServerList('inet', 'tunnel', gue, [ep('10.244.0.1'), ep('10.244.0.2', 9090)]);
    expect(list.toRealServers()).toEqual([
      { family: 'inet', address: '10.244.0.1', port: 8080, weight: 1, forward: 'tunnel', upperThreshold: 0, lowerThreshold: 0, tunnel: gue },
      { family: 'inet', address: '10.244.0.2', port: 9090, weight: 1, forward: 'tunnel', upperThreshold: 0, lowerThreshold: 0, tunnel: gue },
    ]);
    expect(list.length).toBe(2);
  });

  it('hands out new objects on each read, so a reader cannot change what it keeps', () => {
    const list = new RealServerList('inet', 'masq', null, [ep('10.244.0.1')]);
    const first = list.toRealServers();
    (first[0] as { weight: number }).weight = 0;
    expect(list.toRealServers()[0]?.weight).toBe(1);
  });

  it.each([
    { name: 'same values, other objects', b: new RealServerList('inet', 'masq', null, [ep('10.244.0.1'), ep('10.244.0.2')]), same: true },
    { name: 'another address', b: new RealServerList('inet', 'masq', null, [ep('10.244.0.1'), ep('10.244.0.3')]), same: false },
    { name: 'another port', b: new RealServerList('inet', 'masq', null, [ep('10.244.0.1'), ep('10.244.0.2', 81)]), same: false },
    { name: 'one fewer', b: new RealServerList('inet', 'masq', null, [ep('10.244.0.1')]), same: false },
    { name: 'another forwarding method', b: new RealServerList('inet', 'droute', null, [ep('10.244.0.1'), ep('10.244.0.2')]), same: false },
    { name: 'a tunnel', b: new RealServerList('inet', 'masq', gue, [ep('10.244.0.1'), ep('10.244.0.2')]), same: false },
  ])('sameRealServerList: $name', ({ b, same }) => {
    const a = new RealServerList('inet', 'masq', null, [ep('10.244.0.1'), ep('10.244.0.2')]);
    expect(sameRealServerList(a, b)).toBe(same);
    // Structural equality (tests' toEqual) agrees with it.
    expect(JSON.stringify(a) === JSON.stringify(b)).toBe(same);
  });

  it('tunnels compare by value', () => {
    const a = new RealServerList('inet', 'tunnel', { ...gue }, [ep('10.244.0.1')]);
    expect(sameRealServerList(a, new RealServerList('inet', 'tunnel', { ...gue }, [ep('10.244.0.1')]))).toBe(true);
    expect(sameRealServerList(a, new RealServerList('inet', 'tunnel', { ...gue, port: 1 }, [ep('10.244.0.1')]))).toBe(false);
  });
});

describe('PackedVirtualServer', () => {
  const list = new RealServerList('inet', 'masq', null, [ep('10.244.0.1')]);

  it('reads as a DesiredVirtualServer', () => {
    const p = new PackedVirtualServer(vs(), list);
    expect(p.virtualServer).toEqual(vs());
    expect(p.realServers.map((r) => `${r.address}:${r.port}`)).toEqual(['10.244.0.1:8080']);
  });

  it.each([
    { name: 'equal values', a: new PackedVirtualServer(vs(), list), b: new PackedVirtualServer(vs(), new RealServerList('inet', 'masq', null, [ep('10.244.0.1')])), same: true },
    { name: 'another scheduler', a: new PackedVirtualServer(vs(), list), b: new PackedVirtualServer(vs('wlc'), list), same: false },
    { name: 'other real servers', a: new PackedVirtualServer(vs(), list), b: new PackedVirtualServer(vs(), new RealServerList('inet', 'masq', null, [])), same: false },
    { name: 'one missing', a: new PackedVirtualServer(vs(), list), b: undefined, same: false },
    { name: 'both missing', a: undefined, b: undefined, same: true },
  ])('samePackedVirtualServer: $name', ({ a, b, same }) => {
    expect(samePackedVirtualServer(a, b)).toBe(same);
  });
});
