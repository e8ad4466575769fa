// SPDX-License-Identifier: Apache-2.0
// deploy/grafana-dashboard.json is well-formed, covers what operators need, and
// every metric it queries is one ipvs-proxy really exports (same registry the
// agent builds, traffic metrics on), with label names that metric has.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Histogram } from 'prom-client';
import { createProxyMetrics } from '../../src/observability/metrics.ts';
import { repoRoot } from './render.ts';

interface Target { expr: string; refId: string }
interface Panel { id: number; type: string; title: string; targets?: Target[]; gridPos: { x: number; y: number; w: number; h: number } }
interface Variable { name: string; type: string; query?: string | { query: string } }
interface Dashboard { title: string; uid: string; panels: Panel[]; templating: { list: Variable[] } }

const text = readFileSync(join(repoRoot, 'deploy', 'grafana-dashboard.json'), 'utf8');
const dashboard = JSON.parse(text) as Dashboard;
const exprs = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr }))),
  ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `variable ${v.name}`, expr: typeof v.query === 'string' ? v.query : v.query?.query ?? '' })),
];

/** Our metric names in a PromQL expression: histogram series resolve to their histogram. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:kubeproxy|ipvsproxy)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

/** Label names used in `by (...)` clauses. */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter((l) => l !== ''));
}

/** Label names used in `{...}` selectors right after a metric name. */
function labelNames(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b((?:kubeproxy|ipvsproxy)_[a-z0-9_]+)\{([^}]*)\}/g)) {
    out.push({ metric: m[1]!.replace(/_(bucket|sum|count)$/, ''), labels: [...m[2]!.matchAll(/([a-z_]+)\s*(?:=~|!=|!~|=)/g)].map((l) => l[1]!) });
  }
  return out;
}

const registry = createProxyMetrics({ traffic: { enabled: true, maxSeries: 10 } }).registry;
const series = Object.fromEntries(registry.getMetricsAsArray().map((m) => [m.name, m]));
const labelsOf = (name: string): string[] => [
  'instance', 'job', // added by Prometheus when scraping
  ...((series[name] as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? []),
  ...(series[name] instanceof Histogram ? ['le'] : []),
];

describe('deploy/grafana-dashboard.json', () => {
  it('is a Grafana dashboard with unique panel ids and titles', () => {
    expect(dashboard).toMatchObject({ title: 'ipvs-proxy', uid: 'ipvs-proxy' });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = dashboard.panels.map((p) => p.title);
    expect(new Set(titles).size).toBe(titles.length);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it.each(exprs.map((e) => ({ name: e.where, ...e })))('$name queries only metrics the registry has', ({ expr }) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect({ metric: n, exported: n in series }).toEqual({ metric: n, exported: true });
  });

  it.each(exprs.map((e) => ({ name: e.where, ...e })))('$name selects only labels its metric has', ({ expr }) => {
    for (const { metric, labels } of labelNames(expr)) {
      for (const l of labels) expect({ metric, label: l, known: labelsOf(metric).includes(l) }).toEqual({ metric, label: l, known: true });
    }
    const available = new Set(metricNames(expr).flatMap(labelsOf));
    for (const l of groupingLabels(expr)) expect({ by: l, known: available.has(l) }).toEqual({ by: l, known: true });
  });

  it.each([
    { name: 'sync latency', metric: 'kubeproxy_sync_proxy_rules_duration_seconds' },
    { name: 'network programming latency', metric: 'kubeproxy_network_programming_duration_seconds' },
    { name: 'kernel ops', metric: 'ipvsproxy_kernel_ops_total' },
    { name: 'drift repairs', metric: 'ipvsproxy_drift_repairs_total' },
    { name: 'per-Service traffic', metric: 'ipvsproxy_service_connections_total' },
    { name: 'per-Service bytes', metric: 'ipvsproxy_service_bytes_total' },
  ])('has a panel for $name', ({ metric }) => {
    const panels = dashboard.panels.filter((p) => (p.targets ?? []).some((t) => metricNames(t.expr).includes(metric)));
    expect(panels.map((p) => p.title)).not.toEqual([]);
  });

  it('lays panels out without overlap on the 24-column grid', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          expect({ cell: key, taken: cells.has(key), panel: p.title }).toEqual({ cell: key, taken: false, panel: p.title });
          cells.add(key);
        }
      }
    }
  });
});
