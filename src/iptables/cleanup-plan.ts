// The restore that removes our iptables state from one table, as kube-proxy's
// --cleanup does for IPVS mode (delete the jump rules, flush every kube chain,
// then delete it), but in one iptables-restore per table instead of one
// process per rule and chain. Pure.

import type { JumpRule } from '../reconciler/types.ts';
import { type TableDump, joinWords } from './restore-text.ts';
import { type Table, isBuiltinChain } from './types.ts';

/**
 * Restore text that deletes, from `table` as `dump` shows it, the jump rules
 * of `jumps` that are present and every chain of `chains` that exists; null
 * when there is nothing to remove. Every line refers only to what the dump
 * shows, so the restore cannot fail on a missing object; it fails (EBUSY) only
 * when a rule we do not own still jumps to one of the chains.
 */
export function buildCleanupRestore(table: Table, dump: TableDump | undefined, chains: readonly string[], jumps: readonly JumpRule[]): string | null {
  if (!dump) return null;
  const lines: string[] = [];
  for (const j of jumps) {
    if (j.table !== table) continue;
    const present = (dump.get(j.chain)?.rules ?? []).filter((r) => r.length === j.args.length && r.every((w, i) => w === j.args[i]));
    // A rule inserted twice (by two agents at once) is deleted twice.
    for (const _ of present) lines.push(`-D ${j.chain} ${joinWords(j.args)}`);
  }
  const existing = chains.filter((c) => dump.has(c) && !isBuiltinChain(table, c));
  // Declaring a chain in --noflush mode flushes it, so our chains stop referring
  // to each other before the first -X.
  for (const c of existing) lines.push(`:${c} - [0:0]`);
  for (const c of existing) lines.push(`-X ${c}`);
  if (lines.length === 0) return null;
  return `*${table}\n${lines.join('\n')}\nCOMMIT\n`;
}
