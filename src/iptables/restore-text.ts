// The iptables-restore / iptables-save text format, as iptables 1.8 reads and
// writes it. Pure: no I/O. Used by the fake (to apply exactly what the real
// client sends), by the applier (to read `save` output) and by tests.
//
// Format: `*table` opens a table; `:CHAIN POLICY [pkts:bytes]` declares a chain
// (`-` as policy for user chains); other lines are iptables commands without
// `-t` (`-A`, `-I`, `-D`, `-N`, `-X`, `-F`, `-P`, ...); `COMMIT` ends the table;
// `#` starts a comment line. Words are split on blanks; double quotes group
// words (iptables-restore knows no other quoting: a single quote is a literal
// character, verified in the sandbox).

import { type Table, builtinChains, isTable } from './types.ts';

/** One declared chain line: `:NAME POLICY [counters]`. */
export interface ChainLine {
  readonly kind: 'chain';
  readonly line: number;
  readonly chain: string;
  /** `-` for a user chain, else the built-in chain's policy. */
  readonly policy: string;
}

/** One command line: its words, e.g. `['-A', 'KUBE-SERVICES', '-j', 'RETURN']`. */
export interface CommandLine {
  readonly kind: 'command';
  readonly line: number;
  readonly args: readonly string[];
}

/** The lines of one `*table` ... `COMMIT` block. */
export interface TableBlock {
  readonly table: string;
  /** Line of the `*table` header. */
  readonly line: number;
  readonly lines: readonly (ChainLine | CommandLine)[];
  /** Line of `COMMIT`. */
  readonly commitLine: number;
}

/** A syntax error at a line; blocks committed before it still count. */
export interface RestoreSyntaxError {
  readonly line: number;
  readonly detail: string;
}

/** Restore input split into table blocks, plus the first syntax error (if any), which stops the input there. */
export interface ParsedRestore {
  readonly blocks: readonly TableBlock[];
  readonly error: RestoreSyntaxError | null;
}

/**
 * Splits one line into words the way iptables-restore does: blanks separate,
 * double quotes group (and are removed). Returns null for an unterminated quote.
 */
export function splitWords(text: string): string[] | null {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && (ch === ' ' || ch === '\t')) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quoted) return null;
  if (inWord) words.push(cur);
  return words;
}

/** Joins words into one restore line, double-quoting words that hold blanks (or are empty). */
export function joinWords(words: readonly string[]): string {
  return words.map((w) => (w === '' || /[\s]/.test(w) ? `"${w}"` : w)).join(' ');
}

/**
 * Parses iptables-restore input. Never throws: a malformed line becomes
 * `error` (with its line number) and ends the parse, as iptables-restore stops
 * there; blocks that reached COMMIT before it are returned.
 */
export function parseRestore(text: string): ParsedRestore {
  const blocks: TableBlock[] = [];
  const rows = text.split('\n');
  let open: { table: string; line: number; lines: (ChainLine | CommandLine)[] } | null = null;
  for (let i = 0; i < rows.length; i++) {
    const n = i + 1;
    const raw = rows[i]!.replace(/\r$/, '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    if (raw.startsWith('*')) {
      if (open) return { blocks, error: { line: n, detail: `COMMIT expected before *table` } };
      open = { table: raw.slice(1).trim(), line: n, lines: [] };
      continue;
    }
    if (!open) return { blocks, error: { line: n, detail: 'no table opened' } };
    if (raw === 'COMMIT') {
      blocks.push({ table: open.table, line: open.line, lines: open.lines, commitLine: n });
      open = null;
      continue;
    }
    const words = splitWords(raw);
    if (!words) return { blocks, error: { line: n, detail: 'unterminated quote' } };
    if (raw.startsWith(':')) {
      const [name, policy] = [words[0]!.slice(1), words[1]];
      if (!name || policy === undefined) return { blocks, error: { line: n, detail: 'bad chain line' } };
      open.lines.push({ kind: 'chain', line: n, chain: name, policy });
    } else {
      open.lines.push({ kind: 'command', line: n, args: words });
    }
  }
  if (open) return { blocks, error: { line: rows.length + (text.endsWith('\n') ? 0 : 1), detail: 'COMMIT expected' } };
  return { blocks, error: null };
}

/** One chain as `iptables-save` shows it. */
export interface ChainDump {
  /** Policy of a built-in chain; null for a user chain. */
  readonly policy: string | null;
  /** Each rule's words after `-A CHAIN`. */
  readonly rules: readonly (readonly string[])[];
}

/** One table as `iptables-save` shows it: chains in save order. */
export type TableDump = ReadonlyMap<string, ChainDump>;

/**
 * Reads `iptables-save` output into tables of chains and rules. Lines it does
 * not understand are ignored (save output holds only chain and `-A` lines).
 */
export function parseSave(text: string): Map<Table, TableDump> {
  const out = new Map<Table, TableDump>();
  for (const block of parseRestore(text).blocks) {
    if (!isTable(block.table)) continue;
    const chains = new Map<string, { policy: string | null; rules: string[][] }>();
    for (const l of block.lines) {
      if (l.kind === 'chain') {
        chains.set(l.chain, { policy: l.policy === '-' ? null : l.policy, rules: [] });
      } else if (l.args[0] === '-A' && l.args[1] !== undefined) {
        chains.get(l.args[1])?.rules.push(l.args.slice(2));
      }
    }
    out.set(block.table, chains);
  }
  return out;
}

/**
 * Renders one table in iptables-save form (without the generated-by comments):
 * built-in chains in the kernel's order, then user chains by name (as libiptc
 * keeps them), then every chain's rules in the same order, then COMMIT.
 */
export function renderTable(table: Table, chains: TableDump): string {
  const builtin = builtinChains[table].filter((c) => chains.has(c));
  const user = [...chains.keys()].filter((c) => !builtinChains[table].includes(c)).sort(byteOrder);
  const order = [...builtin, ...user];
  const lines = [`*${table}`];
  for (const c of order) lines.push(`:${c} ${chains.get(c)!.policy ?? '-'} [0:0]`);
  for (const c of order) for (const r of chains.get(c)!.rules) lines.push(`-A ${c} ${joinWords(r)}`);
  lines.push('COMMIT');
  return `${lines.join('\n')}\n`;
}

/** Plain byte-wise string order (strcmp), independent of locale. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
