import { describe, expect, it } from '@jest/globals';
import { service, slice } from '../model/builders.ts';
import { setName } from './sets.ts';
import { family, runScenario, setEntries, vsTable } from './testing.ts';

// Properties of the desired state as a whole: set names per family, node
// addresses for NodePorts, excludeCIDRs, attribution per Service port,
// determinism, and isolation of bad input.

describe('set names', () => {
  it.each([
    { name: 'IPv4 keeps the base name', base: 'KUBE-CLUSTER-IP', family: 'IPv4' as const, want: 'KUBE-CLUSTER-IP' },
    { name: 'IPv6 gets KUBE-6-', base: 'KUBE-CLUSTER-IP', family: 'IPv6' as const, want: 'KUBE-6-CLUSTER-IP' },
    { name: 'IPv6 truncated to 31 characters (source CIDR)', base: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', family: 'IPv6' as const, want: 'KUBE-6-LOAD-BALANCER-SOURCE-CID' },
    { name: 'IPv6 truncated to 31 characters (local SCTP)', base: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', family: 'IPv6' as const, want: 'KUBE-6-NODE-PORT-LOCAL-SCTP-HAS' },
  ])('$name', ({ base, family: f, want }) => {
    expect(setName(base, f)).toBe(want);
  });

  it('every family has all 17 sets with kube-proxy\'s types and families', () => {
    const { state } = runScenario({});
    const v6 = family(state, 'IPv6').ipsets;
    expect(family(state, 'IPv4').ipsets).toHaveLength(17);
    expect(v6.map((s) => `${s.name} ${s.type} ${s.family}`)).toContain('KUBE-6-IPVS-IPS hash:ip inet6');
    expect(v6.every((s) => s.name.length <= 31)).toBe(true);
  });
});

const npSvc = service('svc1', { type: 'NodePort', clusterIP: '10.20.30.41', clusterIPs: ['10.20.30.41', 'fd00::41'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ name: 'p', port: 80, nodePort: 3001 }] });
const nodeIPs = ['127.0.0.1', '192.168.0.10', '10.1.0.10', '::1', 'fe80::1', '2001:db8::10'];

describe('NodePort addresses', () => {
  it.each([
    {
      name: 'unset: every local address but loopback and IPv6 link-local',
      nodePortAddresses: [] as string[],
      v4: ['10.1.0.10', '192.168.0.10'],
      v6: ['2001:db8::10'],
    },
    {
      name: '0.0.0.0/0 matches all IPv4; no IPv6 CIDR means all IPv6',
      nodePortAddresses: ['0.0.0.0/0'],
      v4: ['10.1.0.10', '192.168.0.10'],
      v6: ['2001:db8::10'],
    },
    {
      name: 'CIDRs of one family restrict that family only',
      nodePortAddresses: ['192.168.0.0/16', '127.0.0.0/8'],
      v4: ['192.168.0.10'],
      v6: ['2001:db8::10'],
    },
    {
      name: 'primary: the node\'s primary IP of each family',
      nodePortAddresses: ['primary'],
      v4: ['10.1.0.10'],
      v6: ['2001:db8::10'],
      bindAddress: '10.1.0.10',
    },
  ])('$name', (c) => {
    const { state } = runScenario({ services: [npSvc], nodeIPs, ...(c.bindAddress ? { bindAddress: c.bindAddress } : {}), config: { nodePortAddresses: c.nodePortAddresses } });
    const nodePortVs = (f: 'IPv4' | 'IPv6'): string[] => [...family(state, f).virtualServers.values()]
      .filter((v) => v.virtualServer.port === 3001).map((v) => v.virtualServer.address ?? '');
    expect({ v4: nodePortVs('IPv4'), v6: nodePortVs('IPv6') }).toEqual({ v4: c.v4, v6: c.v6 });
  });
});

describe('desired state', () => {
  it('splits excludeCIDRs by family', () => {
    const { state } = runScenario({ config: { ipvs: { excludeCIDRs: ['3.3.3.0/24', 'fd00:3::/64', '4.4.4.0/24'] } } });
    expect(family(state, 'IPv4').excludeCIDRs).toEqual(['3.3.3.0/24', '4.4.4.0/24']);
    expect(family(state, 'IPv6').excludeCIDRs).toEqual(['fd00:3::/64']);
  });

  it('attributes virtual servers, set entries and addresses to their Service port', () => {
    const { state } = runScenario({
      services: [service('web', { type: 'LoadBalancer', clusterIP: '10.96.0.10', lbIPs: ['1.2.3.4'], ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] })],
      slices: [slice('web', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.0.5', node: 'test-node' }] })],
      nodeIPs: ['192.168.0.10'],
    });
    const byPort = family(state).byServicePort;
    expect([...byPort.keys()]).toEqual(['ns1/web:dns/UDP', 'ns1/web:http/TCP']);
    expect(byPort.get('ns1/web:http/TCP')).toEqual({
      virtualServers: ['TCP/10.96.0.10:80', 'TCP/1.2.3.4:80', 'TCP/192.168.0.10:30080'],
      setEntries: [
        { set: 'KUBE-LOOP-BACK', entry: '10.244.0.5,tcp:8080,10.244.0.5' },
        { set: 'KUBE-CLUSTER-IP', entry: '10.96.0.10,tcp:80' },
        { set: 'KUBE-LOAD-BALANCER', entry: '1.2.3.4,tcp:80' },
        { set: 'KUBE-NODE-PORT-TCP', entry: '30080' },
      ],
      addresses: ['10.96.0.10', '1.2.3.4'],
    });
    expect(family(state).healthCheckNodePorts.size).toBe(0);
  });

  it('does not depend on the order of the input objects', () => {
    const services = [
      service('a', { clusterIP: '10.96.0.1', externalIPs: ['5.5.5.5'], ports: [{ name: 'p', port: 80 }] }),
      service('b', { clusterIP: '10.96.0.2', ports: [{ name: 'p', port: 80 }, { name: 'q', port: 81 }] }),
    ];
    const slices = [
      slice('a', { name: 'a-1', ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip: '10.244.0.9' }, { ip: '10.244.0.3' }] }),
      slice('a', { name: 'a-2', ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip: '10.244.0.1' }] }),
      slice('b', { ports: [{ name: 'q', port: 8081 }, { name: 'p', port: 8080 }], endpoints: [{ ip: '10.244.1.1' }] }),
    ];
    const one = runScenario({ services, slices });
    const two = runScenario({ services: [...services].reverse(), slices: [...slices].reverse() });
    expect(vsTable(two.state)).toEqual(vsTable(one.state));
    expect(setEntries(two.state)).toEqual(setEntries(one.state));
    expect(vsTable(one.state)['TCP/10.96.0.1:80']).toEqual(['10.244.0.1:8080', '10.244.0.3:8080', '10.244.0.9:8080']);
  });

  it('keeps one copy of an endpoint found in two slices, preferring the non-terminating one', () => {
    const { state } = runScenario({
      services: [service('a', { clusterIP: '10.96.0.1', ports: [{ name: 'p', port: 80 }] })],
      slices: [
        slice('a', { name: 'a-1', ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip: '10.244.0.1', ready: false, serving: true, terminating: true }] }),
        slice('a', { name: 'a-2', ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip: '10.244.0.1' }] }),
      ],
    });
    expect(vsTable(state)['TCP/10.96.0.1:80']).toEqual(['10.244.0.1:8080']);
  });

  it('a bad Service or slice changes nothing for the others', () => {
    const good = service('good', { type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ name: 'p', port: 80, nodePort: 30001 }] });
    const goodSlice = slice('good', { ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip: '10.244.0.1' }] });
    const base = runScenario({ services: [good], slices: [goodSlice], nodeIPs: ['192.168.0.10'] });
    const bad = [
      service('bad-ip', { clusterIP: '10.96.0.300', ports: [{ name: 'p', port: 80 }] }),
      service('bad-port', { clusterIP: '10.96.0.3', ports: [{ name: 'p', port: 70000 }] }),
      service('bad-proto', { clusterIP: '10.96.0.4', ports: [{ name: 'p', port: 80, protocol: 'ICMP' }] }),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'garbage' }, spec: 'nope' } as never,
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'garbage2' }, spec: { clusterIP: 42, ports: 'x' } } as never,
    ];
    const badSlices = [
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'orphan', namespace: 'ns1' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.9.9'] }], ports: [{ name: 'p', port: 8080 }] } as never,
      slice('good', { name: 'good-bad', ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip: '10.244.0.999' }] }),
      null as never,
    ];
    const withBad = runScenario({ services: [good, ...bad], slices: [goodSlice, ...badSlices], nodeIPs: ['192.168.0.10'] });
    const without = (t: Record<string, string[]>): Record<string, string[]> =>
      Object.fromEntries(Object.entries(t).filter(([k]) => !k.includes('10.96.0.3') && !k.includes('10.96.0.4')));
    expect(without(vsTable(withBad.state))).toEqual(vsTable(base.state));
    expect(vsTable(withBad.state)['TCP/10.96.0.3:80']).toBeUndefined();
    expect(withBad.warnings).toEqual(expect.arrayContaining([
      'Service ns1/bad-ip: spec.clusterIP: "10.96.0.300" is not a valid IP address; skipping the Service in that family',
      'Service ns1/bad-port: spec.ports[0].port: 70000 is not a port in 1-65535; skipping the port',
      'Service ns1/bad-proto: spec.ports[0].protocol: "ICMP" is not TCP, UDP or SCTP; skipping the port',
      'EndpointSlice ns1/orphan: metadata.labels[kubernetes.io/service-name]: missing; skipping the slice',
      'EndpointSlice ns1/good-bad: endpoints[0].addresses[0]: "10.244.0.999" is not an IPv4 address; skipping the endpoint',
    ]));
  });

  it('warns when two Services claim one virtual server', () => {
    const { warnings } = runScenario({
      services: [
        service('a', { clusterIP: '10.96.0.1', externalIPs: ['5.5.5.5'], ports: [{ name: 'p', port: 80 }] }),
        service('b', { clusterIP: '10.96.0.2', externalIPs: ['5.5.5.5'], ports: [{ name: 'p', port: 80 }] }),
      ],
    });
    expect(warnings).toEqual(['Service ns1/b: spec: virtual server TCP/5.5.5.5:80 is also claimed by ns1/a:p/TCP; using ns1/b:p/TCP']);
  });

  it('runs only the families the node supports', () => {
    const { state } = runScenario({ families: ['IPv6'] });
    expect(state.families.map((f) => f.family)).toEqual(['IPv6']);
  });
});
