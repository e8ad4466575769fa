// The local API server: kube-apiserver's REST protocol for Services, Nodes and
// EndpointSlices over HTTPS with a bearer token, backed by an in-memory
// versioned store. It is the test double of a real API server (none can run
// here) and the demo's cluster. Test hooks reproduce what real clusters do to
// clients: streams closed by the server, compaction (410 on resume), in-stream
// 410s, HTTP errors at watch start, and restarts that keep state and port.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Server, createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { writeKubeconfigFile } from './kubeconfig.ts';
import { patchTypeOf } from './patch.ts';
import { type ListQuery, Registry } from './registry.ts';
import { coreVersions, findResourceByKind, group, groupList, resourceList, versionInfo } from './resources.ts';
import { type ResourcePath, route } from './router.ts';
import { buildFilter } from './selection.ts';
import {
  ApiError, badRequest, expired, methodNotAllowed, pathNotFound, unauthorized, unsupportedPatchType,
} from './status.ts';
import { VersionedStore } from './store.ts';
import { type TlsMaterial, defaultHosts, generateTls } from './tls.ts';
import { type Json, type JsonObject, isJsonObject, metaString } from './types.ts';
import { WatchStream } from './watch-stream.ts';

/** How to build a DevApiServer. Every field is optional. */
export interface DevApiServerOptions {
  /** Listen address (default 127.0.0.1) and port (default 0: any free port, kept across restarts). */
  readonly host?: string;
  readonly port?: number;
  /** The bearer token clients must send (default: 32 random hex bytes). */
  readonly token?: string;
  /** TLS material; generated with openssl when absent (names `host`, loopback and `extraHosts`). */
  readonly tls?: TlsMaterial;
  readonly extraHosts?: readonly string[];
  /** Period of BOOKMARK events on watches that allow them (default 60 s, like kube-apiserver). */
  readonly bookmarkIntervalMs?: number;
  /** Watch length when the client gives no timeoutSeconds (default 1800 s, kube-apiserver's minimum). */
  readonly watchTimeoutSeconds?: number;
  /** Events kept for watch resumption (default 1000). */
  readonly historyLimit?: number;
  readonly initialResourceVersion?: number;
  readonly serviceCidr?: string;
  readonly logger?: Logger;
}

/** One request as the server saw it, for tests (`watch` tells watches from lists). */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly watch: boolean;
}

const maxBody = 3 * 1024 * 1024;
const healthPaths = new Set(['/healthz', '/livez', '/readyz']);

