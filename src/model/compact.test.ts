import { describe, expect, it } from '@jest/globals';
import { compactList, emptyList, intern, namePoolLimit, namePoolSize, sharedName } from './compact.ts';
import { sortedUniqueEndpoints } from './endpoint-key.ts';
import { fromEndpointSlice } from './endpoint-slice.ts';
import { slice } from './builders.ts';

describe('intern', () => {
  it.each([
    { name: 'a built key', value: ['default', '/', 'web', ':http', '/TCP'].reduce((a, b) => `${a}${b}`, '') },
    { name: 'an array-index string', value: `${8}${0}` },
    { name: 'the empty string', value: '' },
    { name: 'a prototype name', value: '__proto__' },
  ])('returns an equal string for $name', ({ value }) => {
    expect(intern(value)).toBe(value);
    expect(intern(value)).toBe(value);
  });
});

describe('sharedName', () => {
  it('returns equal strings and never holds more than its bound', () => {
    expect(sharedName('node-a')).toBe('node-a');
    for (let i = 0; i < namePoolLimit + 10; i++) expect(sharedName(`node-${i}`)).toBe(`node-${i}`);
    expect(namePoolSize()).toBeLessThanOrEqual(namePoolLimit);
    expect(namePoolSize()).toBeGreaterThan(0);
  });
});

describe('compactList', () => {
  it('shares one frozen empty list and keeps non-empty lists as they are', () => {
    expect(compactList([])).toBe(emptyList);
    expect(Object.isFrozen(emptyList)).toBe(true);
    const xs = ['a'];
    expect(compactList(xs)).toBe(xs);
  });
});

describe('sortedUniqueEndpoints', () => {
  const ep = (address: string, terminating = false): { address: string; port: number; terminating: boolean } => ({ address, port: 80, terminating });

  it('returns the list itself when it is already sorted by ip:port and unique', () => {
    const xs = [ep('10.0.0.10'), ep('10.0.0.1'), ep('10.0.0.2')];
    expect(sortedUniqueEndpoints(xs)).toBe(xs);
  });

  it.each([
    { name: 'unsorted', input: [ep('10.0.0.1'), ep('10.0.0.10')], want: [ep('10.0.0.10'), ep('10.0.0.1')] },
    { name: 'a duplicate, the later ready copy wins', input: [ep('10.0.0.1', true), ep('10.0.0.1')], want: [ep('10.0.0.1')] },
    { name: 'a duplicate, the first terminating copy stays', input: [ep('10.0.0.1', true), ep('10.0.0.2'), ep('10.0.0.1', true)], want: [ep('10.0.0.1', true), ep('10.0.0.2')] },
    { name: 'IPv6 in brackets', input: [ep('fd00::a'), ep('fd00::1')], want: [ep('fd00::1'), ep('fd00::a')] },
  ])('sorts and deduplicates: $name', ({ input, want }) => {
    expect(sortedUniqueEndpoints(input)).toEqual(want);
  });
});

describe('endpoint objects', () => {
  it('all have the same fields in the same order, whatever the input sets', () => {
    const r = fromEndpointSlice(slice('web', {
      ports: [{ name: 'http', port: 8080 }, { name: 'm', port: 9090 }],
      endpoints: [{ ip: '10.244.0.1', node: 'n1', zone: 'z1', zoneHints: ['z1'], nodeHints: ['n1'] }, { ip: '10.244.0.2', terminating: true }, { ip: '10.244.0.3' }],
    }));
    const shapes = new Set(r.ports.flatMap((p) => p.endpoints.map((e) => Object.keys(e).join(','))));
    expect([...shapes]).toEqual(['address,port,ready,serving,terminating,nodeName,zone,zoneHints,nodeHints']);
  });
});
