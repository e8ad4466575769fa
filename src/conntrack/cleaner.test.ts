import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { KernelError } from '../netlink/errors.ts';
import { service, slice } from '../model/builders.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import type { ClusterSnapshot } from '../model/types.ts';
import { createLogger, silentLogger } from '../observability/logger.ts';
import { ConntrackCleaner } from './cleaner.ts';
import type { ConntrackClient } from './client.ts';
import { PartialDeleteError } from './errors.ts';
import { FakeConntrack } from './fake-client.ts';
import type { Family, Flow, FlowFilter, FlowProtocol } from './types.ts';

let port = 42000;
function flow(dst: string, dport: number, backend: string, bport: number): Flow {
  const family: Family = dst.includes(':') ? 'inet6' : 'inet';
  const src = family === 'inet' ? '10.1.0.1' : 'fd00:1::1';
  const sport = port++;
  return { family, protocol: 'udp', timeout: 30, original: { src, dst, srcPort: sport, dstPort: dport }, reply: { src: backend, dst: src, srcPort: bport, dstPort: sport } };
}

/** kube-system/dns: UDP 53, dual-stack, endpoints 10.244.0.11 and fd00:244::11 on 5353. */
function dnsSnapshot(opts: { v6?: boolean } = {}): ClusterSnapshot {
  const v6 = opts.v6 ?? true;
  const { snapshot } = buildSnapshot(
    [service('kube-system/dns', v6
      ? { clusterIPs: ['10.96.0.10', 'fd00:96::10'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }
      : { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] })],
    [
      slice('kube-system/dns', { ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }], endpoints: [{ ip: '10.244.0.11' }] }),
      ...(v6 ? [slice('kube-system/dns', { ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }], endpoints: [{ ip: 'fd00:244::11' }] })] : []),
    ],
  );
  return snapshot;
}

async function seeded(...flows: Flow[]): Promise<FakeConntrack> {
  const fake = new FakeConntrack();
  for (const f of flows) await fake.insert(f);
  return fake;
}

