import { describe, expect, it } from '@jest/globals';
import { applyPatch, PatchError, patchTypeOf } from './patch.ts';
import type { Json } from './types.ts';

const svc: Json = {
  metadata: { name: 'web', labels: { a: '1', b: '2' }, finalizers: ['x'] },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }], externalIPs: ['1.1.1.1'] },
};

describe('patches', () => {
  it.each([
    {
      name: 'merge patch: null deletes, lists replace',
      type: 'merge' as const, patch: { metadata: { labels: { a: null, c: '3' } }, spec: { ports: [{ port: 81 }] } },
      check: (r: Json) => expect(r).toMatchObject({ metadata: { labels: { b: '2', c: '3' } }, spec: { ports: [{ port: 81 }] } }),
    },
    {
      name: 'strategic: ports merge by port, primitive lists replace',
      type: 'strategic' as const, patch: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 53, name: 'dns' }], externalIPs: ['2.2.2.2'] } },
      check: (r: Json) => expect(r).toMatchObject({ spec: {
        ports: [{ name: 'http', port: 80, targetPort: 9090 }, { name: 'https', port: 443 }, { name: 'dns', port: 53 }], externalIPs: ['2.2.2.2'] } }),
    },
    {
      name: 'strategic: $patch delete in a merged list, finalizers merge',
      type: 'strategic' as const, patch: { metadata: { finalizers: ['y'] }, spec: { ports: [{ port: 443, $patch: 'delete' }] } },
      check: (r: Json) => expect(r).toMatchObject({ metadata: { finalizers: ['x', 'y'] }, spec: { ports: [{ port: 80 }] } }),
    },
    {
      name: 'JSON patch: add, replace, remove, test',
      type: 'json' as const, patch: [
        { op: 'test', path: '/metadata/name', value: 'web' },
        { op: 'replace', path: '/spec/ports/0/port', value: 82 },
        { op: 'remove', path: '/spec/ports/1' },
        { op: 'add', path: '/metadata/labels/k~1v', value: 'x' },
      ],
      check: (r: Json) => expect(r).toMatchObject({ metadata: { labels: { 'k/v': 'x' } }, spec: { ports: [{ port: 82 }] } }),
    },
  ])('$name', ({ type, patch, check }) => {
    check(applyPatch(type, svc, patch as Json));
  });

  it('never changes its input', () => {
    const before = JSON.stringify(svc);
    applyPatch('json', svc, [{ op: 'remove', path: '/spec' }]);
    applyPatch('strategic', svc, { spec: null });
    expect(JSON.stringify(svc)).toBe(before);
  });

  it.each([
    { name: 'failed test', patch: [{ op: 'test', path: '/metadata/name', value: 'other' }] },
    { name: 'missing path', patch: [{ op: 'replace', path: '/nope/x', value: 1 }] },
    { name: 'not a list of operations', patch: { op: 'add' } },
  ])('JSON patch rejects $name', ({ patch }) => {
    expect(() => applyPatch('json', svc, patch as Json)).toThrow(PatchError);
  });

  it('knows the three patch content types', () => {
    expect(['application/merge-patch+json', 'application/json-patch+json; charset=utf-8', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'].map(patchTypeOf))
      .toEqual(['merge', 'json', 'strategic', undefined]);
  });
});
