// Benchmark: the sync engine on a real kernel (inside the sandbox).
//   npm run bench -- sync [services] [endpointsPerService] [changes]
// 1. Cold full sync of N Services x M endpoints (IPVS, ipsets, iptables,
//    kube-ipvs0 addresses) versus `ipvsadm -R` of the same IPVS table.
// 2. Single-endpoint changes (alternately one endpoint added, one removed, on
//    other nodes, as most of a node's endpoints are): agent time per change,
//    p50/p99, at N Services and at 100 Services; kernel writes per change.
// 3. RSS after the cold sync.
// Prints figures, then as its last line one JSON object.
import { spawn } from 'node:child_process';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { defaultProxyConfig } from '../src/config/types.ts';
import { renderSave, type TableEntry } from '../src/ipvs/format.ts';
import { service, slice } from '../src/model/builders.ts';
import { ClusterState } from '../src/model/cluster-state.ts';
import { buildLocalNode } from '../src/model/node.ts';
import { readHostAddresses } from '../src/netif/host-addresses.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { SyncEngine } from '../src/sync/engine.ts';
import { hostFamilies, openKernel, type Kernel } from '../src/sync/kernel.ts';

const services = Number(process.argv[2] ?? 10_000);
const perService = Number(process.argv[3] ?? 10);
const changes = Number(process.argv[4] ?? 200);
const logger = silentLogger();

const clusterIP = (i: number): string => `10.96.${(i >> 8) & 0xff}.${i & 0xff}`;
const podIP = (n: number): string => `10.${128 + ((n >> 16) & 0x3f)}.${(n >> 8) & 0xff}.${n & 0xff}`;

function endpointSlice(i: number, count: number, extra = 0): V1EndpointSlice {
  const endpoints = Array.from({ length: count + extra }, (_, j) => ({ ip: podIP(i * (perService + 1) + j), node: 'other-node', ready: true }));
  return slice(`bench/s${i}`, { ports: [{ name: 'http', port: 8080 }], endpoints });
}

function populate(n: number): ClusterState {
  const state = new ClusterState();
  for (let i = 0; i < n; i++) {
    state.upsertService(service(`bench/s${i}`, { clusterIP: clusterIP(i), ports: [{ name: 'http', port: 80 }] }));
    state.upsertSlice(endpointSlice(i, perService));
  }
  return state;
}

const ms = (start: number): number => performance.now() - start;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

async function cleanKernel(kernel: Kernel): Promise<void> {
  const engine = new SyncEngine({ state: new ClusterState(), node: buildLocalNode({ name: 'sandbox', ipFamilies: kernel.families }), config: defaultProxyConfig, stages: kernel.stages, logger });
  await engine.cleanup();
}

/** Cold full sync of `n` services, then `count` single-endpoint changes; returns per-change figures. */
/** GC pauses seen while the changes run, to tell their outliers apart. */
const gcPauses: PerformanceEntry[] = [];
new PerformanceObserver((list) => { gcPauses.push(...list.getEntries()); }).observe({ entryTypes: ['gc'] });

async function run(n: number, count: number): Promise<{ coldMs: number; perChange: number[]; writesPerChange: number[]; withoutGc: number[]; gcMs: number; rssMb: number; engine: SyncEngine }> {
  const kernel = await openKernel({ config: defaultProxyConfig, families: hostFamilies(), logger });
  await cleanKernel(kernel);
  const node = buildLocalNode({ name: 'sandbox', localAddresses: await readHostAddresses(), ipFamilies: kernel.families });
  const state = populate(n);
  const engine = new SyncEngine({ state, node, config: defaultProxyConfig, stages: kernel.stages, logger });
  let t = performance.now();
  const cold = await engine.sync('full');
  const coldMs = ms(t);
  if (!cold.ok) throw new Error(`cold sync failed: ${JSON.stringify(cold.results.map((r) => r.errors.map((e) => e.message)))} ${cold.failed?.error.message ?? ''}`);
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  const perChange: number[] = [];
  const writesPerChange: number[] = [];
  const windows: [number, number][] = [];
  gcPauses.length = 0;
  for (let k = 0; k < count; k++) {
    const i = (k * 7919) % n;
    // Even steps add an endpoint to Service i, odd steps take it away again.
    t = performance.now();
    engine.markChanged(state.upsertSlice(endpointSlice(i, perService, k % 2 === 0 ? 1 : 0)).keys);
    const r = await engine.sync();
    perChange.push(ms(t));
    windows.push([t, performance.now()]);
    if (!r.ok) throw new Error('partial sync failed');
    writesPerChange.push(r.results.reduce((s, x) => s + x.writes, 0));
  }
  await new Promise((r) => setTimeout(r, 100)); // let the observer deliver the last entries
  const overlapsGc = ([a, b]: [number, number]): boolean => gcPauses.some((g) => g.startTime < b && g.startTime + g.duration > a);
  const withoutGc = perChange.filter((_, k) => !overlapsGc(windows[k]!));
  const gcMs = gcPauses.reduce((x, g) => x + g.duration, 0);
  await cleanKernel(kernel);
  kernel.close();
  return { coldMs, perChange, writesPerChange, withoutGc, gcMs, rssMb, engine };
}

function ipvsadmRestore(input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ipvsadm', ['-R'], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ipvsadm -R exited ${code}`))));
    child.stdin.end(input);
  });
}

const big = await run(services, changes);
process.stdout.write(`cold full sync of ${services} Services x ${perService} endpoints: ${(big.coldMs / 1000).toFixed(2)} s, RSS ${big.rssMb.toFixed(0)} MB\n`);
process.stdout.write(`per change at ${services}: p50 ${pct(big.perChange, 50).toFixed(2)} ms, p99 ${pct(big.perChange, 99).toFixed(2)} ms, writes/change ${pct(big.writesPerChange, 50)}\n`);
process.stdout.write(`  ${big.perChange.length - big.withoutGc.length} changes overlapped a GC pause (${big.gcMs.toFixed(1)} ms of GC in all); p99 of the others ${pct(big.withoutGc, 99).toFixed(2)} ms\n`);

const table: TableEntry[] = [...big.engine.desired().families.flatMap((f) => [...f.virtualServers.values()])];
const start = performance.now();
await ipvsadmRestore(renderSave(table));
const ipvsadmMs = ms(start);
await ipvsadmRestore('-C\n');
process.stdout.write(`ipvsadm -R of the same IPVS table (${table.length} virtual servers): ${(ipvsadmMs / 1000).toFixed(2)} s\n`);
const small = await run(100, changes);
process.stdout.write(`per change at 100: p50 ${pct(small.perChange, 50).toFixed(2)} ms, p99 ${pct(small.perChange, 99).toFixed(2)} ms\n`);
process.stdout.write(`${JSON.stringify({
  services, endpointsPerService: perService, changes,
  cold_full_sync_s: round(big.coldMs / 1000), ipvsadm_restore_s: round(ipvsadmMs / 1000), cold_ratio: round(big.coldMs / ipvsadmMs),
  change_p50_ms: round(pct(big.perChange, 50)), change_p99_ms: round(pct(big.perChange, 99)),
  change_p50_ms_100: round(pct(small.perChange, 50)), change_p99_ms_100: round(pct(small.perChange, 99)),
  p99_ratio_10k_vs_100: round(pct(big.perChange, 99) / pct(small.perChange, 99)),
  kernel_writes_per_change: pct(big.writesPerChange, 50), rss_mb: round(big.rssMb, 1),
})}\n`);
