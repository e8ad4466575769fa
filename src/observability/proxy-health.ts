// kube-proxy's ProxyHealthServer state (pkg/proxy/healthcheck/proxy_health.go):
// per IP family the last successful update and the oldest queued one. A family
// is unhealthy once an update has been queued for healthTimeout (2 × syncPeriod)
// without a successful sync; /healthz also needs the Node to be eligible (known,
// not being deleted, not tainted ToBeDeletedByClusterAutoscaler), /livez does not.
// The clock is injected.

import type { IpFamily } from '../model/types.ts';
import { formatGoTime } from './go-time.ts';

/** The taint the cluster autoscaler puts on a node it is about to delete. */
export const toBeDeletedTaint = 'ToBeDeletedByClusterAutoscaler';

/** What node eligibility needs from the own Node object. */
export interface NodeStatus {
  /** metadata.deletionTimestamp, or null. */
  readonly deletionTimestamp: string | null;
  readonly taints: readonly { readonly key: string }[];
}

/** Options of ProxyHealth. */
export interface ProxyHealthOptions {
  /** kube-proxy uses 2 × syncPeriod. */
  readonly healthTimeoutMs: number;
  /** Current time in ms since the epoch. */
  readonly now: () => number;
  /** The own Node as last seen, or null while unknown. */
  readonly node: () => NodeStatus | null;
}

/** One family's health in the JSON body. */
export interface ProxierHealthJson {
  readonly lastUpdated: string;
  readonly healthy: boolean;
}

/** The /healthz and /livez body, field order as kube-proxy's ProxyHealth marshals it. */
export interface ProxyHealthJson {
  readonly lastUpdated: string;
  readonly currentTime: string;
  readonly nodeEligible?: boolean;
  readonly healthy: boolean;
  readonly status?: Readonly<Partial<Record<IpFamily, ProxierHealthJson>>>;
}

/** Health state fed by the sync loop; read by the health servers. */
export class ProxyHealth {
  readonly #opts: ProxyHealthOptions;
  readonly #lastUpdated = new Map<IpFamily, number>();
  readonly #oldestQueued = new Map<IpFamily, number>();

  constructor(opts: ProxyHealthOptions) {
    this.#opts = opts;
  }

  /** A sync of `family` succeeded (and once when the sync loop starts). */
  updated(family: IpFamily): void {
    this.#oldestQueued.delete(family);
    this.#lastUpdated.set(family, this.#opts.now());
  }

  /** A change for `family` is waiting; only the oldest pending time is kept. */
  queuedUpdate(family: IpFamily): void {
    if (!this.#oldestQueued.has(family)) this.#oldestQueued.set(family, this.#opts.now());
  }

  /**
   * The health as kube-proxy computes it. Families are only judged once they
   * have an update (healthy while starting up); `lastUpdated` is the newest of
   * all families. On a healthy answer the HTTP handlers replace lastUpdated
   * with the current time, as kube-proxy does for compatibility.
   */
  health(): { healthy: boolean; lastUpdated: number | null; currentTime: number; status: Map<IpFamily, { lastUpdated: number; healthy: boolean }> } {
    const currentTime = this.#opts.now();
    let lastUpdated: number | null = null;
    let healthy = true;
    const status = new Map<IpFamily, { lastUpdated: number; healthy: boolean }>();
    for (const [family, t] of this.#lastUpdated) {
      if (lastUpdated === null || t > lastUpdated) lastUpdated = t;
      const queued = this.#oldestQueued.get(family);
      const ok = queued === undefined || currentTime - queued < this.#opts.healthTimeoutMs;
      if (!ok) healthy = false;
      status.set(family, { lastUpdated: t, healthy: ok });
    }
    return { healthy, lastUpdated, currentTime, status };
  }

  /** The proxier's health alone (what service health checks report as serviceProxyHealthy). */
  isHealthy(): boolean {
    return this.health().healthy;
  }

  /** Whether the Node is known, not being deleted and not marked for deletion by the autoscaler. */
  nodeEligible(): boolean {
    const node = this.#opts.node();
    if (!node) return false;
    if (node.deletionTimestamp) return false;
    return !node.taints.some((t) => t.key === toBeDeletedTaint);
  }

  /**
   * The answer of /healthz (`withNode`) or /livez: status code and JSON body.
   * /healthz is 200 only when healthy and the node is eligible.
   */
  answer(withNode: boolean): { code: 200 | 503; body: ProxyHealthJson } {
    const h = this.health();
    const eligible = withNode ? this.nodeEligible() : true;
    const ok = h.healthy && eligible;
    const status: Partial<Record<IpFamily, ProxierHealthJson>> = {};
    for (const f of [...h.status.keys()].sort()) {
      const s = h.status.get(f)!;
      status[f] = { lastUpdated: formatGoTime(s.lastUpdated), healthy: s.healthy };
    }
    const body: ProxyHealthJson = {
      lastUpdated: formatGoTime(ok ? h.currentTime : h.lastUpdated),
      currentTime: formatGoTime(h.currentTime),
      ...(withNode ? { nodeEligible: eligible } : {}),
      healthy: h.healthy,
      ...(h.status.size > 0 ? { status } : {}),
    };
    return { code: ok ? 200 : 503, body };
  }
}
