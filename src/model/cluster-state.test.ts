// ClusterState keeps endpoints compactly (one list per slice port, shared with
// the merged view when one slice carries a key); it must still list exactly what
// kube-proxy's merge gives: every ip:port once, a non-terminating copy preferred,
// sorted by `ip:port`, over all slices of a key in slice-name order.
import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { type EndpointSpec, service, slice } from './builders.ts';
import { ClusterState } from './cluster-state.ts';
import { buildSnapshot, endpointKey } from './snapshot.ts';
import type { Endpoint, IpFamily } from './types.ts';

/** A deterministic pseudo-random generator (tests must be repeatable). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

interface SliceInput {
  id: string;
  service: string;
  family: IpFamily;
  ports: { name: string; port: number }[];
  endpoints: EndpointSpec[];
}

function toSlice(s: SliceInput): V1EndpointSlice {
  return slice(`ns/${s.service}`, { name: s.id.split('/')[1]!, addressType: s.family, ports: s.ports, endpoints: s.endpoints });
}

/**
 * The merge as first written (before endpoints were deduplicated at
 * conversion), straight from the builder input: slices in id order, endpoints
 * in slice order, a later copy wins unless it is terminating.
 */
function referenceEndpoints(slices: readonly SliceInput[], family: IpFamily, key: string): Endpoint[] | undefined {
  const merged = new Map<string, Endpoint>();
  let carried = false;
  for (const s of [...slices].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (s.family !== family) continue;
    for (const p of s.ports) {
      if (`ns/${s.service}:${p.name}/TCP` !== key) continue;
      carried = true;
      for (const e of s.endpoints) {
        const ep: Endpoint = {
          address: e.ip, port: p.port, ready: e.ready ?? true, serving: e.serving ?? true, terminating: e.terminating ?? false,
          nodeName: e.node ?? null, zone: e.zone ?? null, zoneHints: [], nodeHints: [],
        };
        const k = endpointKey(ep);
        if (!merged.has(k) || !ep.terminating) merged.set(k, ep);
      }
    }
  }
  if (!carried) return undefined;
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ep]) => ep);
}

function randomEndpoints(r: () => number, family: IpFamily): EndpointSpec[] {
  // Few distinct addresses, so duplicates within and across slices are common;
  // 1 and 10 etc. so `ip:port` order differs from address order.
  const pool = family === 'IPv4' ? ['10.0.0.1', '10.0.0.10', '10.0.0.2', '10.0.0.100', '10.0.1.1'] : ['fd00::1', 'fd00::10', 'fd00::2', 'fd00::a'];
  return Array.from({ length: Math.floor(r() * 6) }, () => ({
    ip: pool[Math.floor(r() * pool.length)]!,
    node: r() < 0.5 ? 'node-a' : 'a-rather-long-node-name.example.internal',
    ready: r() < 0.7,
    ...(r() < 0.4 ? { terminating: true, serving: r() < 0.5 } : {}),
  }));
}

function randomSlice(r: () => number): SliceInput {
  const service = `s${Math.floor(r() * 3)}`;
  const family: IpFamily = r() < 0.7 ? 'IPv4' : 'IPv6';
  const ports = r() < 0.2
    ? [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] // one key twice in one slice
    : [{ name: r() < 0.8 ? 'http' : 'dns', port: 80 }];
  return { id: `ns/${service}-${Math.floor(r() * 4)}`, service, family, ports, endpoints: randomEndpoints(r, family) };
}

const keysOf = ['ns/s0:http/TCP', 'ns/s1:http/TCP', 'ns/s2:http/TCP', 'ns/s0:dns/TCP', 'ns/s1:dns/TCP', 'ns/s2:dns/TCP'];

