import { describe, expect, it } from '@jest/globals';
import type { StoreEvent } from './store.ts';
import type { KubeObject } from './types.ts';
import { toWatchEvent } from './watch-filter.ts';

const o = (on: boolean, rv: number): KubeObject => ({ kind: 'Service', metadata: { name: 'a', resourceVersion: String(rv), labels: on ? { on: 'y' } : {} } });
const matches = (x: KubeObject): boolean => (x.metadata.labels as Record<string, string>).on === 'y';
const ev = (type: StoreEvent['type'], before: boolean | null, after: boolean): StoreEvent => ({
  type, resource: '/services', key: 'ns/a', rv: 7,
  object: o(after, 7), prev: before === null ? null : o(before, 6),
});

describe('toWatchEvent', () => {
  it.each([
    { name: 'matching add', e: ev('ADDED', null, true), want: 'ADDED on=y rv="7"' },
    { name: 'non-matching add', e: ev('ADDED', null, false), want: null },
    { name: 'modify, both match', e: ev('MODIFIED', true, true), want: 'MODIFIED on=y rv="7"' },
    { name: 'modify into the selector', e: ev('MODIFIED', false, true), want: 'ADDED on=y rv="7"' },
    { name: 'modify out of the selector: previous content, new rv', e: ev('MODIFIED', true, false), want: 'DELETED on=y rv="7"' },
    { name: 'modify, neither matches', e: ev('MODIFIED', false, false), want: null },
    { name: 'delete of a matching object', e: { ...ev('DELETED', true, true) }, want: 'DELETED on=y rv="7"' },
    { name: 'delete of a non-matching object', e: ev('DELETED', false, false), want: null },
  ])('$name', ({ e, want }) => {
    const w = toWatchEvent(e, matches);
    const show = w ? `${w.type} on=${matches(w.object as KubeObject) ? 'y' : 'n'} rv=${JSON.stringify((w.object as KubeObject).metadata.resourceVersion ?? null)}` : null;
    expect(show).toBe(want);
  });
});
