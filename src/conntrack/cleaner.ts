import type { Logger } from 'pino';
import type { ClusterSnapshot } from '../model/types.ts';
import type { ConntrackClient } from './client.ts';
import { PartialDeleteError, PartialListError } from './errors.ts';
import { buildUdpFrontends, hasNoUdpFrontends, modelFamily, planStaleFlows } from './plan.ts';
import { type Family, type Flow, filterKey } from './types.ts';

/** What one family's cleanup did (for logs and the `kubeproxy_conntrack_reconciler_*` metrics). */
export interface FamilyCleanup {
  readonly family: Family;
  /** True when the family has no UDP Service port with a serving endpoint: nothing was listed. */
  readonly skipped: boolean;
  /** UDP flows listed (a partial list counts what was read). */
  readonly listed: number;
  /** Flows the planner found stale. */
  readonly stale: number;
  /** Flows the kernel deleted. */
  readonly deleted: number;
  readonly durationMs: number;
  /** Why this family's cleanup stopped or was incomplete, or null. */
  readonly error: Error | null;
}

/** The outcome of one cleanup: totals plus one entry per family. */
export interface CleanupResult {
  readonly deleted: number;
  readonly durationMs: number;
  readonly families: readonly FamilyCleanup[];
  /** Every error met (also logged); empty when the cleanup was complete. */
  readonly errors: readonly Error[];
}

export interface ConntrackCleanerOptions {
  /** Families to clean (default both, as a dual-stack kube-proxy runs one proxier per family). */
  readonly families?: readonly Family[];
  /** Monotonic milliseconds (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * Deletes stale UDP conntrack flows, as kube-proxy's CleanStaleEntries does after
 * a sync in which a UDP Service port's endpoints changed (see plan.ts for which
 * flows). Per family: list the UDP flows, plan, delete. `cleanup` never rejects:
 * a failed list or delete is logged, reported in `errors`, and the other family
 * still runs; a list cut short (EINTR) is cleaned with what was read, as
 * kube-proxy does.
 */
export class ConntrackCleaner {
  private readonly client: ConntrackClient;
  private readonly log: Logger;
  private readonly families: readonly Family[];
  private readonly now: () => number;

  constructor(client: ConntrackClient, logger: Logger, opts: ConntrackCleanerOptions = {}) {
    this.client = client;
    this.log = logger.child({ component: 'conntrack-cleaner' });
    this.families = opts.families ?? ['inet', 'inet6'];
    this.now = opts.now ?? (() => performance.now());
  }

  /** Cleans stale UDP flows for the Services and endpoints of `snapshot`. Never rejects. */
  async cleanup(snapshot: ClusterSnapshot): Promise<CleanupResult> {
    const start = this.now();
    const families: FamilyCleanup[] = [];
    for (const family of this.families) families.push(await this.cleanFamily(snapshot, family));
    const errors = families.flatMap((f) => (f.error ? [f.error] : []));
    return {
      deleted: families.reduce((n, f) => n + f.deleted, 0),
      durationMs: this.now() - start,
      families,
      errors,
    };
  }

  private async cleanFamily(snapshot: ClusterSnapshot, family: Family): Promise<FamilyCleanup> {
    const start = this.now();
    const log = this.log.child({ ipFamily: modelFamily(family) });
    let listed = 0;
    let stale = 0;
    let deleted = 0;
    let error: Error | null = null;
    const done = (skipped: boolean): FamilyCleanup =>
      ({ family, skipped, listed, stale, deleted, durationMs: this.now() - start, error });
    try {
      const frontends = buildUdpFrontends(snapshot, family);
      if (hasNoUdpFrontends(frontends)) return done(true);
      let flows: readonly Flow[];
      try {
        flows = await this.client.list(family, 'udp');
      } catch (err) {
        if (!(err instanceof PartialListError)) throw err;
        // kube-proxy cleans with a partial dump rather than not at all.
        log.warn({ err, read: err.flows.length }, 'conntrack list interrupted; cleaning with the flows read');
        error = err;
        flows = err.flows;
      }
      listed = flows.length;
      const plan = planStaleFlows(frontends, flows);
      stale = plan.staleFlows;
      if (plan.filters.length > 0) {
        log.debug({ filters: plan.filters.map(filterKey) }, 'deleting stale UDP conntrack flows');
        try {
          deleted = await this.client.delete(plan.filters);
        } catch (err) {
          if (err instanceof PartialDeleteError) deleted = err.deleted;
          throw err;
        }
      }
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      log.error({ err: error, deleted }, 'conntrack cleanup failed');
      return done(false);
    }
    const level = deleted > 0 ? 'info' : 'debug';
    log[level]({ listed, stale, deleted, durationMs: Math.round(this.now() - start) }, 'conntrack cleanup done');
    return done(false);
  }
}
