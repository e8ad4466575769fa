import { describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { emptyManifests, parseManifests } from './manifests.ts';
import type { Warning } from './types.ts';

const list = {
  kind: 'List', apiVersion: 'v1', items: [
    { kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] } },
    { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'] }] },
    { kind: 'Node', apiVersion: 'v1', metadata: { name: 'n1' } },
  ],
};

function parse(text: string): { manifests: ReturnType<typeof emptyManifests>; warnings: Warning[] } {
  const manifests = emptyManifests();
  const warnings: Warning[] = [];
  parseManifests(text, 'objects.txt', manifests, warnings);
  return { manifests, warnings };
}

describe('parseManifests', () => {
  it.each([
    { name: 'compact JSON', text: JSON.stringify(list) },
    { name: 'indented JSON', text: `\n  ${JSON.stringify(list, null, 2)}\n` },
  ])('reads $name exactly as the YAML parser reads the same objects', ({ text }) => {
    const json = parse(text);
    const yaml = parse(stringify(list));
    expect(json.manifests).toEqual(yaml.manifests);
    expect(json.manifests.services).toHaveLength(1);
    expect(json.manifests.endpointSlices).toHaveLength(1);
    expect(json.manifests.nodes).toHaveLength(1);
    expect(json.warnings).toEqual([]);
  });

  it('reads YAML that starts like JSON (a flow mapping) with the YAML parser', () => {
    const { manifests, warnings } = parse("{kind: Node, apiVersion: v1, metadata: {name: n2}}\n");
    expect(warnings).toEqual([]);
    expect(manifests.nodes.map((n) => n.metadata?.name)).toEqual(['n2']);
  });

  it('names the file when text that looks like JSON is neither JSON nor YAML', () => {
    const { manifests, warnings } = parse('{"kind": "Node", "metadata": {');
    expect(manifests.nodes).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.object).toBe('objects.txt');
  });
});
