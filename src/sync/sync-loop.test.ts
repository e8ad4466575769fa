import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '../observability/logger.ts';
import type { SyncEngine, SyncReport } from './engine.ts';
import { SyncLoop, type Timers } from './sync-loop.ts';

/** Manual clock: timers fire only when the test advances time. */
class ManualTimers implements Timers {
  time = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number { return this.time; }
  setTimeout(fn: () => void, ms: number): unknown { const id = ++this.seq; this.pending.set(id, { at: this.time + ms, fn }); return id; }
  clearTimeout(h: unknown): void { this.pending.delete(h as number); }
  /** Advances time, firing due timers in order and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      const next = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.pending.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** An engine stand-in that records the syncs it was asked for. */
function fakeEngine(results: boolean[] = []) {
  const syncs: { at: number; full: boolean }[] = [];
  let full = false;
  let time = (): number => 0;
  const engine = {
    requestFull: () => { full = true; },
    requestResync: () => { full = true; },
    sync: () => {
      const ok = results.shift() ?? true;
      syncs.push({ at: time(), full });
      const mode: 'full' | 'partial' = full ? 'full' : 'partial';
      full = !ok;
      return Promise.resolve({ mode, ok } as SyncReport);
    },
  };
  return { engine: engine as unknown as SyncEngine, syncs, setClock: (f: () => number) => { time = f; } };
}

function loop(results: boolean[] = [], extra: { drainCheckMs?: number; checkDraining?: () => Promise<unknown> } = {}) {
  const timers = new ManualTimers();
  const f = fakeEngine(results);
  f.setClock(() => timers.now());
  const l = new SyncLoop({ engine: f.engine, logger: silentLogger(), syncPeriodMs: 30_000, minSyncPeriodMs: 1000, timers, ...extra });
  return { timers, syncs: f.syncs, loop: l };
}

describe('SyncLoop', () => {
  it('does not sync before start, then starts with a full sync', async () => {
    const { timers, syncs, loop: l } = loop();
    l.trigger();
    await timers.advance(5000);
    expect(syncs).toEqual([]);
    l.start();
    await timers.advance(0);
    expect(syncs).toEqual([{ at: 5000, full: true }]);
  });

  it('coalesces changes and keeps syncs minSyncPeriod apart', async () => {
    const { timers, syncs, loop: l } = loop();
    l.start();
    await timers.advance(0);
    l.trigger(); l.trigger(); l.trigger();
    await timers.advance(999);
    expect(syncs).toHaveLength(1);
    await timers.advance(1);
    expect(syncs).toEqual([{ at: 0, full: true }, { at: 1000, full: false }]);
  });

  it('forces a full sync every syncPeriod', async () => {
    const { timers, syncs, loop: l } = loop();
    l.start();
    await timers.advance(30_000);
    expect(syncs).toEqual([{ at: 0, full: true }, { at: 30_000, full: true }]);
  });

  it('retries a failed sync with doubling backoff, as a full sync', async () => {
    const { timers, syncs, loop: l } = loop([true, false, false, true]);
    l.start();
    await timers.advance(0);
    l.trigger();
    await timers.advance(1000); // partial fails
    await timers.advance(1000); // retry 1 s later: full, fails
    await timers.advance(2000); // retry 2 s later: full, succeeds
    expect(syncs).toEqual([{ at: 0, full: true }, { at: 1000, full: false }, { at: 2000, full: true }, { at: 4000, full: true }]);
  });

  it('checks draining real servers between syncs, and stop() ends everything', async () => {
    let checks = 0;
    const { timers, syncs, loop: l } = loop([], { drainCheckMs: 5000, checkDraining: () => { checks++; return Promise.resolve(); } });
    l.start();
    await timers.advance(15_000);
    expect(checks).toBe(3);
    await l.stop();
    await timers.advance(60_000);
    expect(checks).toBe(3);
    expect(syncs).toHaveLength(1);
  });
});
