// Jump rules from the built-in chains into ours, decided from iptables-save
// output and written inside the restore (pure).
//
// kube-proxy ensures each jump with `iptables -C` and, if missing, `iptables -I`:
// two processes per rule and family every sync (a process start costs ~0.3 s in
// the sandbox). We read the tables once (the full sync reads them anyway) and
// put the missing jumps into the same restore as `-I CHAIN 1 ...` lines, so they
// appear atomically with the chains they jump to.

import type { IptablesPayload, JumpRule } from '../reconciler/types.ts';
import { type TableDump, joinWords } from './restore-text.ts';
import type { Table } from './types.ts';

/**
 * What the save says about a jump rule: `present` (word for word), `absent`
 * (no rule of that chain jumps to the same target, so no other spelling of it
 * can be there), or `unsure` (a rule jumps to the target but reads differently:
 * ask the kernel with `checkRule`).
 */
export function jumpRuleState(rule: JumpRule, observed: ReadonlyMap<Table, TableDump>): 'present' | 'absent' | 'unsure' {
  const rules = observed.get(rule.table)?.get(rule.chain)?.rules ?? [];
  if (rules.some((r) => r.length === rule.args.length && r.every((w, i) => w === rule.args[i]))) return 'present';
  const target = targetOf(rule.args);
  return rules.some((r) => targetOf(r) === target) ? 'unsure' : 'absent';
}

function targetOf(words: readonly string[]): string | null {
  const i = words.findIndex((w) => w === '-j' || w === '--jump' || w === '-g' || w === '--goto');
  return i >= 0 ? (words[i + 1] ?? null) : null;
}

/**
 * The restore text of both tables with `-I CHAIN 1 <args>` lines for `jumps`
 * added at the end of their table (after the chains they jump to are
 * declared), in the given order: like kube-proxy's successive prepends, the
 * last one ends up first.
 */
export function withJumpRules(payload: IptablesPayload, jumps: readonly JumpRule[]): string {
  const add = (table: 'nat' | 'filter', text: string): string => {
    const lines = jumps.filter((j) => j.table === table).map((j) => `-I ${j.chain} 1 ${joinWords(j.args)}`);
    if (lines.length === 0) return text;
    const at = text.lastIndexOf('COMMIT');
    if (at < 0) return text; // not a table block: leave it to the restore to refuse
    return `${text.slice(0, at)}${lines.join('\n')}\n${text.slice(at)}`;
  };
  return add('nat', payload.nat) + add('filter', payload.filter);
}
