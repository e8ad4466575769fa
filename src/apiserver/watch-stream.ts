// One watch response: a chunked stream of JSON lines `{"type":..,"object":..}`,
// as kube-apiserver writes them. It replays history from the requested
// resourceVersion (or the current state as synthetic ADDED events when none is
// given), then follows the store; sends BOOKMARKs when the client allows them;
// ends at its timeout; and reports an expired or too-new resourceVersion as an
// in-stream ERROR event after a 200, as kube-apiserver's watch cache does.

import type { ServerResponse } from 'node:http';
import type { ObjectFilter } from './selection.ts';
import { type ApiError, expired, tooLargeResourceVersion, tooOldMessage } from './status.ts';
import { type VersionedStore, resourceId } from './store.ts';
import { type KubeObject, type ResourceInfo, apiVersionOf } from './types.ts';
import { type WatchEvent, toWatchEvent } from './watch-filter.ts';

/** What a watch asks for. */
export interface WatchSpec {
  readonly resource: ResourceInfo;
  readonly filter: ObjectFilter;
  /** '' or '0': start with the current state; a number: events after it. */
  readonly resourceVersion: string;
  readonly allowBookmarks: boolean;
  readonly timeoutMs: number;
  readonly bookmarkIntervalMs: number;
}

/** A running watch response. Ends itself on timeout and when the client goes away. */
export class WatchStream {
  private readonly res: ServerResponse;
  private readonly store: VersionedStore;
  private readonly spec: WatchSpec;
  private unsubscribe: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private ended = false;
  /** Called once when the stream ends, for whatever reason. */
  onEnd: () => void = () => {};

  constructor(res: ServerResponse, store: VersionedStore, spec: WatchSpec) {
    this.res = res;
    this.store = store;
    this.spec = spec;
  }

  private write(e: WatchEvent): void {
    if (!this.ended) this.res.write(`${JSON.stringify(e)}\n`);
  }

  /** Sends the 200 header, the replay, and subscribes to new events. */
  start(): void {
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    this.res.flushHeaders();
    this.res.on('close', () => this.cleanup());
    const { resource, filter, resourceVersion } = this.spec;
    const id = resourceId(resource);
    if (resourceVersion === '' || resourceVersion === '0') {
      for (const o of this.store.list(id)) if (filter(o)) this.write({ type: 'ADDED', object: o });
    } else {
      const rv = Number(resourceVersion);
      const cur = this.store.resourceVersion;
      if (rv > cur) { this.fail(tooLargeResourceVersion(rv, cur)); return; }
      const history = this.store.eventsSince(rv);
      if (!history) { this.fail(expired(tooOldMessage(rv, this.store.oldestResourceVersion))); return; }
      for (const e of history) if (e.resource === id) this.forward(toWatchEvent(e, filter));
    }
    this.unsubscribe = this.store.subscribe((e) => { if (e.resource === id) this.forward(toWatchEvent(e, filter)); });
    if (this.spec.allowBookmarks && this.spec.bookmarkIntervalMs > 0) {
      const t = setInterval(() => this.bookmark(), this.spec.bookmarkIntervalMs);
      t.unref();
      this.timers.push(t);
    }
    const end = setTimeout(() => {
      // kube-apiserver sends a last bookmark shortly before a watch's deadline.
      if (this.spec.allowBookmarks) this.bookmark();
      this.close();
    }, this.spec.timeoutMs);
    end.unref();
    this.timers.push(end);
  }

  private forward(e: WatchEvent | null): void {
    if (e) this.write(e);
  }

  /** Sends a BOOKMARK at the store's current resourceVersion, if the client allowed bookmarks. */
  bookmark(): boolean {
    if (!this.spec.allowBookmarks || this.ended) return false;
    const object: KubeObject = {
      kind: this.spec.resource.kind, apiVersion: apiVersionOf(this.spec.resource),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
    };
    this.write({ type: 'BOOKMARK', object });
    return true;
  }

  /** Sends an in-stream ERROR with the error's Status and ends the stream. */
  fail(err: ApiError): void {
    this.write({ type: 'ERROR', object: err.status });
    this.close();
  }

  /** Ends the stream cleanly (the client sees a normal end of the response). */
  close(): void {
    if (this.ended) return;
    this.cleanup();
    this.res.end();
  }

  private cleanup(): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.onEnd();
  }
}
