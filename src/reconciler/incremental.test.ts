// The incremental index must always agree with the full build, and its deltas
// must carry every change (replaying them onto the previous state gives the next).
import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { defaultProxyConfig } from '../config/types.ts';
import { service, slice } from '../model/builders.ts';
import { ClusterState } from '../model/cluster-state.ts';
import { buildLocalNode } from '../model/node.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import { buildDesiredState } from './build.ts';
import { DesiredStateIndex, type FamilyDelta } from './incremental.ts';
import type { DesiredState, FamilyState } from './types.ts';

const node = buildLocalNode({ name: 'node-a', localAddresses: ['192.168.1.10', 'fd00:1::10'], ipFamilies: ['IPv4', 'IPv6'] });
const config = defaultProxyConfig;

/** A deterministic pseudo-random generator (tests must be repeatable). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

function randomService(r: () => number, i: number): V1Service {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const dual = r() < 0.3;
  const type = pick(['ClusterIP', 'NodePort', 'LoadBalancer']);
  return service(`ns/s${i}`, {
    type,
    clusterIPs: dual ? [`10.96.0.${i}`, `fd00:96::${i.toString(16)}`] : [`10.96.0.${i}`],
    ipFamilies: dual ? ['IPv4', 'IPv6'] : ['IPv4'],
    ports: [{ name: 'p', port: 80 + Math.floor(r() * 3), protocol: pick(['TCP', 'UDP', 'SCTP']), ...(type !== 'ClusterIP' ? { nodePort: 30000 + i } : {}) }],
    ...(r() < 0.3 ? { externalIPs: [pick(['192.0.2.1', '192.0.2.2', '192.168.1.10'])] } : {}),
    ...(type === 'LoadBalancer' ? { lbIPs: [pick(['198.51.100.1', '198.51.100.2'])], etp: pick(['Cluster', 'Local']), healthCheckNodePort: 32000 + i } : {}),
    ...(type === 'LoadBalancer' && r() < 0.5 ? { sourceRanges: [pick(['10.0.0.0/8', '192.168.0.0/16'])] } : {}),
    ...(r() < 0.2 ? { affinity: 600 } : {}),
    ...(r() < 0.2 ? { itp: 'Local' } : {}),
  });
}

function randomSlice(r: () => number, i: number, v6 = false): V1EndpointSlice {
  const n = Math.floor(r() * 4);
  const endpoints = Array.from({ length: n }, (_, j) => ({
    ip: v6 ? `fd00:244::${(i * 10 + j).toString(16)}` : `10.244.${i}.${j + 1}`,
    node: r() < 0.5 ? 'node-a' : 'node-b',
    ready: r() < 0.8,
    ...(r() < 0.2 ? { terminating: true, serving: r() < 0.5 } : {}),
  }));
  return slice(`ns/s${i}`, { ports: [{ name: 'p', port: 8080, protocol: r() < 0.5 ? 'TCP' : 'UDP' }], endpoints, ...(v6 ? { addressType: 'IPv6' } : {}) });
}

/** Drops what is not comparable across the two builds (warning texts). */
function comparable(s: DesiredState): unknown {
  return s.families.map((f) => ({ ...f, virtualServers: [...f.virtualServers.entries()], healthCheckNodePorts: [...f.healthCheckNodePorts.entries()].sort(), byServicePort: [...f.byServicePort.entries()] }));
}

/** Applies a delta to a materialized family state (the way appliers would) for the replay check. */
function replay(prev: { vs: Map<string, unknown>; sets: Map<string, Set<string>>; addrs: Set<string>; payload: string }, d: FamilyDelta): void {
  for (const [k, v] of d.virtualServers) { if (v) prev.vs.set(k, v); else prev.vs.delete(k); }
  for (const e of d.setDels) prev.sets.get(e.set)!.delete(e.entry);
  for (const e of d.setAdds) prev.sets.get(e.set)!.add(e.entry);
  for (const a of d.addressDels) prev.addrs.delete(a);
  for (const a of d.addressAdds) prev.addrs.add(a);
  if (d.iptablesChanged) prev.payload = d.iptables.nat + d.iptables.filter;
}

function mirror(f: FamilyState): { vs: Map<string, unknown>; sets: Map<string, Set<string>>; addrs: Set<string>; payload: string } {
  return {
    vs: new Map(f.virtualServers),
    sets: new Map(f.ipsets.map((s) => [s.name, new Set(s.entries)])),
    addrs: new Set(f.addresses),
    payload: f.iptables.nat + f.iptables.filter,
  };
}

