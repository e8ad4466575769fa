// A reflector keeps a local copy of one resource in step with the API server:
// list (paged), then watch from the list's resourceVersion, applying each event
// and reporting every change as (old, new). Per object it keeps only a small
// record made by `retain` (id, resourceVersion, whatever the consumer needs of
// `old`), never the whole object: see retain.ts. Unlike client-node's ListWatch it
// never stops on an error: it retries with backoff (1 s doubling to 30 s, reset
// by a successful list or a watch that delivered events), and stop() is quiet.
//   - watch ended cleanly (server timeout, stream closed): resume from the last
//     resourceVersion, no relist;
//   - 410 Gone/Expired (in-stream ERROR or HTTP status): relist; objects that
//     vanished meanwhile are reported deleted;
//   - anything else (network, 5xx, 401): back off, then resume or relist.

import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import { type ObjectLike, type Retained, retainMeta } from './retain.ts';

export type { ObjectLike, Retained } from './retain.ts';

/** One page of a list. */
export interface ListPage<T> {
  readonly items: T[];
  readonly resourceVersion: string;
  readonly continue?: string | undefined;
}

/** Lists one page; rejects with an error carrying the HTTP `statusCode` or `code` when the server answers with one. */
export type ListFn<T> = (opts: { limit: number; continue?: string }) => Promise<ListPage<T>>;

/** A running watch request. */
export interface WatchHandle { abort(): void }

/**
 * Starts a watch with the given query parameters; calls `onEvent` per event and
 * `done` once when the stream ends (null: ended cleanly). Resolves once the
 * response has started (or failed).
 */
export type WatchFn = (params: Record<string, string | number | boolean>,
  onEvent: (type: string, object: unknown) => void, done: (err: unknown) => void) => Promise<WatchHandle>;

/**
 * Receives changes; `old`/`cur` are null for additions/deletions. `old` is the
 * record kept of the previous version (see `ReflectorOptions.retain`), `cur`
 * the whole new object, which the reflector does not keep.
 */
export interface ReflectorHandler<T, R extends Retained = Retained> {
  onChange(old: R | null, cur: T | null): void;
  /** After each complete (re)list has been applied. */
  onListed(): void;
}

/** What a reflector needs. */
export interface ReflectorOptions<T, R extends Retained = Retained> {
  readonly name: string;
  readonly list: ListFn<T>;
  readonly watch: WatchFn;
  readonly handler: ReflectorHandler<T, R>;
  /**
   * Makes the record kept per object and handed back as `old`; its
   * `resourceVersion` must be the object's. Must not throw. Required unless
   * `R` is plain `Retained` (default: `retainMeta`).
   */
  readonly retain?: (o: T) => R;
  readonly logger: Logger;
  readonly backoff?: Backoff;
  readonly pageSize?: number;
  /** Server-side watch timeout for each watch (default: random 300-600 s, like client-go). */
  readonly watchTimeoutSeconds?: () => number;
}

/** Counters for tests and metrics. */
export interface ReflectorStats {
  lists: number;
  watches: number;
  errors: number;
  expired: number;
}

type WatchOutcome =
  | { kind: 'closed'; events: number; durationMs: number }
  | { kind: 'expired' }
  | { kind: 'error'; err: unknown };

/** The HTTP status an error carries (client-node's `statusCode`, ApiException's `code`), if any. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  return typeof e.code === 'number' ? e.code : undefined;
}

/** An in-stream ERROR event's Status, as an Error. */
export class WatchStatusError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(raw: unknown) {
    const status = (typeof raw === 'object' && raw !== null ? raw : {}) as { code?: unknown; reason?: unknown; message?: unknown };
    super(typeof status.message === 'string' ? status.message : 'watch error');
    this.name = 'WatchStatusError';
    this.code = typeof status.code === 'number' ? status.code : 500;
    this.reason = typeof status.reason === 'string' ? status.reason : '';
  }
}

function keyOf(o: ObjectLike): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function rvOf(o: unknown): string {
  const m = (o as ObjectLike | null)?.metadata;
  return typeof m?.resourceVersion === 'string' ? m.resourceVersion : '';
}

const maxPages = 100_000;

/** List-then-watch loop for one resource, keeping a `retain`ed record per object. */
export class Reflector<T extends ObjectLike, R extends Retained = Retained> {
  readonly stats: ReflectorStats = { lists: 0, watches: 0, errors: 0, expired: 0 };
  private readonly opts: ReflectorOptions<T, R>;
  private readonly retain: (o: T) => R;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly objects = new Map<string, R>();
  private rv = '';
  private stopped = true;
  private loop: Promise<void> | undefined;
  private current: WatchHandle | undefined;
  private wake: (() => void) | undefined;

  constructor(opts: ReflectorOptions<T, R>) {
    this.opts = opts;
    // Without `retain`, R is Retained (the type parameter's default).
    this.retain = opts.retain ?? (retainMeta as unknown as (o: T) => R);
    this.log = opts.logger.child({ component: 'informer', resource: opts.name });
    this.backoff = opts.backoff ?? new Backoff();
  }

  /** The resourceVersion the next watch resumes from ('' before the first list and after a 410). */
  get resourceVersion(): string {
    return this.rv;
  }

