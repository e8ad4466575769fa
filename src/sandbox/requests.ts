import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What one request got back. */
export type RequestResult = { ok: true; answer: string } | { ok: false; error: string };

/** A bounded series of requests to one address. */
export interface RequestSpec {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  /** Number of requests, each on a new connection or socket (at most 10,000). */
  count: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Pause between requests. */
  intervalMs?: number;
  /** First line sent; the whoami server answers `?client` with the source address it saw. */
  message?: string;
}

/**
 * Sends `spec.count` requests one after another and collects each answer (trimmed)
 * or error code. Never rejects: a failed request is a result with `ok: false`.
 */
export async function sendRequests(spec: RequestSpec): Promise<RequestResult[]> {
  const count = Math.min(Math.max(0, Math.floor(spec.count)), 10_000);
  const results: RequestResult[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && spec.intervalMs) await sleep(spec.intervalMs);
    results.push(spec.proto === 'tcp' ? await tcpRequest(spec) : await udpRequest(spec));
  }
  return results;
}

function tcpRequest(spec: RequestSpec): Promise<RequestResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (r: RequestResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const sock = connect({ host: spec.host, port: spec.port });
    const timer = setTimeout(() => finish({ ok: false, error: 'ETIMEDOUT' }), spec.timeoutMs);
    sock.on('connect', () => sock.write(`${spec.message ?? 'hello'}\n`));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish({ ok: true, answer: Buffer.concat(chunks).toString('utf8').trim() }));
    sock.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
  });
}

function udpRequest(spec: RequestSpec): Promise<RequestResult> {
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(spec.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (r: RequestResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'ETIMEDOUT' }), spec.timeoutMs);
    sock.on('message', (msg) => finish({ ok: true, answer: msg.toString('utf8').trim() }));
    sock.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
    sock.send(`${spec.message ?? 'hello'}\n`, spec.port, spec.host);
  });
}
