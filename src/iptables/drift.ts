// Pure comparisons between what the applier wrote and what iptables-save shows.
//
// iptables-save prints rules in the kernel's canonical form, which differs from
// what we write (`--or-mark 0x00004000` comes back as `--set-xmark 0x4000/0x4000`,
// matches may be reordered), so rules are not compared word by word. Drift is
// detected per chain: a chain we declared is missing, or holds a different
// number of rules than we wrote (someone flushed it, deleted or added a rule).
// A rule edited in place keeps the count and goes unnoticed, but a full sync
// restores every chain anyway, so it is still repaired; it is only not counted.

import { type TableDump, parseRestore } from './restore-text.ts';
import { type Table, isBuiltinChain, isTable } from './types.ts';

/** Per table, the user chains a restore payload declares and how many rules it appends to each. */
export function declaredChains(payload: string): Map<Table, Map<string, number>> {
  const out = new Map<Table, Map<string, number>>();
  for (const block of parseRestore(payload).blocks) {
    if (!isTable(block.table)) continue;
    const chains = out.get(block.table) ?? new Map<string, number>();
    for (const l of block.lines) {
      if (l.kind === 'chain' && !isBuiltinChain(block.table, l.chain)) chains.set(l.chain, 0);
    }
    for (const l of block.lines) {
      if (l.kind === 'command' && l.args[0] === '-A' && chains.has(l.args[1] ?? '')) {
        chains.set(l.args[1]!, chains.get(l.args[1]!)! + 1);
      }
    }
    out.set(block.table, chains);
  }
  return out;
}

/**
 * The chains (`table/chain`) whose observed state differs from what `written`
 * declared: missing, or a different rule count. Sorted.
 */
export function driftedChains(written: string, observed: ReadonlyMap<Table, TableDump>): string[] {
  const out: string[] = [];
  for (const [table, chains] of declaredChains(written)) {
    const seen = observed.get(table);
    for (const [chain, count] of chains) {
      const c = seen?.get(chain);
      if (!c || c.rules.length !== count) out.push(`${table}/${chain}`);
    }
  }
  return out.sort();
}
