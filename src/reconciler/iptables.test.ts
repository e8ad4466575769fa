import { describe, expect, it } from '@jest/globals';
import { service, slice } from '../model/builders.ts';
import { masqueradeMark } from './iptables.ts';
import { type ScenarioInput, chainRules, family, runScenario } from './testing.ts';

// The iptables-restore payload. kube-proxy has no golden text for IPVS mode, so
// this golden was checked line by line against the argument lists of
// proxier.go's writeIptablesRules/acceptIPVSTraffic (see the reference §2.3).

const golden = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN
-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE
-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER
-A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN
-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN
-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ
-A KUBE-NODE-PORT -p udp -m comment --comment "Kubernetes nodeport UDP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-UDP dst -j KUBE-MARK-MASQ
-A KUBE-NODE-PORT -p sctp -m comment --comment "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" -m set --match-set KUBE-NODE-PORT-LOCAL-SCTP-HASH dst,dst -j RETURN
-A KUBE-NODE-PORT -p sctp -m comment --comment "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" -m set --match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port for masquerade and filter purpose" -m set --match-set KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port for masquerade and filter purpose" -m set --match-set KUBE-EXTERNAL-IP dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT
-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port for masquerade and filter purpose" -m set --match-set KUBE-EXTERNAL-IP dst,dst -m addrtype --dst-type LOCAL -j ACCEPT
-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT
-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -m addrtype --dst-type LOCAL -j ACCEPT
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT
-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
COMMIT
*filter
:KUBE-FORWARD - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SOURCE-RANGES-FIREWALL - [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-IPVS-OUT-FILTER - [0:0]
-A KUBE-PROXY-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port for load balancer with sourceRange" -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL
-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port + source cidr for packet filter purpose" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN
-A KUBE-SOURCE-RANGES-FIREWALL -j DROP
-A KUBE-IPVS-OUT-FILTER -s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT
-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN
-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT
COMMIT
`;

describe('iptables payload', () => {
  it('matches the golden text for LB (Local, source ranges), externalIPs (Cluster and Local) and TCP/UDP/SCTP NodePorts', () => {
    const { state } = runScenario({
      services: [
        service('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.10', lbIPs: ['1.2.3.4'], sourceRanges: ['203.0.113.0/24'], etp: 'Local', healthCheckNodePort: 30500, ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
        service('ext', { clusterIP: '10.96.0.11', externalIPs: ['50.60.70.81'], ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }], type: 'NodePort' }),
        service('extlocal', { clusterIP: '10.96.0.12', externalIPs: ['50.60.70.82'], etp: 'Local', type: 'NodePort', ports: [{ name: 's', port: 9, protocol: 'SCTP', nodePort: 30009 }] }),
      ],
      slices: [slice('lb', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.0.5', node: 'test-node' }] })],
      nodeIPs: ['192.168.0.10'],
      config: { clusterCIDRs: ['10.244.0.0/16'] },
    });
    const f = family(state);
    expect(f.iptables.nat + f.iptables.filter).toBe(golden);
  });

  it('is the minimal payload without any Service', () => {
    const { state } = runScenario({});
    expect(chainRules(state, 'nat', 'KUBE-SERVICES')).toEqual([
      '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN',
      '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
    ]);
    expect(chainRules(state, 'filter', 'KUBE-IPVS-OUT-FILTER')).toEqual([]);
    expect(chainRules(state, 'nat', 'KUBE-SERVICES', 'IPv6')[0]).toBe('-A KUBE-SERVICES -s ::1/128 -j RETURN');
  });

  it('names the KUBE-6- sets in IPv6 rules', () => {
    const { state } = runScenario({
      services: [service('lb', { type: 'LoadBalancer', clusterIP: 'fd00::10', lbIPs: ['2001:db8::4'], sourceRanges: ['2001:db8::/32'], ports: [{ name: 'p', port: 80 }] })],
      nodeIPs: ['2001:db8::10'],
    });
    expect(chainRules(state, 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', 'IPv6')).toEqual([
      '-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port + source cidr for packet filter purpose" -m set --match-set KUBE-6-LOAD-BALANCER-SOURCE-CID dst,dst,src -j RETURN',
      '-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port + source IP for packet filter purpose" -m set --match-set KUBE-6-LOAD-BALANCER-SOURCE-IP dst,dst,src -j RETURN',
      '-A KUBE-SOURCE-RANGES-FIREWALL -j DROP',
    ]);
  });
});

interface MasqCase {
  name: string;
  input: ScenarioInput;
  /** The KUBE-CLUSTER-IP masquerade rule per family. */
  want: { IPv4: string; IPv6?: string };
}

const clusterIPRule = (tail: string, set = 'KUBE-CLUSTER-IP'): string =>
  `-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set ${set} ${tail} -j KUBE-MARK-MASQ`;

const dual = service('svc', { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1', 'fd00::1'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ name: 'p', port: 80 }] });

const masqCases: MasqCase[] = [
  { name: 'no detector (no cluster CIDR): src,dst', input: { services: [dual] }, want: { IPv4: clusterIPRule('src,dst'), IPv6: clusterIPRule('src,dst', 'KUBE-6-CLUSTER-IP') } },
  {
    name: 'masqueradeAll wins over a detector',
    input: { services: [dual], config: { masqueradeAll: true, clusterCIDRs: ['10.244.0.0/16'] } },
    want: { IPv4: clusterIPRule('dst,dst'), IPv6: clusterIPRule('dst,dst', 'KUBE-6-CLUSTER-IP') },
  },
  {
    name: 'ClusterCIDR per family; a family without a CIDR has no detector',
    input: { services: [dual], config: { clusterCIDRs: ['10.244.0.0/16'] } },
    want: { IPv4: clusterIPRule('dst,dst ! -s 10.244.0.0/16'), IPv6: clusterIPRule('src,dst', 'KUBE-6-CLUSTER-IP') },
  },
  {
    name: 'ClusterCIDR dual-stack',
    input: { services: [dual], config: { clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/56'] } },
    want: { IPv4: clusterIPRule('dst,dst ! -s 10.244.0.0/16'), IPv6: clusterIPRule('dst,dst ! -s fd00:244::/56', 'KUBE-6-CLUSTER-IP') },
  },
  {
    name: 'NodeCIDR uses the Node\'s pod CIDRs',
    input: {
      services: [dual],
      node: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'test-node' }, spec: { podCIDRs: ['10.244.3.0/24', 'fd00:244:0:3::/64'] } },
      config: { detectLocalMode: 'NodeCIDR', clusterCIDRs: ['10.244.0.0/16'] },
    },
    want: { IPv4: clusterIPRule('dst,dst ! -s 10.244.3.0/24'), IPv6: clusterIPRule('dst,dst ! -s fd00:244:0:3::/64', 'KUBE-6-CLUSTER-IP') },
  },
  {
    name: 'BridgeInterface',
    input: { services: [dual], config: { detectLocalMode: 'BridgeInterface', bridgeInterface: 'cbr0' } },
    want: { IPv4: clusterIPRule('dst,dst ! -i cbr0'), IPv6: clusterIPRule('dst,dst ! -i cbr0', 'KUBE-6-CLUSTER-IP') },
  },
  {
    name: 'InterfaceNamePrefix',
    input: { services: [dual], config: { detectLocalMode: 'InterfaceNamePrefix', interfaceNamePrefix: 'veth' } },
    want: { IPv4: clusterIPRule('dst,dst ! -i veth+'), IPv6: clusterIPRule('dst,dst ! -i veth+', 'KUBE-6-CLUSTER-IP') },
  },
];

describe('local-traffic detectors', () => {
  it.each(masqCases)('$name', (c) => {
    const { state } = runScenario(c.input);
    expect(chainRules(state, 'nat', 'KUBE-SERVICES')[1]).toBe(c.want.IPv4);
    if (c.want.IPv6) expect(chainRules(state, 'nat', 'KUBE-SERVICES', 'IPv6')[1]).toBe(c.want.IPv6);
  });
});

describe('masquerade mark', () => {
  it.each([
    { name: 'default bit 14', bit: 14, mark: '0x00004000' },
    { name: 'bit 0', bit: 0, mark: '0x00000001' },
    { name: 'bit 31 (beyond a signed 32-bit shift)', bit: 31, mark: '0x80000000' },
  ])('$name', ({ bit, mark }) => {
    expect(masqueradeMark(bit)).toBe(mark);
    const { state } = runScenario({ config: { masqueradeBit: bit }, randomFully: false });
    expect(chainRules(state, 'nat', 'KUBE-POSTROUTING')).toEqual([
      `-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`,
      `-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`,
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
    ]);
    expect(chainRules(state, 'nat', 'KUBE-MARK-MASQ')).toEqual([`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`]);
    expect(chainRules(state, 'filter', 'KUBE-FORWARD')[0]).toContain(`--mark ${mark}/${mark} -j ACCEPT`);
  });
});
