import { describe, expect, it } from '@jest/globals';
import { service, slice, type EndpointSpec, type ServiceSpec } from '../model/builders.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import type { ClusterSnapshot } from '../model/types.ts';
import { conntrackCleanupRequired, planConntrackCleanup } from './plan.ts';
import { type Family, type Flow, type FlowProtocol, filterKey, filterMatches } from './types.ts';

// Address plan: cluster IPs 10.96.0.0/16 (fd00:96::/64), pods 10.244.0.0/16
// (fd00:244::/64), node 10.0.0.10, clients 10.1.0.0/16, externalIP 192.0.2.10,
// LoadBalancer VIP 203.0.113.10.

let clientPort = 40000;

/** A flow from a client to `dst:dport`, answered by `replySrc:replySport`. */
function flow(dst: string, dport: number, replySrc: string, replySport: number, protocol: FlowProtocol = 'udp'): Flow {
  const family: Family = dst.includes(':') ? 'inet6' : 'inet';
  const client = family === 'inet' ? '10.1.0.1' : 'fd00:1::1';
  const sport = clientPort++;
  return {
    family, protocol, timeout: 30,
    original: { src: client, dst, srcPort: sport, dstPort: dport },
    reply: { src: replySrc, dst: client, srcPort: replySport, dstPort: sport },
  };
}

function snapshotOf(svcs: { id: string; spec: ServiceSpec; endpoints?: EndpointSpec[]; targetPort?: number }[]): ClusterSnapshot {
  const { snapshot, warnings } = buildSnapshot(
    svcs.map((s) => service(s.id, s.spec)),
    svcs.filter((s) => s.endpoints).map((s) => slice(s.id, {
      ports: s.spec.ports.map((p) => ({ name: p.name ?? '', port: s.targetPort ?? 5353, protocol: p.protocol ?? 'TCP' })),
      endpoints: s.endpoints!,
    })),
  );
  expect(warnings).toEqual([]);
  return snapshot;
}

const dnsSpec: ServiceSpec = {
  type: 'LoadBalancer', clusterIP: '10.96.0.10', externalIPs: ['192.0.2.10'], lbIPs: ['203.0.113.10'],
  ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
};
const serving = { ip: '10.244.0.11' };

