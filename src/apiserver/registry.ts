// REST semantics of kube-apiserver's generic registry over the versioned store:
// get, list (resourceVersion, resourceVersionMatch, selectors, limit/continue),
// create, update, patch, delete and delete-collection, with server-set metadata
// (uid, creationTimestamp, generation, resourceVersion), optimistic concurrency
// (409), status subresources, and no-op writes that do not bump the
// resourceVersion. Throws ApiError; no HTTP here.

import { type Allocation, admit } from './admission.ts';
import { ServiceAllocations } from './allocations.ts';
import { PatchError, type PatchType, applyPatch } from './patch.ts';
import { services } from './resources.ts';
import { buildFilter } from './selection.ts';
import {
  ApiError, alreadyExists, badRequest, conflict, deleteSuccess, expired, invalid, notFound,
  tooLargeResourceVersion, tooOldMessage,
} from './status.ts';
import { type VersionedStore, resourceId } from './store.ts';
import {
  type Json, type JsonObject, type KubeObject, type ResourceInfo, apiVersionOf, cloneJson, isJsonObject,
  jsonEqual, metaOf, metaString, objectKey,
} from './types.ts';

/** Query parameters of a list request. */
export interface ListQuery {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: string;
  readonly limit?: number;
  readonly continue?: string;
}

/** Injected sources of time and identity, so tests are deterministic. */
export interface RegistryOptions {
  readonly serviceCidr?: string;
  /** RFC 3339 timestamp of "now" (creationTimestamp). */
  readonly now?: () => string;
  readonly uid?: () => string;
  /** 5 characters for generateName. */
  readonly suffix?: () => string;
}

