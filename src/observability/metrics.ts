// The metrics registry of ipvs-proxy: kube-proxy's metrics (kube-proxy-metrics.ts)
// plus ours with bounded labels only, and a small typed API for the sync loop,
// the health servers and the conntrack cleanup. No clock is read here: callers
// pass timestamps, so tests are exact.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { TableEntry } from '../ipvs/format.ts';
import type { RealServerStatus, VirtualServerStatus } from '../ipvs/types.ts';
import type { IpFamily } from '../model/types.ts';
import type { DesiredState } from '../reconciler/types.ts';
import type { ApplyResult, Subsystem } from '../sync/apply-result.ts';
import { type KubeProxyMetricSet, registerKubeProxyMetrics } from './kube-proxy-metrics.ts';
import { type ServicePortRef, TrafficMetrics, type TrafficUpdate } from './traffic-metrics.ts';

export type { ServicePortRef, TrafficUpdate } from './traffic-metrics.ts';

/** Full syncs rebuild and re-observe everything; partial ones only changed Service ports. */
export type SyncMode = 'full' | 'partial';

/** One finished sync, as the sync loop reports it. */
export interface SyncObservation {
  readonly mode: SyncMode;
  /** Families the sync programmed; each gets the duration observed (kube-proxy runs one proxier per family). */
  readonly families: readonly IpFamily[];
  readonly durationSeconds: number;
  /** One result per applier that ran. */
  readonly results: readonly ApplyResult[];
  /** Wall-clock time the sync finished, in seconds since the epoch. */
  readonly nowSeconds: number;
}

/** Options of createProxyMetrics. */
export interface ProxyMetricsOptions {
  /** Registry to use; a new one by default. */
  readonly registry?: Registry;
  /** Also export prom-client's process_* and nodejs_* metrics (kube-proxy exports process_*). */
  readonly defaultMetrics?: boolean;
  /** Per-Service/per-backend IPVS traffic metrics: off unless enabled. */
  readonly traffic?: { readonly enabled: boolean; readonly maxSeries: number };
}

/** Subsystems our sync counters know; `sync` is a failure outside any applier. */
export type SyncSubsystem = Subsystem | 'sync';

/** The op an error belongs to, when it says (KernelError.op) and the applier reported that op. */
function errorOp(err: Error, ops: Readonly<Record<string, number>>): string {
  const op = (err as { op?: unknown }).op;
  return typeof op === 'string' && op in ops ? op : 'other';
}

/** kube-proxy's metrics plus ours, behind one typed API. */
export class ProxyMetrics {
  readonly registry: Registry;
  readonly kubeProxy: KubeProxyMetricSet;
  readonly #kernelOps: Counter<'subsystem' | 'op' | 'result'>;
  readonly #driftRepairs: Counter<'subsystem'>;
  readonly #syncFailures: Counter<'subsystem'>;
  readonly #syncs: Counter<'mode'>;
  readonly #virtualServers: Gauge<'ip_family'>;
  readonly #realServers: Gauge<'ip_family'>;
  readonly #traffic: TrafficMetrics | null;

  /** Registers everything on the registry; throws if a name is already taken there. */
  constructor(opts: ProxyMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    this.kubeProxy = registerKubeProxyMetrics(this.registry);
    this.#kernelOps = new Counter({ name: 'ipvsproxy_kernel_ops_total', help: 'Kernel writes by subsystem, operation and result (ok or error)', labelNames: ['subsystem', 'op', 'result'] as const, registers });
    this.#driftRepairs = new Counter({ name: 'ipvsproxy_drift_repairs_total', help: 'Kernel objects found changed by someone else and put back, by subsystem', labelNames: ['subsystem'] as const, registers });
    this.#syncFailures = new Counter({ name: 'ipvsproxy_sync_failures_total', help: 'Syncs in which a subsystem reported an error', labelNames: ['subsystem'] as const, registers });
    this.#syncs = new Counter({ name: 'ipvsproxy_syncs_total', help: 'Syncs by mode (full or partial)', labelNames: ['mode'] as const, registers });
    this.#virtualServers = new Gauge({ name: 'ipvsproxy_virtual_servers', help: 'IPVS virtual servers ipvs-proxy programs', labelNames: ['ip_family'] as const, registers });
    this.#realServers = new Gauge({ name: 'ipvsproxy_real_servers', help: 'IPVS real servers ipvs-proxy programs', labelNames: ['ip_family'] as const, registers });
    this.#traffic = opts.traffic?.enabled ? new TrafficMetrics(this.registry, opts.traffic.maxSeries) : null;
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** A Service change was seen (kubeproxy_sync_proxy_rules_service_changes_total). */
  serviceChanged(count = 1): void {
    this.kubeProxy.serviceChangesTotal.inc(count);
  }

  /** An EndpointSlice change was seen. */
  endpointsChanged(count = 1): void {
    this.kubeProxy.endpointChangesTotal.inc(count);
  }

  /** Changes waiting for the next sync. */
  setPending(pending: { readonly services: number; readonly endpoints: number }): void {
    this.kubeProxy.serviceChangesPending.set(pending.services);
    this.kubeProxy.endpointChangesPending.set(pending.endpoints);
  }

  /** A sync was requested (kube-proxy's Sync()); `nowSeconds` since the epoch. */
  syncQueued(families: readonly IpFamily[], nowSeconds: number): void {
    for (const f of families) this.kubeProxy.lastQueuedTimestamp.set({ ip_family: f }, nowSeconds);
  }

  /**
   * Records one finished sync: durations (all, and full or partial) per family,
   * kernel ops by subsystem/op/result, drift repairs, per-subsystem failures,
   * syncs by mode, and — only when no applier reported an error — the last
   * successful sync time. Returns whether the sync succeeded.
   */
  observeSync(o: SyncObservation): boolean {
    const byMode = o.mode === 'full' ? this.kubeProxy.syncFullDuration : this.kubeProxy.syncPartialDuration;
    for (const f of o.families) {
      this.kubeProxy.syncDuration.observe({ ip_family: f }, o.durationSeconds);
      byMode.observe({ ip_family: f }, o.durationSeconds);
    }
    this.#syncs.inc({ mode: o.mode });
    let ok = true;
    for (const r of o.results) ok = this.#observeResult(r) && ok;
    if (ok) for (const f of o.families) this.kubeProxy.lastTimestamp.set({ ip_family: f }, o.nowSeconds);
    return ok;
  }

  #observeResult(r: ApplyResult): boolean {
    const failed: Record<string, number> = {};
    for (const err of r.errors) {
      const op = errorOp(err, r.ops);
      failed[op] = (failed[op] ?? 0) + 1;
    }
    for (const [op, n] of Object.entries(r.ops)) {
      const ok = n - (failed[op] ?? 0);
      if (ok > 0) this.#kernelOps.inc({ subsystem: r.subsystem, op, result: 'ok' }, ok);
    }
    for (const [op, n] of Object.entries(failed)) this.#kernelOps.inc({ subsystem: r.subsystem, op, result: 'error' }, n);
    if (r.repaired > 0) this.#driftRepairs.inc({ subsystem: r.subsystem }, r.repaired);
    if (r.errors.length > 0) this.#syncFailures.inc({ subsystem: r.subsystem });
    return r.errors.length === 0;
  }