describe('planConntrackCleanup: one rule per row', () => {
  const byAddress = (dst: string, dport: number, src: string, sport: number): string =>
    `inet udp orig-dst=${dst} orig-port-dst=${dport} reply-src=${src} reply-port-src=${sport}`;
  const byPort = (dport: number, src: string, sport: number): string =>
    `inet udp orig-port-dst=${dport} reply-src=${src} reply-port-src=${sport}`;

  const rows: { name: string; endpoints?: EndpointSpec[]; spec?: ServiceSpec; flow: Flow; filters: string[] }[] = [
    { name: 'ClusterIP flow to a serving endpoint is kept', endpoints: [serving], flow: flow('10.96.0.10', 53, '10.244.0.11', 5353), filters: [] },
    { name: 'ClusterIP flow to a deleted endpoint is deleted', endpoints: [serving], flow: flow('10.96.0.10', 53, '10.244.0.99', 5353), filters: [byAddress('10.96.0.10', 53, '10.244.0.99', 5353)] },
    { name: 'flow to a serving endpoint IP on its old port is deleted', endpoints: [serving], flow: flow('10.96.0.10', 53, '10.244.0.11', 5300), filters: [byAddress('10.96.0.10', 53, '10.244.0.11', 5300)] },
    { name: 'flow to a non-serving endpoint is deleted', endpoints: [serving, { ip: '10.244.0.12', serving: false, ready: false }], flow: flow('10.96.0.10', 53, '10.244.0.12', 5353), filters: [byAddress('10.96.0.10', 53, '10.244.0.12', 5353)] },
    { name: 'flow to a terminating but serving endpoint is kept (terminating is ignored)', endpoints: [serving, { ip: '10.244.0.12', serving: true, ready: false, terminating: true }], flow: flow('10.96.0.10', 53, '10.244.0.12', 5353), filters: [] },
    { name: 'flow to a serving endpoint on another node is kept under externalTrafficPolicy/internalTrafficPolicy Local', spec: { ...dnsSpec, etp: 'Local', itp: 'Local', healthCheckNodePort: 32100 }, endpoints: [{ ip: '10.244.0.11', node: 'other-node' }], flow: flow('10.96.0.10', 53, '10.244.0.11', 5353), filters: [] },
    { name: 'flow to a serving endpoint hinted for another zone is kept (topology is ignored)', endpoints: [{ ip: '10.244.0.11', zone: 'b', zoneHints: ['b'] }], flow: flow('10.96.0.10', 53, '10.244.0.11', 5353), filters: [] },
    { name: 'externalIP flow to a deleted endpoint is deleted', endpoints: [serving], flow: flow('192.0.2.10', 53, '10.244.0.99', 5353), filters: [byAddress('192.0.2.10', 53, '10.244.0.99', 5353)] },
    { name: 'externalIP flow to a serving endpoint is kept', endpoints: [serving], flow: flow('192.0.2.10', 53, '10.244.0.11', 5353), filters: [] },
    { name: 'LoadBalancer VIP flow to a deleted endpoint is deleted', endpoints: [serving], flow: flow('203.0.113.10', 53, '10.244.0.99', 5353), filters: [byAddress('203.0.113.10', 53, '10.244.0.99', 5353)] },
    { name: 'NodePort flow to a deleted endpoint is deleted by port', endpoints: [serving], flow: flow('10.0.0.10', 30053, '10.244.0.99', 5353), filters: [byPort(30053, '10.244.0.99', 5353)] },
    { name: 'NodePort flow on any address (loopback) is matched by port alone', endpoints: [serving], flow: flow('127.0.0.1', 30053, '127.0.0.1', 30053), filters: [byPort(30053, '127.0.0.1', 30053)] },
    { name: 'NodePort flow to a serving endpoint is kept', endpoints: [serving], flow: flow('10.0.0.10', 30053, '10.244.0.11', 5353), filters: [] },
    { name: 'flow that was never DNATed (no endpoint at the time) is deleted once there are endpoints', endpoints: [serving], flow: flow('10.96.0.10', 53, '10.96.0.10', 53), filters: [byAddress('10.96.0.10', 53, '10.96.0.10', 53)] },
    { name: 'flow to the Service IP on another port is kept', endpoints: [serving], flow: flow('10.96.0.10', 54, '10.244.0.99', 5353), filters: [] },
    { name: 'TCP flow to the frontend of a UDP port is kept', endpoints: [serving], flow: flow('10.96.0.10', 53, '10.244.0.99', 5353, 'tcp'), filters: [] },
    { name: 'SCTP flow to the frontend of a UDP port is kept', endpoints: [serving], flow: flow('10.96.0.10', 53, '10.244.0.99', 5353, 'sctp'), filters: [] },
    {
      name: 'UDP flow to a TCP Service port is kept',
      spec: { ...dnsSpec, ports: [{ name: 'dns', port: 53, protocol: 'TCP', nodePort: 30053 }] },
      endpoints: [serving], flow: flow('10.96.0.10', 53, '10.244.0.99', 5353), filters: [],
    },
    { name: 'Service port whose endpoints are all non-serving keeps its flows', endpoints: [{ ip: '10.244.0.11', serving: false, ready: false }], flow: flow('10.96.0.10', 53, '10.244.0.99', 5353), filters: [] },
    { name: 'Service port without endpoints keeps even never-DNATed flows', flow: flow('10.96.0.10', 53, '10.96.0.10', 53), filters: [] },
    { name: 'flow to an address no Service uses is kept', endpoints: [serving], flow: flow('10.96.7.7', 53, '10.244.0.99', 5353), filters: [] },
  ];

  it.each(rows)('$name', ({ endpoints, spec, flow: f, filters }) => {
    const snap = snapshotOf([{ id: 'kube-system/dns', spec: spec ?? dnsSpec, ...(endpoints ? { endpoints } : {}) }]);
    const plan = planConntrackCleanup(snap, 'inet', [f]);
    expect(plan.filters.map(filterKey)).toEqual(filters);
    expect(plan.staleFlows).toBe(filters.length > 0 ? 1 : 0);
    for (const filter of plan.filters) expect(filterMatches(filter, f)).toBe(true);
  });
});

