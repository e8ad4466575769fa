// kube-proxy's metrics (pkg/proxy/metrics/metrics.go), registered on an
// injected prom-client Registry under their exact names, types, help texts,
// labels and buckets, as kube-proxy registers them in IPVS mode. The
// ip_family labels are those of kube-proxy ≥ 1.33 (Kubernetes metrics
// reference). kube-proxy registers the full/partial sync histograms only in
// iptables (and nftables) mode; we register them too because ipvs-proxy does
// partial syncs, and extra series break no dashboard.

import { Counter, Gauge, Histogram, type Registry, exponentialBuckets, linearBuckets } from 'prom-client';

/** metrics.ExponentialBuckets(0.001, 2, 15): 1 ms to about 16 s. */
export const syncDurationBuckets: readonly number[] = exponentialBuckets(0.001, 2, 15);

/** NetworkProgrammingLatency: 0.25 s, 0.5 s, 1-59 s by 1, 60-115 s by 5, 120-300 s by 30. */
export const networkProgrammingBuckets: readonly number[] = [
  ...linearBuckets(0.25, 0.25, 2),
  ...linearBuckets(1, 1, 59),
  ...linearBuckets(60, 5, 12),
  ...linearBuckets(120, 30, 7),
];

/** The kube-proxy metric objects. */
export interface KubeProxyMetricSet {
  readonly syncDuration: Histogram<'ip_family'>;
  readonly syncFullDuration: Histogram<'ip_family'>;
  readonly syncPartialDuration: Histogram<'ip_family'>;
  readonly lastTimestamp: Gauge<'ip_family'>;
  readonly lastQueuedTimestamp: Gauge<'ip_family'>;
  readonly networkProgramming: Histogram<'ip_family'>;
  readonly endpointChangesPending: Gauge;
  readonly endpointChangesTotal: Counter;
  readonly serviceChangesPending: Gauge;
  readonly serviceChangesTotal: Counter;
  readonly noLocalEndpoints: Gauge<'ip_family' | 'traffic_policy'>;
  readonly iptablesRestoreFailures: Counter<'ip_family'>;
  readonly healthzTotal: Counter<'code'>;
  readonly livezTotal: Counter<'code'>;
  readonly conntrackSyncDuration: Histogram<'ip_family'>;
  readonly conntrackDeletedEntries: Counter<'ip_family'>;
}

/**
 * Creates kube-proxy's IPVS-mode metrics on `registry`. Throws (prom-client's
 * Error) if a metric of the same name is already registered there.
 */
export function registerKubeProxyMetrics(registry: Registry): KubeProxyMetricSet {
  const registers = [registry];
  const fam = ['ip_family'] as const;
  return {
    syncDuration: new Histogram({ name: 'kubeproxy_sync_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds', labelNames: fam, buckets: [...syncDurationBuckets], registers }),
    syncFullDuration: new Histogram({ name: 'kubeproxy_sync_full_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for full resyncs', labelNames: fam, buckets: [...syncDurationBuckets], registers }),
    syncPartialDuration: new Histogram({ name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for partial resyncs', labelNames: fam, buckets: [...syncDurationBuckets], registers }),
    lastTimestamp: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', labelNames: fam, registers }),
    lastQueuedTimestamp: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', help: 'The last time a sync of proxy rules was queued', labelNames: fam, registers }),
    networkProgramming: new Histogram({ name: 'kubeproxy_network_programming_duration_seconds', help: 'In Cluster Network Programming Latency in seconds', labelNames: fam, buckets: [...networkProgrammingBuckets], registers }),
    endpointChangesPending: new Gauge({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending', help: 'Pending proxy rules Endpoint changes', registers }),
    endpointChangesTotal: new Counter({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total', help: 'Cumulative proxy rules Endpoint changes', registers }),
    serviceChangesPending: new Gauge({ name: 'kubeproxy_sync_proxy_rules_service_changes_pending', help: 'Pending proxy rules Service changes', registers }),
    serviceChangesTotal: new Counter({ name: 'kubeproxy_sync_proxy_rules_service_changes_total', help: 'Cumulative proxy rules Service changes', registers }),
    noLocalEndpoints: new Gauge({ name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total', help: 'Number of services with a Local traffic policy and no endpoints', labelNames: ['ip_family', 'traffic_policy'] as const, registers }),
    iptablesRestoreFailures: new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: 'Cumulative proxy iptables restore failures', labelNames: fam, registers }),
    healthzTotal: new Counter({ name: 'kubeproxy_proxy_healthz_total', help: 'Cumulative proxy healthz HTTP status', labelNames: ['code'] as const, registers }),
    livezTotal: new Counter({ name: 'kubeproxy_proxy_livez_total', help: 'Cumulative proxy livez HTTP status', labelNames: ['code'] as const, registers }),
    // Buckets not confirmed from source (UNVERIFIED): the sync-duration buckets.
    conntrackSyncDuration: new Histogram({ name: 'kubeproxy_conntrack_reconciler_sync_duration_seconds', help: 'ReconcileConntrackFlowsLatency latency in seconds', labelNames: fam, buckets: [...syncDurationBuckets], registers }),
    conntrackDeletedEntries: new Counter({ name: 'kubeproxy_conntrack_reconciler_deleted_entries_total', help: 'Cumulative conntrack flows deleted by conntrack reconciler', labelNames: fam, registers }),
  };
}
