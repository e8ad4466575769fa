import { describe, expect, it } from '@jest/globals';
import type { TableEntry } from '../ipvs/format.ts';
import { type RealServerStatus, type Stats, type VirtualServerStatus, zeroStats } from '../ipvs/types.ts';
import { KernelError } from '../netlink/errors.ts';
import { runScenario } from '../reconciler/testing.ts';
import { networkProgrammingBuckets, syncDurationBuckets } from './kube-proxy-metrics.ts';
import { createProxyMetrics, ownersFromDesiredState, parseServicePortKey } from './metrics.ts';

/** One metric's exposition lines (without HELP/TYPE), e.g. `name{labels} value`. */
async function lines(registry: { getSingleMetricAsString(n: string): Promise<string> }, name: string): Promise<string[]> {
  return (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

async function header(registry: { getSingleMetricAsString(n: string): Promise<string> }, name: string): Promise<string[]> {
  return (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => l.startsWith('#'));
}

describe('kube-proxy metrics: exact names, types, help, labels', () => {
  it.each([
    { name: 'kubeproxy_sync_proxy_rules_duration_seconds', type: 'histogram', help: 'SyncProxyRules latency in seconds' },
    { name: 'kubeproxy_sync_full_proxy_rules_duration_seconds', type: 'histogram', help: 'SyncProxyRules latency in seconds for full resyncs' },
    { name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds', type: 'histogram', help: 'SyncProxyRules latency in seconds for partial resyncs' },
    { name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', type: 'gauge', help: 'The last time proxy rules were successfully synced' },
    { name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', type: 'gauge', help: 'The last time a sync of proxy rules was queued' },
    { name: 'kubeproxy_network_programming_duration_seconds', type: 'histogram', help: 'In Cluster Network Programming Latency in seconds' },
    { name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending', type: 'gauge', help: 'Pending proxy rules Endpoint changes' },
    { name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total', type: 'counter', help: 'Cumulative proxy rules Endpoint changes' },
    { name: 'kubeproxy_sync_proxy_rules_service_changes_pending', type: 'gauge', help: 'Pending proxy rules Service changes' },
    { name: 'kubeproxy_sync_proxy_rules_service_changes_total', type: 'counter', help: 'Cumulative proxy rules Service changes' },
    { name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total', type: 'gauge', help: 'Number of services with a Local traffic policy and no endpoints' },
    { name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', type: 'counter', help: 'Cumulative proxy iptables restore failures' },
    { name: 'kubeproxy_proxy_healthz_total', type: 'counter', help: 'Cumulative proxy healthz HTTP status' },
    { name: 'kubeproxy_proxy_livez_total', type: 'counter', help: 'Cumulative proxy livez HTTP status' },
    { name: 'kubeproxy_conntrack_reconciler_sync_duration_seconds', type: 'histogram', help: 'ReconcileConntrackFlowsLatency latency in seconds' },
    { name: 'kubeproxy_conntrack_reconciler_deleted_entries_total', type: 'counter', help: 'Cumulative conntrack flows deleted by conntrack reconciler' },
  ])('$name', async ({ name, type, help }) => {
    const { registry } = createProxyMetrics();
    expect(await header(registry, name)).toEqual([`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]);
  });

  it('uses kube-proxy\'s buckets', () => {
    expect(syncDurationBuckets).toHaveLength(15);
    expect(syncDurationBuckets[0]).toBe(0.001);
    expect(syncDurationBuckets[14]).toBeCloseTo(16.384, 9);
    expect(networkProgrammingBuckets).toHaveLength(80);
    expect(networkProgrammingBuckets.slice(0, 4)).toEqual([0.25, 0.5, 1, 2]);
    expect(networkProgrammingBuckets.slice(60, 63)).toEqual([59, 60, 65]);
    expect(networkProgrammingBuckets.slice(-2)).toEqual([270, 300]);
  });

  it('observes a sync per family, full vs partial, and the last success time', async () => {
    const m = createProxyMetrics();
    m.syncQueued(['IPv4', 'IPv6'], 1000);
    const ok = m.observeSync({
      mode: 'partial', families: ['IPv4', 'IPv6'], durationSeconds: 0.003, nowSeconds: 1001,
      results: [{ subsystem: 'ipvs', writes: 3, ops: { 'add-real-server': 2, 'delete-real-server': 1 }, repaired: 0, errors: [] }],
    });
    expect(ok).toBe(true);
    expect(await lines(m.registry, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toEqual([
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1001',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv6"} 1001',
    ]);
    expect(await lines(m.registry, 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds')).toContain(
      'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="IPv4"} 1000');
    const partial = await lines(m.registry, 'kubeproxy_sync_partial_proxy_rules_duration_seconds');
    expect(partial).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{le="0.002",ip_family="IPv4"} 0');
    expect(partial).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{le="0.004",ip_family="IPv4"} 1');
    expect(partial).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family="IPv6"} 1');
    expect(await lines(m.registry, 'kubeproxy_sync_full_proxy_rules_duration_seconds')).toEqual([]);
    expect(await lines(m.registry, 'ipvsproxy_syncs_total')).toEqual(['ipvsproxy_syncs_total{mode="partial"} 1']);
    expect(await lines(m.registry, 'ipvsproxy_kernel_ops_total')).toEqual([
      'ipvsproxy_kernel_ops_total{subsystem="ipvs",op="add-real-server",result="ok"} 2',
      'ipvsproxy_kernel_ops_total{subsystem="ipvs",op="delete-real-server",result="ok"} 1',
    ]);
  });

  it('counts failed ops, failures and repairs, and keeps the last success time on failure', async () => {
    const m = createProxyMetrics();
    const ok = m.observeSync({
      mode: 'full', families: ['IPv4'], durationSeconds: 0.5, nowSeconds: 2000,
      results: [
        { subsystem: 'ipvs', writes: 3, ops: { 'add-virtual-server': 3 }, repaired: 2, errors: [new KernelError('EINVAL', 'add-virtual-server', 'TCP/10.96.0.1:80')] },
        { subsystem: 'ipset', writes: 1, ops: { add: 1 }, repaired: 0, errors: [new Error('restore failed')] },
      ],
    });
    expect(ok).toBe(false);
    expect(await lines(m.registry, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toEqual([]);
    expect(await lines(m.registry, 'ipvsproxy_kernel_ops_total')).toEqual([
      'ipvsproxy_kernel_ops_total{subsystem="ipvs",op="add-virtual-server",result="ok"} 2',
      'ipvsproxy_kernel_ops_total{subsystem="ipvs",op="add-virtual-server",result="error"} 1',
      'ipvsproxy_kernel_ops_total{subsystem="ipset",op="add",result="ok"} 1',
      'ipvsproxy_kernel_ops_total{subsystem="ipset",op="other",result="error"} 1',
    ]);
    expect(await lines(m.registry, 'ipvsproxy_drift_repairs_total')).toEqual(['ipvsproxy_drift_repairs_total{subsystem="ipvs"} 2']);
    expect(await lines(m.registry, 'ipvsproxy_sync_failures_total')).toEqual([
      'ipvsproxy_sync_failures_total{subsystem="ipvs"} 1', 'ipvsproxy_sync_failures_total{subsystem="ipset"} 1',
    ]);
  });

  it('exposes changes, pending, no-local-endpoints, object counts and probe codes', async () => {
    const m = createProxyMetrics();
    m.serviceChanged();
    m.serviceChanged(2);
    m.endpointsChanged(5);
    m.setPending({ services: 1, endpoints: 4 });
    m.setNoLocalEndpoints('IPv4', { internal: 1, external: 2 });
    m.setIpvsObjects('IPv4', { virtualServers: 10, realServers: 30 });
    m.healthzServed(200);
    m.healthzServed(503);
    m.livezServed(200);
    m.iptablesRestoreFailed('IPv6');
    m.observeConntrackCleanup('IPv4', 0.01, 3);
    const text = await m.registry.metrics();
    for (const want of [
      'kubeproxy_sync_proxy_rules_service_changes_total 3',
      'kubeproxy_sync_proxy_rules_endpoint_changes_total 5',
      'kubeproxy_sync_proxy_rules_service_changes_pending 1',
      'kubeproxy_sync_proxy_rules_endpoint_changes_pending 4',
      'kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="internal"} 1',
      'kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="external"} 2',
      'ipvsproxy_virtual_servers{ip_family="IPv4"} 10',
      'ipvsproxy_real_servers{ip_family="IPv4"} 30',
      'kubeproxy_proxy_healthz_total{code="200"} 1',
      'kubeproxy_proxy_healthz_total{code="503"} 1',
      'kubeproxy_proxy_livez_total{code="200"} 1',
      'kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family="IPv6"} 1',
      'kubeproxy_conntrack_reconciler_deleted_entries_total{ip_family="IPv4"} 3',
    ]) expect(text.split('\n')).toContain(want);
  });

  it('uses the injected registry and can add process metrics', async () => {
    const a = createProxyMetrics({ defaultMetrics: true });
    expect(await a.registry.metrics()).toMatch(/^process_cpu_seconds_total /m);
    expect(() => createProxyMetrics({ registry: a.registry })).toThrow(/already been registered/);
  });
});

const stats = (connections: number, packetsIn: number, bytesIn: number): Stats => ({ ...zeroStats, connections, packetsIn, packetsOut: packetsIn, bytesIn, bytesOut: bytesIn * 2 });

function vs(address: string, port: number, s: Stats, rs: [string, number, Stats, number][]): TableEntry<VirtualServerStatus, RealServerStatus> {
  return {
    virtualServer: { family: 'inet', protocol: 'TCP', address, port, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null, stats: s },
    realServers: rs.map(([a, p, st, active]) => ({
      family: 'inet', address: a, port: p, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null,
      activeConnections: active, inactiveConnections: 1, persistentConnections: 0, stats: st,
    })),
  };
}

describe('per-Service and per-backend traffic metrics', () => {
  const web = { namespace: 'default', name: 'web', portName: 'http' };
  const dns = { namespace: 'kube-system', name: 'dns', portName: '' };
  const owners = new Map([['TCP/10.96.0.10:80', web], ['TCP/192.168.0.5:30080', web], ['TCP/10.96.0.53:53', dns]]);
  const table = [
    vs('10.96.0.10', 80, stats(10, 100, 1000), [['10.244.0.11', 8080, stats(6, 60, 600), 2], ['10.244.0.12', 8080, stats(4, 40, 400), 1]]),
    vs('192.168.0.5', 30080, stats(5, 50, 500), [['10.244.0.11', 8080, stats(5, 50, 500), 0]]),
    vs('10.96.0.53', 53, stats(1, 1, 1), [['10.244.0.20', 53, stats(1, 1, 1), 0]]),
    vs('10.96.9.9', 1, stats(7, 7, 7), []),
  ];

  it('is off by default', async () => {
    const m = createProxyMetrics();
    expect(m.updateTraffic(table, owners)).toEqual({ series: 0, dropped: 0 });
    expect(await m.registry.metrics()).not.toMatch(/ipvsproxy_service_/);
  });

  it('sums virtual servers per Service port and real servers per backend', async () => {
    const m = createProxyMetrics({ traffic: { enabled: true, maxSeries: 100 } });
    expect(m.updateTraffic(table, owners)).toEqual({ series: 5, dropped: 0 });
    const text = (await m.registry.metrics()).split('\n');
    for (const want of [
      'ipvsproxy_service_connections_total{namespace="default",service="web",port_name="http"} 15',
      'ipvsproxy_service_packets_total{namespace="default",service="web",port_name="http",direction="in"} 150',
      'ipvsproxy_service_bytes_total{namespace="default",service="web",port_name="http",direction="out"} 3000',
      'ipvsproxy_service_active_connections{namespace="default",service="web",port_name="http"} 3',
      'ipvsproxy_backend_connections_total{namespace="default",service="web",port_name="http",backend="10.244.0.11:8080"} 11',
      'ipvsproxy_backend_inactive_connections{namespace="default",service="web",port_name="http",backend="10.244.0.11:8080"} 2',
      'ipvsproxy_service_connections_total{namespace="kube-system",service="dns",port_name=""} 1',
      'ipvsproxy_traffic_series_dropped 0',
    ]) expect(text).toContain(want);
    // A virtual server no Service owns is not exported.
    expect(text.join('\n')).not.toMatch(/10\.96\.9\.9/);
  });

  it('drops Service ports beyond the series cap and counts them; a new update replaces the series', async () => {
    const m = createProxyMetrics({ traffic: { enabled: true, maxSeries: 3 } });
    expect(m.updateTraffic(table, owners)).toEqual({ series: 3, dropped: 2 });
    let text = await m.registry.metrics();
    expect(text).toMatch(/service="web"/);
    expect(text).not.toMatch(/service="dns"/);
    expect(text.split('\n')).toContain('ipvsproxy_traffic_series_dropped 2');
    expect(m.updateTraffic(table.slice(2), owners)).toEqual({ series: 2, dropped: 0 });
    text = await m.registry.metrics();
    expect(text).not.toMatch(/service="web"/);
    expect(text).toMatch(/service="dns"/);
  });

  it('maps virtual servers to Service ports from the desired state', () => {
    const { state } = runScenario({
      services: [{
        metadata: { namespace: 'default', name: 'web' },
        spec: { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] },
      }],
      nodeIPs: ['192.168.0.5'],
      families: ['IPv4'],
    });
    expect(ownersFromDesiredState(state)).toEqual(new Map([['TCP/10.96.0.10:80', web], ['TCP/192.168.0.5:30080', web]]));
  });

  it.each([
    { name: 'named port', key: 'default/web:http/TCP', want: { namespace: 'default', name: 'web', portName: 'http' } },
    { name: 'unnamed port', key: 'ns/svc/UDP', want: { namespace: 'ns', name: 'svc', portName: '' } },
    { name: 'not a key', key: 'TCP/10.0.0.1:80', want: null },
  ])('parses a ServicePort key: $name', ({ key, want }) => {
    expect(parseServicePortKey(key)).toEqual(want);
  });
});
