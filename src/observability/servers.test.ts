import { afterEach, describe, expect, it } from '@jest/globals';
import { silentLogger } from './logger.ts';
import { formatGoTime } from './go-time.ts';
import { startHealthServer } from './health-server.ts';
import type { Listening } from './http-listen.ts';
import { createProxyMetrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { type NodeStatus, ProxyHealth } from './proxy-health.ts';

const open: Listening[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function get(port: number, path: string): Promise<{ status: number; type: string | null; nosniff: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type'), nosniff: res.headers.get('x-content-type-options'), body: await res.text() };
}

const t0 = Date.UTC(2025, 0, 2, 3, 4, 5);
const syncPeriodMs = 30_000;
const readyNode: NodeStatus = { deletionTimestamp: null, taints: [] };

/** A health state at time `t0 + clock.ms`, with the node as `node.value`. */
function setup(): { health: ProxyHealth; clock: { ms: number }; node: { value: NodeStatus | null } } {
  const clock = { ms: 0 };
  const node: { value: NodeStatus | null } = { value: readyNode };
  const health = new ProxyHealth({ healthTimeoutMs: 2 * syncPeriodMs, now: () => t0 + clock.ms, node: () => node.value });
  return { health, clock, node };
}

describe('formatGoTime', () => {
  it.each([
    { name: 'whole seconds', ms: t0, want: '2025-01-02T03:04:05Z' },
    { name: 'fraction without trailing zeros', ms: t0 + 250, want: '2025-01-02T03:04:05.25Z' },
    { name: 'sub-millisecond', ms: t0 + 1.5, want: '2025-01-02T03:04:05.0015Z' },
    { name: 'zero time', ms: null, want: '0001-01-01T00:00:00Z' },
  ])('$name', ({ ms, want }) => expect(formatGoTime(ms)).toBe(want));
});

describe('ProxyHealth: kube-proxy\'s /healthz and /livez semantics', () => {
  it.each([
    { name: 'starting up, nothing synced', steps: [], at: 0, healthz: 200, livez: 200 },
    { name: 'synced, nothing pending', steps: [['updated', 0]], at: 600_000, healthz: 200, livez: 200 },
    { name: 'change pending for less than 2 × syncPeriod', steps: [['updated', 0], ['queued', 1000]], at: 1000 + 59_999, healthz: 200, livez: 200 },
    { name: 'change pending for 2 × syncPeriod', steps: [['updated', 0], ['queued', 1000]], at: 1000 + 60_000, healthz: 503, livez: 503 },
    { name: 'only the oldest pending change counts', steps: [['updated', 0], ['queued', 1000], ['queued', 50_000]], at: 61_000, healthz: 503, livez: 503 },
    { name: 'a sync clears the pending change', steps: [['updated', 0], ['queued', 1000], ['updated', 2000]], at: 100_000, healthz: 200, livez: 200 },
    { name: 'a family never synced is not judged', steps: [['queued', 0]], at: 600_000, healthz: 200, livez: 200 },
  ] as { name: string; steps: ['updated' | 'queued', number][]; at: number; healthz: number; livez: number }[])('$name', ({ steps, at, healthz, livez }) => {
    const { health, clock } = setup();
    for (const [what, when] of steps) {
      clock.ms = when;
      if (what === 'updated') health.updated('IPv4');
      else health.queuedUpdate('IPv4');
    }
    clock.ms = at;
    expect(health.answer(true).code).toBe(healthz);
    expect(health.answer(false).code).toBe(livez);
  });

  it.each([
    { name: 'unknown node', node: null },
    { name: 'node being deleted', node: { deletionTimestamp: '2025-01-02T03:00:00Z', taints: [] } },
    { name: 'node tainted by the cluster autoscaler', node: { deletionTimestamp: null, taints: [{ key: 'ToBeDeletedByClusterAutoscaler' }] } },
  ])('$name: /healthz 503, /livez 200', ({ node }) => {
    const s = setup();
    s.node.value = node;
    s.health.updated('IPv4');
    expect(s.health.answer(true)).toEqual({
      code: 503,
      body: { lastUpdated: '2025-01-02T03:04:05Z', currentTime: '2025-01-02T03:04:05Z', nodeEligible: false, healthy: true, status: { IPv4: { lastUpdated: '2025-01-02T03:04:05Z', healthy: true } } },
    });
    expect(s.health.answer(false).code).toBe(200);
  });

  it('reports each family; a stale family makes the whole proxy unhealthy', () => {
    const { health, clock } = setup();
    health.updated('IPv6');
    health.updated('IPv4');
    clock.ms = 5000;
    health.queuedUpdate('IPv6');
    clock.ms = 70_000;
    expect(health.answer(true)).toEqual({
      code: 503,
      body: {
        lastUpdated: '2025-01-02T03:04:05Z', currentTime: '2025-01-02T03:05:15Z', nodeEligible: true, healthy: false,
        status: { IPv4: { lastUpdated: '2025-01-02T03:04:05Z', healthy: true }, IPv6: { lastUpdated: '2025-01-02T03:04:05Z', healthy: false } },
      },
    });
  });
});

describe('health server on loopback', () => {
  it('answers /healthz and /livez with kube-proxy\'s bodies and headers, and counts them', async () => {
    const { health, clock } = setup();
    const metrics = createProxyMetrics();
    const server = await startHealthServer({ host: '127.0.0.1', port: 0, health, metrics, logger: silentLogger() });
    open.push(server);
    health.updated('IPv4');
    clock.ms = 2000;
    const ok = await get(server.port, '/healthz');
    expect(ok).toEqual({
      status: 200, type: 'application/json', nosniff: 'nosniff',
      body: '{"lastUpdated":"2025-01-02T03:04:07Z","currentTime":"2025-01-02T03:04:07Z","nodeEligible":true,"healthy":true,"status":{"IPv4":{"lastUpdated":"2025-01-02T03:04:05Z","healthy":true}}}',
    });
    health.queuedUpdate('IPv4');
    clock.ms = 2000 + 60_000;
    const stale = await get(server.port, '/livez');
    expect(stale.status).toBe(503);
    expect(stale.body).toBe('{"lastUpdated":"2025-01-02T03:04:05Z","currentTime":"2025-01-02T03:05:07Z","healthy":false,"status":{"IPv4":{"lastUpdated":"2025-01-02T03:04:05Z","healthy":false}}}');
    expect((await get(server.port, '/healthz')).status).toBe(503);
    expect((await get(server.port, '/other')).status).toBe(404);
    const text = (await metrics.registry.metrics()).split('\n');
    expect(text).toContain('kubeproxy_proxy_healthz_total{code="200"} 1');
    expect(text).toContain('kubeproxy_proxy_healthz_total{code="503"} 1');
    expect(text).toContain('kubeproxy_proxy_livez_total{code="503"} 1');
  });

  it('rejects when the port is taken', async () => {
    const { health } = setup();
    const metrics = createProxyMetrics();
    const first = await startHealthServer({ host: '127.0.0.1', port: 0, health, metrics, logger: silentLogger() });
    open.push(first);
    await expect(startHealthServer({ host: '127.0.0.1', port: first.port, health, metrics, logger: silentLogger() })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('metrics server on loopback', () => {
  it('serves /metrics, /proxyMode, /healthz, /configz and /debug/state', async () => {
    const metrics = createProxyMetrics();
    metrics.serviceChanged(4);
    const server = await startMetricsServer({
      host: '127.0.0.1', port: 0, registry: metrics.registry, logger: silentLogger(),
      debugState: () => Promise.resolve({ virtualServers: ['TCP/10.96.0.1:443'] }), configz: () => ({ mode: 'ipvs' }),
    });
    open.push(server);
    const m = await get(server.port, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0.0.4/);
    expect(m.body.split('\n')).toContain('kubeproxy_sync_proxy_rules_service_changes_total 4');
    expect(await get(server.port, '/proxyMode')).toEqual({ status: 200, type: 'text/plain; charset=utf-8', nosniff: 'nosniff', body: 'ipvs' });
    expect((await get(server.port, '/healthz')).body).toBe('ok');
    expect(JSON.parse((await get(server.port, '/configz')).body)).toEqual({ 'kubeproxy.config.k8s.io': { mode: 'ipvs' } });
    expect(JSON.parse((await get(server.port, '/debug/state')).body)).toEqual({ virtualServers: ['TCP/10.96.0.1:443'] });
    expect((await get(server.port, '/nope')).status).toBe(404);
  });

  it('answers 500 when the state callback fails and keeps serving', async () => {
    const metrics = createProxyMetrics();
    const server = await startMetricsServer({
      host: '127.0.0.1', port: 0, registry: metrics.registry, logger: silentLogger(),
      debugState: () => Promise.reject(new Error('kernel unreachable')),
    });
    open.push(server);
    expect(await get(server.port, '/debug/state')).toMatchObject({ status: 500, body: 'kernel unreachable\n' });
    expect((await get(server.port, '/proxyMode')).body).toBe('ipvs');
    expect((await get(server.port, '/configz')).status).toBe(404);
  });
});
