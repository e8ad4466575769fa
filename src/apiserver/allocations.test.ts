import { describe, expect, it } from '@jest/globals';
// unit-start
import { ServiceAllocations, holdingsOf } from './allocations.ts';
// unit-end
import { Registry } from './registry.ts';
import { services } from './resources.ts';
import { ApiError } from './status.ts';
import { VersionedStore } from './store.ts';
import type { Json, JsonObject, KubeObject } from './types.ts';

const registry = (serviceCidr = '10.96.0.0/12'): Registry => new Registry(new VersionedStore(), { serviceCidr });

function create(reg: Registry, name: string, spec: JsonObject): JsonObject {
  return reg.create(services, 'ns', { metadata: { name }, spec }).spec as JsonObject;
}

const clusterIP = (ip?: string): JsonObject => ({ ...(ip ? { clusterIP: ip } : {}), ports: [{ port: 80 }] });
const nodePort = (ports: JsonObject[]): JsonObject => ({ type: 'NodePort', ports });
const nodePortsOf = (spec: JsonObject): Json[] => (spec.ports as JsonObject[]).map((p) => p.nodePort ?? null);

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('Registry admission over the allocation index', () => {
  it('allocates the lowest free ClusterIP and NodePort and gives a deleted Service\'s values to the next create', () => {
    const reg = registry();
    expect(create(reg, 'a', nodePort([{ port: 80 }])).clusterIP).toBe('10.96.0.1');
    const b = create(reg, 'b', nodePort([{ name: 'x', port: 80 }, { name: 'y', port: 81 }]));
    expect([b.clusterIP, nodePortsOf(b)]).toEqual(['10.96.0.2', [30001, 30002]]);
    reg.delete(services, 'ns', 'a');
    const c = create(reg, 'c', nodePort([{ port: 80 }]));
    expect([c.clusterIP, nodePortsOf(c)]).toEqual(['10.96.0.1', [30000]]);
    expect(create(reg, 'd', nodePort([{ port: 80 }])).clusterIP).toBe('10.96.0.3');
  });

  it('skips values that explicit Services hold, and a port\'s explicit NodePort counts only for later ports', () => {
    const reg = registry();
    create(reg, 'a', { ...nodePort([{ port: 80, nodePort: 30000 }]), clusterIP: '10.96.0.1' });
    const b = create(reg, 'b', nodePort([{ name: 'x', port: 80 }, { name: 'y', port: 81, nodePort: 30001 }, { name: 'z', port: 82 }]));
    // Port x allocates before y's explicit 30001 is seen (as before the index): both hold 30001.
    expect([b.clusterIP, nodePortsOf(b)]).toEqual(['10.96.0.2', [30001, 30001, 30002]]);
    expect(nodePortsOf(create(reg, 'c', nodePort([{ port: 80 }])))).toEqual([30003]);
  });

  it('lets an update keep its own ClusterIP and NodePorts, and hands its own former NodePort back to it', () => {
    const reg = registry();
    const a = reg.create(services, 'ns', { metadata: { name: 'a' }, spec: nodePort([{ port: 80 }]) });
    create(reg, 'b', nodePort([{ port: 80 }]));
    const same = reg.update(services, 'ns', 'a', { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } });
    expect([(same.spec as JsonObject).clusterIP, nodePortsOf(same.spec as JsonObject)]).toEqual(['10.96.0.1', [30000]]);
    // Port 80 -> 81 does not keep the NodePort (kube-apiserver matches by port); 30000 is free for a only.
    const moved = reg.patch(services, 'ns', 'a', 'merge', { spec: { ports: [{ port: 81 }] } });
    expect(nodePortsOf(moved.spec as JsonObject)).toEqual([30000]);
    expect(nodePortsOf(create(reg, 'c', nodePort([{ port: 80 }])))).toEqual([30002]);
    // A cleared ClusterIP is allocated again: a's own address is the lowest free one for a.
    const cleared = reg.patch(services, 'ns', 'a', 'merge', { spec: { clusterIP: '', clusterIPs: null } });
    expect((cleared.spec as JsonObject).clusterIPs).toEqual(['10.96.0.1']);
  });

  it('releases the values an update drops and takes the new ones', () => {
    const reg = registry();
    create(reg, 'a', nodePort([{ port: 80 }]));
    create(reg, 'b', nodePort([{ port: 80 }]));
    reg.patch(services, 'ns', 'a', 'merge', { spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
    reg.patch(services, 'ns', 'b', 'merge', { spec: { ports: [{ port: 80, nodePort: 30005 }] } });
    expect(nodePortsOf(create(reg, 'c', nodePort([{ name: 'x', port: 80 }, { name: 'y', port: 81 }])))).toEqual([30000, 30001]);
    expect(nodePortsOf(create(reg, 'd', nodePort([{ name: 'x', port: 1 }, { name: 'y', port: 2 }, { name: 'z', port: 3 }, { name: 'w', port: 4 }])))).toEqual([30002, 30003, 30004, 30006]);
  });

  it('leaves the allocations unchanged when a create or update is rejected', () => {
    const reg = registry();
    const a = reg.create(services, 'ns', { metadata: { name: 'a' }, spec: nodePort([{ port: 80 }]) });
    const bad = apiError(() => create(reg, 'Bad', { ...nodePort([{ port: 80, nodePort: 30001 }]), clusterIP: '10.96.0.2' }));
    expect([bad.code, bad.reason]).toEqual([422, 'Invalid']);
    const dup = apiError(() => create(reg, 'a', { ...nodePort([{ port: 80, nodePort: 30001 }]), clusterIP: '10.96.0.2' }));
    expect([dup.code, dup.message]).toEqual([409, 'services "a" already exists']);
    const stale = apiError(() => reg.update(services, 'ns', 'a', { ...a, metadata: { ...a.metadata, resourceVersion: '1' }, spec: nodePort([{ port: 80, nodePort: 30002 }]) }));
    expect([stale.code, stale.reason]).toEqual([409, 'Conflict']);
    const moved = apiError(() => reg.patch(services, 'ns', 'a', 'merge', { spec: { clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9'], ports: [{ port: 80, nodePort: 30003 }] } }));
    expect([moved.code, moved.message]).toEqual([422, 'Service "a" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.9"]: may not change once set']);
    const b = create(reg, 'b', nodePort([{ name: 'x', port: 80 }, { name: 'y', port: 81 }, { name: 'z', port: 82 }, { name: 'w', port: 83 }]));
    expect([b.clusterIP, nodePortsOf(b)]).toEqual(['10.96.0.2', [30001, 30002, 30003, 30004]]);
    expect(nodePortsOf(reg.get(services, 'ns', 'a').spec as JsonObject)).toEqual([30000]);
  });

  it('keeps a value held while any of the Services that hold it remains', () => {
    const reg = registry('10.0.0.0/29');
    create(reg, 'a', { ...nodePort([{ port: 80, nodePort: 30000 }]), clusterIP: '10.0.0.1' });
    create(reg, 'b', { ...nodePort([{ port: 80, nodePort: 30000 }]), clusterIP: '10.0.0.1' });
    reg.delete(services, 'ns', 'a');
    const c = create(reg, 'c', nodePort([{ port: 80 }]));
    expect([c.clusterIP, nodePortsOf(c)]).toEqual(['10.0.0.2', [30001]]);
    reg.delete(services, 'ns', 'b');
    const d = create(reg, 'd', nodePort([{ port: 80 }]));
    expect([d.clusterIP, nodePortsOf(d)]).toEqual(['10.0.0.1', [30000]]);
  });

  it('answers 422 "range is full" once the CIDR is used up and allocates again after a delete', () => {
    const reg = registry('10.0.0.0/30');
    expect([create(reg, 'a', clusterIP()).clusterIP, create(reg, 'b', clusterIP()).clusterIP]).toEqual(['10.0.0.1', '10.0.0.2']);
    const full = apiError(() => create(reg, 'c', clusterIP()));
    expect([full.code, full.message]).toEqual([422, 'Service "c" is invalid: spec.clusterIP: Invalid value: "": failed to allocate IP: range is full']);
    reg.delete(services, 'ns', 'a');
    expect(create(reg, 'c', clusterIP()).clusterIP).toBe('10.0.0.1');
  });

  it('gives a health-check NodePort that avoids the Service\'s own ports and frees it on delete', () => {
    const reg = registry();
    const lb = (name: string): JsonObject => create(reg, name, { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
    const a = lb('a');
    expect([nodePortsOf(a), a.healthCheckNodePort]).toEqual([[30000], 30001]);
    const b = lb('b');
    expect([nodePortsOf(b), b.healthCheckNodePort]).toEqual([[30002], 30003]);
    reg.delete(services, 'ns', 'a');
    const c = lb('c');
    expect([nodePortsOf(c), c.healthCheckNodePort]).toEqual([[30000], 30001]);
  });

  it('counts Services already in the store and Services written to the store directly', () => {
    const store = new VersionedStore();
    const stored = (name: string, ip: string): KubeObject => ({ kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { clusterIP: ip, ports: [{ port: 80 }] } });
    store.write('/services', 'ns/pre', stored('pre', '10.96.0.1'));
    const reg = new Registry(store);
    store.write('/services', 'ns/direct', stored('direct', '10.96.0.2'));
    expect(create(reg, 'a', clusterIP()).clusterIP).toBe('10.96.0.3');
    store.write('/services', 'ns/direct', null);
    expect(create(reg, 'b', clusterIP()).clusterIP).toBe('10.96.0.2');
  });

  it('ignores other resources\' fields that look like allocations', () => {
    const reg = registry();
    reg.create({ ...services, kind: 'Node', plural: 'nodes', namespaced: false, hasStatus: true }, '', { metadata: { name: 'n' }, spec: { clusterIP: '10.96.0.1' } });
    expect(create(reg, 'a', clusterIP()).clusterIP).toBe('10.96.0.1');
  });
});

// unit-start
describe('ServiceAllocations', () => {
  const s = (spec: Json): KubeObject => ({ metadata: { name: 'x' }, spec });

  it.each([
    { name: 'clusterIPs wins over clusterIP', spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.2', 'fd00::2'] }, want: { clusterIPs: ['10.0.0.2', 'fd00::2'], nodePorts: [] } },
    { name: 'clusterIP alone', spec: { clusterIP: 'None' }, want: { clusterIPs: ['None'], nodePorts: [] } },
    { name: 'node ports, repeats and health check', spec: { ports: [{ nodePort: 30000 }, { nodePort: 30000 }, { port: 1 }, 'x'], healthCheckNodePort: 30009 }, want: { clusterIPs: [], nodePorts: [30000, 30000, 30009] } },
    { name: 'no spec', spec: null, want: { clusterIPs: [], nodePorts: [] } },
  ])('holdingsOf: $name', ({ spec, want }) => {
    expect(holdingsOf(s(spec as Json))).toEqual(want);
  });

  it('releases a key\'s old values when it is set again and all of them when it is deleted', () => {
    const a = new ServiceAllocations('10.0.0.0/29');
    a.set('ns/a', s({ clusterIP: '10.0.0.1', ports: [{ nodePort: 30000 }] }));
    a.set('ns/a', s({ clusterIP: '10.0.0.1', ports: [{ nodePort: 30001 }] }));
    expect([a.clusterIPHolders('10.0.0.1'), a.nodePortHolders(30000), a.nodePortHolders(30001)]).toEqual([1, 0, 1]);
    expect([a.except(null).freeClusterIP(), a.except(null).freeNodePort(new Set())]).toEqual(['10.0.0.2', 30000]);
    a.set('ns/a', null);
    a.set('ns/gone', null);
    expect([a.clusterIPHolders('10.0.0.1'), a.nodePortHolders(30001)]).toEqual([0, 0]);
    expect([a.except(null).freeClusterIP(), a.except(null).freeNodePort(new Set([30000]))]).toEqual(['10.0.0.1', 30001]);
  });

  it.each([
    { name: 'not IPv4', cidr: 'fd00::/120' },
    { name: 'no usable address', cidr: '10.0.0.0/31' },
    { name: 'garbage prefix length', cidr: '10.0.0.0/x' },
  ])('allocates no ClusterIP from an unusable CIDR: $name', ({ cidr }) => {
    expect(new ServiceAllocations(cidr).except(null).freeClusterIP()).toBeUndefined();
  });

  it('ignores non-canonical and out-of-range addresses when allocating', () => {
    const a = new ServiceAllocations('10.0.0.0/29');
    a.set('ns/a', s({ clusterIPs: ['10.0.0.01', '10.0.1.1', '10.0.0.0'] }));
    expect(a.except(null).freeClusterIP()).toBe('10.0.0.1');
    a.set('ns/a', null);
    expect(a.except(null).freeClusterIP()).toBe('10.0.0.1');
  });

  it('runs out of NodePorts after 2768 and finds the one freed', () => {
    const a = new ServiceAllocations('10.0.0.0/24');
    for (let p = 30000; p <= 32767; p += 1) a.set(`ns/s${p}`, s({ ports: [{ nodePort: p }] }));
    expect(a.except(null).freeNodePort(new Set())).toBeUndefined();
    expect(a.except('ns/s31000').freeNodePort(new Set())).toBe(31000);
    a.set('ns/s32000', null);
    expect(a.except(null).freeNodePort(new Set())).toBe(32000);
    expect(a.except(null).freeNodePort(new Set([32000]))).toBeUndefined();
  });

  // Differential check against the scan admission used before the index: after each random
  // write, the lowest free ClusterIP and NodePort, for every key's view, must agree.
  it('agrees with a scan of every stored Service over 3000 random writes', () => {
    let seed = 12345;
    // mulberry32: a small PRNG whose low bits are not periodic, unlike a plain LCG's.
    const rnd = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const ipPool = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.5', '10.0.0.6', '10.0.0.14', '10.0.0.15', '10.0.0.02', 'None', 'fd00::1'];
    const randomSpec = (): JsonObject => {
      const ips = Array.from({ length: rnd(3) }, () => ipPool[rnd(ipPool.length)]!);
      const spec: JsonObject = rnd(2) ? { clusterIPs: ips } : { ...(ips[0] ? { clusterIP: ips[0] } : {}) };
      spec.ports = Array.from({ length: rnd(3) }, (): JsonObject => (rnd(4) ? { nodePort: 30000 + rnd(6) } : { port: 80 }));
      if (rnd(4) === 0) spec.healthCheckNodePort = 30000 + rnd(6);
      return spec;
    };
    const stored = new Map<string, KubeObject>();
    const index = new ServiceAllocations('10.0.0.0/28');
    const scanView = (except: string | null): { ip: string | undefined; port: (taken: ReadonlySet<number>) => number | undefined } => {
      const ips = new Set<string>();
      const ports = new Set<number>();
      for (const [k, o] of stored) {
        if (k === except) continue;
        const h = holdingsOf(o);
        h.clusterIPs.forEach((x) => ips.add(x));
        h.nodePorts.forEach((x) => ports.add(x));
      }
      let ip: string | undefined;
      for (let i = 1; i < 15 && ip === undefined; i += 1) if (!ips.has(`10.0.0.${i}`)) ip = `10.0.0.${i}`;
      return {
        ip,
        port: (taken) => { for (let p = 30000; p <= 32767; p += 1) if (!ports.has(p) && !taken.has(p)) return p; return undefined; },
      };
    };
    let checks = 0;
    for (let step = 0; step < 3000; step += 1) {
      const key = `ns/s${rnd(8)}`;
      const next = rnd(4) === 0 ? null : s(randomSpec());
      if (next) stored.set(key, next); else stored.delete(key);
      index.set(key, next);
      for (const view of [null, ...Array.from({ length: 8 }, (_, i) => `ns/s${i}`)]) {
        const taken = new Set(Array.from({ length: rnd(3) }, () => 30000 + rnd(8)));
        const want = scanView(view);
        const got = index.except(view);
        expect([got.freeClusterIP(), got.freeNodePort(taken)]).toEqual([want.ip, want.port(taken)]);
        checks += 1;
      }
    }
    expect(checks).toBe(27000);
  });
});
// unit-end
