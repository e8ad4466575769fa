import { describe, expect, it } from '@jest/globals';
import { service, slice } from '../model/builders.ts';
import { type ScenarioInput, chainRules, family, runScenario, setEntries, vsTable } from './testing.ts';

// Scenarios from kube-proxy's pkg/proxy/ipvs/proxier_test.go (node "test-node",
// scheduler rr, no local-traffic detector), rewritten as objects → virtual
// servers, real servers and set entries; then the bullets of issue 4 the
// upstream tests do not cover.

/** Rules of a chain as `target<set` (kube-proxy's test helper: nat rules, then filter rules). */
function chain(state: ReturnType<typeof runScenario>['state'], name: string, f: 'IPv4' | 'IPv6' = 'IPv4'): string[] {
  return [...chainRules(state, 'nat', name, f), ...chainRules(state, 'filter', name, f)].map((l) => {
    const target = /-j (\S+)/.exec(l)?.[1] ?? '?';
    const set = /--match-set (\S+)/.exec(l)?.[1];
    return set ? `${target}<${set}` : target;
  });
}

const p80 = { name: 'p80', port: 80 };
const np = (protocol = 'TCP', extra: Partial<Parameters<typeof service>[1]> = {}) =>
  service('svc1', { type: 'NodePort', clusterIP: '10.20.30.41', ports: [{ ...p80, protocol, nodePort: 3001 }], ...extra });
const eps = (protocol: string, ...endpoints: Parameters<typeof slice>[1]['endpoints']) =>
  slice('svc1', { ports: [{ ...p80, protocol }], endpoints });

interface Case {
  name: string;
  input: ScenarioInput;
  /** Exact IPv4 table. */
  vs?: Record<string, string[]>;
  /** Exact IPv6 table. */
  vs6?: Record<string, string[]>;
  /** Exact non-empty IPv4 sets (every set not listed is empty). */
  sets?: Record<string, string[]>;
  sets6?: Record<string, string[]>;
  chains?: Record<string, string[]>;
  addresses?: string[];
}