const serverFields = ['uid', 'creationTimestamp', 'resourceVersion', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

function parseRv(text: string, what = 'resourceVersion'): number {
  if (!/^\d+$/.test(text)) throw badRequest(`invalid ${what}: "${text}"`);
  return Number(text);
}

interface ContinueToken { rv: number; start: string }

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t: unknown = JSON.parse(Buffer.from(s, 'base64').toString('utf8'));
    if (isJsonObject(t) && t.v === 'meta.k8s.io/v1' && typeof t.rv === 'number' && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch { /* fall through */ }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

/** The spec-like part of an object: everything except metadata and status (what generation tracks). */
function specPart(o: KubeObject): JsonObject {
  const { metadata: _m, status: _s, resourceVersion: _r, ...rest } = o;
  return rest;
}

/** The served resources' registry over one store. */
export class Registry {
  readonly store: VersionedStore;
  private readonly opts: Required<RegistryOptions>;
  private readonly allocations: ServiceAllocations;

  /** Indexes the Services already in `store` and follows every later write to it, whoever makes it. */
  constructor(store: VersionedStore, opts: RegistryOptions = {}) {
    this.store = store;
    this.opts = {
      serviceCidr: opts.serviceCidr ?? '10.96.0.0/12',
      now: opts.now ?? (() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')),
      uid: opts.uid ?? (() => crypto.randomUUID()),
      suffix: opts.suffix ?? (() => Math.random().toString(36).slice(2, 7).padEnd(5, 'x')),
    };
    // Admission's view of allocated ClusterIPs/NodePorts follows the store's writes rather
    // than the verbs, so it changes only when a write lands: a rejected create or update
    // leaves it as it was, and direct store writes (tests, load) are counted too.
    const allocations = new ServiceAllocations(this.opts.serviceCidr);
    const id = resourceId(services);
    for (const s of store.values(id)) allocations.set(this.key(services, metaString(s, 'namespace'), metaString(s, 'name')), s);
    store.subscribe((e) => { if (e.resource === id) allocations.set(e.key, e.type === 'DELETED' ? null : e.object); });
    this.allocations = allocations;
  }

  private key(r: ResourceInfo, namespace: string, name: string): string {
    return objectKey(r.namespaced ? namespace : '', name);
  }

  /** The object, or ApiError 404. */
  get(r: ResourceInfo, namespace: string, name: string): KubeObject {
    const o = this.store.get(resourceId(r), this.key(r, namespace, name));
    if (!o) throw notFound(r, name);
    return o;
  }

  /** A `<Kind>List` per kube-apiserver's list semantics; 400/410/504 as ApiError. */
  list(r: ResourceInfo, namespace: string, q: ListQuery): JsonObject {
    const { filter, selective } = buildFilter(r, namespace, q.labelSelector ?? '', q.fieldSelector ?? '');
    const id = resourceId(r);
    const cur = this.store.resourceVersion;
    let rv = cur;
    let start = '';
    let items: KubeObject[];
    if (q.continue) {
      const t = decodeContinue(q.continue);
      const at = this.store.listAt(id, t.rv);
      if (!at) throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      ({ rv, start } = t);
      items = at;
    } else if (q.resourceVersionMatch === 'Exact') {
      if (!q.resourceVersion) throw badRequest('resourceVersionMatch "Exact" requires resourceVersion');
      const want = parseRv(q.resourceVersion);
      if (want > cur) throw tooLargeResourceVersion(want, cur);
      const at = this.store.listAt(id, want);
      if (!at) throw expired(tooOldMessage(want, this.store.oldestResourceVersion));
      rv = want;
      items = at;
    } else {
      if (q.resourceVersion && q.resourceVersion !== '0') {
        const want = parseRv(q.resourceVersion);
        if (want > cur) throw tooLargeResourceVersion(want, cur);
      }
      items = this.store.list(id);
    }
    const keyOf = (o: KubeObject): string => this.key(r, metaString(o, 'namespace'), metaString(o, 'name'));
    const selected = items.filter((o) => keyOf(o) > start && filter(o));
    const limit = q.limit && q.limit > 0 ? q.limit : selected.length;
    const page = selected.slice(0, limit);
    const more = selected.length > page.length;
    const listMeta: JsonObject = { resourceVersion: String(rv) };
    if (more) {
      listMeta.continue = encodeContinue({ rv, start: keyOf(page[page.length - 1]!) });
      // kube-apiserver counts the rest only when no selector filters it.
      if (!selective) listMeta.remainingItemCount = selected.length - page.length;
    }
    // Items of a list carry no kind/apiVersion, as kube-apiserver's typed lists.
    const bare = page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest as Json);
    return { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: listMeta, items: bare };
  }

  /** What admission of a write to `key` may allocate from: the values other Services hold (only Services allocate). */
  private allocation(r: ResourceInfo, key: string): Allocation {
    return this.allocations.except(r.kind === 'Service' ? key : null);
  }

  private checkBody(r: ResourceInfo, body: Json, namespace: string): KubeObject {
    if (!isJsonObject(body)) throw badRequest('the body of the request must be a JSON object');
    const o = cloneJson(body);
    if (o.kind !== undefined && o.kind !== r.kind) throw badRequest(`the object provided is unrecognized (must be of type ${r.kind}): kind ${JSON.stringify(o.kind)}`);
    if (o.apiVersion !== undefined && o.apiVersion !== apiVersionOf(r)) throw badRequest(`the API version in the data (${JSON.stringify(o.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`);
    const meta = isJsonObject(o.metadata) ? o.metadata : {};
    if (r.namespaced) {
      const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
      if (ns !== '' && namespace !== '' && ns !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace || ns || 'default';
    } else {
      delete meta.namespace;
    }
    return { ...o, kind: r.kind, apiVersion: apiVersionOf(r), metadata: meta };
  }

  /** POST: creates the object (201); 400/409/422 as ApiError. `seed` keeps status (loading files). */
  create(r: ResourceInfo, namespace: string, body: Json, opts: { seed?: boolean } = {}): KubeObject {
    const o = this.checkBody(r, body, namespace);
    const meta = o.metadata;
    if (opts.seed) for (const f of serverFields) delete meta[f];
    if (typeof meta.resourceVersion === 'string' && meta.resourceVersion !== '') throw badRequest('resourceVersion should not be set on objects to be created');
    if ((meta.name === undefined || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName !== '') {
      meta.name = `${meta.generateName}${this.opts.suffix()}`;
    }
    for (const f of serverFields) delete meta[f];
    // Services are created without status, as the Service strategy resets it.
    if (r.kind === 'Service' && !opts.seed) delete o.status;
    const key = this.key(r, metaString(o, 'namespace'), metaString(o, 'name'));
    // Before the existence check, as before: a 422 wins over a 409, and the existing object's values count as free.
    admit(r, o, null, this.allocation(r, key));
    if (this.store.get(resourceId(r), key)) throw alreadyExists(r, metaString(o, 'name'));
    Object.assign(meta, { uid: this.opts.uid(), creationTimestamp: this.opts.now(), generation: 1 });
    return this.store.write(resourceId(r), key, o)!.object;
  }

  /** PUT: replaces the object (or its status); 400/404/409/422 as ApiError. */
  update(r: ResourceInfo, namespace: string, name: string, body: Json, subresource: '' | 'status' = ''): KubeObject {
    const old = this.get(r, namespace, name);
    const o = this.checkBody(r, body, namespace);
    const bodyName = metaString(o, 'name');
    if (bodyName === '') o.metadata.name = name;
    else if (bodyName !== name) throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    const rv = metaString(o, 'resourceVersion');
    if (rv !== '' && rv !== metaString(old, 'resourceVersion')) throw conflict(r, name);
    let next: KubeObject;
    if (subresource === 'status') {
      // The status strategy takes only status from the body.
      next = { ...old, status: o.status ?? null };
      if (o.status === undefined) delete next.status;
    } else {
      next = o;
      if (r.hasStatus) { if (old.status === undefined) delete next.status; else next.status = old.status; }
    }
    const oldMeta = metaOf(old);
    next.metadata = { ...next.metadata, uid: oldMeta.uid ?? null, creationTimestamp: oldMeta.creationTimestamp ?? null, generation: oldMeta.generation ?? 1 };
    delete next.metadata.managedFields;
    const key = this.key(r, namespace, name);
    admit(r, next, old, this.allocation(r, key));
    if (!jsonEqual(specPart(next), specPart(old))) next.metadata.generation = (typeof oldMeta.generation === 'number' ? oldMeta.generation : 0) + 1;
    next.metadata.resourceVersion = oldMeta.resourceVersion ?? null;
    // etcd3 storage skips writes that change nothing: no new resourceVersion, no event.
    if (jsonEqual(next, old)) return old;
    return this.store.write(resourceId(r), key, next)!.object;
  }

  /** PATCH with a merge, strategic-merge or JSON patch; errors as update, plus 422 for a patch that does not apply. */
  patch(r: ResourceInfo, namespace: string, name: string, type: PatchType, patch: Json, subresource: '' | 'status' = ''): KubeObject {
    const old = this.get(r, namespace, name);
    let patched: Json;
    try {
      patched = applyPatch(type, old, patch);
    } catch (err) {
      if (err instanceof PatchError) throw new ApiError(422, 'Invalid', err.message);
      throw err;
    }
    if (!isJsonObject(patched)) throw invalid(r, name, [{ field: '', reason: 'FieldValueInvalid', message: 'Invalid value: the patched object is not an object' }]);
    const meta = isJsonObject(patched.metadata) ? patched.metadata : {};
    if (typeof meta.name === 'string' && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    return this.update(r, namespace, name, { ...patched, metadata: meta }, subresource);
  }

  /** DELETE one object: the object (Services) or a Success Status; 404/409 as ApiError. */
  delete(r: ResourceInfo, namespace: string, name: string, options: Json = null): JsonObject {
    const old = this.get(r, namespace, name);
    const pre = isJsonObject(options) && isJsonObject(options.preconditions) ? options.preconditions : {};
    const uid = metaString(old, 'uid');
    if (typeof pre.uid === 'string' && pre.uid !== uid) throw conflict(r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${uid}`);
    const rv = metaString(old, 'resourceVersion');
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== rv) throw conflict(r, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${rv}`);
    const e = this.store.write(resourceId(r), this.key(r, namespace, name), null)!;
    return r.returnDeletedObject ? e.object : deleteSuccess(r, name, uid);
  }

  /** DELETE on a collection: deletes every selected object and answers with the list of them. */
  deleteCollection(r: ResourceInfo, namespace: string, q: ListQuery): JsonObject {
    const { filter } = buildFilter(r, namespace, q.labelSelector ?? '', q.fieldSelector ?? '');
    const id = resourceId(r);
    const gone = this.store.list(id).filter(filter).map((o) => this.store.write(id, this.key(r, metaString(o, 'namespace'), metaString(o, 'name')), null)!.object);
    return { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.store.resourceVersion) }, items: gone };
  }
}
