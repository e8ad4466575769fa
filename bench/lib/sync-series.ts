// One agent's life for the sync benchmark, in its own process so each cluster
// size is measured as a fresh agent would see it (no heap left over from a
// bigger run): cold full sync of N Services x M endpoints; a first series of
// single-endpoint changes right after start (20 changes in); more changes up to
// the warm-up count; the measured series; then the same number of bare kernel
// ops (the baseline: what the kernel alone costs a change in this sandbox);
// last, three periodic full syncs, as a running agent makes every syncPeriod.
//   node bench/lib/sync-series.ts <services> <endpointsPerService> <changes> <warmup> [saveFile]
// Prints one JSON object (SeriesResult) as its last line. With saveFile, writes
// the desired IPVS table there in `ipvsadm -S` form, for the ipvsadm baseline.
// Leaves the kernel as it found it (cleanup before and after).
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { defaultProxyConfig } from '../../src/config/types.ts';
import type { IpvsOp } from '../../src/ipvs/client.ts';
import { renderSave, type TableEntry } from '../../src/ipvs/format.ts';
import type { RealServer, VirtualServer } from '../../src/ipvs/types.ts';
import { service, slice } from '../../src/model/builders.ts';
import { ClusterState } from '../../src/model/cluster-state.ts';
import { buildLocalNode } from '../../src/model/node.ts';
import { readHostAddresses } from '../../src/netif/host-addresses.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { SyncEngine, type Stage } from '../../src/sync/engine.ts';
import { hostFamilies, openKernel, type Kernel } from '../../src/sync/kernel.ts';

/** What one series measured; times in ms, memory in MB. */
export interface SeriesResult {
  readonly services: number;
  readonly coldMs: number;
  /**
   * The first changes of a fresh agent (after 20): V8's optimizing compiler is
   * still at work, and in the sandbox its jobs share the one CPU with the agent.
   */
  readonly perChangeFirst: number[];
  /** The measured changes, after the warm-up: the agent's steady state. */
  readonly perChange: number[];
  readonly writesPerChange: number[];
  /** Time of each stage's partial apply in each change. */
  readonly stagesPerChange: Record<string, number>[];
  /** Per-change times of the changes that did not overlap a GC pause. */
  readonly withoutGc: number[];
  readonly gcPauses: number;
  readonly gcMs: number;
  /** The same kernel op per change, sent straight through the netlink client. */
  readonly bareOp: number[];
  /** RSS after the cold sync, after the changes, and the process's peak. */
  readonly rssColdMb: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
  readonly heapUsedMb: number;
  /** Periodic full syncs after the changes (kernel already right: they re-read it all and write nothing). */
  readonly fullSyncMs: number[];
  readonly fullSyncWrites: number[];
  /** RSS after those full syncs, and the process's peak including them. */
  readonly rssAfterFullSyncsMb: number;
  readonly peakRssWithFullSyncsMb: number;
}

const [services = 10_000, perService = 10, changes = 200, warmup = 2000] = process.argv.slice(2, 6).map(Number);
/** Changes before the first series: enough to have run every path once. */
const firstAfter = 20;
const saveFile = process.argv[6];
const logger = silentLogger();

const clusterIP = (i: number): string => `10.96.${(i >> 8) & 0xff}.${i & 0xff}`;
const podIP = (n: number): string => `10.${128 + ((n >> 16) & 0x3f)}.${(n >> 8) & 0xff}.${n & 0xff}`;
const mb = (bytes: number): number => bytes / 1024 / 1024;

function endpointSlice(i: number, extra: number): V1EndpointSlice {
  const endpoints = Array.from({ length: perService + extra }, (_, j) => ({ ip: podIP(i * (perService + 1) + j), node: 'other-node', ready: true }));
  return slice(`bench/s${i}`, { ports: [{ name: 'http', port: 8080 }], endpoints });
}

async function cleanKernel(kernel: Kernel): Promise<void> {
  const engine = new SyncEngine({ state: new ClusterState(), node: buildLocalNode({ name: 'sandbox', ipFamilies: kernel.families }), config: defaultProxyConfig, stages: kernel.stages, logger });
  await engine.cleanup();
}

// GC pauses of the measured series. Node builds an entry object with
// deprecated-accessor closures (about 1 KB) for every GC while observed: only
// two numbers of each are kept, or the heap the memory figures report would
// grow with every GC. It observes from the warm-up on (its setup is not timed)
// and stops after the measured series.
const gcSeen: { readonly startTime: number; readonly duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcSeen.push({ startTime: e.startTime, duration: e.duration });
});

const kernel = await openKernel({ config: defaultProxyConfig, families: hostFamilies(), logger });
await cleanKernel(kernel);
const node = buildLocalNode({ name: 'sandbox', localAddresses: await readHostAddresses(), ipFamilies: kernel.families });
const state = new ClusterState();
for (let i = 0; i < services; i++) {
  state.upsertService(service(`bench/s${i}`, { clusterIP: clusterIP(i), ports: [{ name: 'http', port: 80 }] }));
  state.upsertSlice(endpointSlice(i, 0));
}
// Each stage's time in the current change, to attribute the slow ones; only
// with BENCH_STAGE_TIMES=1, because in the sandbox every clock read is a system
// call of about 0.1 ms, and these eight reads per change would be measured too.
const stageMs = new Map<string, number>();
const stages: readonly Stage[] = process.env.BENCH_STAGE_TIMES !== '1' ? kernel.stages : kernel.stages.map((s) => ({
  subsystem: s.subsystem, full: (d) => s.full(d), cleanup: () => s.cleanup(),
  partial: async (deltas) => {
    const t0 = performance.now();
    try { return await s.partial(deltas); } finally { stageMs.set(s.subsystem, performance.now() - t0); }
  },
}));
const engine = new SyncEngine({ state, node, config: defaultProxyConfig, stages, logger });

