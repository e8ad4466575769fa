// Benchmark: the sync engine on a real kernel (inside the sandbox).
//   npm run bench -- sync [services] [endpointsPerService] [changes] [warmup]
// 1. Cold full sync of N Services x M endpoints (IPVS, ipsets, iptables,
//    kube-ipvs0 addresses) versus `ipvsadm -R` of the same IPVS table.
// 2. Single-endpoint changes (alternately one endpoint added, one removed, on
//    other nodes, as most of a node's endpoints are), after a warm-up (default
//    2000 changes; removals take their own path, which V8 compiles with Maglev
//    only around the 1000th change, a ~5-9 ms change): agent time per change,
//    p50/p99, at N Services and at 100 Services; kernel writes per change. Also reported: the first changes of the
//    fresh agent (from its 21st), while V8 still optimizes the path. Side by
//    side, the baseline: the same kernel op per change sent straight through
//    the netlink client, which is what the sandbox's kernel alone costs (its
//    scheduling noise included).
// 3. Three periodic full syncs afterwards (the kernel is right: re-read all,
//    write nothing), as a running agent makes every syncPeriod: time and writes.
// 4. RSS of the agent process: after the cold sync, after the changes, the peak
//    until then, and after and including the periodic full syncs.
// Each cluster size runs in its own Node process with the launcher's V8 flags
// (a fresh agent), from the compiled JavaScript as the image runs it.
// Prints figures, then as its last line one JSON object.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SeriesResult } from './lib/sync-series.ts';

const [services = 10_000, perService = 10, changes = 200, warmup = 2000] = process.argv.slice(2, 6).map(Number);
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const seriesScript = fileURLToPath(new URL(`./lib/sync-series${extension}`, import.meta.url));
const saveFile = '/tmp/bench-sync-table.save';

function runProcess(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')} exited ${code}`))));
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function series(n: number, save?: string): Promise<SeriesResult> {
  const out = await runProcess(process.execPath, [...process.execArgv, seriesScript, String(n), String(perService), String(changes), String(warmup), ...(save ? [save] : [])]);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as SeriesResult;
}

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
const f2 = (x: number): string => x.toFixed(2);

// The small cluster first: after a big table is deleted the kernel frees its
// real servers in the background for a while, which slowed a later small run 2x.
const small = await series(100);
const big = await series(services, saveFile);
const start = performance.now();
await runProcess('ipvsadm', ['-R'], readFileSync(saveFile, 'utf8'));
const ipvsadmMs = performance.now() - start;
await runProcess('ipvsadm', ['-C']);

const say = (s: string): boolean => process.stdout.write(`${s}\n`);
say(`node flags: ${process.execArgv.join(' ') || '(none)'}, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? '(unset)'}; ${warmup} warm-up changes, then ${changes} measured; sandbox CPU pinning: ${process.env.SANDBOX_CPU ?? 'auto'}`);
say(`cold full sync of ${services} Services x ${perService} endpoints: ${f2(big.coldMs / 1000)} s; ipvsadm -R of the same IPVS table: ${f2(ipvsadmMs / 1000)} s`);
for (const r of [big, small]) {
  say(`per change at ${r.services}: p50 ${f2(pct(r.perChange, 50))} ms, p99 ${f2(pct(r.perChange, 99))} ms, max ${f2(pct(r.perChange, 100))} ms; writes/change ${pct(r.writesPerChange, 50)}`);
  say(`  the fresh agent's changes 21-${20 + r.perChangeFirst.length}: p50 ${f2(pct(r.perChangeFirst, 50))} ms, p99 ${f2(pct(r.perChangeFirst, 99))} ms, max ${f2(pct(r.perChangeFirst, 100))} ms`);
  say(`  baseline, the bare kernel op: p50 ${f2(pct(r.bareOp, 50))} ms, p99 ${f2(pct(r.bareOp, 99))} ms, max ${f2(pct(r.bareOp, 100))} ms`);
  say(`  ${r.perChange.length - r.withoutGc.length} changes overlapped one of ${r.gcPauses} GC pauses (${f2(r.gcMs)} ms of GC); p99 of the others ${f2(pct(r.withoutGc, 99))} ms`);
  say(`  RSS ${r.rssColdMb.toFixed(0)} MB after the cold sync, ${r.rssMb.toFixed(0)} MB after the changes, peak ${r.peakRssMb.toFixed(0)} MB; heap used ${r.heapUsedMb.toFixed(0)} MB`);
  say(`  periodic full syncs: ${r.fullSyncMs.map((x) => f2(x / 1000)).join(', ')} s, writes ${r.fullSyncWrites.join(', ')}; RSS after them ${r.rssAfterFullSyncsMb.toFixed(0)} MB, peak with them ${r.peakRssWithFullSyncsMb.toFixed(0)} MB`);
}
say(JSON.stringify({
  services, endpointsPerService: perService, changes, warmup,
  cold_full_sync_s: round(big.coldMs / 1000), ipvsadm_restore_s: round(ipvsadmMs / 1000), cold_ratio: round(big.coldMs / ipvsadmMs),
  change_p50_ms: round(pct(big.perChange, 50)), change_p99_ms: round(pct(big.perChange, 99)),
  change_p50_ms_100: round(pct(small.perChange, 50)), change_p99_ms_100: round(pct(small.perChange, 99)),
  p99_ratio_10k_vs_100: round(pct(big.perChange, 99) / pct(small.perChange, 99)),
  first_changes_p50_ms: round(pct(big.perChangeFirst, 50)), first_changes_p99_ms: round(pct(big.perChangeFirst, 99)),
  bare_op_p50_ms: round(pct(big.bareOp, 50)), bare_op_p99_ms: round(pct(big.bareOp, 99)),
  p99_ratio_vs_bare_op: round(pct(big.perChange, 99) / pct(big.bareOp, 99)),
  gc_pauses: big.gcPauses, gc_ms: round(big.gcMs, 1),
  kernel_writes_per_change: pct(big.writesPerChange, 50),
  rss_mb: round(big.rssMb, 1), rss_after_cold_sync_mb: round(big.rssColdMb, 1), peak_rss_mb: round(big.peakRssMb, 1),
  periodic_full_sync_s: round(pct(big.fullSyncMs, 50) / 1000), periodic_full_sync_writes: Math.max(...big.fullSyncWrites),
  rss_after_full_syncs_mb: round(big.rssAfterFullSyncsMb, 1), peak_rss_with_full_syncs_mb: round(big.peakRssWithFullSyncsMb, 1),
}));
