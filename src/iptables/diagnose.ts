// iptables-restore (legacy) prints a bare "line N failed" when the kernel side
// of a command fails (missing chain, chain in use, rule not found, chain
// exists): the errno is lost. To still report the kernel meaning, the real
// client reads the failing table once more and replays the failing block on a
// model of it; the model's refusal at the same line names the errno. Pure.

import { parseRestore, parseSave } from './restore-text.ts';
import { Refusal, TableModel } from './table-model.ts';
import { type IpFamily, isTable } from './types.ts';

/** The table a restore input line belongs to, or null if the line is outside every committed block. */
export function tableOfLine(payload: string, line: number): string | null {
  const parsed = parseRestore(payload);
  for (const b of parsed.blocks) if (line >= b.line && line <= b.commitLine) return b.table;
  return null;
}

/**
 * Replays the block holding `line` on the table as `saved` (iptables-save text
 * of that table, read after the failure, so without the failed block) and
 * returns the errno the model refuses that line with, or null when the model
 * accepts it or refuses an earlier line (then the cause is unknown). Sets are
 * assumed to exist (the tool names a missing set itself).
 */
export function diagnoseRestoreLine(payload: string, line: number, saved: string, family: IpFamily): string | null {
  const block = parseRestore(payload).blocks.find((b) => line >= b.line && line <= b.commitLine);
  if (!block || !isTable(block.table)) return null;
  const dump = parseSave(saved).get(block.table);
  const model = dump ? TableModel.fromDump(block.table, dump) : new TableModel(block.table);
  for (const l of block.lines) {
    try {
      if (l.kind === 'chain') model.declare(l.chain, l.policy);
      else model.run(l.args, family, () => true);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      return l.line === line ? err.code : null;
    }
    if (l.line === line) return null;
  }
  return null;
}