describe('planConntrackCleanup: kube-proxy TestCleanStaleEntries matrix', () => {
  // One Service with a TCP, a UDP (NodePort 32000) and an SCTP port 8000, one
  // serving and one non-serving endpoint on port 9090, and flows to every
  // frontend, protocol and port through a serving, a non-serving and a deleted
  // endpoint; only the UDP flows to port 8000/NodePort not answered by the
  // serving endpoint's ip:port may go.
  const clusterIP = '172.30.1.1';
  const externalIP = '192.168.99.100';
  const lbIP = '1.2.3.4';
  const servingIP = '10.240.0.4';
  const nonServingIP = '10.240.1.5';
  const deletedIP = '10.240.2.6';
  const snap = snapshotOf([{
    id: 'test/cleanup-test',
    spec: {
      type: 'LoadBalancer', clusterIP, externalIPs: [externalIP], lbIPs: [lbIP],
      ports: [
        { name: 'test-tcp', port: 8000, protocol: 'TCP', nodePort: 32001 },
        { name: 'test-udp', port: 8000, protocol: 'UDP', nodePort: 32000 },
        { name: 'test-sctp', port: 8000, protocol: 'SCTP', nodePort: 32000 },
      ],
    },
    targetPort: 9090,
    endpoints: [{ ip: servingIP, serving: true }, { ip: nonServingIP, serving: false, ready: false }],
  }]);

  const flows: { flow: Flow; stale: boolean }[] = [];
  // Endpoint changed port (8080 → 9090), IP unchanged.
  for (const dst of [clusterIP, lbIP, externalIP]) flows.push({ flow: flow(dst, 8000, servingIP, 8080), stale: true });
  for (const backend of [servingIP, nonServingIP, deletedIP]) {
    for (const proto of ['tcp', 'udp', 'sctp'] as const) {
      for (const dst of [clusterIP, lbIP, externalIP]) {
        for (const port of [8000, 3000]) {
          flows.push({ flow: flow(dst, port, backend, 9090, proto), stale: proto === 'udp' && port === 8000 && backend !== servingIP });
        }
      }
      flows.push({ flow: flow('10.0.0.10', 32000, backend, 9090, proto), stale: proto === 'udp' && backend !== servingIP });
    }
  }
  // Flows never DNATed (no REJECT for a Service without endpoints): reply source = Service IP.
  for (const ip of [clusterIP, lbIP, externalIP]) {
    for (const port of [8000, 3000]) flows.push({ flow: flow(ip, port, ip, port), stale: port === 8000 });
  }

  it('deletes exactly the 14 stale UDP flows of 72 and keeps the other 58', () => {
    const plan = planConntrackCleanup(snap, 'inet', flows.map((f) => f.flow));
    const deleted = flows.filter((f) => plan.filters.some((x) => filterMatches(x, f.flow)));
    expect(flows).toHaveLength(72);
    expect(deleted.map((f) => f.flow)).toEqual(flows.filter((f) => f.stale).map((f) => f.flow));
    expect(deleted).toHaveLength(14);
    expect(plan.staleFlows).toBe(14);
  });

  it('leaves everything when the Service has no endpoints (TestServiceWithoutEndpoints)', () => {
    const noEndpoints = snapshotOf([{ id: 'test/cleanup-test', spec: { clusterIP, externalIPs: [externalIP], ports: [{ name: 'test-udp', port: 8000, protocol: 'UDP' }] } }]);
    const plan = planConntrackCleanup(noEndpoints, 'inet', [flow(externalIP, 8000, servingIP, 9090), flow(externalIP, 8000, deletedIP, 9090)]);
    expect(plan).toEqual({ filters: [], staleFlows: 0 });
  });
});

