// Vocabulary of the local API server: stored objects as plain JSON, the
// resources it serves, and the keys it files them under.

/** A JSON value as the API server reads and writes it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/**
 * A stored Kubernetes object: plain JSON with `kind`, `apiVersion` and
 * `metadata` always present once admitted.
 */
export type KubeObject = JsonObject & { metadata: JsonObject };

/** A field-selector attribute: the field's value on an object, as a string. */
export type FieldGetter = (o: KubeObject) => string;

/** One REST resource the server serves (kube-apiserver's APIResource plus storage policy). */
export interface ResourceInfo {
  /** API group; '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Plural resource name used in URLs (`services`). */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Field-selector attributes the real API server supports for this resource. */
  readonly fields: Readonly<Record<string, FieldGetter>>;
  /** DELETE answers with the deleted object (true) or a Success Status (false), as in kube-apiserver. */
  readonly returnDeletedObject: boolean;
  /** Whether a `/status` subresource exists (status is then ignored on the main resource). */
  readonly hasStatus: boolean;
  /** Whether DELETE on the collection is allowed (Services do not support it). */
  readonly deleteCollection: boolean;
}

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(r: ResourceInfo): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The metadata of an object, or an empty record when absent or malformed. */
export function metaOf(o: JsonObject): JsonObject {
  const m = o.metadata;
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? m : {};
}

/** A string field of the object's metadata, or ''. */
export function metaString(o: JsonObject, field: string): string {
  const v = metaOf(o)[field];
  return typeof v === 'string' ? v : '';
}

/**
 * The storage key of an object: `namespace/name` for namespaced resources, `name`
 * otherwise. Keys sort like etcd keys, so lists come out in kube-apiserver's order.
 */
export function objectKey(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Whether `v` is a non-array object. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deep copy of a JSON value (objects in the store are never shared with callers). */
export function cloneJson<T extends Json>(v: T): T {
  return structuredClone(v);
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (typeof a !== 'object' || typeof b !== 'object' || Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}
