import { describe, expect, it } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { node, service, slice } from './builders.ts';
import { fromEndpointSlice } from './endpoint-slice.ts';
import { buildLocalNode, fromNode } from './node.ts';
import { fromService } from './service.ts';
import { formatWarning } from './types.ts';

// Conversion: kube-proxy's filters, and bad input → warnings naming object and field.

const ports = [{ name: 'p', port: 80 }];

describe('fromService', () => {
  it.each([
    { name: 'headless', svc: service('s', { clusterIP: 'None', ports }) },
    { name: 'ExternalName', svc: service('s', { type: 'ExternalName', ports }) },
    { name: 'labelled for another proxy', svc: service('s', { clusterIP: '10.96.0.1', ports, labels: { 'service.kubernetes.io/service-proxy-name': 'other' } }) },
    { name: 'labelled headless', svc: service('s', { clusterIP: '10.96.0.1', ports, labels: { 'service.kubernetes.io/headless': '' } }) },
  ])('ignores a Service that is $name, without warnings', ({ svc }) => {
    expect(fromService(svc)).toEqual({ ports: [], warnings: [] });
  });

  it.each([
    {
      name: 'missing cluster IP',
      svc: service('s', { ports }),
      warnings: ['Service ns1/s: spec.clusterIP: missing; a Service without a cluster IP is not proxied'],
      ports: 0,
    },
    {
      name: 'cluster IP of the wrong family for ipFamilies',
      svc: service('s', { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1', '10.96.0.2'], ipFamilies: ['IPv4', 'IPv6'], ports }),
      warnings: ['Service ns1/s: spec.clusterIPs[1]: 10.96.0.2 is not an IPv6 address as spec.ipFamilies[1] says; skipping the Service in that family'],
      ports: 1,
    },
    {
      name: 'bad externalIP and source range are dropped, the rest stays',
      svc: service('s', { type: 'LoadBalancer', clusterIP: '10.96.0.1', externalIPs: ['1.1.1.1', 'bogus', ''], sourceRanges: ['10.0.0.0/8', '10.0.0.0/40'], lbIPs: ['2.2.2.2', '3.3.3.3@Weird'], ports }),
      warnings: [
        'Service ns1/s: spec.externalIPs[1]: "bogus" is not a valid IP address; ignoring it',
        'Service ns1/s: status.loadBalancer.ingress[1].ipMode: "Weird" is not VIP or Proxy; ignoring this ingress',
        'Service ns1/s: spec.loadBalancerSourceRanges[1]: "10.0.0.0/40" is not a valid CIDR; ignoring it',
      ],
      ports: 1,
    },
    {
      name: 'bad port number and nodePort skip just that port',
      svc: service('s', { type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ name: 'a', port: 0 }, { name: 'b', port: 80, nodePort: 99999 }, { name: 'c', port: 81 }] }),
      warnings: [
        'Service ns1/s: spec.ports[0].port: 0 is not a port in 1-65535; skipping the port',
        'Service ns1/s: spec.ports[1].nodePort: 99999 is not a port in 1-65535; skipping the port',
      ],
      ports: 1,
    },
    {
      name: 'unknown traffic policy skips the Service',
      svc: service('s', { type: 'NodePort', clusterIP: '10.96.0.1', etp: 'Nearby', ports }),
      warnings: ['Service ns1/s: spec.externalTrafficPolicy: "Nearby" is not Cluster or Local'],
      ports: 0,
    },
    {
      name: 'affinity timeout out of range skips the Service',
      svc: service('s', { clusterIP: '10.96.0.1', affinity: 0, ports }),
      warnings: ['Service ns1/s: spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 is not an integer in 1-86400; skipping the Service'],
      ports: 0,
    },
    {
      name: 'LoadBalancer Local without a health check node port',
      svc: service('s', { type: 'LoadBalancer', clusterIP: '10.96.0.1', etp: 'Local', ports }),
      warnings: ['Service ns1/s: spec.healthCheckNodePort: missing on a LoadBalancer Service with externalTrafficPolicy Local'],
      ports: 1,
    },
    {
      name: 'invalid annotations fall back to defaults',
      svc: service('s', { clusterIP: '10.96.0.1', ports, annotations: { 'ipvs-proxy.io/scheduler-flags': 'sh-port,turbo' } }),
      warnings: ['Service ns1/s: metadata.annotations[ipvs-proxy.io/scheduler-flags]: "sh-port,turbo" is not a comma-separated list of sh-fallback, sh-port, mh-fallback, mh-port, flag-1, flag-2, flag-3, onepacket; using the default flags'],
      ports: 1,
    },
    {
      name: 'not even a spec',
      svc: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'x' }, spec: 7 } as unknown as V1Service,
      warnings: ['Service x/s: spec.clusterIP: missing; a Service without a cluster IP is not proxied'],
      ports: 0,
    },
  ])('$name', (c) => {
    const r = fromService(c.svc);
    expect(r.warnings.map(formatWarning)).toEqual(c.warnings);
    expect(r.ports).toHaveLength(c.ports);
  });

  it('maps fields per family: policies, source ranges as networks, affinity, health check port', () => {
    const r = fromService(service('web', {
      type: 'LoadBalancer', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1', 'fd00::1'], ipFamilies: ['IPv4', 'IPv6'],
      externalIPs: ['1.1.1.1', 'fd00:e::1'], lbIPs: ['2.2.2.2', 'fd00:b::1', '3.3.3.3@Proxy'], sourceRanges: ['10.1.2.3/8', 'fd00::/8'],
      etp: 'Local', itp: 'Local', healthCheckNodePort: 32000, affinity: 300, ports: [{ name: 'http', port: 80, nodePort: 30080 }],
    }));
    expect(r.warnings).toEqual([]);
    expect(r.ports.map((p) => [p.family, p.clusterIP, p.externalIPs, p.loadBalancerVIPs, p.loadBalancerSourceRanges])).toEqual([
      ['IPv4', '10.96.0.1', ['1.1.1.1'], ['2.2.2.2'], ['10.0.0.0/8']],
      ['IPv6', 'fd00::1', ['fd00:e::1'], ['fd00:b::1'], ['fd00::/8']],
    ]);
    expect(r.ports[0]).toMatchObject({
      key: 'ns1/web:http/TCP', nodePort: 30080, healthCheckNodePort: 32000, externalPolicyLocal: true, internalPolicyLocal: true,
      sessionAffinity: { timeoutSeconds: 300 },
    });
  });

  it('ExternalTrafficPolicy Local counts only on externally accessible Services', () => {
    const r = fromService(service('s', { clusterIP: '10.96.0.1', etp: 'Local', ports }));
    expect(r.ports[0]?.externalPolicyLocal).toBe(false);
  });
});

