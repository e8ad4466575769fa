// The metrics server (default 127.0.0.1:10249, --metrics-bind-address):
// /metrics (Prometheus text), /proxyMode (`ipvs`), /healthz (a plain ping, as
// kube-proxy's generic handler), /configz (the configuration, if given) and
// /debug/state (JSON from a callback: desired vs actual kernel state).

import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import { type Listening, listen } from './http-listen.ts';

/** Options of startMetricsServer. */
export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** JSON for /debug/state; 404 when absent. May be async; a rejection answers 500. */
  readonly debugState?: (query: URLSearchParams) => unknown;
  /** Configuration for /configz; 404 when absent. */
  readonly configz?: () => unknown;
}

function send(res: ServerResponse, code: number, body: string, type: string): void {
  res.writeHead(code, { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

async function route(opts: MetricsServerOptions, path: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
  switch (path) {
    case '/metrics':
      return send(res, 200, await opts.registry.metrics(), opts.registry.contentType);
    case '/proxyMode':
      return send(res, 200, 'ipvs', 'text/plain; charset=utf-8');
    case '/healthz':
      return send(res, 200, 'ok', 'text/plain; charset=utf-8');
    case '/configz':
      if (opts.configz) return send(res, 200, JSON.stringify({ 'kubeproxy.config.k8s.io': opts.configz() }), 'application/json');
      break;
    case '/debug/state':
      if (opts.debugState) return send(res, 200, JSON.stringify(await opts.debugState(query)), 'application/json');
      break;
  }
  send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
}

/**
 * Starts the metrics server. Rejects with the listen error; a failing callback
 * answers 500 with its message and is logged, the server keeps running.
 */
export function startMetricsServer(opts: MetricsServerOptions): Promise<Listening> {
  const log = opts.logger.child({ component: 'metrics-server' });
  return listen(opts.host, opts.port, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    route(opts, path, url.searchParams, res).catch((err: unknown) => {
      log.warn({ err, path }, 'metrics server request failed');
      if (!res.headersSent) send(res, 500, `${err instanceof Error ? err.message : String(err)}\n`, 'text/plain; charset=utf-8');
      else res.end();
    });
  });
}
