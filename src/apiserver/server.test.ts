/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call --
   The server's answers are untyped JSON; every use below is an assertion on it. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DevApiServer } from './server.ts';
import { call, eps, openWatch, svc } from './testing.ts';

let server: DevApiServer;

beforeAll(async () => {
  server = await DevApiServer.create({ bookmarkIntervalMs: 200, historyLimit: 50 });
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

const services = (ns: string): string => `/api/v1/namespaces/${ns}/services`;
const slices = (ns: string): string => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;

describe('authentication and discovery', () => {
  it('answers 401 with a Status without a token or with a wrong one', async () => {
    for (const token of [null, 'wrong']) {
      const a = await call(server, 'GET', '/api/v1/services', undefined, { token });
      expect(a.status).toBe(401);
      expect(a.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    }
  });

  it('serves health checks without a token and discovery with one', async () => {
    expect((await call(server, 'GET', '/healthz', undefined, { token: null })).body).toBe('ok');
    expect((await call(server, 'GET', '/version')).body).toMatchObject({ major: '1' });
    expect((await call(server, 'GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = (await call(server, 'GET', '/api/v1')).body as { resources: { name: string }[] };
    expect(core.resources.map((r) => r.name)).toEqual(['services', 'services/status', 'nodes', 'nodes/status']);
    const groups = (await call(server, 'GET', '/apis')).body as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(['discovery.k8s.io']);
    const disc = (await call(server, 'GET', '/apis/discovery.k8s.io/v1')).body as { resources: { name: string; verbs: string[] }[] };
    expect(disc.resources[0]).toMatchObject({ name: 'endpointslices', verbs: expect.arrayContaining(['watch', 'deletecollection']) });
  });

  it('answers 404 for paths it does not serve', async () => {
    const a = await call(server, 'GET', '/api/v1/pods');
    expect(a.status).toBe(404);
    expect(a.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });
});

describe('create, read, update, patch, delete', () => {
  it('creates with server metadata and defaults, and refuses duplicates with 409 AlreadyExists', async () => {
    const a = await call(server, 'POST', services('crud'), svc('web'));
    expect(a.status).toBe(201);
    expect(a.body.metadata).toMatchObject({ name: 'web', namespace: 'crud', generation: 1 });
    expect(a.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(a.body.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], clusterIPs: [a.body.spec.clusterIP] });
    expect(a.body.spec.ports[0]).toEqual({ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 });
    const dup = await call(server, 'POST', services('crud'), svc('web'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', message: 'services "web" already exists', details: { name: 'web', kind: 'services' } });
  });

  it('rejects invalid objects with 422 and field causes', async () => {
    const bad = { ...svc('Bad_Name'), spec: { ports: [{ port: 70000 }] } };
    const a = await call(server, 'POST', services('crud'), bad);
    expect(a.status).toBe(422);
    expect(a.body.reason).toBe('Invalid');
    expect(a.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['metadata.name', 'spec.ports[0].port']);
  });

  it('updates with optimistic concurrency: a stale resourceVersion gets 409 Conflict', async () => {
    const created = (await call(server, 'POST', services('crud'), svc('upd'))).body;
    const changed = { ...created, spec: { ...created.spec, ports: [{ name: 'http', port: 81 }] } };
    const ok = await call(server, 'PUT', `${services('crud')}/upd`, changed);
    expect(ok.status).toBe(200);
    expect(Number(ok.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(ok.body.metadata.generation).toBe(2);
    expect(ok.body.metadata.uid).toBe(created.metadata.uid);
    const stale = await call(server, 'PUT', `${services('crud')}/upd`, changed);
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
  });

  it('does not bump the resourceVersion for an update that changes nothing', async () => {
    const created = (await call(server, 'POST', services('crud'), svc('noop'))).body;
    const again = await call(server, 'PUT', `${services('crud')}/noop`, created);
    expect(again.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it('keeps the ClusterIP immutable', async () => {
    const created = (await call(server, 'POST', services('crud'), svc('imm'))).body;
    const moved = { ...created, spec: { ...created.spec, clusterIP: '10.96.99.99', clusterIPs: ['10.96.99.99'] } };
    const a = await call(server, 'PUT', `${services('crud')}/imm`, moved);
    expect(a.status).toBe(422);
  });

  it.each([
    { name: 'merge patch', type: 'application/merge-patch+json', patch: { metadata: { labels: { a: 'b' } } } },
    { name: 'strategic merge patch', type: 'application/strategic-merge-patch+json', patch: { metadata: { labels: { a: 'b' } } } },
    { name: 'JSON patch', type: 'application/json-patch+json', patch: [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }] },
  ])('applies a $name', async ({ type, patch }) => {
    const name = `p-${type.length}`;
    await call(server, 'POST', services('patch'), svc(name));
    const a = await call(server, 'PATCH', `${services('patch')}/${name}`, patch, { contentType: type });
    expect(a.status).toBe(200);
    expect(a.body.metadata.labels).toEqual({ a: 'b' });
  });

  it('rejects an unknown patch type with 415 and a patch of a missing object with 404', async () => {
    await call(server, 'POST', services('patch'), svc('typed'));
    expect((await call(server, 'PATCH', `${services('patch')}/typed`, {}, { contentType: 'application/apply-patch+yaml' })).status).toBe(415);
    expect((await call(server, 'PATCH', `${services('patch')}/missing`, {}, { contentType: 'application/merge-patch+json' })).status).toBe(404);
  });

  it('deletes: a Service answers with the object, an EndpointSlice with a Success Status; then 404', async () => {
    await call(server, 'POST', services('del'), svc('web'));
    await call(server, 'POST', slices('del'), eps('web-1', 'web', ['10.0.0.1']));
    const s = await call(server, 'DELETE', `${services('del')}/web`);
    expect(s.body).toMatchObject({ kind: 'Service', metadata: { name: 'web' } });
    const e = await call(server, 'DELETE', `${slices('del')}/web-1`);
    expect(e.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'web-1', group: 'discovery.k8s.io', kind: 'endpointslices' } });
    const gone = await call(server, 'GET', `${services('del')}/web`);
    expect(gone.status).toBe(404);
    expect(gone.body.message).toBe('services "web" not found');
  });

  it('honours a delete precondition on the resourceVersion', async () => {
    await call(server, 'POST', services('del'), svc('pre'));
    const a = await call(server, 'DELETE', `${services('del')}/pre`, { preconditions: { resourceVersion: '1' } });
    expect(a.status).toBe(409);
  });

  it('keeps status out of main-resource writes and takes it through /status', async () => {
    await call(server, 'POST', services('status'), svc('lb'));
    const status = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } };
    const viaMain = await call(server, 'PATCH', `${services('status')}/lb`, { status }, { contentType: 'application/merge-patch+json' });
    expect(viaMain.body.status).toBeUndefined();
    const viaStatus = await call(server, 'PATCH', `${services('status')}/lb/status`, { status }, { contentType: 'application/merge-patch+json' });
    expect(viaStatus.body.status).toEqual(status);
  });
});

describe('list', () => {
  beforeAll(async () => {
    await call(server, 'POST', services('list'), svc('a', { labels: { app: 'a', tier: 'web' } }));
    await call(server, 'POST', services('list'), svc('b', { labels: { app: 'b', 'service.kubernetes.io/headless': '' } }));
    await call(server, 'POST', services('list'), svc('c', { labels: { app: 'c', 'service.kubernetes.io/service-proxy-name': 'other' } }));
    await call(server, 'POST', services('list2'), svc('d', { labels: { app: 'd', tier: 'db' } }));
  });

  it('returns a List at the current resourceVersion, items sorted and without kind', async () => {
    const a = await call(server, 'GET', services('list'));
    expect(a.body).toMatchObject({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: String(server.store.resourceVersion) } });
    expect(a.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(a.body.items[0].kind).toBeUndefined();
  });

  it.each([
    { name: "kube-proxy's selector", selector: '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless', want: ['a', 'd'] },
    { name: 'equality', selector: 'tier=web', want: ['a'] },
    { name: 'double equals', selector: 'tier==db', want: ['d'] },
    { name: 'inequality (matches objects without the key)', selector: 'tier!=web', want: ['b', 'c', 'd'] },
    { name: 'in', selector: 'app in (a, d)', want: ['a', 'd'] },
    { name: 'notin', selector: 'app notin (a,d)', want: ['b', 'c'] },
    { name: 'exists', selector: 'tier', want: ['a', 'd'] },
    { name: 'AND of two', selector: 'tier,app!=a', want: ['d'] },
  ])('filters by label selector: $name', async ({ selector, want }) => {
    const a = await call(server, 'GET', `/api/v1/services?labelSelector=${encodeURIComponent(selector)}`);
    const names = (a.body.items as { metadata: { name: string; namespace: string } }[]).filter((i) => i.metadata.namespace.startsWith('list')).map((i) => i.metadata.name);
    expect(names).toEqual(want);
  });

  it('filters by field selector and rejects unsupported fields with 400', async () => {
    const a = await call(server, 'GET', `/api/v1/services?fieldSelector=${encodeURIComponent('metadata.namespace=list2')}`);
    expect(a.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['d']);
    const b = await call(server, 'GET', `${services('list')}?fieldSelector=${encodeURIComponent('metadata.name!=a')}`);
    expect(b.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['b', 'c']);
    const bad = await call(server, 'GET', '/api/v1/services?fieldSelector=spec.selector=x');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.selector');
    expect((await call(server, 'GET', '/api/v1/services?labelSelector=a%20in%20b')).status).toBe(400);
  });

  it('pages with limit and continue at one resourceVersion, even across writes', async () => {
    const first = await call(server, 'GET', `${services('list')}?limit=2`);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.metadata.remainingItemCount).toBe(1);
    await call(server, 'POST', services('list'), svc('zz'));
    const second = await call(server, 'GET', `${services('list')}?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    expect(second.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['c']);
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    expect(second.body.metadata.continue).toBeUndefined();
    await call(server, 'DELETE', `${services('list')}/zz`);
  });

  it('serves an exact resourceVersion from history, 410 when compacted, 504 when in the future', async () => {
    const before = String(server.store.resourceVersion);
    await call(server, 'POST', services('exact'), svc('later'));
    const then = await call(server, 'GET', `${services('exact')}?resourceVersion=${before}&resourceVersionMatch=Exact`);
    expect(then.body.items).toEqual([]);
    const future = await call(server, 'GET', `${services('exact')}?resourceVersion=${server.store.resourceVersion + 100}`);
    expect(future.status).toBe(504);
    server.compact();
    const old = await call(server, 'GET', `${services('exact')}?resourceVersion=${before}&resourceVersionMatch=Exact`);
    expect(old.status).toBe(410);
    expect(old.body).toMatchObject({ reason: 'Expired', code: 410 });
  });
});

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED after the given resourceVersion', async () => {
    const rv = server.store.resourceVersion;
    const w = await openWatch(server, `${services('w1')}?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    await call(server, 'POST', services('w1'), svc('x'));
    await call(server, 'PATCH', `${services('w1')}/x`, { metadata: { labels: { v: '2' } } }, { contentType: 'application/merge-patch+json' });
    await call(server, 'DELETE', `${services('w1')}/x`);
    const events = await w.waitFor(3);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(events[0].object).toMatchObject({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'x' } });
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([rv + 1, rv + 2, rv + 3]);
    w.close();
  });

  it('replays history from an older resourceVersion, and the current state as ADDED without one', async () => {
    const rv = server.store.resourceVersion;
    await call(server, 'POST', services('w2'), svc('y'));
    const fromRv = await openWatch(server, `/api/v1/watch/namespaces/w2/services?resourceVersion=${rv}`);
    expect((await fromRv.waitFor(1)).map((e) => e.type)).toEqual(['ADDED']);
    const fresh = await openWatch(server, `${services('w2')}?watch=1`);
    expect((await fresh.waitFor(1))[0].object.metadata.name).toBe('y');
    fromRv.close();
    fresh.close();
  });

  it('turns selector transitions into ADDED and DELETED, as kube-apiserver filters watches', async () => {
    await call(server, 'POST', services('w3'), svc('s'));
    const w = await openWatch(server, `${services('w3')}?watch=true&resourceVersion=${server.store.resourceVersion}&labelSelector=on%3Dyes`);
    const merge = { contentType: 'application/merge-patch+json' };
    await call(server, 'PATCH', `${services('w3')}/s`, { metadata: { labels: { on: 'yes' } } }, merge);
    await call(server, 'PATCH', `${services('w3')}/s`, { metadata: { labels: { on: 'yes', more: '1' } } }, merge);
    await call(server, 'PATCH', `${services('w3')}/s`, { metadata: { labels: { on: 'no' } } }, merge);
    const events = await w.waitFor(3);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    // The DELETED object is the last matching state, stamped with the write's resourceVersion.
    expect(events[2].object.metadata.labels.on).toBe('yes');
    expect(events[2].object.metadata.resourceVersion).toBe(String(server.store.resourceVersion));
    w.close();
  });

  it('sends bookmarks only when allowed, periodically and on request', async () => {
    const rv = server.store.resourceVersion;
    const with_ = await openWatch(server, `${slices('w4')}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
    const without = await openWatch(server, `${slices('w4')}?watch=true&resourceVersion=${rv}`);
    const events = await with_.waitFor(1, 2000);
    expect(events[0]).toEqual({ type: 'BOOKMARK', object: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: String(rv) } } });
    expect(server.sendBookmarks()).toBeGreaterThanOrEqual(1);
    await with_.waitFor(2);
    expect(without.events).toEqual([]);
    with_.close();
    without.close();
  });

  it('reports an expired resourceVersion as an in-stream ERROR 410 after a 200, then ends', async () => {
    await call(server, 'POST', services('w5'), svc('e'));
    server.compact();
    const w = await openWatch(server, `${services('w5')}?watch=true&resourceVersion=${server.store.resourceVersion - 1}`);
    expect(w.status).toBe(200);
    const [e] = await w.waitFor(1);
    expect(e).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(e.object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    await w.ended();
  });

  it('answers HTTP 410 at watch start when told to (failWatchStarts)', async () => {
    server.failWatchStarts(1);
    const w = await openWatch(server, `${services('w6')}?watch=true&resourceVersion=${server.store.resourceVersion}`);
    expect(w.status).toBe(410);
    const again = await openWatch(server, `${services('w6')}?watch=true&resourceVersion=${server.store.resourceVersion}`);
    expect(again.status).toBe(200);
    again.close();
  });

  it('ends at timeoutSeconds, and when closed or expired through the hooks', async () => {
    const rv = server.store.resourceVersion;
    const timed = await openWatch(server, `${services('w7')}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await timed.ended(2500);
    const closed = await openWatch(server, `${services('w7')}?watch=true&resourceVersion=${rv}`);
    const expiredW = await openWatch(server, `${services('w8')}?watch=true&resourceVersion=${rv}`);
    expect(server.closeWatches()).toBeGreaterThanOrEqual(2);
    await closed.ended();
    await expiredW.ended();
    const victim = await openWatch(server, `${services('w8')}?watch=true&resourceVersion=${rv}`);
    server.expireWatches();
    expect((await victim.waitFor(1))[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
    await victim.ended();
  });
});

describe('restart', () => {
  it('keeps state and port across stop and start; watchers see their connection end', async () => {
    await call(server, 'POST', services('restart'), svc('kept'));
    const port = server.port;
    const w = await openWatch(server, `${services('restart')}?watch=true&resourceVersion=${server.store.resourceVersion}`);
    await server.stop();
    await w.ended();
    await expect(call(server, 'GET', services('restart'), undefined, { timeoutMs: 1000 })).rejects.toThrow();
    await server.start();
    expect(server.port).toBe(port);
    const a = await call(server, 'GET', `${services('restart')}/kept`);
    expect(a.status).toBe(200);
  });
});
