// The health server (default 0.0.0.0:10256, --healthz-bind-address): /healthz
// and /livez with kube-proxy's status codes, headers and JSON bodies, each
// answer counted in kubeproxy_proxy_{healthz,livez}_total{code}.

import type { ServerResponse } from 'node:http';
import type { Logger } from './logger.ts';
import { type Listening, listen } from './http-listen.ts';
import type { ProxyHealth } from './proxy-health.ts';

/** Where answers are counted (ProxyMetrics has both). */
export interface ProbeCounter {
  healthzServed(code: number): void;
  livezServed(code: number): void;
}

/** Options of startHealthServer. */
export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly health: ProxyHealth;
  readonly metrics: ProbeCounter;
  readonly logger: Logger;
}

function send(res: ServerResponse, code: number, body: string, type: string): void {
  res.writeHead(code, { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

/**
 * Starts the health server. Rejects with the listen error (e.g. EADDRINUSE);
 * the caller decides whether that is fatal (bindAddressHardFail).
 */
export function startHealthServer(opts: HealthServerOptions): Promise<Listening> {
  const log = opts.logger.child({ component: 'health-server' });
  return listen(opts.host, opts.port, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/healthz' && path !== '/livez') {
      send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
      return;
    }
    const withNode = path === '/healthz';
    const { code, body } = opts.health.answer(withNode);
    if (withNode) opts.metrics.healthzServed(code);
    else opts.metrics.livezServed(code);
    log.debug({ path, code }, 'probe answered');
    send(res, code, JSON.stringify(body), 'application/json');
  });
}
