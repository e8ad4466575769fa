// SPDX-License-Identifier: Apache-2.0
// The text of `ipset save` and `ipset restore`: tokenizing a line the way the
// ipset tool does, reading `ipset save` output into sets, and writing the
// restore lines the client sends. Pure: no I/O.

import { type IpSet, type ObservedSet, createOptions } from './types.ts';

/** Header flags that take no value (everything else in a header is `key value`). */
const headerFlags = new Set(['counters', 'comment', 'skbinfo', 'forceadd']);

/**
 * Splits a line into words on blanks; a double-quoted word (an entry comment)
 * may hold blanks and `\"`. Returns null for an unterminated quote.
 */
export function tokenize(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '"') {
      let word = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        word += line[i];
        i++;
      }
      if (i >= line.length) return null;
      out.push(word);
      i++;
      continue;
    }
    let j = i;
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t' && line[j] !== '\r') j++;
    out.push(line.slice(i, j));
    i = j;
  }
  return out;
}

/** Reads header words after the type into `family` and the other options. */
export function parseHeader(words: readonly string[]): { family: string | null; options: Record<string, string> } {
  const options: Record<string, string> = {};
  let family: string | null = null;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (headerFlags.has(w)) { options[w] = ''; continue; }
    const value = words[i + 1] ?? '';
    i++;
    if (w === 'family') family = value;
    else options[w] = value;
  }
  return { family, options };
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Building {
  name: string;
  type: string;
  family: string | null;
  options: Record<string, string>;
  entries: string[];
}

/**
 * Reads `ipset save` output. Sets come back sorted by name and entries sorted,
 * so the result is deterministic whatever order the kernel's hash gives.
 * Lines that are neither `create` nor `add` of a created set are ignored (the
 * format has nothing else). Never throws.
 */
export function parseSave(text: string): ObservedSet[] {
  const sets = new Map<string, Building>();
  for (const line of text.split('\n')) {
    const words = tokenize(line);
    if (!words || words.length < 3) continue;
    const [cmd, name, third] = words as [string, string, string];
    if (cmd === 'create') {
      const { family, options } = parseHeader(words.slice(3));
      sets.set(name, { name, type: third, family, options, entries: [] });
    } else if (cmd === 'add') {
      sets.get(name)?.entries.push(third);
    }
  }
  return [...sets.values()]
    .sort((a, b) => byString(a.name, b.name))
    .map((s) => ({
      name: s.name,
      type: s.type,
      family: s.family === 'inet' || s.family === 'inet6' ? s.family : null,
      options: s.options,
      entries: s.entries.sort(byString),
    }));
}

/** `ipset save` text for observed sets: `create` with the header, then the `add` lines. */
export function renderSave(sets: readonly ObservedSet[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    const header = [s.family === null ? [] : ['family', s.family], ...Object.entries(s.options).map(([k, v]) => (v === '' ? [k] : [k, v]))].flat();
    lines.push(['create', s.name, s.type, ...header].join(' '));
    for (const e of s.entries) lines.push(`add ${s.name} ${e}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The restore line creating a set with kube-proxy's options (`hashsize 1024 maxelem 65536`, `range 0-65535`). */
export function createLine(set: Pick<IpSet, 'name' | 'type' | 'family'>): string {
  return `create ${set.name} ${set.type} ${createOptions(set)}`;
}

/** The restore line adding an element. */
export function addLine(set: string, element: string): string {
  return `add ${set} ${element}`;
}

/** The restore line deleting an element. */
export function delLine(set: string, element: string): string {
  return `del ${set} ${element}`;
}
