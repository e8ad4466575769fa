import { describe, expect, it } from '@jest/globals';
import { node, service, slice } from '../model/builders.ts';
import type { EndpointSpec } from '../model/builders.ts';
import { family, runScenario, setEntries, vsTable } from './testing.ts';

// Endpoint selection: ready → serving+terminating fallback, traffic policies
// with IPVS mode's fallback to cluster endpoints, topology hints, and the
// no-local-endpoints counts.

const ep = (last: number, nodeName: string, cond: 'R' | 'ST' | 'T' | 'S' | 'none', extra: Partial<EndpointSpec> = {}): EndpointSpec => ({
  ip: `10.0.1.${last}`,
  node: nodeName,
  ready: cond === 'R',
  serving: cond === 'R' || cond === 'ST' || cond === 'S',
  terminating: cond === 'ST' || cond === 'T',
  ...extra,
});

const svc = (extra: Partial<Parameters<typeof service>[1]> = {}) => service('svc1', {
  type: 'NodePort', clusterIP: '172.20.1.1', externalIPs: ['1.2.3.4'], ports: [{ name: '', port: 80, nodePort: 30010 }], ...extra,
});

const sl = (...endpoints: EndpointSpec[]) => slice('svc1', { ports: [{ name: '', port: 80 }], endpoints });

interface Case {
  name: string;
  etp?: string;
  itp?: string;
  clusterIPOnly?: boolean;
  endpoints: EndpointSpec[];
  clusterRS: string[];
  externalRS?: string[];
  loopBack: number;
  noLocal?: { internal: number; external: number };
}

const cases: Case[] = [
  {
    name: 'ready and terminating, ETP Cluster: ready endpoints everywhere',
    endpoints: [ep(1, 'test-node', 'R'), ep(2, 'test-node', 'R'), ep(3, 'test-node', 'ST'), ep(4, 'test-node', 'T'), ep(5, 'another-node', 'R')],
    clusterRS: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.5:80'],
    externalRS: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.5:80'],
    loopBack: 4,
  },
  {
    name: 'ready and terminating, ETP Local: external gets the local ready ones',
    etp: 'Local',
    endpoints: [ep(1, 'test-node', 'R'), ep(2, 'test-node', 'R'), ep(3, 'test-node', 'ST'), ep(4, 'test-node', 'T'), ep(5, 'another-node', 'R')],
    clusterRS: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.5:80'],
    externalRS: ['10.0.1.1:80', '10.0.1.2:80'],
    loopBack: 4,
  },
  {
    name: 'only serving+terminating, ETP Cluster: fall back to them cluster-wide',
    endpoints: [ep(1, 'test-node', 'ST'), ep(2, 'test-node', 'ST'), ep(3, 'test-node', 'T'), ep(4, 'another-node', 'ST'), ep(5, 'another-node', 'none')],
    clusterRS: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.4:80'],
    externalRS: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.4:80'],
    loopBack: 3,
  },
  {
    name: 'only local serving+terminating, remote ready, ETP Local: cluster uses remote ready, external the local terminating',
    etp: 'Local',
    endpoints: [ep(1, 'test-node', 'ST'), ep(2, 'test-node', 'ST'), ep(3, 'test-node', 'T'), ep(4, 'another-node', 'ST'), ep(5, 'another-node', 'R')],
    clusterRS: ['10.0.1.5:80'],
    externalRS: ['10.0.1.1:80', '10.0.1.2:80'],
    loopBack: 3,
  },
  {
    name: 'ETP Local without a local endpoint: IPVS mode falls back to cluster endpoints and counts it',
    etp: 'Local',
    endpoints: [ep(1, 'node1', 'R'), ep(2, 'node2', 'R')],
    clusterRS: ['10.0.1.1:80', '10.0.1.2:80'],
    externalRS: ['10.0.1.1:80', '10.0.1.2:80'],
    loopBack: 0,
    noLocal: { internal: 0, external: 1 },
  },
  {
    name: 'ETP Local without any endpoint: not counted',
    etp: 'Local',
    endpoints: [],
    clusterRS: [],
    externalRS: [],
    loopBack: 0,
    noLocal: { internal: 0, external: 0 },
  },
  {
    name: 'ITP Cluster, ClusterIP only: all endpoints',
    clusterIPOnly: true,
    endpoints: [ep(1, 'test-node', 'R'), ep(2, 'node1', 'R'), ep(3, 'node2', 'R')],
    clusterRS: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80'],
    loopBack: 1,
  },
  {
    name: 'ITP Local with a local endpoint: just that one',
    clusterIPOnly: true,
    itp: 'Local',
    endpoints: [ep(1, 'test-node', 'R'), ep(2, 'node1', 'R'), ep(3, 'node2', 'R')],
    clusterRS: ['10.0.1.1:80'],
    loopBack: 1,
    noLocal: { internal: 0, external: 0 },
  },
  {
    name: 'ITP Local without a local endpoint, ClusterIP only: no real servers, counted as internal',
    clusterIPOnly: true,
    itp: 'Local',
    endpoints: [ep(2, 'node1', 'R'), ep(3, 'node2', 'R')],
    clusterRS: [],
    loopBack: 0,
    noLocal: { internal: 1, external: 0 },
  },
  {
    name: 'ITP Local without a local endpoint on an externally reachable port: cluster endpoints (fallback)',
    itp: 'Local',
    endpoints: [ep(2, 'node1', 'R'), ep(3, 'node2', 'R')],
    clusterRS: ['10.0.1.2:80', '10.0.1.3:80'],
    externalRS: ['10.0.1.2:80', '10.0.1.3:80'],
    loopBack: 0,
    noLocal: { internal: 1, external: 0 },
  },
  {
    name: 'not-ready local endpoints still go into KUBE-LOOP-BACK',
    clusterIPOnly: true,
    endpoints: [ep(1, 'test-node', 'none'), ep(2, 'test-node', 'S')],
    clusterRS: [],
    loopBack: 2,
  },
];