const cases: Case[] = [
  {
    name: 'NodePort with two endpoint slices: the IPv6 slice and node IP are ignored by the IPv4 proxier',
    input: {
      services: [np()],
      slices: [
        slice('svc1', { name: 'slice-1', ports: [p80], endpoints: [{ ip: '10.180.0.1' }] }),
        slice('svc1', { name: 'slice-2', ports: [p80], endpoints: [{ ip: '1002:ab8::2:10' }] }),
      ],
      nodeIPs: ['100.101.102.103', '2001:db8::1:1'],
    },
    vs: { 'TCP/10.20.30.41:80': ['10.180.0.1:80'], 'TCP/100.101.102.103:3001': ['10.180.0.1:80'] },
    vs6: {},
    sets: {
      'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'],
      'KUBE-NODE-PORT-TCP': ['3001'],
      'KUBE-IPVS-IPS': ['10.20.30.41'],
    },
    addresses: ['10.20.30.41'],
  },
  {
    name: 'UDP NodePort: bitmap set and the KUBE-NODE-PORT / KUBE-SERVICES rules',
    input: { services: [np('UDP')], slices: [eps('UDP', { ip: '10.180.0.1' })], nodeIPs: ['100.101.102.103'], config: { nodePortAddresses: ['0.0.0.0/0'] } },
    vs: { 'UDP/10.20.30.41:80': ['10.180.0.1:80'], 'UDP/100.101.102.103:3001': ['10.180.0.1:80'] },
    sets: { 'KUBE-CLUSTER-IP': ['10.20.30.41,udp:80'], 'KUBE-NODE-PORT-UDP': ['3001'], 'KUBE-IPVS-IPS': ['10.20.30.41'] },
    chains: {
      'KUBE-NODE-PORT': ['KUBE-MARK-MASQ<KUBE-NODE-PORT-UDP', 'ACCEPT<KUBE-HEALTH-CHECK-NODE-PORT'],
      'KUBE-SERVICES': ['RETURN', 'KUBE-MARK-MASQ<KUBE-CLUSTER-IP', 'KUBE-NODE-PORT', 'ACCEPT<KUBE-CLUSTER-IP'],
    },
  },
  {
    name: 'NodePort without endpoints: virtual servers with no real servers',
    input: { services: [np()], nodeIPs: ['100.101.102.103'] },
    vs: { 'TCP/10.20.30.41:80': [], 'TCP/100.101.102.103:3001': [] },
  },
  {
    name: 'SCTP NodePort on three node IPs: one hash:ip,port entry per node IP',
    input: {
      services: [np('SCTP')], slices: [eps('SCTP', { ip: '10.180.0.1' })],
      nodeIPs: ['100.101.102.103', '100.101.102.104', '100.101.102.105', '2001:db8::1:1', '2001:db8::1:2', '2001:db8::1:3'],
    },
    vs: {
      'SCTP/10.20.30.41:80': ['10.180.0.1:80'],
      'SCTP/100.101.102.103:3001': ['10.180.0.1:80'],
      'SCTP/100.101.102.104:3001': ['10.180.0.1:80'],
      'SCTP/100.101.102.105:3001': ['10.180.0.1:80'],
    },
    sets: {
      'KUBE-CLUSTER-IP': ['10.20.30.41,sctp:80'],
      'KUBE-NODE-PORT-SCTP-HASH': ['100.101.102.103,sctp:3001', '100.101.102.104,sctp:3001', '100.101.102.105,sctp:3001'],
      'KUBE-IPVS-IPS': ['10.20.30.41'],
    },
  },
  {
    name: 'SCTP NodePort with externalTrafficPolicy Local: only the local endpoint behind the NodePort',
    input: {
      services: [np('SCTP', { etp: 'Local' })],
      slices: [eps('SCTP', { ip: '10.180.0.1', node: 'test-node' }, { ip: '10.180.1.1', node: 'other-node' })],
      nodeIPs: ['100.101.102.103'],
    },
    vs: { 'SCTP/10.20.30.41:80': ['10.180.0.1:80', '10.180.1.1:80'], 'SCTP/100.101.102.103:3001': ['10.180.0.1:80'] },
    sets: {
      'KUBE-LOOP-BACK': ['10.180.0.1,sctp:80,10.180.0.1'],
      'KUBE-CLUSTER-IP': ['10.20.30.41,sctp:80'],
      'KUBE-NODE-PORT-SCTP-HASH': ['100.101.102.103,sctp:3001'],
      'KUBE-NODE-PORT-LOCAL-SCTP-HASH': ['100.101.102.103,sctp:3001'],
      'KUBE-IPVS-IPS': ['10.20.30.41'],
    },
    chains: { 'KUBE-NODE-PORT': ['RETURN<KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'KUBE-MARK-MASQ<KUBE-NODE-PORT-SCTP-HASH', 'ACCEPT<KUBE-HEALTH-CHECK-NODE-PORT'] },
  },
  {
    name: 'IPv6 NodePort: IPv6 proxier only, KUBE-6- sets',
    input: {
      services: [service('svc1', { type: 'NodePort', clusterIP: '2020::1', ports: [{ ...p80, nodePort: 3001 }] })],
      slices: [slice('svc1', { ports: [p80], endpoints: [{ ip: '1002:ab8::2:10' }] })],
      nodeIPs: ['100.101.102.103', '2001:db8::1:1'],
    },
    vs: {},
    vs6: { 'TCP/[2001:db8::1:1]:3001': ['[1002:ab8::2:10]:80'], 'TCP/[2020::1]:80': ['[1002:ab8::2:10]:80'] },
    sets6: { 'KUBE-6-CLUSTER-IP': ['2020::1,tcp:80'], 'KUBE-6-NODE-PORT-TCP': ['3001'], 'KUBE-6-IPVS-IPS': ['2020::1'] },
  },
  {
    name: 'IPv6 SCTP NodePort on two node IPs',
    input: {
      services: [service('svc1', { type: 'NodePort', clusterIP: '2020::1', ports: [{ ...p80, protocol: 'SCTP', nodePort: 3001 }] })],
      nodeIPs: ['2001:db8::1:1', '2001:db8::1:2'],
    },
    sets6: {
      'KUBE-6-CLUSTER-IP': ['2020::1,sctp:80'],
      'KUBE-6-NODE-PORT-SCTP-HASH': ['2001:db8::1:1,sctp:3001', '2001:db8::1:2,sctp:3001'],
      'KUBE-6-IPVS-IPS': ['2020::1'],
    },
  },
  {
    name: 'IPv4 and IPv6 Services: each proxier takes its own family',
    input: {
      services: [
        service('svc4', { clusterIP: '10.20.30.41', ports: [p80] }),
        service('svc6', { clusterIP: '1002:ab8::2:1', ports: [{ name: 'p8080', port: 8080 }] }),
      ],
      slices: [
        slice('svc4', { ports: [p80], endpoints: [{ ip: '10.180.0.1' }] }),
        slice('svc6', { ports: [{ name: 'p8080', port: 8080 }], endpoints: [{ ip: '1009:ab8::5:6' }] }),
      ],
    },
    vs: { 'TCP/10.20.30.41:80': ['10.180.0.1:80'] },
    vs6: { 'TCP/[1002:ab8::2:1]:8080': ['[1009:ab8::5:6]:8080'] },
  },
  {
    name: 'dual-stack Service: a virtual server in each family with that family\'s endpoints',
    input: {
      services: [service('svc1', { clusterIP: '10.20.30.41', clusterIPs: ['10.20.30.41', 'fd00::41'], ipFamilies: ['IPv4', 'IPv6'], ports: [p80] })],
      slices: [
        slice('svc1', { ports: [p80], endpoints: [{ ip: '10.180.0.1' }] }),
        slice('svc1', { ports: [p80], endpoints: [{ ip: 'fd00:180::1' }] }),
      ],
    },
    vs: { 'TCP/10.20.30.41:80': ['10.180.0.1:80'] },
    vs6: { 'TCP/[fd00::41]:80': ['[fd00:180::1]:80'] },
    addresses: ['10.20.30.41'],
  },
  {
    name: 'externalIPs: the IPv6 one is filtered out, 127.0.0.1 still gets a virtual server',
    input: {
      services: [service('svc1', { clusterIP: '10.20.30.41', externalIPs: ['50.60.70.81', '2012::51', '127.0.0.1'], ports: [p80] })],
      slices: [eps('TCP', { ip: '10.180.0.1' })],
    },
    vs: { 'TCP/10.20.30.41:80': ['10.180.0.1:80'], 'TCP/127.0.0.1:80': ['10.180.0.1:80'], 'TCP/50.60.70.81:80': ['10.180.0.1:80'] },
    // The IPv6 externalIP needs an IPv6 cluster IP to be used at all.
    vs6: {},
    sets: {
      'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'],
      'KUBE-EXTERNAL-IP': ['127.0.0.1,tcp:80', '50.60.70.81,tcp:80'],
      'KUBE-IPVS-IPS': ['10.20.30.41', '127.0.0.1', '50.60.70.81'],
    },
    chains: {
      'KUBE-SERVICES': [
        'RETURN', 'KUBE-MARK-MASQ<KUBE-CLUSTER-IP', 'KUBE-MARK-MASQ<KUBE-EXTERNAL-IP', 'ACCEPT<KUBE-EXTERNAL-IP', 'ACCEPT<KUBE-EXTERNAL-IP',
        'KUBE-NODE-PORT', 'ACCEPT<KUBE-CLUSTER-IP',
      ],
    },
  },
  {
    name: 'externalIPs with externalTrafficPolicy Local: local endpoint only, KUBE-EXTERNAL-IP-LOCAL, no masquerade rule',
    input: {
      services: [service('svc1', { type: 'NodePort', clusterIP: '10.20.30.41', externalIPs: ['50.60.70.81'], etp: 'Local', ports: [p80] })],
      slices: [eps('TCP', { ip: '10.180.0.1', node: 'test-node' }, { ip: '10.180.1.1', node: 'other-node' })],
    },
    vs: { 'TCP/10.20.30.41:80': ['10.180.0.1:80', '10.180.1.1:80'], 'TCP/50.60.70.81:80': ['10.180.0.1:80'] },
    sets: {
      'KUBE-LOOP-BACK': ['10.180.0.1,tcp:80,10.180.0.1'],
      'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'],
      'KUBE-EXTERNAL-IP-LOCAL': ['50.60.70.81,tcp:80'],
      'KUBE-IPVS-IPS': ['10.20.30.41', '50.60.70.81'],
    },
    chains: {
      'KUBE-SERVICES': ['RETURN', 'KUBE-MARK-MASQ<KUBE-CLUSTER-IP', 'ACCEPT<KUBE-EXTERNAL-IP-LOCAL', 'ACCEPT<KUBE-EXTERNAL-IP-LOCAL', 'KUBE-NODE-PORT', 'ACCEPT<KUBE-CLUSTER-IP'],
    },
  },
  {
    name: 'LoadBalancer without node IPs: ClusterIP and LB virtual servers, no NodePort, no health-check entry',
    input: {
      services: [service('svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', lbIPs: ['1.2.3.4'], ports: [{ ...p80, nodePort: 3001 }] })],
      slices: [eps('TCP', { ip: '10.180.0.1' })],
    },
    vs: { 'TCP/1.2.3.4:80': ['10.180.0.1:80'], 'TCP/10.20.30.41:80': ['10.180.0.1:80'] },
    sets: { 'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'], 'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'], 'KUBE-IPVS-IPS': ['1.2.3.4', '10.20.30.41'] },
    chains: {
      'KUBE-SERVICES': ['RETURN', 'KUBE-LOAD-BALANCER<KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ<KUBE-CLUSTER-IP', 'KUBE-NODE-PORT', 'ACCEPT<KUBE-CLUSTER-IP', 'ACCEPT<KUBE-LOAD-BALANCER'],
      'KUBE-LOAD-BALANCER': ['KUBE-MARK-MASQ'],
    },
  },
  {
    name: 'LoadBalancer ingress with ipMode Proxy is not programmed; VIP mode is',
    input: {
      services: [service('svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', lbIPs: ['1.2.3.4@Proxy', '5.6.7.8@VIP'], ports: [p80] })],
    },
    vs: { 'TCP/10.20.30.41:80': [], 'TCP/5.6.7.8:80': [] },
  },
  {
    name: 'LoadBalancer with externalTrafficPolicy Local: LB VIP gets the local endpoint, KUBE-LOAD-BALANCER-LOCAL returns first',
    input: {
      services: [service('svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', lbIPs: ['1.2.3.4'], etp: 'Local', healthCheckNodePort: 30000, ports: [{ ...p80, nodePort: 3001 }] })],
      slices: [eps('TCP', { ip: '10.180.0.1', node: 'test-node' }, { ip: '10.180.1.1', node: 'other-node' })],
    },
    vs: { 'TCP/1.2.3.4:80': ['10.180.0.1:80'], 'TCP/10.20.30.41:80': ['10.180.0.1:80', '10.180.1.1:80'] },
    sets: {
      'KUBE-LOOP-BACK': ['10.180.0.1,tcp:80,10.180.0.1'],
      'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'],
      'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'],
      'KUBE-LOAD-BALANCER-LOCAL': ['1.2.3.4,tcp:80'],
      'KUBE-IPVS-IPS': ['1.2.3.4', '10.20.30.41'],
    },
    chains: { 'KUBE-LOAD-BALANCER': ['RETURN<KUBE-LOAD-BALANCER-LOCAL', 'KUBE-MARK-MASQ'] },
  },
  {
    name: 'NodePort Local with nodePortAddresses: only the matching interface address',
    input: {
      services: [np('TCP', { etp: 'Local' })],
      slices: [eps('TCP', { ip: '10.180.0.1', node: 'test-node' }, { ip: '10.180.1.1', node: 'other-node' })],
      nodeIPs: ['100.101.102.103', '192.168.0.5', '2001:db8::1'],
      config: { nodePortAddresses: ['100.101.102.0/24'] },
    },
    vs: { 'TCP/10.20.30.41:80': ['10.180.0.1:80', '10.180.1.1:80'], 'TCP/100.101.102.103:3001': ['10.180.0.1:80'] },
    // No IPv6 CIDR given: the IPv6 proxier matches every IPv6 address (there is no IPv6 Service here).
    sets: {
      'KUBE-LOOP-BACK': ['10.180.0.1,tcp:80,10.180.0.1'],
      'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'],
      'KUBE-NODE-PORT-TCP': ['3001'],
      'KUBE-NODE-PORT-LOCAL-TCP': ['3001'],
      'KUBE-IPVS-IPS': ['10.20.30.41'],
    },
    chains: {
      'KUBE-SERVICES': ['RETURN', 'KUBE-MARK-MASQ<KUBE-CLUSTER-IP', 'KUBE-NODE-PORT', 'ACCEPT<KUBE-CLUSTER-IP'],
      'KUBE-NODE-PORT': ['RETURN<KUBE-NODE-PORT-LOCAL-TCP', 'KUBE-MARK-MASQ<KUBE-NODE-PORT-TCP', 'ACCEPT<KUBE-HEALTH-CHECK-NODE-PORT'],
    },
  },
  {
    name: 'health check node ports: only LoadBalancer Services with externalTrafficPolicy Local',
    input: {
      services: [
        service('valid-svc1', { type: 'LoadBalancer', clusterIP: '172.16.55.10', etp: 'Local', healthCheckNodePort: 30000, ports: [{ name: 'p', port: 80, nodePort: 3000 }] }),
        service('valid-svc2', { type: 'LoadBalancer', clusterIP: '172.16.55.11', etp: 'Local', healthCheckNodePort: 30001, ports: [{ name: 'p', port: 80, nodePort: 3001 }] }),
        service('invalid-svc3', { type: 'LoadBalancer', clusterIP: '172.16.55.12', etp: 'Cluster', healthCheckNodePort: 30002, ports: [{ name: 'p', port: 80, nodePort: 3002 }] }),
      ],
      nodeIPs: ['100.101.102.103'],
    },
    sets: {
      'KUBE-CLUSTER-IP': ['172.16.55.10,tcp:80', '172.16.55.11,tcp:80', '172.16.55.12,tcp:80'],
      'KUBE-NODE-PORT-TCP': ['3000', '3001', '3002'],
      'KUBE-NODE-PORT-LOCAL-TCP': ['3000', '3001'],
      'KUBE-HEALTH-CHECK-NODE-PORT': ['30000', '30001'],
      'KUBE-IPVS-IPS': ['172.16.55.10', '172.16.55.11', '172.16.55.12'],
    },
    chains: { 'KUBE-NODE-PORT': ['RETURN<KUBE-NODE-PORT-LOCAL-TCP', 'KUBE-MARK-MASQ<KUBE-NODE-PORT-TCP', 'ACCEPT<KUBE-HEALTH-CHECK-NODE-PORT'] },
  },
  {
    name: 'loadBalancerSourceRanges not covering the node: FW and SOURCE-CIDR sets, OUT-FILTER drop',
    input: {
      services: [service('svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', lbIPs: ['1.2.3.4'], sourceRanges: [' 10.0.0.0/8', '2001:db8::/32'], ports: [p80] })],
      slices: [eps('TCP', { ip: '10.180.0.1' })],
    },
    vs: { 'TCP/1.2.3.4:80': ['10.180.0.1:80'], 'TCP/10.20.30.41:80': ['10.180.0.1:80'] },
    sets: {
      'KUBE-CLUSTER-IP': ['10.20.30.41,tcp:80'],
      'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'],
      'KUBE-LOAD-BALANCER-FW': ['1.2.3.4,tcp:80'],
      'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['1.2.3.4,tcp:80,10.0.0.0/8'],
      'KUBE-IPVS-IPS': ['1.2.3.4', '10.20.30.41'],
    },
    chains: {
      'KUBE-PROXY-FIREWALL': ['KUBE-SOURCE-RANGES-FIREWALL<KUBE-LOAD-BALANCER-FW'],
      'KUBE-SOURCE-RANGES-FIREWALL': ['RETURN<KUBE-LOAD-BALANCER-SOURCE-CIDR', 'DROP'],
      'KUBE-IPVS-OUT-FILTER': ['DROP'],
    },
  },
  {
    name: 'loadBalancerSourceRanges covering the node IP: SOURCE-IP entry (VIP as source), no OUT-FILTER rule',
    input: {
      services: [service('svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', lbIPs: ['1.2.3.4'], sourceRanges: ['10.0.0.1/8', '192.168.0.0/16'], ports: [{ ...p80, protocol: 'UDP' }] })],
      nodeIPs: ['192.168.1.10'],
    },
    sets: {
      'KUBE-CLUSTER-IP': ['10.20.30.41,udp:80'],
      'KUBE-LOAD-BALANCER': ['1.2.3.4,udp:80'],
      'KUBE-LOAD-BALANCER-FW': ['1.2.3.4,udp:80'],
      'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['1.2.3.4,udp:80,10.0.0.0/8', '1.2.3.4,udp:80,192.168.0.0/16'],
      'KUBE-LOAD-BALANCER-SOURCE-IP': ['1.2.3.4,udp:80,1.2.3.4'],
      'KUBE-IPVS-IPS': ['1.2.3.4', '10.20.30.41'],
    },
    chains: {
      'KUBE-SOURCE-RANGES-FIREWALL': ['RETURN<KUBE-LOAD-BALANCER-SOURCE-CIDR', 'RETURN<KUBE-LOAD-BALANCER-SOURCE-IP', 'DROP'],
      'KUBE-IPVS-OUT-FILTER': [],
    },
  },
  {
    name: 'externalIP or LB IP already on a node interface: virtual server but not bound on kube-ipvs0',
    input: {
      services: [service('svc1', { type: 'LoadBalancer', clusterIP: '10.20.30.41', externalIPs: ['100.101.102.103'], lbIPs: ['100.101.102.104'], ports: [p80] })],
      nodeIPs: ['100.101.102.103', '100.101.102.104'],
    },
    vs: { 'TCP/10.20.30.41:80': [], 'TCP/100.101.102.103:80': [], 'TCP/100.101.102.104:80': [] },
    addresses: ['10.20.30.41'],
  },
  {
    name: 'multi-port Service: one bound address, entries per port',
    input: {
      services: [service('svc1', { clusterIP: '172.16.55.4', ports: [{ name: 'a', port: 1234 }, { name: 'b', port: 1235 }, { name: 'c', port: 1236, protocol: 'UDP' }] })],
    },
    vs: { 'TCP/172.16.55.4:1234': [], 'TCP/172.16.55.4:1235': [], 'UDP/172.16.55.4:1236': [] },
    addresses: ['172.16.55.4'],
  },
];

describe('buildDesiredState: kube-proxy scenarios', () => {
  it.each(cases)('$name', (c) => {
    const { state } = runScenario(c.input);
    if (c.vs) expect(vsTable(state, 'IPv4')).toEqual(c.vs);
    if (c.vs6) expect(vsTable(state, 'IPv6')).toEqual(c.vs6);
    if (c.sets) expect(setEntries(state, 'IPv4')).toEqual(c.sets);
    if (c.sets6) expect(setEntries(state, 'IPv6')).toEqual(c.sets6);
    if (c.addresses) expect(family(state, 'IPv4').addresses).toEqual(c.addresses);
    for (const [name, rules] of Object.entries(c.chains ?? {})) expect({ [name]: chain(state, name) }).toEqual({ [name]: rules });
  });
});
