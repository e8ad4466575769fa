// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '../observability/logger.ts';
import { Backoff } from './backoff.ts';
import { type ListFn, type ListPage, Reflector, type WatchFn } from './reflector.ts';
import { type Retained, retainMeta } from './retain.ts';

/** A test object: what a Service-like object carries, plus a bulky field that must not be kept. */
interface Obj {
  metadata: { namespace: string; name: string; resourceVersion: string; managedFields?: unknown[] };
  spec: { port: number };
}

interface Kept extends Retained { readonly port: number }

const obj = (name: string, rv: number, port = 80): Obj =>
  ({ metadata: { namespace: 'ns', name, resourceVersion: String(rv), managedFields: [{ manager: 'kubectl' }] }, spec: { port } });
const keep = (o: Obj): Kept => ({ ...retainMeta(o), port: o.spec.port });

/** One open watch: its query, and the callbacks to drive it. */
interface Session {
  params: Record<string, string | number | boolean>;
  send(type: string, object: unknown): void;
  end(err: unknown): void;
  aborted: boolean;
}

/** A fake API: lists come from `pages` (or a queued error), watches are recorded sessions. */
class FakeApi {
  pages: Obj[][] = [[]];
  rv = '100';
  readonly listErrors: Error[] = [];
  readonly listCalls: { limit: number; continue?: string }[] = [];
  readonly sessions: Session[] = [];
  /** Called before each page is returned (to observe what was reported so far). */
  onPage: (index: number) => void = () => {};

  readonly list: ListFn<Obj> = async (opts) => {
    this.listCalls.push(opts);
    await Promise.resolve();
    const err = this.listErrors.shift();
    if (err) throw err;
    const index = opts.continue ? Number(opts.continue) : 0;
    this.onPage(index);
    const page: ListPage<Obj> = {
      items: (this.pages[index] ?? []).map((o) => structuredClone(o)),
      resourceVersion: this.rv,
      continue: index + 1 < this.pages.length ? String(index + 1) : undefined,
    };
    return page;
  };

  readonly watch: WatchFn = (params, onEvent, done) => {
    const s: Session = { params, send: onEvent, end: done, aborted: false };
    this.sessions.push(s);
    return Promise.resolve({ abort: () => { s.aborted = true; done(null); } });
  };

  get session(): Session {
    const s = this.sessions.at(-1);
    if (!s) throw new Error('no watch');
    return s;
  }
}