  /** The records kept of the current objects. */
  items(): R[] {
    return [...this.objects.values()];
  }

  /** Starts the loop (idempotent). Never throws; failures are logged and retried. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops the loop and any open watch; resolves when the loop has ended. Emits nothing. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.rv === '') {
          await this.relist();
          this.backoff.reset();
        }
        if (this.stopped) break;
        const outcome = await this.watchOnce();
        if (this.stopped) break;
        if (outcome.kind === 'expired') {
          this.stats.expired += 1;
          this.log.info({ resourceVersion: this.rv }, 'resourceVersion expired; relisting');
          this.rv = '';
        } else if (outcome.kind === 'error') {
          throw outcome.err;
        } else if (outcome.events > 0) {
          this.backoff.reset();
        } else if (outcome.durationMs < 1000) {
          // A server that ends watches at once must not make us spin.
          await this.sleep(this.backoff.next());
        }
      } catch (err) {
        if (this.stopped) break;
        this.stats.errors += 1;
        const delayMs = this.backoff.next();
        this.log.warn({ err, delayMs, status: statusOf(err) }, 'list/watch failed; retrying');
        await this.sleep(delayMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
    });
  }

  private emit(old: R | null, cur: T | null): void {
    try {
      this.opts.handler.onChange(old, cur);
    } catch (err) {
      this.log.error({ err }, 'change handler threw');
    }
  }

  // Applies one listed object: records and reports it unless its resourceVersion is the one kept.
  private applyListed(o: T, seen: Set<string>): void {
    const k = keyOf(o);
    seen.add(k);
    const old = this.objects.get(k) ?? null;
    if (old && old.resourceVersion === rvOf(o)) return;
    this.objects.set(k, this.retain(o));
    this.emit(old, o);
  }

  // Lists every page, applying each as it arrives so that only one page of whole
  // objects is alive at a time (pages of one list are one snapshot: all are
  // served at the first page's resourceVersion). Null when stopped meanwhile.
  private async listPages(): Promise<{ seen: Set<string>; resourceVersion: string } | null> {
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    for (let page = 0; page < maxPages; page += 1) {
      const p = await this.opts.list({ limit: this.opts.pageSize ?? 500, ...(cont ? { continue: cont } : {}) });
      if (this.stopped) return null;
      if (page === 0) rv = p.resourceVersion;
      for (const o of p.items) this.applyListed(o, seen);
      cont = p.continue || undefined;
      if (!cont) break;
    }
    return { seen, resourceVersion: rv };
  }

  private async relist(): Promise<void> {
    this.stats.lists += 1;
    let listed: { seen: Set<string>; resourceVersion: string } | null;
    try {
      listed = await this.listPages();
    } catch (err) {
      // A continue token can expire mid-list; start over once from a fresh list
      // (what the first pages reported stays valid: it was the state at their snapshot).
      if (statusOf(err) !== 410) throw err;
      listed = await this.listPages();
    }
    if (!listed) return;
    for (const [k, old] of [...this.objects]) {
      if (listed.seen.has(k)) continue;
      this.objects.delete(k);
      this.emit(old, null);
    }
    this.rv = listed.resourceVersion;
    try {
      this.opts.handler.onListed();
    } catch (err) {
      this.log.error({ err }, 'listed handler threw');
    }
  }

  private onEvent(type: string, obj: unknown, state: { events: number; error?: WatchStatusError }): void {
    state.events += 1;
    if (type === 'ERROR') {
      state.error = new WatchStatusError(obj ?? {});
      return;
    }
    if (typeof obj !== 'object' || obj === null) return;
    const o = obj as T;
    const k = keyOf(o);
    if (type === 'ADDED' || type === 'MODIFIED') {
      const old = this.objects.get(k) ?? null;
      if (!old || old.resourceVersion !== rvOf(o)) {
        this.objects.set(k, this.retain(o));
        this.emit(old, o);
      }
    } else if (type === 'DELETED') {
      const old = this.objects.get(k);
      if (old) { this.objects.delete(k); this.emit(old, null); }
    }
    const rv = rvOf(o);
    if (rv) this.rv = rv;
  }

  private watchOnce(): Promise<WatchOutcome> {
    this.stats.watches += 1;
    const started = Date.now();
    const timeout = this.opts.watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
    const params = { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: timeout };
    const state: { events: number; error?: WatchStatusError } = { events: 0 };
    return new Promise<WatchOutcome>((resolve) => {
      let finished = false;
      const done = (err: unknown): void => {
        if (finished) return;
        finished = true;
        this.current = undefined;
        const status = state.error?.code ?? statusOf(err);
        if (status === 410) resolve({ kind: 'expired' });
        else if (state.error) resolve({ kind: 'error', err: state.error });
        // client-node aborts a watch silent for 30 s with a TimeoutError: just resume.
        else if (err && !(err instanceof Error && err.name === 'TimeoutError')) resolve({ kind: 'error', err });
        else resolve({ kind: 'closed', events: state.events, durationMs: Date.now() - started });
      };
      this.opts.watch(params, (type, obj) => this.onEvent(type, obj, state), done).then(
        (handle) => {
          if (finished) return;
          this.current = handle;
          if (this.stopped) handle.abort();
        },
        (err: unknown) => done(err ?? new Error('watch failed')),
      );
    });
  }
}
