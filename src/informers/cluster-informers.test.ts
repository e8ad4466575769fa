import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointSlices, nodes, services } from '../apiserver/resources.ts';
import { DevApiServer } from '../apiserver/server.ts';
import { eps, svc } from '../apiserver/testing.ts';
import { metaString } from '../apiserver/types.ts';
import { silentLogger } from '../observability/logger.ts';
import { Backoff } from './backoff.ts';
import { loadClusterAccess } from './cluster-access.ts';
import { type ClusterChangeHandler, ClusterInformers } from './cluster-informers.ts';
import type { Retained, RetainedService } from './retain.ts';

/** What the consumer saw, as short strings: `svc+ ns/name`, `svc~ ns/name@rv`, `svc- ns/name`. */
class Recorder implements ClusterChangeHandler {
  readonly log: string[] = [];
  synced = 0;
  syncedAfter = -1;
  readonly triggers: (number | null)[] = [];
  readonly serviceOld: (RetainedService | null)[] = [];
  private id(o: { metadata?: { namespace?: string; name?: string } } | null): string {
    return `${o?.metadata?.namespace ?? ''}/${o?.metadata?.name ?? ''}`;
  }
  private record(kind: string, old: Retained | null, cur: { metadata?: { namespace?: string; name?: string; resourceVersion?: string } } | null): void {
    if (!old) this.log.push(`${kind}+ ${this.id(cur)}`);
    else if (!cur) this.log.push(`${kind}- ${old.namespace}/${old.name}`);
    else this.log.push(`${kind}~ ${this.id(cur)}@${old.resourceVersion}>${cur.metadata?.resourceVersion ?? ''}`);
  }
  onServiceChange(old: RetainedService | null, cur: k8s.V1Service | null): void { this.serviceOld.push(old); this.record('svc', old, cur); }
  onEndpointSliceChange(old: Retained | null, cur: k8s.V1EndpointSlice | null, t: number | null): void { this.triggers.push(t); this.record('eps', old, cur); }
  onNodeChange(node: k8s.V1Node | null): void { this.log.push(`node ${node?.metadata?.name ?? 'null'}`); }
  onSynced(): void { this.synced += 1; this.syncedAfter = this.log.length; }
}

async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: DevApiServer;
let dir: string;
let kubeconfig: string;
let informers: ClusterInformers | undefined;

beforeAll(async () => {
  server = await DevApiServer.create({ bookmarkIntervalMs: 100 });
  await server.start();
  dir = mkdtempSync(join(tmpdir(), 'informers-test-'));
  kubeconfig = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
});

