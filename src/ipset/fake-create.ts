// SPDX-License-Identifier: Apache-2.0
// The `create` line as the ipset tool reads it, for the fake kernel: the five
// set types kube-proxy uses and the options they take. Pure.

import { ipSetDefaults, type IpSetFamily, type IpSetType } from './types.ts';

/** A set's creation parameters. */
export interface CreateSpec {
  readonly name: string;
  readonly type: IpSetType;
  /** null for bitmap:port, which has no family. */
  readonly family: IpSetFamily | null;
  readonly hashSize: number;
  readonly maxElem: number;
  /** bitmap:port only: the inclusive port range. */
  readonly range: readonly [number, number] | null;
  readonly comment: boolean;
  readonly counters: boolean;
}

const types: readonly IpSetType[] = ['hash:ip', 'hash:ip,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'bitmap:port'];

/** Options the tool accepts and ignores here (ipset save prints them; the kernel picks its own). */
const ignoredHashOptions = new Set(['bucketsize', 'initval']);

function isType(t: string): t is IpSetType {
  return (types as readonly string[]).includes(t);
}

function count(v: string | undefined): number | null {
  return v !== undefined && /^[0-9]{1,10}$/.test(v) ? Number(v) : null;
}

function range(v: string | undefined): [number, number] | null {
  const m = /^([0-9]{1,5})-([0-9]{1,5})$/.exec(v ?? '');
  if (!m) return null;
  const from = Number(m[1]);
  const to = Number(m[2]);
  return from <= to && to <= 65535 ? [from, to] : null;
}

/**
 * Reads `TYPE [options]` of a create line. Returns the spec; a string for an
 * error the tool reports with its line number; `{usage}` for one it reports
 * without (unknown or missing options, as the tool's usage errors).
 */
export function parseCreate(name: string, words: readonly string[]): CreateSpec | string | { usage: string } {
  const [type, ...opts] = words;
  if (type === undefined) return { usage: 'Missing mandatory argument: typename' };
  if (!isType(type)) return `Syntax error: typename '${type}' is unknown`;
  const bitmap = type === 'bitmap:port';
  const spec: { -readonly [K in keyof CreateSpec]: CreateSpec[K] } = {
    name, type, family: bitmap ? null : 'inet', hashSize: ipSetDefaults.hashSize,
    maxElem: ipSetDefaults.maxElem, range: null, comment: false, counters: false,
  };
  for (let i = 0; i < opts.length; i++) {
    const key = opts[i]!;
    if (key === 'comment' || key === 'counters') { spec[key] = true; continue; }
    const value = opts[++i];
    if (bitmap && key === 'range') {
      spec.range = range(value);
      if (!spec.range) return `Syntax error: '${value ?? ''}' is not a valid port range`;
    } else if (!bitmap && key === 'family') {
      if (value !== 'inet' && value !== 'inet6') return `Syntax error: unknown family '${value ?? ''}'`;
      spec.family = value;
    } else if (!bitmap && (key === 'hashsize' || key === 'maxelem')) {
      const n = count(value);
      if (n === null || n === 0) return `Syntax error: '${value ?? ''}' is invalid as number`;
      if (key === 'hashsize') spec.hashSize = n;
      else spec.maxElem = n;
    } else if (!bitmap && ignoredHashOptions.has(key) && value !== undefined) {
      continue;
    } else {
      return { usage: `Unknown argument: \`${key}'` };
    }
  }
  if (bitmap && !spec.range) return { usage: "Mandatory option `range' is missing" };
  return spec;
}