describe('planConntrackCleanup: families, sharing and deduplication', () => {
  const dual: ServiceSpec = {
    clusterIPs: ['10.96.0.10', 'fd00:96::10'], ipFamilies: ['IPv4', 'IPv6'],
    ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
  };
  const snap = (() => {
    const { snapshot } = buildSnapshot([service('kube-system/dns', dual)], [
      slice('kube-system/dns', { ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }], endpoints: [{ ip: '10.244.0.11' }] }),
      slice('kube-system/dns', { ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }], endpoints: [{ ip: 'fd00:244::11' }] }),
    ]);
    return snapshot;
  })();

  it('plans IPv6 flows by bracketed ip:port and only in their own family', () => {
    const stale6 = flow('fd00:96::10', 53, 'fd00:244::99', 5353);
    const kept6 = flow('fd00:96::10', 53, 'fd00:244::11', 5353);
    const stale4 = flow('10.96.0.10', 53, '10.244.0.99', 5353);
    const plan6 = planConntrackCleanup(snap, 'inet6', [stale6, kept6, stale4]);
    expect(plan6.filters.map(filterKey)).toEqual(['inet6 udp orig-dst=fd00:96::10 orig-port-dst=53 reply-src=fd00:244::99 reply-port-src=5353']);
    const plan4 = planConntrackCleanup(snap, 'inet', [stale6, kept6, stale4]);
    expect(plan4.filters.map(filterKey)).toEqual(['inet udp orig-dst=10.96.0.10 orig-port-dst=53 reply-src=10.244.0.99 reply-port-src=5353']);
  });

  it('gives one filter for many clients of one stale endpoint, and counts every stale flow', () => {
    const flows = Array.from({ length: 50 }, () => flow('10.96.0.10', 53, '10.244.0.99', 5353));
    const plan = planConntrackCleanup(snap, 'inet', flows);
    expect(plan.filters).toHaveLength(1);
    expect(plan.staleFlows).toBe(50);
  });

  it('counts a flow stale by address and by NodePort once, with both filters', () => {
    const s = snapshotOf([{ id: 'ns1/np', spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 30053, protocol: 'UDP', nodePort: 30053 }] }, endpoints: [serving] }]);
    const plan = planConntrackCleanup(s, 'inet', [flow('10.96.0.20', 30053, '10.244.0.99', 5353)]);
    expect(plan.filters.map(filterKey)).toEqual([
      'inet udp orig-dst=10.96.0.20 orig-port-dst=30053 reply-src=10.244.0.99 reply-port-src=5353',
      'inet udp orig-port-dst=30053 reply-src=10.244.0.99 reply-port-src=5353',
    ]);
    expect(plan.staleFlows).toBe(1);
  });

  it('keeps a flow to an endpoint of either of two Service ports sharing an externalIP:port', () => {
    const s = snapshotOf([
      { id: 'ns1/a', spec: { clusterIP: '10.96.0.21', externalIPs: ['192.0.2.10'], ports: [{ port: 53, protocol: 'UDP' }] }, endpoints: [{ ip: '10.244.0.11' }] },
      { id: 'ns1/b', spec: { clusterIP: '10.96.0.22', externalIPs: ['192.0.2.10'], ports: [{ port: 53, protocol: 'UDP' }] }, endpoints: [{ ip: '10.244.0.12' }] },
    ]);
    const plan = planConntrackCleanup(s, 'inet', [
      flow('192.0.2.10', 53, '10.244.0.11', 5353), flow('192.0.2.10', 53, '10.244.0.12', 5353), flow('192.0.2.10', 53, '10.244.0.13', 5353),
    ]);
    expect(plan.filters.map(filterKey)).toEqual(['inet udp orig-dst=192.0.2.10 orig-port-dst=53 reply-src=10.244.0.13 reply-port-src=5353']);
  });

  it('is independent of flow order', () => {
    const flows = [flow('10.96.0.10', 53, '10.244.0.98', 5353), flow('10.96.0.10', 53, '10.244.0.99', 5353), flow('10.96.0.10', 53, '10.244.0.97', 5353)];
    expect(planConntrackCleanup(snap, 'inet', flows)).toEqual(planConntrackCleanup(snap, 'inet', [...flows].reverse()));
  });
});

describe('conntrackCleanupRequired', () => {
  it.each([
    { name: 'no changes', keys: [], required: false },
    { name: 'TCP and SCTP ports only', keys: ['ns1/web:http/TCP', 'ns1/sig/SCTP'], required: false },
    { name: 'a named UDP port', keys: ['ns1/web:http/TCP', 'kube-system/dns:dns/UDP'], required: true },
    { name: 'an unnamed UDP port', keys: ['ns1/syslog/UDP'], required: true },
  ])('$name → $required', ({ keys, required }) => {
    expect(conntrackCleanupRequired(keys)).toBe(required);
  });
});
