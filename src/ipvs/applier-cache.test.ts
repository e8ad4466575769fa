import { describe, expect, it } from '@jest/globals';
import { losesRealServers, withRealServers, withoutRealServer } from './applier-cache.ts';
import type { VirtualServerEntry } from './diff.ts';
import type { RealServer, VirtualServer } from './types.ts';

const vs: VirtualServer = { family: 'inet', protocol: 'TCP', address: '10.96.0.1', port: 80, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null };
const rs = (address: string, weight = 1): RealServer => ({ family: 'inet', address, port: 8080, weight, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null });
const entry = (...realServers: RealServer[]): VirtualServerEntry => ({ virtualServer: vs, realServers });
const addresses = (e: VirtualServerEntry): string[] => e.realServers.map((r) => `${r.address} w${r.weight}`);

describe('withRealServers', () => {
  it.each([
    { name: 'no extras: the same object', extras: [], want: ['10.0.0.1 w1'], same: true },
    { name: 'a new one is appended', extras: [rs('10.0.0.2', 0)], want: ['10.0.0.1 w1', '10.0.0.2 w0'], same: false },
    { name: 'one with a known key replaces it in place', extras: [rs('10.0.0.1', 0)], want: ['10.0.0.1 w0'], same: false },
  ])('$name', ({ extras, want, same }) => {
    const e = Object.freeze(entry(rs('10.0.0.1')));
    const out = withRealServers(e, extras);
    expect(addresses(out)).toEqual(want);
    expect(out === e).toBe(same);
    expect(addresses(e)).toEqual(['10.0.0.1 w1']);
  });
});

describe('withoutRealServer', () => {
  it('drops the real server with that key and leaves the input alone', () => {
    const e = Object.freeze(entry(rs('10.0.0.1'), rs('10.0.0.2')));
    expect(addresses(withoutRealServer(e, '10.0.0.1:8080'))).toEqual(['10.0.0.2 w1']);
    expect(addresses(e)).toEqual(['10.0.0.1 w1', '10.0.0.2 w1']);
  });

  it('returns the same object when the key is not there', () => {
    const e = entry(rs('10.0.0.1'));
    expect(withoutRealServer(e, '10.0.0.9:8080')).toBe(e);
  });
});

describe('losesRealServers', () => {
  it.each([
    { name: 'same set', have: [rs('10.0.0.1')], want: [rs('10.0.0.1', 3)], loses: false },
    { name: 'one more wanted', have: [rs('10.0.0.1')], want: [rs('10.0.0.1'), rs('10.0.0.2')], loses: false },
    { name: 'one goes', have: [rs('10.0.0.1'), rs('10.0.0.2')], want: [rs('10.0.0.2')], loses: true },
    { name: 'none held', have: [], want: [], loses: false },
  ])('$name', ({ have, want, loses }) => {
    expect(losesRealServers(entry(...have), entry(...want))).toBe(loses);
  });
});
