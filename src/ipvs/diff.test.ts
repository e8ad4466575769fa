import { describe, expect, it } from '@jest/globals';
import { sameRealServers } from './diff.ts';
import type { RealServer, RealServerConnections } from './types.ts';

const rs = (address: string, extra: Partial<RealServer> = {}): RealServer => ({
  family: 'inet', address, port: 8080, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null, ...extra,
});
const read = (r: RealServer, active = 0): RealServerConnections => ({ ...r, activeConnections: active, inactiveConnections: 0, persistentConnections: 0 });
const many = (n: number): RealServer[] => Array.from({ length: n }, (_, i) => rs(`10.244.${i >> 8}.${i & 0xff}`));

describe('sameRealServers', () => {
  it.each([
    { name: 'the same servers in another order, counts aside', want: [rs('10.0.0.1'), rs('10.0.0.2')], have: [read(rs('10.0.0.2'), 5), read(rs('10.0.0.1'))], same: true },
    { name: 'both empty', want: [], have: [], same: true },
    { name: 'one missing', want: [rs('10.0.0.1'), rs('10.0.0.2')], have: [read(rs('10.0.0.1'))], same: false },
    { name: 'one extra', want: [rs('10.0.0.1')], have: [read(rs('10.0.0.1')), read(rs('10.0.0.2'))], same: false },
    { name: 'another in its place', want: [rs('10.0.0.1'), rs('10.0.0.2')], have: [read(rs('10.0.0.1')), read(rs('10.0.0.3'))], same: false },
    { name: 'another port', want: [rs('10.0.0.1')], have: [read(rs('10.0.0.1', { port: 80 }))], same: false },
    { name: 'a weight left at 0', want: [rs('10.0.0.1')], have: [read(rs('10.0.0.1', { weight: 0 }))], same: false },
    { name: 'another forwarding method', want: [rs('10.0.0.1')], have: [read(rs('10.0.0.1', { forward: 'droute' }))], same: false },
    { name: 'a long list, reversed (compared through keys)', want: many(40), have: many(40).reverse().map((r) => read(r)), same: true },
    { name: 'a long list with one weight changed', want: many(40), have: many(40).map((r, i) => read(i === 17 ? { ...r, weight: 3 } : r)), same: false },
    { name: 'a long list with one server replaced', want: many(40), have: [...many(39), rs('10.9.9.9')].map((r) => read(r)), same: false },
  ])('$name', ({ want, have, same }) => {
    expect(sameRealServers(want, have)).toBe(same);
  });
});