/** Wraps a client, counting lists per family and failing chosen calls. */
class Wrapped implements ConntrackClient {
  readonly lists: string[] = [];
  private readonly inner: ConntrackClient;
  failList: Partial<Record<Family, Error>> = {};
  failDelete: Error | null = null;
  constructor(inner: ConntrackClient) { this.inner = inner; }
  list(family: Family, protocol: FlowProtocol): Promise<Flow[]> {
    this.lists.push(family);
    const err = this.failList[family];
    return err ? Promise.reject(err) : this.inner.list(family, protocol);
  }
  delete(filters: readonly FlowFilter[]): Promise<number> {
    return this.failDelete ? Promise.reject(this.failDelete) : this.inner.delete(filters);
  }
}

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString('utf8')); cb(); } });
  const logger = createLogger({ level: 'debug', destination });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('ConntrackCleaner', () => {
  it('deletes the stale UDP flows of both families and keeps the rest', async () => {
    const keep = [flow('10.96.0.10', 53, '10.244.0.11', 5353), flow('fd00:96::10', 53, 'fd00:244::11', 5353), flow('10.96.0.99', 53, '10.244.0.99', 5353)];
    const stale = [flow('10.96.0.10', 53, '10.244.0.99', 5353), flow('10.96.0.10', 53, '10.244.0.99', 5353), flow('fd00:96::10', 53, 'fd00:244::99', 5353)];
    const fake = await seeded(...keep, ...stale);
    const mark = fake.writes.length;
    let t = 100;
    const result = await new ConntrackCleaner(fake, silentLogger(), { now: () => (t += 5) }).cleanup(dnsSnapshot());
    expect(result.deleted).toBe(3);
    expect(result.errors).toEqual([]);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.families).toEqual([
      { family: 'inet', skipped: false, listed: 4, stale: 2, deleted: 2, durationMs: expect.any(Number), error: null },
      { family: 'inet6', skipped: false, listed: 2, stale: 1, deleted: 1, durationMs: expect.any(Number), error: null },
    ]);
    expect(fake.writes.slice(mark)).toEqual([
      { op: 'delete', object: 'inet udp orig-dst=10.96.0.10 orig-port-dst=53 reply-src=10.244.0.99 reply-port-src=5353', deleted: 2 },
      { op: 'delete', object: 'inet6 udp orig-dst=fd00:96::10 orig-port-dst=53 reply-src=fd00:244::99 reply-port-src=5353', deleted: 1 },
    ]);
    expect(fake.flows()).toEqual(keep);
  });

  it('writes nothing on a second run (converged)', async () => {
    const fake = await seeded(flow('10.96.0.10', 53, '10.244.0.99', 5353));
    const cleaner = new ConntrackCleaner(fake, silentLogger());
    expect((await cleaner.cleanup(dnsSnapshot())).deleted).toBe(1);
    const mark = fake.writes.length;
    expect((await cleaner.cleanup(dnsSnapshot())).deleted).toBe(0);
    expect(fake.writes.slice(mark)).toEqual([]);
  });

  it('does not list a family without UDP Service ports with serving endpoints', async () => {
    const client = new Wrapped(await seeded(flow('fd00:96::10', 53, 'fd00:244::99', 5353)));
    const result = await new ConntrackCleaner(client, silentLogger()).cleanup(dnsSnapshot({ v6: false }));
    expect(client.lists).toEqual(['inet']);
    expect(result.families[1]).toMatchObject({ family: 'inet6', skipped: true, listed: 0, deleted: 0 });
  });

  it('cleans with the flows read when the dump was interrupted, and reports it', async () => {
    const fake = await seeded(flow('10.96.0.10', 53, '10.244.0.99', 5353), flow('10.96.0.10', 53, '10.244.0.98', 5353));
    fake.interruptNextListAfter = 1;
    const result = await new ConntrackCleaner(fake, silentLogger(), { families: ['inet'] }).cleanup(dnsSnapshot());
    expect(result.deleted).toBe(1);
    expect(result.errors).toEqual([expect.objectContaining({ code: 'EINTR' })]);
    expect(fake.flows().map((f) => f.reply.src)).toEqual(['10.244.0.98']);
  });

  it('never rejects: a failed list is logged and returned, and the other family still runs', async () => {
    const client = new Wrapped(await seeded(flow('fd00:96::10', 53, 'fd00:244::99', 5353)));
    client.failList.inet = new KernelError('EPERM', 'list', 'inet/udp');
    const { logger, lines } = capture();
    const result = await new ConntrackCleaner(client, logger).cleanup(dnsSnapshot());
    expect(result.deleted).toBe(1);
    expect(result.errors).toEqual([client.failList.inet]);
    expect(result.families[0]).toMatchObject({ family: 'inet', error: client.failList.inet, deleted: 0 });
    const failed = lines().find((l) => l.msg === 'conntrack cleanup failed');
    expect(failed).toMatchObject({ level: 'error', component: 'conntrack-cleaner', ipFamily: 'IPv4', err: expect.objectContaining({ message: 'list inet/udp: EPERM' }) as unknown });
  });

  it('counts what a failed delete removed', async () => {
    const client = new Wrapped(await seeded(flow('10.96.0.10', 53, '10.244.0.99', 5353)));
    client.failDelete = new PartialDeleteError('EPERM', 'delete', '1 filters', 4);
    const result = await new ConntrackCleaner(client, silentLogger(), { families: ['inet'] }).cleanup(dnsSnapshot());
    expect(result).toMatchObject({ deleted: 4, errors: [client.failDelete] });
  });

  it('turns anything thrown into a returned error', async () => {
    const client = new Wrapped(new FakeConntrack());
    client.failList.inet = new TypeError('boom');
    const result = await new ConntrackCleaner(client, silentLogger(), { families: ['inet'] }).cleanup(dnsSnapshot());
    expect(result.errors).toEqual([client.failList.inet]);
  });

  it('logs one info line per family that deleted flows', async () => {
    const { logger, lines } = capture();
    await new ConntrackCleaner(await seeded(flow('10.96.0.10', 53, '10.244.0.99', 5353)), logger).cleanup(dnsSnapshot());
    expect(lines().filter((l) => l.level === 'info')).toEqual([
      expect.objectContaining({ msg: 'conntrack cleanup done', ipFamily: 'IPv4', listed: 1, stale: 1, deleted: 1 }),
    ]);
  });
});
