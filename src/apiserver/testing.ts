// Test helpers for the local API server: plain HTTPS requests and watch
// readers with bounded waits. Used by tests only.

import { request } from 'node:https';
import type { DevApiServer } from './server.ts';

/** An answer: HTTP status, parsed JSON body (or text), headers. */
export interface Answer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly contentType: string;
}

/** Options of one request. */
export interface CallOptions {
  /** Bearer token; null sends none (default: the server's). */
  readonly token?: string | null;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

/** One HTTPS request to the server, verifying its certificate against its CA. Rejects on network errors or timeout. */
export function call(server: DevApiServer, method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const token = opts.token === undefined ? server.token : opts.token;
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(`${server.url}${path}`, {
      method, ca: server.tls.caCert, timeout: opts.timeoutMs ?? 5000, agent: false,
      headers: {
        ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
        ...(payload !== undefined ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* keep text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed, contentType: String(res.headers['content-type'] ?? '') });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A watch stream read line by line. */
export interface WatchReader {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly events: any[];
  /** Resolves with all events once at least `n` arrived; rejects after `timeoutMs`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  waitFor(n: number, timeoutMs?: number): Promise<any[]>;
  /** Resolves when the server ended the stream; rejects after `timeoutMs`. */
  ended(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens a watch (the path includes the query) and resolves once the response status is known. */
export function openWatch(server: DevApiServer, path: string): Promise<WatchReader> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: 'GET', ca: server.tls.caCert, agent: false, headers: { authorization: `Bearer ${server.token}` } }, (res) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const events: any[] = [];
      let buf = '';
      let done = false;
      const waiters = new Set<() => void>();
      const poke = (): void => { for (const w of [...waiters]) w(); };
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
        poke();
      });
      const finish = (): void => { done = true; poke(); };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      const wait = (cond: () => boolean, timeoutMs: number, what: string): Promise<void> => new Promise((ok, fail) => {
        if (cond()) { ok(); return; }
        const t = setTimeout(() => { waiters.delete(check); fail(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.map((e: { type: string }) => e.type))}`)); }, timeoutMs);
        const check = (): void => { if (cond()) { clearTimeout(t); waiters.delete(check); ok(); } };
        waiters.add(check);
      });
      resolve({
        status: res.statusCode ?? 0,
        events,
        waitFor: async (n, timeoutMs = 3000) => { await wait(() => events.length >= n, timeoutMs, `${n} events`); return events as unknown[]; },
        ended: (timeoutMs = 3000) => wait(() => done, timeoutMs, 'the end of the stream'),
        close: () => { req.destroy(); },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A Service manifest for tests (no namespace unless given: the path's applies). */
export function svc(name: string, extra: { namespace?: string; labels?: Record<string, string>; clusterIP?: string; port?: number } = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { ...(extra.clusterIP ? { clusterIP: extra.clusterIP } : {}), ports: [{ name: 'http', port: extra.port ?? 80 }] },
  };
}

/** An EndpointSlice manifest for tests. */
export function eps(name: string, service: string, ips: readonly string[], extra: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name, ...(extra.namespace ? { namespace: extra.namespace } : {}),
      labels: { 'kubernetes.io/service-name': service, ...(extra.labels ?? {}) },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}