afterEach(async () => {
  await informers?.stop();
  informers = undefined;
  // Leave an empty cluster for the next test.
  for (const r of [services, endpointSlices, nodes]) {
    for (const o of server.store.list(`${r.group}/${r.plural}`)) server.registry.delete(r, metaString(o, 'namespace'), metaString(o, 'name'));
  }
  if (!server.listening) await server.start();
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until all three informers have their watch open on the server. */
async function watching(): Promise<void> {
  await until(() => server.watchCount === 3, 3000, 'three open watches');
}

function startInformers(rec: Recorder, nodeName = 'node-a'): ClusterInformers {
  informers = new ClusterInformers({
    kubeConfig: loadClusterAccess({ kubeconfig }), nodeName, handler: rec, logger: silentLogger(),
    backoff: () => new Backoff(50, 400),
  });
  informers.start();
  return informers;
}

const create = (r: typeof services, ns: string, o: Record<string, unknown>): void => { server.registry.create(r, ns, o as never); };
const lists = (prefix: string): number => server.requests.filter((q) => !q.watch && q.method === 'GET' && q.path.startsWith(prefix)).length;

describe('ClusterInformers against the local API server', () => {
  it('signals synced once, after Services and EndpointSlices have both been listed', async () => {
    create(services, 'default', svc('web'));
    create(endpointSlices, 'default', eps('web-1', 'web', ['10.244.0.11']));
    server.failLists(2, 500, '/apis/discovery.k8s.io');
    const rec = new Recorder();
    const inf = startInformers(rec);
    await until(() => rec.log.includes('svc+ default/web'), 3000, 'the Service');
    expect(inf.synced).toBe(false);
    expect(await inf.waitForSync(3000)).toBe(true);
    expect(rec.synced).toBe(1);
    expect(rec.log.slice(0, rec.syncedAfter)).toEqual(expect.arrayContaining(['svc+ default/web', 'eps+ default/web-1']));
    expect(inf.stats().endpointSlices.errors).toBe(2);
  });

  it('reports adds, updates with the old object, and deletes', async () => {
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    create(services, 'default', svc('web'));
    await until(() => rec.log.length >= 1);
    const rv1 = metaString(server.registry.get(services, 'default', 'web'), 'resourceVersion');
    server.registry.patch(services, 'default', 'web', 'merge', { metadata: { labels: { v: '2' } } });
    const rv2 = metaString(server.registry.get(services, 'default', 'web'), 'resourceVersion');
    server.registry.delete(services, 'default', 'web');
    await until(() => rec.log.length >= 3);
    expect(rec.log).toEqual(['svc+ default/web', `svc~ default/web@${rv1}>${rv2}`, 'svc- default/web']);
    // `old` is the small record kept of the previous version, not the whole object.
    expect(rec.serviceOld[1]).toEqual({ namespace: 'default', name: 'web', resourceVersion: rv1, healthCheckNodePort: undefined });
    expect(rec.serviceOld[2]).toEqual({ namespace: 'default', name: 'web', resourceVersion: rv2, healthCheckNodePort: undefined });
  });

  it('exposes the last-change-trigger-time of each slice change', async () => {
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    create(endpointSlices, 'default', eps('web-1', 'web', ['10.244.0.11'], { annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-11-21T20:10:19.123456789Z' } }));
    create(endpointSlices, 'default', eps('web-2', 'web', ['10.244.0.12']));
    await until(() => rec.triggers.length >= 2);
    expect(rec.triggers).toEqual([Date.parse('2026-11-21T20:10:19.123Z'), null]);
  });

  it('resumes from the last resourceVersion without relisting when the server closes its streams', async () => {
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    create(services, 'default', svc('a'));
    await until(() => rec.log.length >= 1);
    const listsBefore = lists('/api/v1/services');
    await watching();
    const rv = inf.services.resourceVersion;
    expect(server.closeWatches()).toBe(3);
    create(services, 'default', svc('b'));
    await until(() => rec.log.includes('svc+ default/b'), 3000, 'the second Service');
    expect(lists('/api/v1/services')).toBe(listsBefore);
    const resumed = server.requests.filter((q) => q.watch && q.path === '/api/v1/services').at(-1);
    expect(resumed?.query.resourceVersion).toBe(rv);
    expect(resumed?.query.allowWatchBookmarks).toBe('true');
    expect(rec.log).toEqual(['svc+ default/a', 'svc+ default/b']);
  });

  it('relists after an in-stream 410 and reports what vanished meanwhile as deleted, unchanged objects not at all', async () => {
    create(services, 'default', svc('keep'));
    create(services, 'default', svc('gone'));
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    await until(() => rec.log.length >= 2);
    await server.stop();
    // While the server is down: a delete, then compaction of that history.
    server.registry.delete(services, 'default', 'gone');
    server.compact();
    const listsBefore = lists('/api/v1/services');
    await server.start();
    await until(() => rec.log.includes('svc- default/gone'), 4000, 'the delete');
    // Lists come sorted by namespace/name, as from etcd.
    expect(rec.log).toEqual(['svc+ default/gone', 'svc+ default/keep', 'svc- default/gone']);
    expect(lists('/api/v1/services')).toBe(listsBefore + 1);
    expect(inf.stats().services.expired).toBeGreaterThanOrEqual(1);
  });

  it('relists after expireWatches without reporting unchanged objects', async () => {
    create(services, 'default', svc('web'));
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    await watching();
    const before = lists('/api/v1/services');
    expect(server.expireWatches()).toBe(3);
    await until(() => lists('/api/v1/services') > before, 3000, 'a relist');
    create(services, 'default', svc('after'));
    await until(() => rec.log.includes('svc+ default/after'), 3000, 'the new Service');
    expect(rec.log).toEqual(['svc+ default/web', 'svc+ default/after']);
  });

  it('relists after an HTTP 410 at watch start', async () => {
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    await watching();
    const expired = (): number => inf.stats().services.expired + inf.stats().endpointSlices.expired + inf.stats().node.expired;
    const before = lists('/');
    server.failWatchStarts(1, 410);
    server.closeWatches();
    // Whichever informer reconnects first gets the 410, and only it relists.
    await until(() => expired() === 1 && lists('/') === before + 1, 3000, 'one relist');
    await watching();
    expect(expired()).toBe(1);
    expect(lists('/')).toBe(before + 1);
  });

  it('reconnects with backoff after the server restarts, and catches up', async () => {
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    await server.stop();
    create(services, 'default', svc('while-down'));
    await new Promise((r) => setTimeout(r, 300));
    await server.start();
    await until(() => rec.log.includes('svc+ default/while-down'), 4000, 'the Service made while down');
    expect(inf.stats().services.errors).toBeGreaterThanOrEqual(1);
  });

  it('retries after a 500 at watch start without stopping', async () => {
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    await watching();
    server.failWatchStarts(3, 500);
    server.closeWatches();
    await until(() => inf.stats().services.errors + inf.stats().endpointSlices.errors + inf.stats().node.errors >= 3, 3000, 'three errors');
    create(services, 'default', svc('later'));
    await until(() => rec.log.includes('svc+ default/later'), 3000, 'the Service');
  });

  it("never shows objects kube-proxy's label selector excludes, and drops objects that become excluded", async () => {
    create(services, 'default', svc('other-proxy', { labels: { 'service.kubernetes.io/service-proxy-name': 'x' } }));
    create(services, 'default', svc('headless', { labels: { 'service.kubernetes.io/headless': '' } }));
    create(endpointSlices, 'default', eps('other-1', 'other-proxy', ['10.244.0.9'], { labels: { 'service.kubernetes.io/service-proxy-name': 'x' } }));
    create(services, 'default', svc('web'));
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    create(services, 'default', svc('new-headless', { labels: { 'service.kubernetes.io/headless': '' } }));
    server.registry.patch(services, 'default', 'web', 'merge', { metadata: { labels: { 'service.kubernetes.io/service-proxy-name': 'x' } } });
    await until(() => rec.log.includes('svc- default/web'), 3000, 'web to leave');
    expect(rec.log).toEqual(['svc+ default/web', 'svc- default/web']);
    expect(server.requests.find((q) => q.path === '/api/v1/services' && !q.watch)?.query.labelSelector)
      .toBe('!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless');
  });

  it('watches only its own Node', async () => {
    create(nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
    create(nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' } });
    const rec = new Recorder();
    const inf = startInformers(rec, 'node-a');
    await until(() => rec.log.includes('node node-a'), 3000, 'the node');
    await inf.waitForSync(3000);
    server.registry.patch(nodes, '', 'node-b', 'merge', { metadata: { labels: { x: 'y' } } });
    server.registry.patch(nodes, '', 'node-a', 'merge', { metadata: { labels: { 'topology.kubernetes.io/zone': 'z1' } } });
    server.registry.delete(nodes, '', 'node-a');
    await until(() => rec.log.includes('node null'), 3000, 'the node delete');
    expect(rec.log.filter((l) => l.startsWith('node'))).toEqual(['node node-a', 'node node-a', 'node null']);
  });

  it('stops quietly: no further requests after stop resolves', async () => {
    const rec = new Recorder();
    const inf = startInformers(rec);
    await inf.waitForSync(3000);
    await watching();
    await inf.stop();
    await until(() => server.watchCount === 0, 1000, 'the watches to close');
    const n = server.requests.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests.length).toBe(n);
  });
});
