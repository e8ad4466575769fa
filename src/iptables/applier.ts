import type { Logger } from '../observability/logger.ts';
import { filterChains, jumpRules as kubeJumpRules, natChains } from '../reconciler/iptables.ts';
import type { IptablesPayload, JumpRule } from '../reconciler/types.ts';
import { type ApplyResult, countOps } from '../sync/apply-result.ts';
import { buildCleanupRestore } from './cleanup-plan.ts';
import type { IptablesClient } from './client.ts';
import { driftedChains } from './drift.ts';
import { jumpRuleState, withJumpRules } from './jump-rules.ts';
import { type TableDump, parseSave } from './restore-text.ts';
import type { IpFamily, Table } from './types.ts';

/** What one family must contain: the restore payload and the jumps into it (FamilyState fits). */
export interface IptablesDesired {
  readonly family: IpFamily;
  readonly iptables: IptablesPayload;
  readonly jumpRules: readonly JumpRule[];
}

interface FamilyMemory {
  /**
   * The tables of the last successful restore, as given (usually the very
   * strings the next partial sync passes); null: restore next time, whatever the sync.
   */
  written: IptablesPayload | null;
  /** Whether every jump rule has been ensured since the last failure. */
  jumpsEnsured: boolean;
}

/** Our chains per table, for cleanup (kube-proxy's IPVS-mode chains). */
const ourChains: Readonly<Record<'nat' | 'filter', readonly string[]>> = { nat: natChains, filter: filterChains };

interface Tally {
  ops: string[];
  repaired: number;
  errors: Error[];
}

/**
 * Writes kube-proxy's IPVS-mode iptables state: per family one
 * `iptables-restore --noflush` of our chains, and the jump rules from the
 * built-in chains (checked, inserted first when missing).
 *
 * - Partial sync: restores only when the payload differs from the last
 *   successful one (no process at all when nothing changed). Jump rules are
 *   ensured until they have been once (first sync, after a failure).
 * - Full sync: reads nat and filter back (one save each), counts drift against
 *   what it last wrote (a declared chain missing or with another rule count, a
 *   jump rule gone), always restores, and re-ensures every jump rule.
 *   `repaired` counts the drifted chains and re-inserted jumps. A restore is
 *   counted as a write only when it changes something (new payload, drift, or
 *   on a process's first sync, chains that do not hold the payload yet), so a
 *   converged kernel reports 0 writes.
 * - Jump rules are checked against that save and missing ones are inserted
 *   (first in their chain, kube-proxy's order) by the same restore, so a first
 *   sync costs two saves and one restore per family, not a -C and -I process
 *   per rule; `checkRule` is asked only when the save shows a look-alike.
 *
 * Kernel failures never reject: they land in `errors`, the family's memory is
 * reset (its next apply restores and re-checks), and the caller must make the
 * next sync a full one. A family without a client is skipped.
 */
export class IptablesApplier {
  private readonly clients: ReadonlyMap<IpFamily, IptablesClient>;
  private readonly log: Logger;
  private readonly memory = new Map<IpFamily, FamilyMemory>();

  constructor(clients: readonly IptablesClient[], logger: Logger) {
    this.clients = new Map(clients.map((c) => [c.family, c]));
    this.log = logger.child({ component: 'applier', subsystem: 'iptables' });
  }

  /** Applies the desired state of each given family (see the class comment). */
  async apply(desired: readonly IptablesDesired[], opts: { readonly full: boolean }): Promise<ApplyResult> {
    const tally: Tally = { ops: [], repaired: 0, errors: [] };
    for (const d of desired) {
      const client = this.clients.get(d.family);
      if (!client) continue;
      try {
        await this.applyFamily(client, d, opts.full, tally);
      } catch (err) {
        this.memory.set(d.family, { written: null, jumpsEnsured: false });
        tally.errors.push(err as Error);
        this.log.warn({ err, family: d.family }, 'iptables apply failed');
      }
    }
    return result(tally);
  }

  /**
   * Removes our iptables state from every family (kube-proxy's --cleanup for
   * IPVS mode): the jump rules, then our nat and filter chains, flushed and
   * deleted. One save and at most one restore per family; if the restore fails
   * (a foreign rule still jumps to one of our chains: EBUSY), falls back to one
   * command per rule and chain and reports what could not be removed in
   * `errors`. Never rejects for kernel errors. Afterwards the next apply
   * restores everything.
   */
  async cleanup(): Promise<ApplyResult> {
    const tally: Tally = { ops: [], repaired: 0, errors: [] };
    for (const client of this.clients.values()) {
      this.memory.delete(client.family);
      try {
        await this.cleanupFamily(client, tally);
      } catch (err) {
        tally.errors.push(err as Error);
        this.log.warn({ err, family: client.family }, 'iptables cleanup failed');
      }
    }
    return result(tally);
  }

