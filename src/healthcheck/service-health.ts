// Health check node ports (kube-proxy's ServiceHealthServer,
// pkg/proxy/healthcheck/service_health.go): for each LoadBalancer Service with
// externalTrafficPolicy Local, an HTTP server on its healthCheckNodePort that
// tells the cloud load balancer whether this node has local ready endpoints.
// 200 when it has some and the proxy is healthy, else 503; the header
// X-Load-Balancing-Endpoint-Weight carries the count.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Listening, listen } from '../observability/http-listen.ts';
import type { Logger } from '../observability/logger.ts';

/** Options of ServiceHealthServer. */
export interface ServiceHealthOptions {
  /** Addresses to listen on per Service (kube-proxy: the node IPs nodePortAddresses select, or 0.0.0.0). */
  readonly bindAddresses: readonly string[];
  /** The proxier's health (ProxyHealth.isHealthy): serviceProxyHealthy in the body. */
  readonly proxyHealthy: () => boolean;
  readonly logger: Logger;
}

/** A listener that could not be opened (kube-proxy emits FailedToStartServiceHealthcheck). */
export interface ListenFailure {
  readonly service: string;
  readonly port: number;
  readonly error: Error;
}

/** What one sync changed. */
export interface ServiceHealthSync {
  readonly opened: readonly string[];
  readonly closed: readonly string[];
  readonly failed: readonly ListenFailure[];
}

interface Instance {
  readonly port: number;
  readonly listeners: Listening[];
}

/** The JSON body kube-proxy writes (tab-indented, no trailing newline). */
export function serviceHealthBody(service: string, localEndpoints: number, proxyHealthy: boolean): string {
  const [namespace = '', name = ''] = service.split('/');
  return [
    '{',
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(namespace)},`,
    `\t\t"name": ${JSON.stringify(name)}`,
    '\t},',
    `\t"localEndpoints": ${localEndpoints},`,
    `\t"serviceProxyHealthy": ${String(proxyHealthy)}`,
    '}',
  ].join('\n');
}

/** One HTTP server (per bind address) per health-checked Service. */
export class ServiceHealthServer {
  readonly #opts: ServiceHealthOptions;
  readonly #log: Logger;
  readonly #services = new Map<string, Instance>();
  #counts: ReadonlyMap<string, number> = new Map();

  constructor(opts: ServiceHealthOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'service-health' });
  }

  /**
   * Makes the listeners match `services` (`namespace/name` → healthCheckNodePort)
   * and the answers match `localCounts` (local ready endpoints per Service,
   * absent = 0). Closes Services that went away or changed port, opens new
   * ones; a port that cannot be bound is reported in `failed` and retried on
   * the next sync. Never rejects.
   */
  async sync(services: ReadonlyMap<string, number>, localCounts: ReadonlyMap<string, number>): Promise<ServiceHealthSync> {
    this.#counts = localCounts;
    const closed: string[] = [];
    for (const [svc, inst] of [...this.#services]) {
      if (services.get(svc) === inst.port) continue;
      this.#services.delete(svc);
      await Promise.all(inst.listeners.map((l) => l.close()));
      closed.push(svc);
      this.#log.info({ service: svc, port: inst.port }, 'closed health check node port');
    }
    const opened: string[] = [];
    const failed: ListenFailure[] = [];
    for (const [svc, port] of services) {
      if (this.#services.has(svc)) continue;
      try {
        this.#services.set(svc, { port, listeners: await this.#listenAll(svc, port) });
        opened.push(svc);
        this.#log.info({ service: svc, port }, 'opened health check node port');
      } catch (err) {
        // Not instanceof: errors from node:net may come from another realm (jest's VM).
        const error = typeof err === 'object' && err !== null && 'message' in err ? err as Error : new Error(String(err));
        failed.push({ service: svc, port, error });
        this.#log.error({ err: error, service: svc, port }, 'failed to start service health check');
      }
    }
    return { opened, closed, failed };
  }

  /** Ports currently open, by Service. */
  ports(): Map<string, number> {
    return new Map([...this.#services].map(([svc, inst]) => [svc, inst.port]));
  }

  /** Closes every listener. */
  async close(): Promise<void> {
    const all = [...this.#services.values()];
    this.#services.clear();
    await Promise.all(all.flatMap((i) => i.listeners.map((l) => l.close())));
  }

  async #listenAll(svc: string, port: number): Promise<Listening[]> {
    const listeners: Listening[] = [];
    try {
      for (const host of this.#opts.bindAddresses) listeners.push(await listen(host, port, (req, res) => this.#answer(svc, req, res)));
    } catch (err) {
      // Close what was opened so the port can be retried (or taken over) later.
      await Promise.all(listeners.map((l) => l.close()));
      throw err;
    }
    return listeners;
  }

  #answer(svc: string, _req: IncomingMessage, res: ServerResponse): void {
    const count = this.#counts.get(svc) ?? 0;
    const healthy = this.#opts.proxyHealthy();
    res.writeHead(count !== 0 && healthy ? 200 : 503, {
      'Content-Type': 'application/json',
      'X-Content-Type-Options': 'nosniff',
      'X-Load-Balancing-Endpoint-Weight': String(count),
    });
    res.end(serviceHealthBody(svc, count, healthy));
  }
}
