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

/** A long-lived TCP connection to a whoami server in hold mode. */
export interface HeldConnection {
  /** Sends a line and resolves to the answer line (rejects after `timeoutMs`). */
  ask(timeoutMs?: number): Promise<string>;
  /** Closes with FIN (graceful) or RST (reset: IPVS expires the entry in seconds, not minutes). */
  close(how?: 'fin' | 'reset'): void;
}

/** Opens a held connection; resolves after the first answer. Rejects on connect failure or timeout. */
export function holdConnection(host: string, port: number, timeoutMs = 3000): Promise<HeldConnection> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buffer = '';
    const waiters: ((line: string) => void)[] = [];
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        waiters.shift()?.(line);
      }
    });
    const held: HeldConnection = {
      ask(ms = 3000) {
        return new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error('no answer on held connection')), ms);
          waiters.push((line) => { clearTimeout(t); res(line); });
          sock.write('again\n');
        });
      },
      close(how = 'fin') {
        if (how === 'reset') sock.resetAndDestroy(); else sock.end();
      },
    };
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('ETIMEDOUT')); }, timeoutMs);
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('connect', () => {
      waiters.push(() => { clearTimeout(timer); resolve(held); });
      sock.write('?hold\n');
    });
  });
}
