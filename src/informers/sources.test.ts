// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { toPlain } from './sources.ts';

describe('toPlain', () => {
  it('turns typed list items into plain JSON with string timestamps, kind and apiVersion, dropping unset fields', () => {
    const meta = new k8s.V1ObjectMeta();
    meta.name = 'web';
    meta.namespace = 'default';
    meta.creationTimestamp = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const svc = new k8s.V1Service();
    svc.metadata = meta;
    svc.spec = { ports: [{ port: 80, protocol: 'TCP' }], clusterIP: '10.96.0.10' };
    const [plain] = toPlain<Record<string, unknown>>([svc], 'v1', 'Service');
    expect(plain).toEqual({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-02T03:04:05.000Z' },
      spec: { ports: [{ port: 80, protocol: 'TCP' }], clusterIP: '10.96.0.10' },
    });
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(plain?.metadata)).toBe(Object.prototype);
  });

  it('overrides a kind or apiVersion the item carries and keeps the items in order', () => {
    const items = [{ kind: 'Wrong', metadata: { name: 'a' } }, { metadata: { name: 'b' } }];
    expect(toPlain(items, 'discovery.k8s.io/v1', 'EndpointSlice')).toEqual([
      { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { name: 'a' } },
      { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { name: 'b' } },
    ]);
    // The input is not modified.
    expect(items[0]).toEqual({ kind: 'Wrong', metadata: { name: 'a' } });
  });
});