/** What the handler saw: `+ name`, `~ name oldRv>newRv`, `- name`, `listed`, with the old records. */
class Seen {
  readonly log: string[] = [];
  readonly olds: (Kept | null)[] = [];
  readonly curs: (Obj | null)[] = [];
  onChange(old: Kept | null, cur: Obj | null): void {
    this.olds.push(old);
    this.curs.push(cur);
    if (!old) this.log.push(`+ ${cur?.metadata.name ?? ''}`);
    else if (!cur) this.log.push(`- ${old.name}`);
    else this.log.push(`~ ${cur.metadata.name} ${old.resourceVersion}>${cur.metadata.resourceVersion}`);
  }
  onListed(): void { this.log.push('listed'); }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

function start(api: FakeApi, pageSize = 2): { r: Reflector<Obj, Kept>; seen: Seen } {
  const seen = new Seen();
  const r = new Reflector<Obj, Kept>({
    name: 'test', list: api.list, watch: api.watch, handler: seen, retain: keep, logger: silentLogger(),
    backoff: new Backoff(1, 1), pageSize, watchTimeoutSeconds: () => 60,
  });
  r.start();
  return { r, seen };
}

async function started(api: FakeApi, pageSize = 2): Promise<{ r: Reflector<Obj, Kept>; seen: Seen }> {
  const s = start(api, pageSize);
  const n = api.sessions.length;
  await until(() => api.sessions.length > n, 'a watch');
  return s;
}

describe('Reflector', () => {
  it('lists page by page, reports each object once, and keeps only the retained record of each', async () => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1), obj('b', 2)], [obj('c', 3)]];
    const { r, seen } = await started(api);
    expect(seen.log).toEqual(['+ a', '+ b', '+ c', 'listed']);
    expect(api.listCalls).toEqual([{ limit: 2 }, { limit: 2, continue: '1' }]);
    // The handler gets the whole object; the store keeps the small record.
    expect(seen.curs[0]?.metadata.managedFields).toEqual([{ manager: 'kubectl' }]);
    expect(r.items()).toEqual([
      { namespace: 'ns', name: 'a', resourceVersion: '1', port: 80 },
      { namespace: 'ns', name: 'b', resourceVersion: '2', port: 80 },
      { namespace: 'ns', name: 'c', resourceVersion: '3', port: 80 },
    ]);
    expect(r.resourceVersion).toBe('100');
    expect(api.session.params).toEqual({ resourceVersion: '100', allowWatchBookmarks: true, timeoutSeconds: 60 });
    await r.stop();
  });

  it('reports each page before it asks for the next, so one page of whole objects is alive at a time', async () => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1), obj('b', 2)], [obj('c', 3), obj('d', 4)], [obj('e', 5)]];
    const reportedBefore: number[] = [];
    const ref: { seen?: Seen } = {};
    api.onPage = () => reportedBefore.push(ref.seen?.log.length ?? 0);
    const s = start(api);
    ref.seen = s.seen;
    await until(() => s.seen.log.includes('listed'), 'the list');
    expect(reportedBefore).toEqual([0, 2, 4]);
    await s.r.stop();
  });

  it('hands the retained record of the previous version to updates and deletes from the watch', async () => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1, 80)]];
    const { r, seen } = await started(api);
    api.session.send('MODIFIED', obj('a', 7, 8080));
    api.session.send('DELETED', obj('a', 9, 8080));
    expect(seen.log).toEqual(['+ a', 'listed', '~ a 1>7', '- a']);
    expect(seen.olds.slice(1)).toEqual([
      { namespace: 'ns', name: 'a', resourceVersion: '1', port: 80 },
      { namespace: 'ns', name: 'a', resourceVersion: '7', port: 8080 },
    ]);
    expect(seen.curs[1]?.spec.port).toBe(8080);
    expect(r.items()).toEqual([]);
    await r.stop();
  });

  it.each([
    { name: 'an ADDED event for a known object at the same resourceVersion', type: 'ADDED', o: obj('a', 1, 9999), want: [] },
    { name: 'a MODIFIED event at the same resourceVersion', type: 'MODIFIED', o: obj('a', 1, 9999), want: [] },
    { name: 'a DELETED event for an unknown object', type: 'DELETED', o: obj('zz', 5), want: [] },
    { name: 'an ADDED event for a new object', type: 'ADDED', o: obj('b', 5), want: ['+ b'] },
    { name: 'a MODIFIED event for an unknown object (reported as added)', type: 'MODIFIED', o: obj('b', 5), want: ['+ b'] },
  ])('watch: $name', async ({ type, o, want }) => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1)]];
    const { r, seen } = await started(api);
    api.session.send(type, o);
    expect(seen.log.slice(2)).toEqual(want);
    // An unchanged object keeps its record (the port of rv 1, not 9999).
    expect(r.items()[0]).toEqual({ namespace: 'ns', name: 'a', resourceVersion: '1', port: 80 });
    expect(r.resourceVersion).toBe(o.metadata.resourceVersion);
    await r.stop();
  });

  it('moves the resourceVersion on bookmarks without reporting, and resumes the next watch from it without relisting', async () => {
    const api = new FakeApi();
    const { r, seen } = await started(api);
    api.session.send('BOOKMARK', { metadata: { resourceVersion: '250' } });
    expect(r.resourceVersion).toBe('250');
    api.session.end(null);
    await until(() => api.sessions.length === 2, 'the second watch');
    expect(api.session.params.resourceVersion).toBe('250');
    expect(api.listCalls).toHaveLength(1);
    expect(seen.log).toEqual(['listed']);
    await r.stop();
  });

  it.each([
    { name: 'an in-stream 410 ERROR', expire: (s: Session) => { s.send('ERROR', { code: 410, reason: 'Expired' }); s.end(null); } },
    { name: 'a watch ending with HTTP 410', expire: (s: Session) => s.end(Object.assign(new Error('gone'), { statusCode: 410 })) },
  ])('relists after $name: vanished objects are deleted with their record, changed ones updated, unchanged ones not reported', async ({ expire }) => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1), obj('b', 2)], [obj('c', 3)]];
    const { r, seen } = await started(api);
    api.pages = [[obj('a', 1), obj('c', 8, 443)], [obj('d', 9)]];
    api.rv = '200';
    expire(api.session);
    await until(() => api.sessions.length === 2, 'the watch after the relist');
    expect(seen.log.slice(4)).toEqual(['~ c 3>8', '+ d', '- b', 'listed']);
    expect(seen.olds.slice(3)).toEqual([
      { namespace: 'ns', name: 'c', resourceVersion: '3', port: 80 }, null, { namespace: 'ns', name: 'b', resourceVersion: '2', port: 80 },
    ]);
    expect(r.items().map((k) => `${k.name}@${k.resourceVersion}:${k.port}`)).toEqual(['a@1:80', 'c@8:443', 'd@9:80']);
    expect(r.stats.expired).toBe(1);
    expect(api.session.params.resourceVersion).toBe('200');
    await r.stop();
  });

  it('starts a list over once when its continue token expires, deleting only what the fresh list lacks', async () => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1), obj('b', 2)], [obj('c', 3)]];
    const s = start(api);
    // The first page succeeds; the second fails with 410; the fresh list shows b deleted.
    api.onPage = () => {
      if (api.listCalls.length === 1) api.listErrors.push(Object.assign(new Error('continue expired'), { statusCode: 410 }));
      if (api.listCalls.length === 3) api.pages = [[obj('a', 1), obj('c', 3)], []];
    };
    await until(() => s.seen.log.includes('listed'), 'the list');
    expect(s.seen.log).toEqual(['+ a', '+ b', '+ c', '- b', 'listed']);
    expect(api.listCalls.map((c) => c.continue ?? '')).toEqual(['', '1', '', '1']);
    expect(s.r.stats.errors).toBe(0);
    await s.r.stop();
  });

  it('retries a list that fails midway and then reports what the complete list shows', async () => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1), obj('b', 2)], [obj('c', 3)]];
    api.onPage = (i) => {
      if (i === 0 && api.listCalls.length === 1) api.listErrors.push(Object.assign(new Error('boom'), { statusCode: 500 }));
    };
    const { r, seen } = await started(api);
    expect(seen.log).toEqual(['+ a', '+ b', '+ c', 'listed']);
    expect(r.stats.errors).toBe(1);
    expect(r.stats.lists).toBe(2);
    await r.stop();
  });

  it('reports nothing after stop, even for a list page that arrives later', async () => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1)], [obj('b', 2)]];
    const s = start(api);
    let stopping: Promise<void> | undefined;
    api.onPage = (i) => { if (i === 1) stopping = s.r.stop(); };
    await until(() => stopping !== undefined, 'the second page');
    await stopping;
    expect(s.seen.log).toEqual(['+ a']);
    expect(api.sessions).toHaveLength(0);
  });

  it('keeps id and resourceVersion by default', async () => {
    const api = new FakeApi();
    api.pages = [[obj('a', 1)]];
    const handler = { olds: [] as (Retained | null)[], onChange(old: Retained | null): void { this.olds.push(old); }, onListed(): void {} };
    const r = new Reflector<Obj>({ name: 'plain', list: api.list, watch: api.watch, handler, logger: silentLogger() });
    r.start();
    await until(() => api.sessions.length === 1, 'a watch');
    api.session.send('DELETED', obj('a', 2));
    expect(handler.olds).toEqual([null, { namespace: 'ns', name: 'a', resourceVersion: '1' }]);
    await r.stop();
  });
});
