import type { Logger } from 'pino';
import type { SyncEngine, SyncReport } from './engine.ts';

/** Timers, injectable so tests control time. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface SyncLoopOptions {
  readonly engine: SyncEngine;
  readonly logger: Logger;
  /** Full sync at least this often (kube-proxy's syncPeriod), ms. */
  readonly syncPeriodMs: number;
  /** Syncs are at least this far apart, end to start (minSyncPeriod), ms; 0 = no limit. */
  readonly minSyncPeriodMs: number;
  /** How often drained real servers are checked for ended connections, ms (kube-proxy: 1 minute). */
  readonly drainCheckMs?: number;
  /** Called with the drain check; returns when done. */
  readonly checkDraining?: () => Promise<unknown>;
  /** Called after every sync (metrics, health). */
  readonly onSync?: (report: SyncReport) => void;
  /** Called when a sync is queued (health's "queued update" timestamp). */
  readonly onQueued?: () => void;
  readonly timers?: Timers;
}

/**
 * When to sync: coalesces change notifications, keeps syncs `minSyncPeriod`
 * apart, forces a full sync every `syncPeriod`, retries failed syncs with
 * backoff (1 s doubling up to `syncPeriod`), and does nothing before `start()`
 * (which the caller invokes once Services and EndpointSlices are both listed).
 * One sync runs at a time.
 */
export class SyncLoop {
  private readonly o: SyncLoopOptions;
  private readonly timers: Timers;
  private readonly log: Logger;
  private started = false;
  private stopped = false;
  private running: Promise<void> | null = null;
  private queued = false;
  private lastEnd = -Infinity;
  private lastFull = -Infinity;
  private retryDelay = 0;
  private runTimer: unknown = null;
  private fullTimer: unknown = null;
  private drainTimer: unknown = null;

  constructor(opts: SyncLoopOptions) {
    this.o = opts;
    this.timers = opts.timers ?? realTimers;
    this.log = opts.logger.child({ component: 'sync-loop' });
  }

  /** Allows syncing and runs the first (full) sync now. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.o.engine.requestFull();
    this.trigger();
    this.armDrainCheck();
  }

  /** Asks for a sync soon (coalesced, and never closer than minSyncPeriod to the last one). */
  trigger(): void {
    if (this.stopped) return;
    this.o.onQueued?.();
    this.queued = true;
    if (!this.started || this.running) return;
    this.schedule(Math.max(0, this.lastEnd + this.o.minSyncPeriodMs - this.timers.now()));
  }

  /** Stops timers and waits for a running sync to finish. Kernel state is left as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.runTimer, this.fullTimer, this.drainTimer]) if (t !== null) this.timers.clearTimeout(t);
    this.runTimer = this.fullTimer = this.drainTimer = null;
    await this.running;
  }

  /** Resolves when no sync is running (for tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private schedule(delay: number): void {
    if (this.runTimer !== null) this.timers.clearTimeout(this.runTimer);
    this.runTimer = this.timers.setTimeout(() => {
      this.runTimer = null;
      this.running = this.runOnce().finally(() => { this.running = null; });
    }, delay);
  }

  private async runOnce(): Promise<void> {
    if (this.stopped) return;
    this.queued = false;
    const report = await this.o.engine.sync();
    this.lastEnd = this.timers.now();
    if (report.mode === 'full' && report.ok) this.lastFull = this.lastEnd;
    try {
      this.o.onSync?.(report);
    } catch (err) {
      this.log.error({ err }, 'sync observer failed');
    }
    if (this.stopped) return;
    if (!report.ok) {
      this.retryDelay = Math.min(this.retryDelay ? this.retryDelay * 2 : 1000, this.o.syncPeriodMs);
      this.log.warn({ retryInMs: this.retryDelay }, 'sync failed; retrying with a full sync');
      this.queued = true;
      this.schedule(Math.max(this.retryDelay, this.o.minSyncPeriodMs));
      return;
    }
    this.retryDelay = 0;
    this.armFullSync();
    if (this.queued) this.schedule(Math.max(0, this.lastEnd + this.o.minSyncPeriodMs - this.timers.now()));
  }

  private armFullSync(): void {
    if (this.fullTimer !== null) this.timers.clearTimeout(this.fullTimer);
    const due = Math.max(0, this.lastFull + this.o.syncPeriodMs - this.timers.now());
    this.fullTimer = this.timers.setTimeout(() => {
      this.fullTimer = null;
      this.o.engine.requestResync();
      this.trigger();
    }, due);
  }

  private armDrainCheck(): void {
    const every = this.o.drainCheckMs;
    const check = this.o.checkDraining;
    if (!every || !check || this.stopped) return;
    this.drainTimer = this.timers.setTimeout(() => {
      this.drainTimer = null;
      // Runs between syncs, never during one, so the IPVS applier's cache stays consistent.
      const go = async (): Promise<void> => {
        await this.idle();
        if (this.stopped) return;
        this.running = check().then(() => undefined, (err: unknown) => {
          this.log.warn({ err }, 'drain check failed');
          this.o.engine.requestFull();
        }).finally(() => { this.running = null; });
        await this.running;
        if (this.queued && !this.stopped) this.schedule(Math.max(0, this.lastEnd + this.o.minSyncPeriodMs - this.timers.now()));
        this.armDrainCheck();
      };
      void go();
    }, every);
  }
}
