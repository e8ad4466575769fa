import { describe, expect, it } from '@jest/globals';
import { Backoff } from './backoff.ts';
import { parseRfc3339, triggerTimeOf } from './trigger-time.ts';
import { nodeFieldSelector } from './selectors.ts';

describe('Backoff', () => {
  it('doubles from 1 s to a 30 s cap and starts over after reset', () => {
    const b = new Backoff();
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    b.reset();
    expect(b.next()).toBe(1000);
  });
});

describe('trigger time', () => {
  it.each([
    { name: 'seconds, Z', text: '2026-11-21T20:10:19Z', want: Date.UTC(2026, 10, 21, 20, 10, 19) },
    { name: 'nanoseconds are cut to milliseconds', text: '2026-11-21T20:10:19.123456789Z', want: Date.UTC(2026, 10, 21, 20, 10, 19, 123) },
    { name: 'offset', text: '2026-11-21T21:10:19+01:00', want: Date.UTC(2026, 10, 21, 20, 10, 19) },
    { name: 'not RFC 3339', text: 'yesterday', want: null },
    { name: 'date only', text: '2026-11-21', want: null },
  ])('$name', ({ text, want }) => {
    expect(parseRfc3339(text)).toBe(want);
  });

  it('reads the annotation of a slice and gives null without one', () => {
    expect(triggerTimeOf({ metadata: { annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '1970-01-01T00:00:01Z' } } })).toBe(1000);
    expect(triggerTimeOf({ metadata: {} })).toBeNull();
    expect(triggerTimeOf(null)).toBeNull();
  });
});

describe('nodeFieldSelector', () => {
  it('escapes characters that would widen the selector', () => {
    expect(nodeFieldSelector('node-a')).toBe('metadata.name=node-a');
    expect(nodeFieldSelector('a,b=c')).toBe('metadata.name=a\\,b\\=c');
  });
});