  private async applyFamily(client: IptablesClient, d: IptablesDesired, full: boolean, tally: Tally): Promise<void> {
    const mem = this.memory.get(d.family) ?? { written: null, jumpsEnsured: false };
    this.memory.set(d.family, mem);
    // The common partial sync: same tables as last written, jumps in place. Compared
    // table by table, as joining them would copy the whole payload on every change.
    const last = mem.written;
    if (!full && mem.jumpsEnsured && last !== null && last.nat === d.iptables.nat && last.filter === d.iptables.filter) return;
    const payload = d.iptables.nat + d.iptables.filter;
    const previous = last === null ? null : last.nat + last.filter;
    const needJumps = full || !mem.jumpsEnsured;
    // One save per table answers both questions: what drifted, which jumps are missing.
    const observed = needJumps ? await readTables(client) : null;
    const drifted = observed && full && previous !== null ? driftedChains(previous, observed) : [];
    const missing: JumpRule[] = [];
    for (const rule of observed ? d.jumpRules : []) {
      const state = jumpRuleState(rule, observed!);
      if (state === 'present') continue;
      if (state === 'unsure' && (await client.checkRule(rule.table, rule.chain, rule.args))) continue;
      missing.push(rule);
    }
    if (!full && payload === previous && missing.length === 0) {
      mem.jumpsEnsured = true;
      return;
    }
    const hadEnsured = mem.jumpsEnsured;
    // A full sync always restores, but only a restore that changes something is a
    // write: the payload differs from the last one written, or (first sync of this
    // process) the kernel's chains do not hold the payload's rules yet.
    const changes = previous !== null ? previous !== payload || drifted.length > 0
      : observed === null || driftedChains(payload, observed).length > 0;
    mem.written = null;
    mem.jumpsEnsured = false;
    await client.restore(withJumpRules(d.iptables, missing), { noflush: true });
    mem.written = d.iptables;
    mem.jumpsEnsured = needJumps || hadEnsured;
    tally.ops.push(...(changes ? ['restore'] : []), ...missing.map(() => 'insert-rule'));
    // The restore rewrote every declared chain and put back every missing jump: the drift is repaired now.
    const repaired = drifted.length + (hadEnsured ? missing.length : 0);
    tally.repaired += repaired;
    if (repaired > 0) {
      this.log.info({ family: d.family, chains: drifted, jumps: hadEnsured ? missing.length : 0 }, 'iptables drift repaired');
    }
    this.log.debug({ family: d.family, bytes: payload.length, jumps: missing.length }, 'iptables restored');
  }

  private async cleanupFamily(client: IptablesClient, tally: Tally): Promise<void> {
    const observed = await readTables(client);
    const tablesToClean = (['nat', 'filter'] as const).filter((t) =>
      buildCleanupRestore(t, observed.get(t), ourChains[t], kubeJumpRules.filter((j) => j.table === t)) !== null);
    if (tablesToClean.length === 0) return;
    const text = tablesToClean
      .map((t) => buildCleanupRestore(t, observed.get(t), ourChains[t], kubeJumpRules.filter((j) => j.table === t))!)
      .join('');
    try {
      await client.restore(text, { noflush: true });
      tally.ops.push('restore');
      return;
    } catch (err) {
      this.log.warn({ err, family: client.family }, 'iptables cleanup restore failed; removing one by one');
    }
    // One by one, so everything that can go goes; each failure is reported.
    // (A nat block that committed before a failing filter block is already gone:
    // its chains are absent from a fresh read and are skipped.)
    const now = await readTables(client);
    for (const t of tablesToClean) await this.cleanupOneByOne(client, t, now.get(t), tally);
  }

  private async cleanupOneByOne(client: IptablesClient, table: 'nat' | 'filter', dump: TableDump | undefined, tally: Tally): Promise<void> {
    const attempt = async (op: string, fn: () => Promise<unknown>): Promise<boolean> => {
      try {
        await fn();
        tally.ops.push(op);
        return true;
      } catch (err) {
        tally.errors.push(err as Error);
        return false;
      }
    };
    for (const j of kubeJumpRules.filter((r) => r.table === table)) {
      // Bounded: a rule inserted by several agents at once appears a few times at most.
      for (let i = 0; i < 8 && (await client.checkRule(j.table, j.chain, j.args)); i++) {
        if (!(await attempt('delete-rule', () => client.deleteRule(j.table, j.chain, j.args)))) break;
      }
    }
    const present = ourChains[table].filter((c) => dump?.has(c));
    for (const c of present) await attempt('flush-chain', () => client.flushChain(table, c));
    for (const c of present) await attempt('delete-chain', () => client.deleteChain(table, c));
  }
}

/** Every loaded table in one save (a table the kernel has not loaded yet is simply absent: empty). */
async function readTables(client: IptablesClient): Promise<Map<Table, TableDump>> {
  return parseSave(await client.save());
}

function result(t: Tally): ApplyResult {
  return { subsystem: 'iptables', writes: t.ops.length, ops: countOps(t.ops), repaired: t.repaired, errors: t.errors };
}
