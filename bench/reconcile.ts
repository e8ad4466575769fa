// Benchmark: buildDesiredState for 10,000 Services × 10 endpoints.
// Run: node_modules/.bin/node bench/reconcile.ts [services] [endpointsPerService]
// Prints figures, then one JSON line with the results.

import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { defaultProxyConfig } from '../src/config/types.ts';
import { service, slice } from '../src/model/builders.ts';
import { buildLocalNode } from '../src/model/node.ts';
import { buildSnapshot } from '../src/model/snapshot.ts';
import { buildDesiredState } from '../src/reconciler/build.ts';

const services = Number(process.argv[2] ?? 10_000);
const perService = Number(process.argv[3] ?? 10);
const repetitions = 7;

function ip(base: number, n: number): string {
  return `${base}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

// A cluster mix: 70% ClusterIP, 20% NodePort, 10% LoadBalancer (half with
// externalTrafficPolicy Local); one port each; 1 in 10 endpoints on this node.
const svcs: V1Service[] = [];
const slices: V1EndpointSlice[] = [];
let epN = 0;
let nodePorts = 0;
for (let i = 0; i < services; i++) {
  const name = `svc-${i}`;
  const kind = i % 10;
  const type = kind < 7 ? 'ClusterIP' : kind < 9 ? 'NodePort' : 'LoadBalancer';
  svcs.push(service(`bench/${name}`, {
    type,
    clusterIP: ip(10, 0x600000 + i),
    ports: [{ name: 'http', port: 80, ...(type === 'ClusterIP' ? {} : { nodePort: 30000 + (nodePorts++ % 30000) }) }],
    ...(type === 'LoadBalancer' ? { lbIPs: [ip(172, i)], ...(i % 20 === 9 ? { etp: 'Local', healthCheckNodePort: 20000 + i } : {}) } : {}),
  }));
  const endpoints = [];
  for (let j = 0; j < perService; j++, epN++) endpoints.push({ ip: ip(100, epN), node: epN % 10 === 0 ? 'bench-node' : `node-${epN % 97}` });
  slices.push(slice(`bench/${name}`, { ports: [{ name: 'http', port: 8080 }], endpoints }));
}

const node = buildLocalNode({ name: 'bench-node', localAddresses: ['192.168.0.10', '192.168.1.10'], ipFamilies: ['IPv4', 'IPv6'] });

let t = performance.now();
const { snapshot } = buildSnapshot(svcs, slices);
const snapshotMs = performance.now() - t;

const times: number[] = [];
let vsCount = 0;
let rsCount = 0;
for (let r = 0; r < repetitions; r++) {
  t = performance.now();
  const state = buildDesiredState(snapshot, node, defaultProxyConfig);
  times.push(performance.now() - t);
  const v4 = state.families[0]!;
  vsCount = v4.virtualServers.size;
  rsCount = [...v4.virtualServers.values()].reduce((n, v) => n + v.realServers.length, 0);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const round = (n: number): number => Math.round(n * 10) / 10;

console.log(`services: ${services}, endpoints: ${services * perService}`);
console.log(`virtual servers (IPv4): ${vsCount}, real servers: ${rsCount}`);
console.log(`snapshot conversion (Services + EndpointSlices → model): ${round(snapshotMs)} ms`);
console.log(`buildDesiredState x${repetitions}: ${times.map(round).join(', ')} ms`);
console.log(`median: ${round(median)} ms, min: ${round(times[0]!)} ms, max: ${round(times[times.length - 1]!)} ms`);
console.log(JSON.stringify({
  services, endpoints: services * perService, virtual_servers: vsCount, real_servers: rsCount,
  snapshot_ms: round(snapshotMs), median_ms: round(median), min_ms: round(times[0]!), max_ms: round(times[times.length - 1]!),
}));
