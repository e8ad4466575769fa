import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/types.ts';
import type { ClusterState } from '../model/cluster-state.ts';
import type { LocalNode } from '../model/node.ts';
import type { Warning } from '../model/types.ts';
import { DesiredStateIndex, type FamilyDelta } from '../reconciler/incremental.ts';
import type { DesiredState } from '../reconciler/types.ts';
import type { ApplyResult, Subsystem } from './apply-result.ts';

/**
 * One kernel subsystem as the engine drives it. `full` makes the kernel match
 * the whole desired state (reading the kernel); `partial` writes only the
 * deltas (from its own cache). Either may reject; the engine then makes the
 * next sync full. `cleanup` removes everything the subsystem ever writes.
 */
export interface Stage {
  readonly subsystem: Subsystem;
  full(state: DesiredState): Promise<ApplyResult>;
  partial(deltas: readonly FamilyDelta[]): Promise<ApplyResult>;
  cleanup(): Promise<ApplyResult>;
}

/** What one sync did. */
export interface SyncReport {
  readonly mode: 'full' | 'partial';
  readonly ok: boolean;
  readonly results: readonly ApplyResult[];
  /** Subsystem whose stage threw, if one did (later stages were not run). */
  readonly failed: { readonly subsystem: Subsystem; readonly error: Error } | null;
  /** Service-port keys this sync covered (every key for a full sync is not listed). */
  readonly changedKeys: number;
  readonly durationMs: number;
  readonly warnings: readonly Warning[];
  /** The desired state after the sync (materialized only for full syncs). */
  readonly desired: DesiredState | null;
}

/**
 * Decides and performs one sync: full (every stage reads the kernel and
 * repairs drift) or partial (only the Service ports that changed since the
 * last sync). A full sync rebuilds the desired state from the snapshot first
 * when asked to (`requestFull`, `sync('full')`, the first sync, a new node
 * context, any failure); a periodic resync (`requestResync`) compares the
 * kernel with the desired state kept incrementally, which at 10,000 Services
 * spares building a second whole desired state every syncPeriod. Stages run
 * in order — ipsets, then iptables (so masquerade works from the first sync:
 * kubernetes#133773), then interface addresses, then IPVS. A failed sync
 * leaves the next one full; pending changes are then covered by that full sync.
 */
export class SyncEngine {
  private readonly state: ClusterState;
  private readonly stages: readonly Stage[];
  private readonly log: Logger;
  private config: ProxyConfig;
  private node: LocalNode;
  private index: DesiredStateIndex;
  private readonly pending = new Set<string>();
  private needFull = true;
  /** Whether the next full sync rebuilds the desired state from the snapshot. */
  private needRebuild = true;

  constructor(opts: { state: ClusterState; node: LocalNode; config: ProxyConfig; stages: readonly Stage[]; logger: Logger }) {
    this.state = opts.state;
    this.node = opts.node;
    this.config = opts.config;
    this.stages = opts.stages;
    this.log = opts.logger.child({ component: 'sync' });
    this.index = new DesiredStateIndex(this.node, this.config);
  }

  /** Records Service-port keys whose objects changed. */
  markChanged(keys: Iterable<string>): void {
    for (const k of keys) this.pending.add(k);
  }

  /** Number of changed Service ports waiting for a sync. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True when the next sync will be full. */
  get fullPending(): boolean {
    return this.needFull;
  }

  /** Replaces the node context (addresses, labels); the next sync is full. */
  setNode(node: LocalNode): void {
    this.node = node;
    this.index = new DesiredStateIndex(node, this.config);
    this.needFull = true;
    this.needRebuild = true;
  }

  /** Forces the next sync to be full, with the desired state rebuilt from the snapshot. */
  requestFull(): void {
    this.needFull = true;
    this.needRebuild = true;
  }

  /**
   * Periodic resync: the next sync is full (every stage re-reads the kernel
   * and repairs drift), against the desired state as the partial syncs keep it
   * (pending changes folded in first). It is rebuilt only if something else
   * asked for that.
   */
  requestResync(): void {
    this.needFull = true;
  }

  /** The desired state as it stands. */
  desired(): DesiredState {
    return this.index.current();
  }

  /** Runs one sync; never rejects (failures are in the report). */
  async sync(force?: 'full'): Promise<SyncReport> {
    const started = performance.now();
    const full = force === 'full' || this.needFull;
    const keys = [...this.pending];
    this.pending.clear();
    const results: ApplyResult[] = [];
    let failed: SyncReport['failed'] = null;
    let warnings: readonly Warning[] = [];
    let desired: DesiredState | null = null;
    if (full) {
      if (force === 'full' || this.needRebuild) {
        desired = this.index.rebuild(this.state.snapshot());
        warnings = desired.warnings;
      } else {
        if (keys.length) warnings = this.index.update(this.state, keys).warnings;
        desired = this.index.current();
      }
      const whole = desired;
      failed = await this.runStages(results, (s) => s.full(whole));
    } else if (keys.length) {
      const update = this.index.update(this.state, keys);
      warnings = update.warnings;
      const changed = update.deltas.some((d) => d.virtualServers.size || d.setAdds.length || d.setDels.length
        || d.addressAdds.length || d.addressDels.length || d.iptablesChanged);
      if (changed) failed = await this.runStages(results, (s) => s.partial(update.deltas));
    }
    const ok = failed === null && results.every((r) => r.errors.length === 0);
    // Any failure: the caches of the stages can no longer be trusted, and the
    // next full sync starts again from the snapshot.
    this.needFull = !ok;
    this.needRebuild = !ok;
    const report: SyncReport = {
      mode: full ? 'full' : 'partial', ok, results, failed, changedKeys: keys.length,
      durationMs: performance.now() - started, warnings, desired,
    };
    this.logReport(report);
    return report;
  }

  /** Runs every stage's cleanup, IPVS first and ipsets last (rules referencing sets go before the sets). */
  async cleanup(): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    for (const stage of [...this.stages].reverse()) {
      try {
        results.push(await stage.cleanup());
      } catch (err) {
        results.push({ subsystem: stage.subsystem, writes: 0, ops: {}, repaired: 0, errors: [err as Error] });
      }
    }
    return results;
  }

  private async runStages(results: ApplyResult[], run: (s: Stage) => Promise<ApplyResult>): Promise<SyncReport['failed']> {
    for (const stage of this.stages) {
      try {
        results.push(await run(stage));
      } catch (err) {
        return { subsystem: stage.subsystem, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
    return null;
  }

  private logReport(r: SyncReport): void {
    const ops = Object.fromEntries(r.results.map((x) => [x.subsystem, x.writes]));
    const repaired = Object.fromEntries(r.results.filter((x) => x.repaired).map((x) => [x.subsystem, x.repaired]));
    const fields = { mode: r.mode, ok: r.ok, ops, repaired, changedServicePorts: r.changedKeys, durationMs: Math.round(r.durationMs * 100) / 100 };
    if (r.failed) this.log.error({ ...fields, subsystem: r.failed.subsystem, err: r.failed.error }, 'sync failed');
    else if (!r.ok) this.log.warn({ ...fields, errors: r.results.flatMap((x) => x.errors.map((e) => e.message)) }, 'sync had errors; next sync is full');
    else if (r.mode === 'full' || r.results.length) this.log.info(fields, 'synced');
  }
}