describe('DesiredStateIndex', () => {
  it('rebuild equals buildDesiredState', () => {
    const r = rng(1);
    const services = Array.from({ length: 40 }, (_, i) => randomService(r, i));
    const slices = Array.from({ length: 40 }, (_, i) => randomSlice(r, i));
    const { snapshot } = buildSnapshot(services, slices);
    const index = new DesiredStateIndex(node, config);
    expect(comparable(index.rebuild(snapshot))).toEqual(comparable(buildDesiredState(snapshot, node, config)));
  });

  it.each([{ name: 'seed 7', seed: 7 }, { name: 'seed 42', seed: 42 }, { name: 'seed 99', seed: 99 }])(
    'after random changes, agrees with the full build and its deltas replay exactly ($name)', ({ seed }) => {
      const r = rng(seed);
      const state = new ClusterState();
      const index = new DesiredStateIndex(node, config);
      index.rebuild(state.snapshot());
      const mirrors = index.current().families.map(mirror);
      for (let step = 0; step < 150; step++) {
        const i = Math.floor(r() * 12);
        const roll = r();
        const change = roll < 0.35 ? state.upsertService(randomService(r, i))
          : roll < 0.75 ? state.upsertSlice(randomSlice(r, i, r() < 0.2))
            : roll < 0.88 ? state.deleteService(`ns/s${i}`)
              : state.deleteSlice(`ns/s${i}-ipv4`);
        const { deltas } = index.update(state, change.keys);
        deltas.forEach((d, k) => replay(mirrors[k]!, d));
        const full = buildDesiredState(state.snapshot(), node, config);
        expect(comparable(index.current())).toEqual(comparable(full));
        full.families.forEach((f, k) => {
          const m = mirrors[k]!;
          expect(m.vs).toEqual(new Map(f.virtualServers));
          expect(m.sets).toEqual(new Map(f.ipsets.map((s) => [s.name, new Set(s.entries)])));
          expect(m.addrs).toEqual(new Set(f.addresses));
          expect(m.payload).toBe(f.iptables.nat + f.iptables.filter);
        });
      }
    });

  it('ClusterState.snapshot equals buildSnapshot over the same objects', () => {
    const r = rng(5);
    const state = new ClusterState();
    const services = new Map<string, V1Service>();
    const slices = new Map<string, V1EndpointSlice>();
    for (let step = 0; step < 200; step++) {
      const i = Math.floor(r() * 10);
      if (r() < 0.5) { const s = randomService(r, i); services.set(`ns/s${i}`, s); state.upsertService(s); }
      else { const s = randomSlice(r, i); slices.set(`ns/s${i}-ipv4`, s); state.upsertSlice(s); }
      if (r() < 0.1) { services.delete(`ns/s${i}`); state.deleteService(`ns/s${i}`); }
    }
    expect(state.snapshot()).toEqual(buildSnapshot([...services.values()], [...slices.values()]).snapshot);
  });

  it('an endpoint change yields just that real server change and no set or address churn', () => {
    const state = new ClusterState();
    state.upsertService(service('ns/web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }));
    state.upsertSlice(slice('ns/web', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.1.1', ready: true }] }));
    const index = new DesiredStateIndex(node, config);
    index.rebuild(state.snapshot());
    const change = state.upsertSlice(slice('ns/web', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.1.1', ready: true }, { ip: '10.244.1.2', ready: true }] }));
    const [v4, v6] = index.update(state, change.keys).deltas;
    expect([...v4!.virtualServers.keys()]).toEqual(['TCP/10.96.0.10:80']);
    expect(v4!.virtualServers.get('TCP/10.96.0.10:80')?.realServers.map((rs) => rs.address)).toEqual(['10.244.1.1', '10.244.1.2']);
    expect([v4!.setAdds, v4!.setDels, v4!.addressAdds, v4!.addressDels, v4!.iptablesChanged]).toEqual([[], [], [], [], false]);
    expect(v6!.virtualServers.size).toBe(0);
  });
  it('two ports claiming one virtual server: the greatest key wins, the other takes over when it goes', () => {
    const state = new ClusterState();
    const svc = (name: string, clusterIP: string): V1Service =>
      service(`ns/${name}`, { clusterIP, externalIPs: ['192.0.2.1'], ports: [{ name: 'p', port: 80 }] });
    const eps = (name: string, ip: string): V1EndpointSlice =>
      slice(`ns/${name}`, { ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip, ready: true }] });
    const index = new DesiredStateIndex(node, config);
    index.rebuild(state.snapshot());
    const shared = 'TCP/192.0.2.1:80';
    const backends = (d: FamilyDelta | undefined): unknown => {
      const v = d?.virtualServers.get(shared);
      return v === undefined ? 'unchanged' : v === null ? null : v.realServers.map((r) => r.address);
    };
    const step = (change: { keys: readonly string[] }): FamilyDelta | undefined => index.update(state, change.keys).deltas[0];
    expect(backends(step(state.upsertService(svc('a', '10.96.0.1'))))).toEqual([]);
    expect(backends(step(state.upsertSlice(eps('a', '10.244.0.1'))))).toEqual(['10.244.0.1']);
    // b sorts after a: it wins as soon as it claims the virtual server.
    expect(backends(step(state.upsertService(svc('b', '10.96.0.2'))))).toEqual([]);
    expect(backends(step(state.upsertSlice(eps('b', '10.244.0.2'))))).toEqual(['10.244.0.2']);
    // a's endpoints change while b wins: nothing to write for the shared virtual server.
    expect(backends(step(state.upsertSlice(eps('a', '10.244.0.3'))))).toBe('unchanged');
    expect(backends(step(state.deleteService('ns/b')))).toEqual(['10.244.0.3']);
    expect(backends(step(state.deleteService('ns/a')))).toBeNull();
    expect(index.current().families[0]!.virtualServers.size).toBe(0);
  });
});
