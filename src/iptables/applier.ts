import type { Logger } from '../observability/logger.ts';
import { filterChains, jumpRules as kubeJumpRules, natChains } from '../reconciler/iptables.ts';
import type { IptablesPayload, JumpRule } from '../reconciler/types.ts';
import { type ApplyResult, countOps } from '../sync/apply-result.ts';
import { buildCleanupRestore } from './cleanup-plan.ts';
import type { IptablesClient } from './client.ts';
import { driftedChains, jumpRulePresent } from './drift.ts';
import { type TableDump, parseSave } from './restore-text.ts';
import type { IpFamily, Table } from './types.ts';

/** What one family must contain: the restore payload and the jumps into it (FamilyState fits). */
export interface IptablesDesired {
  readonly family: IpFamily;
  readonly iptables: IptablesPayload;
  readonly jumpRules: readonly JumpRule[];
}

interface FamilyMemory {
  /** The payload of the last successful restore (null: restore next time, whatever the sync). */
  payload: string | null;
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
 *   successful one (no process at all when nothing changed), and ensures the
 *   jump rules only until they have been ensured once.
 * - Full sync: reads nat and filter back, counts drift against what it last
 *   wrote (a declared chain missing or with another rule count, a jump rule
 *   gone), always restores, and re-ensures every jump rule. `repaired` counts
 *   the drifted chains and re-inserted jumps.
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
        this.memory.set(d.family, { payload: null, jumpsEnsured: false });
        tally.errors.push(err as Error);
        this.log.warn({ err, family: d.family }, 'iptables apply failed');
      }
    }
    return result(tally);
  }

  /**
   * Removes our iptables state from every family (kube-proxy's --cleanup for
   * IPVS mode): the jump rules, then our nat and filter chains, flushed and
   * deleted. One save and at most one restore per table; if the restore fails
   * (a foreign rule still jumps to one of our chains: EBUSY), falls back to one
   * command per rule and chain and reports what could not be removed in
   * `errors`. Never rejects for kernel errors. Afterwards the next apply
   * restores everything.
   */
  async cleanup(): Promise<ApplyResult> {
    const tally: Tally = { ops: [], repaired: 0, errors: [] };
    for (const client of this.clients.values()) {
      this.memory.delete(client.family);
      for (const table of ['nat', 'filter'] as const) {
        try {
          await this.cleanupTable(client, table, tally);
        } catch (err) {
          tally.errors.push(err as Error);
          this.log.warn({ err, family: client.family, table }, 'iptables cleanup failed');
        }
      }
    }
    return result(tally);
  }

  private async applyFamily(client: IptablesClient, d: IptablesDesired, full: boolean, tally: Tally): Promise<void> {
    const mem = this.memory.get(d.family) ?? { payload: null, jumpsEnsured: false };
    this.memory.set(d.family, mem);
    const payload = d.iptables.nat + d.iptables.filter;
    let observed: Map<Table, TableDump> | null = null;
    let drifted: string[] = [];
    if (full) {
      observed = await readTables(client);
      if (mem.payload !== null) drifted = driftedChains(mem.payload, observed);
    }
    if (full || payload !== mem.payload) {
      mem.payload = null;
      await client.restore(payload, { noflush: true });
      mem.payload = payload;
      tally.ops.push('restore');
      // The restore rewrote every declared chain: the drift is repaired now.
      tally.repaired += drifted.length;
      if (drifted.length > 0) this.log.info({ family: d.family, chains: drifted }, 'iptables chains drifted; restored');
      this.log.debug({ family: d.family, bytes: payload.length }, 'iptables restored');
    }
    if (full || !mem.jumpsEnsured) {
      const hadEnsured = mem.jumpsEnsured;
      mem.jumpsEnsured = false;
      for (const rule of d.jumpRules) {
        // The save we just read answers most checks without a process; -C decides the rest.
        if (observed && jumpRulePresent(rule, observed)) continue;
        if (await client.checkRule(rule.table, rule.chain, rule.args)) continue;
        await client.insertRule(rule.table, rule.chain, rule.args);
        tally.ops.push('insert-rule');
        if (hadEnsured) tally.repaired++;
        this.log.debug({ family: d.family, table: rule.table, chain: rule.chain }, 'iptables jump rule inserted');
      }
      mem.jumpsEnsured = true;
    }
  }

  private async cleanupTable(client: IptablesClient, table: 'nat' | 'filter', tally: Tally): Promise<void> {
    const dump = parseSave(await client.save(table)).get(table);
    const jumps = kubeJumpRules.filter((j) => j.table === table);
    const text = buildCleanupRestore(table, dump, ourChains[table], jumps);
    if (text === null) return;
    try {
      await client.restore(text, { noflush: true });
      tally.ops.push('restore');
      return;
    } catch (err) {
      this.log.warn({ err, family: client.family, table }, 'iptables cleanup restore failed; removing one by one');
    }
    // One by one, so everything that can go goes; each failure is reported.
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
    for (const j of jumps) {
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

async function readTables(client: IptablesClient): Promise<Map<Table, TableDump>> {
  const out = new Map<Table, TableDump>();
  for (const table of ['nat', 'filter'] as const) {
    const dump = parseSave(await client.save(table)).get(table);
    if (dump) out.set(table, dump);
  }
  return out;
}

function result(t: Tally): ApplyResult {
  return { subsystem: 'iptables', writes: t.ops.length, ops: countOps(t.ops), repaired: t.repaired, errors: t.errors };
}