describe('ClusterState endpoints', () => {
  it.each([{ name: 'seed 1', seed: 1 }, { name: 'seed 2', seed: 2 }, { name: 'seed 3', seed: 3 }])(
    'agree with the reference merge and with buildSnapshot after every change ($name)',
    ({ seed }) => {
      const r = rng(seed);
      const state = new ClusterState();
      const services = new Map<string, V1Service>();
      const live = new Map<string, SliceInput>();
      for (const s of ['s0', 's1', 's2']) {
        const svc = service(`ns/${s}`, { clusterIPs: ['10.96.0.1', 'fd00:96::1'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53 }] });
        services.set(s, svc);
        state.upsertService(svc);
      }
      for (let step = 0; step < 300; step++) {
        if (r() < 0.25 && live.size > 0) {
          const id = [...live.keys()][Math.floor(r() * live.size)]!;
          live.delete(id);
          state.deleteSlice(id);
        } else {
          const s = randomSlice(r);
          live.set(s.id, s);
          state.upsertSlice(toSlice(s));
        }
        for (const family of ['IPv4', 'IPv6'] as const) {
          for (const key of keysOf) expect(state.endpointsOf(family, key)).toEqual(referenceEndpoints([...live.values()], family, key) ?? []);
        }
      }
      expect(state.snapshot()).toEqual(buildSnapshot([...services.values()], [...live.values()].map(toSlice)).snapshot);
    },
  );

  it.each([
    {
      name: 'a terminating copy in a later slice does not replace a ready one',
      slices: [
        { id: 'ns/s0-a', endpoints: [{ ip: '10.0.0.1', node: 'n1' }] },
        { id: 'ns/s0-b', endpoints: [{ ip: '10.0.0.1', node: 'n2', terminating: true }] },
      ],
      want: [{ address: '10.0.0.1', nodeName: 'n1', terminating: false }],
    },
    {
      name: 'a non-terminating copy replaces a terminating one, within one slice',
      slices: [{ id: 'ns/s0-a', endpoints: [{ ip: '10.0.0.1', node: 'n1', terminating: true }, { ip: '10.0.0.1', node: 'n2' }] }],
      want: [{ address: '10.0.0.1', nodeName: 'n2', terminating: false }],
    },
    {
      name: 'among terminating copies the first stays',
      slices: [
        { id: 'ns/s0-a', endpoints: [{ ip: '10.0.0.1', node: 'n1', terminating: true }, { ip: '10.0.0.1', node: 'n2', terminating: true }] },
        { id: 'ns/s0-b', endpoints: [{ ip: '10.0.0.1', node: 'n3', terminating: true }] },
      ],
      want: [{ address: '10.0.0.1', nodeName: 'n1', terminating: true }],
    },
    {
      name: 'sorted by ip:port (10.0.0.10:80 before 10.0.0.1:80), across slices',
      slices: [
        { id: 'ns/s0-b', endpoints: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }] },
        { id: 'ns/s0-a', endpoints: [{ ip: '10.0.0.10' }] },
      ],
      want: [{ address: '10.0.0.10' }, { address: '10.0.0.1' }, { address: '10.0.0.2' }],
    },
  ])('$name', ({ slices, want }) => {
    const state = new ClusterState();
    for (const s of slices) state.upsertSlice(toSlice({ ...s, service: 's0', family: 'IPv4', ports: [{ name: 'http', port: 80 }] }));
    expect(state.endpointsOf('IPv4', 'ns/s0:http/TCP')).toEqual(want.map((w) => expect.objectContaining(w)));
  });

  it('goes back to the single-slice list when the second slice of a key is deleted', () => {
    const state = new ClusterState();
    const a = toSlice({ id: 'ns/s0-a', service: 's0', family: 'IPv4', ports: [{ name: 'http', port: 80 }], endpoints: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }] });
    const b = toSlice({ id: 'ns/s0-b', service: 's0', family: 'IPv4', ports: [{ name: 'http', port: 80 }], endpoints: [{ ip: '10.0.0.3' }] });
    state.upsertSlice(a);
    state.upsertSlice(b);
    expect(state.endpointsOf('IPv4', 'ns/s0:http/TCP').map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(state.deleteSlice('ns/s0-b').keys).toEqual(['ns/s0:http/TCP']);
    expect(state.endpointsOf('IPv4', 'ns/s0:http/TCP').map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    // Replacing the remaining slice still updates the key (its id is indexed again).
    state.upsertSlice(toSlice({ id: 'ns/s0-a', service: 's0', family: 'IPv4', ports: [{ name: 'http', port: 80 }], endpoints: [{ ip: '10.0.0.9' }] }));
    expect(state.endpointsOf('IPv4', 'ns/s0:http/TCP').map((e) => e.address)).toEqual(['10.0.0.9']);
    expect(state.deleteSlice('ns/s0-a').keys).toEqual(['ns/s0:http/TCP']);
    expect(state.endpointsOf('IPv4', 'ns/s0:http/TCP')).toEqual([]);
    expect(state.snapshot().endpoints.IPv4.size).toBe(0);
  });

  it('keeps a key carried by a slice without endpoints as an empty list', () => {
    const state = new ClusterState();
    state.upsertSlice(toSlice({ id: 'ns/s0-a', service: 's0', family: 'IPv4', ports: [{ name: 'http', port: 80 }], endpoints: [] }));
    expect(state.snapshot().endpoints.IPv4.get('ns/s0:http/TCP')).toEqual([]);
  });
});
