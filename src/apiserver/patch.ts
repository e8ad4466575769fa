// PATCH bodies kube-apiserver accepts: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902) and strategic merge patch (lists merged by their Kubernetes merge
// key for the fields of Services, Nodes and object metadata; other lists are
// replaced, as atomic lists are). Pure; throws PatchError on a patch that
// cannot apply.

import { type Json, type JsonObject, cloneJson, isJsonObject, jsonEqual } from './types.ts';

/** A patch that is malformed or does not apply (the server answers 422, or 400 for bad JSON). */
export class PatchError extends Error {
  readonly code = 'EPATCH';
}

/** The PATCH content types served. */
export type PatchType = 'merge' | 'json' | 'strategic';

/** The patch type for a Content-Type header, or undefined when unsupported. */
export function patchTypeOf(contentType: string): PatchType | undefined {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  return undefined;
}

/** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const out: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(arr: Json[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(`invalid array index "${token}"`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`array index ${i} out of bounds`);
  return i;
}

function parentOf(doc: Json, tokens: string[]): { parent: Json; last: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)]!;
    else if (isJsonObject(cur) && Object.hasOwn(cur, t)) cur = cur[t]!;
    else throw new PatchError(`path "/${tokens.join('/')}" does not exist`);
  }
  return { parent: cur, last: tokens[tokens.length - 1]! };
}

function getAt(doc: Json, path: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return doc;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)]!;
  if (isJsonObject(parent) && Object.hasOwn(parent, last)) return parent[last]!;
  throw new PatchError(`path "${path}" does not exist`);
}

function removeAt(doc: Json, path: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false), 1)[0]!;
  if (isJsonObject(parent) && Object.hasOwn(parent, last)) { const v = parent[last]!; delete parent[last]; return v; }
  throw new PatchError(`path "${path}" does not exist`);
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, !replace);
    parent.splice(i, replace ? 1 : 0, value);
  } else if (isJsonObject(parent)) {
    if (replace && !Object.hasOwn(parent, last)) throw new PatchError(`path "${path}" does not exist`);
    parent[last] = value;
  } else {
    throw new PatchError(`path "${path}" does not exist`);
  }
  return doc;
}

function applyOp(doc: Json, op: Json): Json {
  if (!isJsonObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new PatchError('each JSON patch operation needs "op" and "path"');
  const name = op.op;
  const from = typeof op.from === 'string' ? op.from : undefined;
  const value = op.value === undefined ? undefined : cloneJson(op.value);
  const needValue = (): Json => { if (value === undefined) throw new PatchError(`"${name}" needs a value`); return value; };
  const needFrom = (): string => { if (from === undefined) throw new PatchError(`"${name}" needs "from"`); return from; };
  switch (op.op) {
    case 'add': return addAt(doc, op.path, needValue(), false);
    case 'replace': return addAt(doc, op.path, needValue(), true);
    case 'remove': removeAt(doc, op.path); return doc;
    case 'move': { const v = removeAt(doc, needFrom()); return addAt(doc, op.path, v, false); }
    case 'copy': return addAt(doc, op.path, cloneJson(getAt(doc, needFrom())), false);
    case 'test':
      if (!jsonEqual(getAt(doc, op.path), needValue())) throw new PatchError(`test failed at "${op.path}"`);
      return doc;
    default: throw new PatchError(`unknown JSON patch operation "${op.op}"`);
  }
}

/** RFC 6902: applies the operations in order to a copy of `target`. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = cloneJson(target);
  for (const op of ops) doc = applyOp(doc, op);
  return doc;
}

/** How a list field merges in a strategic merge patch (from the Kubernetes API types' patch tags). */
interface ListStrategy { readonly mergeKey?: string; readonly primitiveMerge?: boolean }

const listStrategies: Readonly<Record<string, ListStrategy>> = {
  'metadata.ownerReferences': { mergeKey: 'uid' },
  'metadata.finalizers': { primitiveMerge: true },
  'spec.ports': { mergeKey: 'port' },
  'spec.podCIDRs': { primitiveMerge: true },
  'spec.taints': { mergeKey: 'key' },
  'status.addresses': { mergeKey: 'type' },
  'status.conditions': { mergeKey: 'type' },
};

function mergeList(path: string, target: Json[], patch: Json[]): Json[] {
  const strategy = listStrategies[path];
  if (strategy?.primitiveMerge) return [...target, ...patch.filter((v) => !target.some((t) => jsonEqual(t, v)))];
  const key = strategy?.mergeKey;
  if (!key || patch.some((p) => isJsonObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isJsonObject(p) && p.$patch === 'replace')).map((p) => cloneJson(p));
  }
  const out = target.map((t) => cloneJson(t));
  for (const p of patch) {
    if (!isJsonObject(p)) throw new PatchError(`${path}: list elements must be objects with "${key}"`);
    const at = out.findIndex((t) => isJsonObject(t) && jsonEqual(t[key], p[key]));
    if (p.$patch === 'delete') { if (at >= 0) out.splice(at, 1); continue; }
    if (at >= 0) out[at] = strategicMerge(out[at]!, p, path);
    else out.push(strategicMerge({}, p, path));
  }
  return out;
}

/** Strategic merge patch of the Kubernetes API types served here; `path` is the dotted field path. */
export function strategicMerge(target: Json, patch: Json, path = ''): Json {
  if (!isJsonObject(patch)) return cloneJson(patch);
  if (patch.$patch === 'replace') { const { $patch: _, ...rest } = patch; return cloneJson(rest); }
  const out: JsonObject = isJsonObject(target) ? { ...target } : {};
  const retain = Array.isArray(patch.$retainKeys) ? patch.$retainKeys.filter((k): k is string => typeof k === 'string') : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => jsonEqual(d, x)));
      continue;
    }
    const sub = path ? `${path}.${k}` : k;
    const cur = out[k];
    if (v === null) delete out[k];
    else if (isJsonObject(v) && v.$patch === 'delete') delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(sub, Array.isArray(cur) ? cur : [], v);
    else out[k] = strategicMerge(cur ?? null, v, sub);
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

/** Applies a patch of the given type to `target`; throws PatchError when it cannot apply. */
export function applyPatch(type: PatchType, target: Json, patch: Json): Json {
  if (type === 'json') return jsonPatch(target, patch);
  if (!isJsonObject(patch)) throw new PatchError('a merge patch must be a JSON object');
  return type === 'merge' ? mergePatch(target, patch) : strategicMerge(target, patch);
}
