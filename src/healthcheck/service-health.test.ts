import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { silentLogger } from '../observability/logger.ts';
import { ServiceHealthServer, serviceHealthBody } from './service-health.ts';

const servers: ServiceHealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A free loopback port (bind 0, read it, release it). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function probe(port: number): Promise<{ status: number; weight: string | null; body: string } | 'refused'> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, weight: res.headers.get('x-load-balancing-endpoint-weight'), body: await res.text() };
  } catch {
    return 'refused';
  }
}

function make(healthy = { value: true }): ServiceHealthServer {
  const s = new ServiceHealthServer({ bindAddresses: ['127.0.0.1'], proxyHealthy: () => healthy.value, logger: silentLogger() });
  servers.push(s);
  return s;
}

describe('serviceHealthBody', () => {
  it('is kube-proxy\'s tab-indented JSON', () => {
    expect(serviceHealthBody('default/web', 2, true)).toBe('{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}');
    expect(JSON.parse(serviceHealthBody('ns/a', 0, false))).toEqual({ service: { namespace: 'ns', name: 'a' }, localEndpoints: 0, serviceProxyHealthy: false });
  });
});

describe('ServiceHealthServer on loopback', () => {
  it.each([
    { name: 'local endpoints and a healthy proxy', count: 2, healthy: true, status: 200 },
    { name: 'no local endpoint', count: 0, healthy: true, status: 503 },
    { name: 'an unhealthy proxy', count: 3, healthy: false, status: 503 },
  ])('answers for $name', async ({ count, healthy, status }) => {
    const port = await freePort();
    const s = make({ value: healthy });
    expect(await s.sync(new Map([['default/web', port]]), new Map([['default/web', count]]))).toEqual({ opened: ['default/web'], closed: [], failed: [] });
    expect(await probe(port)).toEqual({ status, weight: String(count), body: serviceHealthBody('default/web', count, healthy) });
  });

  it('opens and closes listeners as Services come and go, and follows count changes', async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const s = make();
    await s.sync(new Map([['ns/a', p1], ['ns/b', p2]]), new Map([['ns/a', 1]]));
    expect(await probe(p1)).toMatchObject({ status: 200, weight: '1' });
    expect(await probe(p2)).toMatchObject({ status: 503, weight: '0' });
    // b goes away, a moves to a new port, counts change.
    expect(await s.sync(new Map([['ns/a', p3]]), new Map([['ns/a', 4]]))).toEqual({ opened: ['ns/a'], closed: ['ns/a', 'ns/b'], failed: [] });
    expect(await probe(p1)).toBe('refused');
    expect(await probe(p2)).toBe('refused');
    expect(await probe(p3)).toMatchObject({ status: 200, weight: '4' });
    expect(s.ports()).toEqual(new Map([['ns/a', p3]]));
    // Same Services again: nothing is reopened.
    expect(await s.sync(new Map([['ns/a', p3]]), new Map())).toEqual({ opened: [], closed: [], failed: [] });
    expect(await probe(p3)).toMatchObject({ status: 503, weight: '0' });
  });

  it('reports a port it cannot bind and retries it on the next sync', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const s = make();
    const first = await s.sync(new Map([['ns/a', port]]), new Map([['ns/a', 1]]));
    expect(first.opened).toEqual([]);
    expect(first.failed).toMatchObject([{ service: 'ns/a', port, error: { code: 'EADDRINUSE' } }]);
    await new Promise<void>((r) => blocker.close(() => r()));
    expect((await s.sync(new Map([['ns/a', port]]), new Map([['ns/a', 1]]))).opened).toEqual(['ns/a']);
    expect(await probe(port)).toMatchObject({ status: 200 });
  });
});