  /** A sync that failed outside the appliers (e.g. the snapshot could not be built). */
  syncFailed(subsystem: SyncSubsystem = 'sync'): void {
    this.#syncFailures.inc({ subsystem });
  }

  /** Time from an EndpointSlice's last-change-trigger-time to its programming. */
  observeNetworkProgramming(family: IpFamily, seconds: number): void {
    this.kubeProxy.networkProgramming.observe({ ip_family: family }, seconds);
  }

  /** Services with a Local traffic policy and no local endpoint (FamilyState.noLocalEndpoints). */
  setNoLocalEndpoints(family: IpFamily, counts: { readonly internal: number; readonly external: number }): void {
    this.kubeProxy.noLocalEndpoints.set({ ip_family: family, traffic_policy: 'internal' }, counts.internal);
    this.kubeProxy.noLocalEndpoints.set({ ip_family: family, traffic_policy: 'external' }, counts.external);
  }

  /** An iptables-restore run failed. */
  iptablesRestoreFailed(family: IpFamily): void {
    this.kubeProxy.iptablesRestoreFailures.inc({ ip_family: family });
  }

  /** One conntrack cleanup of stale UDP flows. */
  observeConntrackCleanup(family: IpFamily, seconds: number, deleted: number): void {
    this.kubeProxy.conntrackSyncDuration.observe({ ip_family: family }, seconds);
    this.kubeProxy.conntrackDeletedEntries.inc({ ip_family: family }, deleted);
  }

  /** Virtual and real servers programmed in one family. */
  setIpvsObjects(family: IpFamily, counts: { readonly virtualServers: number; readonly realServers: number }): void {
    this.#virtualServers.set({ ip_family: family }, counts.virtualServers);
    this.#realServers.set({ ip_family: family }, counts.realServers);
  }

  /** One /healthz answer (kubeproxy_proxy_healthz_total). */
  healthzServed(code: number): void {
    this.kubeProxy.healthzTotal.inc({ code: String(code) });
  }

  /** One /livez answer. */
  livezServed(code: number): void {
    this.kubeProxy.livezTotal.inc({ code: String(code) });
  }

  /** Whether per-Service traffic metrics are on. */
  get trafficEnabled(): boolean {
    return this.#traffic !== null;
  }

  /**
   * Replaces the per-Service/per-backend traffic series with the kernel table
   * (readTable of the IPVS client), virtual servers mapped to their Service
   * port by `owners` (see ownersFromDesiredState). A no-op returning zeros when
   * traffic metrics are off. Never throws.
   */
  updateTraffic(table: readonly TableEntry<VirtualServerStatus, RealServerStatus>[], owners: ReadonlyMap<string, ServicePortRef>): TrafficUpdate {
    return this.#traffic ? this.#traffic.update(table, owners) : { series: 0, dropped: 0 };
  }
}

/** Creates the registry with every metric; see ProxyMetrics. */
export function createProxyMetrics(opts: ProxyMetricsOptions = {}): ProxyMetrics {
  return new ProxyMetrics(opts);
}

/**
 * `namespace/name:portName/PROTO` (servicePortKey) back to its parts; null for
 * anything else. Namespaces, names and port names cannot hold `/` or `:`.
 */
export function parseServicePortKey(key: string): ServicePortRef | null {
  const m = /^([^/:]+)\/([^/:]+)(?::([^/:]+))?\/(TCP|UDP|SCTP)$/.exec(key);
  return m ? { namespace: m[1]!, name: m[2]!, portName: m[3] ?? '' } : null;
}

/** virtualServerKey → owning Service port, from the desired state of every family. Pure. */
export function ownersFromDesiredState(state: DesiredState): Map<string, ServicePortRef> {
  const owners = new Map<string, ServicePortRef>();
  for (const fam of state.families) {
    for (const [key, contribution] of fam.byServicePort) {
      const ref = parseServicePortKey(key);
      if (!ref) continue;
      for (const vs of contribution.virtualServers) owners.set(vs, ref);
    }
  }
  return owners;
}
