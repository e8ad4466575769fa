import { describe, expect, it } from '@jest/globals';
import { matchesFields, parseFieldSelector } from './field-selector.ts';
import { SelectorError } from './label-selector.ts';
import { nodes, services } from './resources.ts';
import type { KubeObject } from './types.ts';

const web: KubeObject = { kind: 'Service', metadata: { name: 'web', namespace: 'a=b' }, spec: { type: 'NodePort', clusterIP: '10.96.0.10' } };

describe('parseFieldSelector + matchesFields', () => {
  it.each([
    { name: 'name equality', sel: 'metadata.name=web', want: true },
    { name: 'double equals', sel: 'metadata.name==web', want: true },
    { name: 'inequality', sel: 'metadata.name!=web', want: false },
    { name: 'escaped = in a value', sel: 'metadata.namespace=a\\=b', want: true },
    { name: 'AND', sel: 'metadata.name=web,spec.type=ClusterIP', want: false },
    { name: 'clusterIP', sel: 'spec.clusterIP=10.96.0.10', want: true },
  ])('$name', ({ sel, want }) => {
    expect(matchesFields(parseFieldSelector(sel, services.fields), web, services.fields)).toBe(want);
  });

  it('reads an unset Node spec.unschedulable as false', () => {
    const n: KubeObject = { kind: 'Node', metadata: { name: 'a' } };
    expect(matchesFields(parseFieldSelector('spec.unschedulable=false', nodes.fields), n, nodes.fields)).toBe(true);
  });

  it.each([
    { name: 'unsupported field', sel: 'spec.selector=x', message: 'field label not supported: spec.selector' },
    { name: 'no operator', sel: 'metadata.name', message: "invalid selector: 'metadata.name'; can't understand 'metadata.name'" },
    { name: 'namespace on a cluster-scoped kind', sel: 'metadata.namespace=x', message: 'field label not supported: metadata.namespace' },
  ])('rejects $name', ({ sel, message }) => {
    const fields = sel.includes('namespace') ? nodes.fields : services.fields;
    expect(() => parseFieldSelector(sel, fields)).toThrow(new SelectorError(message));
  });
});
