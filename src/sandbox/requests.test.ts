// The whoami server and the request helper, on the host's loopback.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon } from './exec.ts';
import { sendRequests } from './requests.ts';

const server = fileURLToPath(new URL('./whoami-server.ts', import.meta.url));
const port = 20000 + (process.pid % 20000);
let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon(process.execPath, [server, '--name', 'alpha', '--port', String(port), '--host', '127.0.0.1']);
});
afterAll(async () => { await daemon.stop(); });

describe('whoami server and requests', () => {
  it('answers TCP requests, each on a new connection', async () => {
    const r = await sendRequests({ proto: 'tcp', host: '127.0.0.1', port, count: 3, timeoutMs: 2000 });
    expect(r).toEqual([1, 2, 3].map(() => ({ ok: true, answer: "I'm alpha" })));
  });

  it('answers UDP datagrams', async () => {
    const r = await sendRequests({ proto: 'udp', host: '127.0.0.1', port, count: 2, timeoutMs: 2000 });
    expect(r).toEqual([{ ok: true, answer: "I'm alpha" }, { ok: true, answer: "I'm alpha" }]);
  });

  it('reports the client address it saw', async () => {
    const [r] = await sendRequests({ proto: 'tcp', host: '127.0.0.1', port, count: 1, timeoutMs: 2000, message: '?client' });
    expect(r?.ok && r.answer).toMatch(/^I'm alpha; client 127\.0\.0\.1:\d+$/);
  });

  it('speaks enough HTTP for curl', async () => {
    const [r] = await sendRequests({ proto: 'tcp', host: '127.0.0.1', port, count: 1, timeoutMs: 2000, message: 'GET / HTTP/1.1' });
    expect(r?.ok && r.answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nI'm alpha$/);
  });

  it('reports refused connections and timeouts as results, not exceptions', async () => {
    const [refused] = await sendRequests({ proto: 'tcp', host: '127.0.0.1', port: 1, count: 1, timeoutMs: 2000 });
    expect(refused).toEqual({ ok: false, error: 'ECONNREFUSED' });
    const [silent] = await sendRequests({ proto: 'udp', host: '127.0.0.1', port: 9, count: 1, timeoutMs: 200 });
    expect(silent?.ok).toBe(false);
  });

  it('caps the number of requests', async () => {
    const r = await sendRequests({ proto: 'tcp', host: '127.0.0.1', port, count: 0, timeoutMs: 100 });
    expect(r).toEqual([]);
  });
});

describe('held connections', () => {
  it('keeps one connection open and answers each line', async () => {
    const { holdConnection } = await import('./requests.ts');
    const held = await holdConnection('127.0.0.1', port);
    expect(await held.ask()).toBe("I'm alpha");
    expect(await held.ask()).toBe("I'm alpha");
    held.close('reset');
  });
});
