// Field selectors as kube-apiserver parses them (apimachinery fields.Parse):
// `field=value`, `field==value`, `field!=value`, comma = AND, backslash escapes
// for `\,`, `\=`, `\!` and `\\` in values. Only the fields a resource declares are
// accepted, as the real server rejects others. Pure.

import { SelectorError } from './label-selector.ts';
import type { FieldGetter, KubeObject } from './types.ts';

/** One term of a field selector. */
export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** A parsed field selector: every term must hold. */
export type FieldSelector = readonly FieldRequirement[];

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) { cur += c + s[i + 1]!; i += 1; continue; }
    if (c === sep) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i += 1) {
    const c = v[i]!;
    if (c === '\\') {
      const n = v[i + 1];
      if (n === undefined || !['\\', ',', '=', '!'].includes(n)) throw new SelectorError(`invalid field selector: invalid escape sequence in "${v}"`);
      out += n;
      i += 1;
    } else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector: unescaped "${c}" in value "${v}"`);
    } else {
      out += c;
    }
  }
  return out;
}

function parseTerm(term: string): FieldRequirement {
  for (const op of ['!=', '==', '='] as const) {
    const at = findUnescaped(term, op);
    if (at >= 0) {
      return { field: term.slice(0, at).trim(), op: op === '!=' ? '!=' : '=', value: unescape(term.slice(at + op.length)) };
    }
  }
  throw new SelectorError(`invalid selector: '${term}'; can't understand '${term}'`);
}

function findUnescaped(s: string, op: string): number {
  for (let i = 0; i < s.length; i += 1) {
    if (s[i] === '\\') { i += 1; continue; }
    if (s.startsWith(op, i)) return i;
  }
  return -1;
}

/**
 * Parses a field selector and checks every field against `supported`. Throws
 * SelectorError (the server answers 400) for malformed terms and for
 * `field label not supported: <field>`.
 */
export function parseFieldSelector(text: string, supported: Readonly<Record<string, FieldGetter>>): FieldSelector {
  if (text.trim() === '') return [];
  return splitUnescaped(text, ',').map((raw) => {
    const req = parseTerm(raw);
    if (!Object.hasOwn(supported, req.field)) throw new SelectorError(`field label not supported: ${req.field}`);
    return req;
  });
}

/** Whether `obj` satisfies every term, reading fields with `getters`. */
export function matchesFields(selector: FieldSelector, obj: KubeObject, getters: Readonly<Record<string, FieldGetter>>): boolean {
  return selector.every((r) => {
    const get = getters[r.field];
    const v = get ? get(obj) : '';
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
