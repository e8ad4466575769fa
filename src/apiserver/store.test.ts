import { describe, expect, it } from '@jest/globals';
import { VersionedStore } from './store.ts';
import type { KubeObject } from './types.ts';

const obj = (name: string, v = 1): KubeObject => ({ kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { v } });
const names = (os: KubeObject[] | undefined): string[] | undefined => os?.map((o) => `${JSON.stringify(o.metadata.name)}:${JSON.stringify(o.spec)}`);

describe('VersionedStore', () => {
  it('stamps one global resourceVersion per write and reports add, modify and delete', () => {
    const s = new VersionedStore({ initialResourceVersion: 10 });
    const seen: string[] = [];
    s.subscribe((e) => seen.push(`${e.type} ${e.key} ${e.rv} ${e.object.metadata.resourceVersion as string}`));
    s.write('/services', 'ns/a', obj('a'));
    s.write('discovery.k8s.io/endpointslices', 'ns/a', obj('a'));
    s.write('/services', 'ns/a', obj('a', 2));
    s.write('/services', 'ns/a', null);
    expect(seen).toEqual(['ADDED ns/a 11 11', 'ADDED ns/a 12 12', 'MODIFIED ns/a 13 13', 'DELETED ns/a 14 14']);
    expect(s.write('/services', 'ns/missing', null)).toBeUndefined();
    expect(s.resourceVersion).toBe(14);
  });

  it('lists as of a past resourceVersion by undoing later events', () => {
    const s = new VersionedStore({ initialResourceVersion: 1 });
    s.write('/services', 'ns/a', obj('a'));       // 2
    s.write('/services', 'ns/b', obj('b'));       // 3
    s.write('/services', 'ns/a', obj('a', 2));    // 4
    s.write('/services', 'ns/b', null);           // 5
    expect(names(s.listAt('/services', 1))).toEqual([]);
    expect(names(s.listAt('/services', 3))).toEqual(['"a":{"v":1}', '"b":{"v":1}']);
    expect(names(s.listAt('/services', 5))).toEqual(['"a":{"v":2}']);
    expect(s.listAt('/services', 6)).toBeUndefined();
  });

  it('expires history older than the window or a compaction', () => {
    const s = new VersionedStore({ initialResourceVersion: 1, historyLimit: 2 });
    s.write('/services', 'ns/a', obj('a'));   // 2
    expect(s.eventsSince(1)?.map((e) => e.rv)).toEqual([2]);
    s.write('/services', 'ns/b', obj('b'));   // 3
    s.write('/services', 'ns/c', obj('c'));   // 4: event 2 falls out of the window
    expect(s.oldestResourceVersion).toBe(2);
    expect(s.eventsSince(1)).toBeUndefined();
    expect(s.eventsSince(2)?.map((e) => e.rv)).toEqual([3, 4]);
    s.compact();
    expect(s.eventsSince(3)).toBeUndefined();
    expect(s.eventsSince(4)).toEqual([]);
    expect(s.listAt('/services', 3)).toBeUndefined();
  });

  it('hands out copies', () => {
    const s = new VersionedStore();
    s.write('/services', 'ns/a', obj('a'));
    const got = s.get('/services', 'ns/a')!;
    (got.spec as { v: number }).v = 99;
    expect(s.get('/services', 'ns/a')!.spec).toEqual({ v: 1 });
  });
});