describe('fromEndpointSlice', () => {
  it('reads conditions with their defaults, hints, node and zone', () => {
    const r = fromEndpointSlice(slice('web', {
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [
        { ip: '10.244.0.1', node: 'n1', zone: 'z1', zoneHints: ['z1'], nodeHints: ['n1'] },
        { ip: '10.244.0.2', ready: false, serving: true, terminating: true },
      ],
    }));
    expect(r.warnings).toEqual([]);
    expect(r.family).toBe('IPv4');
    expect(r.ports).toEqual([{
      key: 'ns1/web:http/TCP',
      endpoints: [
        { address: '10.244.0.1', port: 8080, ready: true, serving: true, terminating: false, nodeName: 'n1', zone: 'z1', zoneHints: ['z1'], nodeHints: ['n1'] },
        { address: '10.244.0.2', port: 8080, ready: false, serving: true, terminating: true, nodeName: null, zone: null, zoneHints: [], nodeHints: [] },
      ],
    }]);
  });

  it.each([
    {
      name: 'port without a name',
      raw: { ports: [{ port: 80 }], endpoints: [{ addresses: ['10.0.0.1'] }] },
      warnings: ['EndpointSlice ns1/s: ports[0].name: missing (use "" for an unnamed Service port); skipping the port'],
    },
    {
      name: 'port 0 and unknown protocol',
      raw: { ports: [{ name: 'a', port: 0 }, { name: 'b', port: 80, protocol: 'QUIC' }], endpoints: [] },
      warnings: [
        'EndpointSlice ns1/s: ports[0].port: 0 is not a port in 1-65535; skipping the port',
        'EndpointSlice ns1/s: ports[1].protocol: "QUIC" is not TCP, UDP or SCTP; skipping the port',
      ],
    },
    {
      name: 'endpoint without addresses or of the wrong family',
      raw: { ports: [{ name: '', port: 80 }], endpoints: [{ addresses: [] }, { addresses: ['fd00::1'] }] },
      warnings: [
        'EndpointSlice ns1/s: endpoints[0].addresses: empty; skipping the endpoint',
        'EndpointSlice ns1/s: endpoints[1].addresses[0]: "fd00::1" is not an IPv4 address; skipping the endpoint',
      ],
    },
    { name: 'FQDN slices are ignored quietly', raw: { addressType: 'FQDN', ports: [], endpoints: [] }, warnings: [] },
  ])('$name', ({ raw, warnings }) => {
    const obj = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's', namespace: 'ns1', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ...raw };
    expect(fromEndpointSlice(obj as never).warnings.map(formatWarning)).toEqual(warnings);
  });
});

describe('Node and LocalNode', () => {
  it('takes InternalIPs as local addresses and the first of each family as primary', () => {
    const conv = fromNode(node('n1', { addresses: ['192.168.0.10', 'fd00::10', '192.168.0.11'], labels: { 'topology.kubernetes.io/zone': 'z1' }, podCIDRs: ['10.244.1.0/24'] }));
    expect(conv.warnings).toEqual([]);
    const local = buildLocalNode({ name: 'n1', info: conv.node });
    expect(local.primaryIPs).toEqual({ IPv4: '192.168.0.10', IPv6: 'fd00::10' });
    expect(local.localAddresses).toEqual(['192.168.0.10', 'fd00::10', '192.168.0.11']);
    expect(local.labels).toEqual({ 'topology.kubernetes.io/zone': 'z1' });
    expect(local.podCIDRs).toEqual(['10.244.1.0/24']);
  });

  it('prefers bindAddress as the primary IP, then explicit local addresses', () => {
    const local = buildLocalNode({ name: 'n1', localAddresses: ['10.0.0.5', '10.0.0.6'], bindAddress: '10.0.0.6' });
    expect(local.primaryIPs).toEqual({ IPv4: '10.0.0.6', IPv6: null });
    expect(buildLocalNode({ name: 'n1', localAddresses: ['10.0.0.5'], bindAddress: '0.0.0.0' }).primaryIPs.IPv4).toBe('10.0.0.5');
  });

  it('warns about invalid addresses', () => {
    const conv = fromNode({ metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: 'nope' }] } });
    expect(conv.warnings.map(formatWarning)).toEqual(['Node n1: status.addresses[0].address: "nope" is not a valid IP address; ignoring it']);
  });
});