/**
 * One full sync: the cold one (`sync('full')`) or a periodic resync, timed.
 * Returns only numbers, so the report (which holds the whole desired state)
 * goes out of scope at once, as in the agent. Throws if the sync failed.
 */
async function fullSync(kind: 'cold' | 'periodic'): Promise<{ ms: number; writes: number }> {
  const started = performance.now();
  if (kind === 'periodic') engine.requestResync();
  const r = await engine.sync(kind === 'cold' ? 'full' : undefined);
  const ms = performance.now() - started;
  if (r.mode !== 'full') throw new Error(`the ${kind} sync did not run as a full sync`);
  if (!r.ok) throw new Error(`${kind} full sync failed: ${JSON.stringify(r.results.map((x) => x.errors.map((e) => e.message)))} ${r.failed?.error.message ?? ''}`);
  return { ms, writes: r.results.reduce((x, y) => x + y.writes, 0) };
}

const coldMs = (await fullSync('cold')).ms;
let t: number;
const rssColdMb = mb(process.memoryUsage().rss);

/**
 * Change k of a series: even steps add an endpoint to Service i, odd steps take
 * it away again from the same Service (callers pass the same i for 2p and 2p+1).
 */
async function change(i: number, k: number): Promise<number> {
  engine.markChanged(state.upsertSlice(endpointSlice(i, k % 2 === 0 ? 1 : 0)).keys);
  const r = await engine.sync();
  if (!r.ok) throw new Error(`partial sync failed: ${r.failed?.error.message ?? JSON.stringify(r.results.map((x) => x.errors.map((e) => e.message)))}`);
  return r.results.reduce((s, x) => s + x.writes, 0);
}

// Warm-up on other Services: lets V8 compile the change path, as it has long
// done in an agent that has been running. The changes right after the first
// few are timed too: what a freshly started agent shows.
gcObserver.observe({ entryTypes: ['gc'] });
const warmupService = (k: number): number => (Math.floor(k / 2) * 104_729 + 13) % services;
const perChangeFirst: number[] = [];
for (let k = 0; k < Math.max(warmup, firstAfter + changes); k++) {
  t = performance.now();
  await change(warmupService(k), k);
  if (k >= firstAfter && k < firstAfter + changes) perChangeFirst.push(performance.now() - t);
}

const perChange: number[] = [];
const writesPerChange: number[] = [];
const windows: [number, number][] = [];
const stagesPerChange: Record<string, number>[] = [];
gcSeen.length = 0;
for (let k = 0; k < changes; k++) {
  const i = (Math.floor(k / 2) * 7919 + 1) % services;
  t = performance.now();
  const writes = await change(i, k);
  const end = performance.now();
  perChange.push(end - t);
  stagesPerChange.push(Object.fromEntries([...stageMs].map(([k, v]) => [k, Math.round(v * 100) / 100])));
  stageMs.clear();
  windows.push([t, end]);
  writesPerChange.push(writes);
}
await new Promise((r) => setTimeout(r, 100)); // let the observer deliver the last entries
gcObserver.disconnect();
const pauses = [...gcSeen];
const overlapsGc = ([a, b]: [number, number]): boolean => pauses.some((g) => g.startTime < b && g.startTime + g.duration > a);
const withoutGc = perChange.filter((_, k) => !overlapsGc(windows[k]!));
const rssMb = mb(process.memoryUsage().rss);
const heapUsedMb = mb(process.memoryUsage().heapUsed);

// Baseline: the kernel's share of a change, the same add/delete of one real
// server per step, written directly through the netlink client (no model, no
// reconciler, no diff, no connection check).
const bareOp: number[] = [];
const vs: VirtualServer = { family: 'inet', protocol: 'TCP', address: clusterIP(0), port: 80, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null };
const rs: RealServer = { family: 'inet', address: '10.250.0.1', port: 8080, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null };
for (let k = 0; k < changes; k++) {
  const op: IpvsOp = k % 2 === 0 ? { op: 'add-real-server', virtualServer: vs, realServer: rs } : { op: 'delete-real-server', virtualServer: vs, realServer: rs };
  t = performance.now();
  const [r] = await kernel.ipvsClient.apply([op]);
  bareOp.push(performance.now() - t);
  if (r?.error) throw r.error;
}

const peakRssMb = process.resourceUsage().maxRSS / 1024;

// What a running agent also does every syncPeriod (30 s by default): full syncs
// that re-read every virtual server, real server, set and chain, asked for the
// way its sync loop asks (a resync against the desired state it keeps).
const fullSyncMs: number[] = [];
const fullSyncWrites: number[] = [];
for (let n = 0; n < 3; n++) {
  const { ms, writes } = await fullSync('periodic');
  fullSyncMs.push(ms);
  fullSyncWrites.push(writes);
}
const rssAfterFullSyncsMb = mb(process.memoryUsage().rss);
const peakRssWithFullSyncsMb = process.resourceUsage().maxRSS / 1024;
// Rendered after every memory figure was taken: the agent never renders this text.
if (saveFile) {
  const table: TableEntry[] = engine.desired().families.flatMap((f) => [...f.virtualServers.values()]);
  writeFileSync(saveFile, renderSave(table));
}
await cleanKernel(kernel);
kernel.close();
const result: SeriesResult = {
  services, coldMs, perChangeFirst, perChange, stagesPerChange, writesPerChange, withoutGc, gcPauses: pauses.length, gcMs: pauses.reduce((x, g) => x + g.duration, 0),
  bareOp, rssColdMb, rssMb, peakRssMb, heapUsedMb, fullSyncMs, fullSyncWrites, rssAfterFullSyncsMb, peakRssWithFullSyncsMb,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
