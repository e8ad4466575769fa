// SPDX-License-Identifier: Apache-2.0
// A dual-stack node's desired ipsets from real Service/EndpointSlice objects,
// touching every set type and entry form: ClusterIP, NodePort TCP/UDP/SCTP,
// LoadBalancer with source ranges (one holding the node IP, one /32) and
// externalTrafficPolicy Local with a health check node port, externalIPs,
// local and remote endpoints.
import type { IpSet } from '../../src/ipset/types.ts';
import { node, service, slice } from '../../src/model/builders.ts';
import { runScenario } from '../../src/reconciler/testing.ts';

export const scenarioNode = 'test-node';

const services = [
  service('web', {
    type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00:96::10'], ipFamilies: ['IPv4', 'IPv6'],
    ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
    externalIPs: ['192.0.2.10'], lbIPs: ['198.51.100.10', '2001:db8:1::10'],
    sourceRanges: ['203.0.113.0/24', '10.0.0.5/32', '192.168.1.0/24', '2001:db8:2::/48'], etp: 'Local', healthCheckNodePort: 32000,
  }),
  service('sctp', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ name: 's', port: 9, protocol: 'SCTP', nodePort: 30009 }] }),
];

function endpoints(extra: string[]): ReturnType<typeof slice>[] {
  return [
    slice('web', {
      ports: [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }],
      endpoints: [{ ip: '10.244.0.5', node: scenarioNode }, { ip: '10.244.1.6', node: 'other' }, ...extra.map((ip) => ({ ip, node: scenarioNode }))],
    }),
    slice('web', { addressType: 'IPv6', ports: [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }], endpoints: [{ ip: 'fd00:244::5', node: scenarioNode }] }),
    slice('sctp', { ports: [{ name: 's', port: 9, protocol: 'SCTP' }], endpoints: [{ ip: '10.244.0.7', node: scenarioNode }] }),
  ];
}

/** The 34 desired sets (both families) of the scenario; `extraLocal` adds local IPv4 endpoints of `web`. */
export function scenarioSets(extraLocal: string[] = []): IpSet[] {
  const { state } = runScenario({
    services, slices: endpoints(extraLocal), node: node(scenarioNode, { addresses: ['192.168.1.10', '2001:db8::10'] }),
    nodeIPs: ['192.168.1.10', '2001:db8::10'],
  });
  return state.families.flatMap((f) => f.ipsets);
}