describe('endpoint selection', () => {
  it.each(cases)('$name', (c) => {
    const extra: Partial<Parameters<typeof service>[1]> = { ...(c.etp ? { etp: c.etp } : {}), ...(c.itp ? { itp: c.itp } : {}) };
    const s = c.clusterIPOnly ? service('svc1', { clusterIP: '172.20.1.1', ports: [{ name: '', port: 80 }], ...extra }) : svc(extra);
    const { state } = runScenario({ services: [s], slices: [sl(...c.endpoints)] });
    const table = vsTable(state);
    expect(table['TCP/172.20.1.1:80']).toEqual(c.clusterRS);
    if (c.externalRS) expect(table['TCP/1.2.3.4:80']).toEqual(c.externalRS);
    expect(setEntries(state)['KUBE-LOOP-BACK'] ?? []).toHaveLength(c.loopBack);
    if (c.noLocal) expect(family(state).noLocalEndpoints).toEqual(c.noLocal);
  });
});

interface TopologyCase {
  name: string;
  zone?: string;
  endpoints: EndpointSpec[];
  want: string[];
}

const z = (last: number, zoneHints: string[] | undefined, nodeHints?: string[]): EndpointSpec => ({
  ip: `10.0.1.${last}`, node: `node${last}`, ...(zoneHints ? { zoneHints } : {}), ...(nodeHints ? { nodeHints } : {}),
});

const topologyCases: TopologyCase[] = [
  {
    name: 'zone hints for our zone: only those endpoints',
    zone: 'zone-a',
    endpoints: [z(1, ['zone-a']), z(2, ['zone-b']), z(3, ['zone-a'])],
    want: ['10.0.1.1:80', '10.0.1.3:80'],
  },
  {
    name: 'one ready endpoint without a hint: hints ignored',
    zone: 'zone-a',
    endpoints: [z(1, ['zone-a']), z(2, undefined), z(3, ['zone-b'])],
    want: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80'],
  },
  {
    name: 'no hint for our zone: hints ignored',
    zone: 'zone-c',
    endpoints: [z(1, ['zone-a']), z(2, ['zone-b'])],
    want: ['10.0.1.1:80', '10.0.1.2:80'],
  },
  {
    name: 'node without a zone label: zone hints ignored',
    endpoints: [z(1, ['zone-a']), z(2, ['zone-b'])],
    want: ['10.0.1.1:80', '10.0.1.2:80'],
  },
  {
    name: 'node hints for this node win over zone hints',
    zone: 'zone-a',
    endpoints: [z(1, ['zone-a'], ['test-node']), z(2, ['zone-a'], ['node2']), z(3, ['zone-b'], ['node3'])],
    want: ['10.0.1.1:80'],
  },
  {
    name: 'node hints, none for this node: zone hints apply',
    zone: 'zone-a',
    endpoints: [z(1, ['zone-a'], ['node1']), z(2, ['zone-a'], ['node2']), z(3, ['zone-b'], ['node3'])],
    want: ['10.0.1.1:80', '10.0.1.2:80'],
  },
];

describe('topology hints', () => {
  it.each(topologyCases)('$name', (c) => {
    const { state } = runScenario({
      services: [service('svc1', { clusterIP: '172.20.1.1', ports: [{ name: '', port: 80 }] })],
      slices: [sl(...c.endpoints)],
      node: node('test-node', c.zone ? { labels: { 'topology.kubernetes.io/zone': c.zone } } : {}),
    });
    expect(vsTable(state)['TCP/172.20.1.1:80']).toEqual(c.want);
  });
});