function send(res: ServerResponse, code: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > maxBody) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return null;
  const type = req.headers['content-type'] ?? '';
  try {
    return (type.includes('yaml') ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (err) {
    throw badRequest(`the request body could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function isWatch(target: ResourcePath, q: URLSearchParams): boolean {
  const w = q.get('watch');
  return target.watchPrefix || w === 'true' || w === '1';
}

function listQuery(q: URLSearchParams): ListQuery {
  const limit = Number(q.get('limit') ?? '');
  return {
    labelSelector: q.get('labelSelector') ?? '',
    fieldSelector: q.get('fieldSelector') ?? '',
    resourceVersion: q.get('resourceVersion') ?? '',
    resourceVersionMatch: q.get('resourceVersionMatch') ?? '',
    limit: Number.isInteger(limit) && limit > 0 ? limit : 0,
    continue: q.get('continue') ?? '',
  };
}

/**
 * An in-memory kube-apiserver for Services, Nodes and EndpointSlices. Create
 * with `DevApiServer.create`, then `start()`. All hooks are synchronous and
 * return how many watches they touched.
 */
export class DevApiServer {
  readonly store: VersionedStore;
  readonly registry: Registry;
  readonly tls: TlsMaterial;
  /** The last requests (bounded), oldest first. */
  readonly requests: RequestRecord[] = [];
  private readonly opts: DevApiServerOptions;
  private readonly tokens: Set<string>;
  private readonly host: string;
  private portValue: number;
  private server: Server | undefined;
  private readonly watches = new Set<WatchStream>();
  private readonly sockets = new Set<Socket>();
  private readonly watchStartFailures: number[] = [];
  private readonly listFailures: { code: number; pathPrefix: string }[] = [];
  private readonly log: Logger | undefined;

  private constructor(opts: DevApiServerOptions, tls: TlsMaterial) {
    this.opts = opts;
    this.tls = tls;
    this.host = opts.host ?? '127.0.0.1';
    this.portValue = opts.port ?? 0;
    this.tokens = new Set([opts.token ?? randomBytes(32).toString('hex')]);
    this.store = new VersionedStore({
      ...(opts.historyLimit !== undefined ? { historyLimit: opts.historyLimit } : {}),
      ...(opts.initialResourceVersion !== undefined ? { initialResourceVersion: opts.initialResourceVersion } : {}),
    });
    this.registry = new Registry(this.store, opts.serviceCidr ? { serviceCidr: opts.serviceCidr } : {});
    this.log = opts.logger?.child({ component: 'dev-apiserver' });
  }

  /** Builds a server (generating TLS material when none is given); rejects with TlsError if openssl fails. Does not listen. */
  static async create(opts: DevApiServerOptions = {}): Promise<DevApiServer> {
    const host = opts.host ?? '127.0.0.1';
    const tls = opts.tls ?? await generateTls(defaultHosts([host, ...(opts.extraHosts ?? [])]));
    return new DevApiServer(opts, tls);
  }

  /** The token clients must present. */
  get token(): string {
    return [...this.tokens][0]!;
  }

  /** The port (after the first start, the one every restart reuses). */
  get port(): number {
    return this.portValue;
  }

  /** `https://host:port`. */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `https://${h}:${this.portValue}`;
  }

  /** Whether the server is listening. */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Open watch streams. */
  get watchCount(): number {
    return this.watches.size;
  }

  /** Listens (again, on the same port after a stop). Rejects with the listen error (EADDRINUSE, EACCES). */
  async start(): Promise<void> {
    if (this.server?.listening) return;
    const server = createServer({ key: this.tls.key, cert: this.tls.cert }, (req, res) => { void this.handle(req, res); });
    this.server = server;
    // Raw sockets, so stop() also drops connections still in the TLS handshake.
    server.on('connection', (sock: Socket) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portValue, this.host, () => { server.off('error', reject); resolve(); });
    });
    this.portValue = (server.address() as AddressInfo).port;
    this.log?.info({ url: this.url }, 'listening');
  }

  /** Stops listening and drops every connection (watch clients see the connection end), keeping all state. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Replaces the accepted bearer tokens (e.g. to rotate them). */
  setTokens(tokens: readonly string[]): void {
    this.tokens.clear();
    for (const t of tokens) this.tokens.add(t);
  }

  /** Ends every open watch stream cleanly, as a server does at a watch's timeout. */
  closeWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) w.close();
    return n;
  }

  /** Sends every open watch an in-stream ERROR 410 Expired and ends it. */
  expireWatches(): number {
    const n = this.watches.size;
    const err = expired(`too old resource version: ${this.store.oldestResourceVersion} (${this.store.resourceVersion})`);
    for (const w of [...this.watches]) w.fail(err);
    return n;
  }

  /** Sends a BOOKMARK now on every watch that allows them. */
  sendBookmarks(): number {
    return [...this.watches].filter((w) => w.bookmark()).length;
  }

  /** Drops the event history: resuming a watch or an exact list from any older resourceVersion now gets 410. */
  compact(): void {
    this.store.compact();
  }

  /**
   * Makes the next `count` watch requests fail before streaming with HTTP `code`
   * (410 Expired by default; e.g. 500 or 503 for server trouble).
   */
  failWatchStarts(count: number, code = 410): void {
    for (let i = 0; i < count; i += 1) this.watchStartFailures.push(code);
  }

  /** Makes the next `count` list requests whose path starts with `pathPrefix` fail with HTTP `code` (default 500). */
  failLists(count: number, code = 500, pathPrefix = ''): void {
    for (let i = 0; i < count; i += 1) this.listFailures.push({ code, pathPrefix });
  }

  private injectedListFailure(path: string): void {
    const i = this.listFailures.findIndex((f) => path.startsWith(f.pathPrefix));
    if (i < 0) return;
    const [f] = this.listFailures.splice(i, 1);
    throw f!.code === 410 ? expired('injected: too old resource version') : new ApiError(f!.code, 'InternalError', 'injected list failure');
  }

  /**
   * Adds objects (Services, Nodes, EndpointSlices as parsed from manifests) as
   * they are, status included, dropping server-set metadata. Returns one message
   * per object that was rejected (unknown kind, invalid, duplicate).
   */
  load(objects: readonly unknown[]): string[] {
    const problems: string[] = [];
    for (const o of objects) {
      const body = o as Json;
      const r = isJsonObject(body) ? findResourceByKind(typeof body.apiVersion === 'string' ? body.apiVersion : '', typeof body.kind === 'string' ? body.kind : '') : undefined;
      const where = isJsonObject(body) ? `${JSON.stringify(body.kind ?? null)} ${metaString(body, 'namespace') || '-'}/${metaString(body, 'name')}` : 'object';
      if (!r) { problems.push(`${where}: not a served kind`); continue; }
      try {
        this.registry.create(r, r.namespaced ? (metaString(body as JsonObject, 'namespace') || 'default') : '', body, { seed: true });
      } catch (err) {
        problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return problems;
  }

  /** Writes a kubeconfig for this server (URL, CA, token) with mode 0600. */
  async writeKubeconfig(path: string): Promise<void> {
    await writeKubeconfigFile(path, { server: this.url, caCert: this.tls.caCert, token: this.token });
  }

  private record(r: RequestRecord): void {
    this.requests.push(r);
    if (this.requests.length > 1000) this.requests.splice(0, this.requests.length - 1000);
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m !== null && this.tokens.has(m[1]!);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const method = req.method ?? 'GET';
    try {
      const r = route(url.pathname);
      const watch = r.kind === 'resource' && method === 'GET' && isWatch(r.target, url.searchParams);
      this.record({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), watch });
      this.log?.debug({ method, path: url.pathname, watch }, 'request');
      if (r.kind === 'discovery' && healthPaths.has(r.path)) {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
        return;
      }
      if (!this.authorized(req)) throw unauthorized();
      if (r.kind === 'none') throw pathNotFound();
      if (r.kind === 'discovery') { this.discovery(r.path, method, res); return; }
      if (watch) { this.watch(r.target, url.searchParams, res); return; }
      await this.resource(r.target, method, url.searchParams, req, res);
    } catch (err) {
      if (err instanceof ApiError) { send(res, err.code, err.status); return; }
      this.log?.error({ err }, 'request failed');
      const e = new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) send(res, 500, e.status); else res.destroy();
    }
  }

  private discovery(path: string, method: string, res: ServerResponse): void {
    if (method !== 'GET') throw methodNotAllowed();
    const address = `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.portValue}`;
    let doc: JsonObject | undefined;
    if (path === '/version') doc = versionInfo();
    else if (path === '/api') doc = coreVersions(address);
    else if (path === '/api/v1') doc = resourceList('', 'v1');
    else if (path === '/apis') doc = groupList();
    else {
      const [, , g, v] = path.split('/');
      doc = v ? resourceList(g!, v) : group(g!);
    }
    if (!doc) throw pathNotFound();
    send(res, 200, doc);
  }

  private watch(target: ResourcePath, q: URLSearchParams, res: ServerResponse): void {
    const { resource, namespace, name } = target;
    const rv = q.get('resourceVersion') ?? '';
    if (rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: "${rv}"`);
    const fieldSelector = [q.get('fieldSelector') ?? '', name ? `metadata.name=${name}` : ''].filter((s) => s !== '').join(',');
    const supported = name && !resource.fields['metadata.name'] ? { ...resource.fields } : resource.fields;
    const { filter } = buildFilter({ ...resource, fields: supported }, namespace, q.get('labelSelector') ?? '', fieldSelector);
    const failure = this.watchStartFailures.shift();
    if (failure !== undefined) {
      throw failure === 410 ? expired(`too old resource version: ${rv} (${this.store.oldestResourceVersion})`) : new ApiError(failure, 'InternalError', 'injected watch failure');
    }
    const timeoutParam = Number(q.get('timeoutSeconds') ?? '');
    const timeoutSeconds = Number.isFinite(timeoutParam) && timeoutParam > 0 ? timeoutParam : (this.opts.watchTimeoutSeconds ?? 1800);
    const allow = q.get('allowWatchBookmarks');
    const stream = new WatchStream(res, this.store, {
      resource, filter, resourceVersion: rv,
      allowBookmarks: allow === 'true' || allow === '1',
      timeoutMs: timeoutSeconds * 1000,
      bookmarkIntervalMs: this.opts.bookmarkIntervalMs ?? 60_000,
    });
    this.watches.add(stream);
    stream.onEnd = () => { this.watches.delete(stream); };
    stream.start();
  }

  private async resource(target: ResourcePath, method: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { resource: r, namespace, name, subresource } = target;
    const reg = this.registry;
    switch (method) {
      case 'GET':
        if (!name) this.injectedListFailure(req.url ?? '');
        send(res, 200, name ? reg.get(r, namespace, name) : reg.list(r, namespace, listQuery(q)));
        return;
      case 'POST':
        if (name || subresource || (r.namespaced && !namespace)) throw methodNotAllowed();
        send(res, 201, reg.create(r, namespace, await readBody(req)));
        return;
      case 'PUT':
        if (!name) throw methodNotAllowed();
        send(res, 200, reg.update(r, namespace, name, await readBody(req), subresource));
        return;
      case 'PATCH': {
        if (!name) throw methodNotAllowed();
        const type = patchTypeOf(req.headers['content-type'] ?? '');
        if (!type) throw unsupportedPatchType(req.headers['content-type'] ?? '');
        send(res, 200, reg.patch(r, namespace, name, type, await readBody(req), subresource));
        return;
      }
      case 'DELETE':
        if (subresource) throw methodNotAllowed();
        if (name) { send(res, 200, reg.delete(r, namespace, name, await readBody(req))); return; }
        if (!r.deleteCollection) throw methodNotAllowed();
        send(res, 200, reg.deleteCollection(r, namespace, listQuery(q)));
        return;
      default:
        throw methodNotAllowed();
    }
  }
}
