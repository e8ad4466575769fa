// SPDX-License-Identifier: Apache-2.0
// Applies desired ipsets to the kernel: observe → diff → one restore. A full
// apply re-reads the kernel and repairs drift; a delta writes given entries
// without reading anything; cleanup destroys our sets. No business logic here:
// what the sets hold comes from the reconciler, what to write from diff.ts.

import type { Logger } from '../observability/logger.ts';
import { KernelError } from '../netlink/errors.ts';
import type { SetEntry } from '../reconciler/types.ts';
import { type ApplyResult, countOps } from '../sync/apply-result.ts';
import type { IpsetClient } from './client.ts';
import { addLine, delLine } from './codec.ts';
import { countDrift, diffIpsets } from './diff.ts';
import { canonicalElement, type SetShape } from './element.ts';
import { InvalidEntryError, IpsetError } from './errors.ts';
import { kubeProxySetNames } from './owned.ts';
import type { IpSet } from './types.ts';

/** Options of the applier. */
export interface IpsetApplierOptions {
  /** Names of the sets this applier may write and destroy (default: kube-proxy's, both families). */
  readonly owned?: readonly string[];
  /**
   * Restores per apply (default 3). When the kernel refuses one line, the batch
   * is sent again without it: every line is idempotent under `-exist`, and
   * `ipset restore` stops at the failing line, so without a retry one bad
   * entry would keep every line after it from ever being written.
   */
  readonly maxRestores?: number;
}

interface RestoreOutcome {
  /** Lines known to be applied. */
  readonly written: readonly string[];
  readonly errors: readonly Error[];
}

/** Counts restore lines by command (`create`, `add`, `del`, `destroy`). */
function opsOf(lines: readonly string[]): Record<string, number> {
  return countOps(lines.map((l) => l.slice(0, l.indexOf(' '))));
}

/**
 * The set `result` (kernel forms), holding the desired entry strings themselves
 * wherever the desired text already is the kernel form (almost always): those
 * strings are kept by the desired state anyway, so the applier's memory of
 * 10,000s of entries costs no second copy of each. Pure.
 */
function sharedForms(result: ReadonlySet<string>, desired: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const e of desired) if (result.has(e)) out.add(e);
  if (out.size !== result.size) for (const e of result) out.add(e);
  return out;
}

/**
 * Keeps the kernel's ipsets equal to the desired ones. Not reentrant: the sync
 * loop calls one method at a time. After any result with errors (or a
 * rejection) the caller must make the next sync a full one (`applyFull`).
 */
export class IpsetApplier {
  private readonly client: IpsetClient;
  private readonly log: Logger;
  private readonly owned: ReadonlySet<string>;
  private readonly maxRestores: number;
  /** Type and family of each set of the last full apply, to read delta entries. */
  private shapes = new Map<string, SetShape>();
  /** Our sets' entries as our last writes left them; null when unknown (nothing applied yet, or a write failed). */
  private applied: Map<string, Set<string>> | null = null;

  constructor(client: IpsetClient, logger: Logger, options: IpsetApplierOptions = {}) {
    this.client = client;
    this.log = logger.child({ component: 'applier', subsystem: 'ipset' });
    this.owned = new Set(options.owned ?? kubeProxySetNames());
    this.maxRestores = Math.max(1, options.maxRestores ?? 3);
  }

  /**
   * Reads every set (`ipset save`), diffs the desired sets against it and
   * writes the difference in one `ipset restore`. `repaired` counts the sets
   * and entries that differed from what this applier last wrote. Sets not in
   * `owned` are refused (EPERM in `errors`), sets that exist with another
   * type, family or options are reported (SetConflictError) and left alone,
   * invalid entries are reported (InvalidEntryError) and skipped. Rejects only
   * if the kernel cannot be read; then nothing was written.
   */
  async applyFull(desired: readonly IpSet[]): Promise<ApplyResult> {
    const errors: Error[] = [];
    const ours = desired.filter((s) => {
      if (this.owned.has(s.name)) return true;
      errors.push(new KernelError('EPERM', 'ipset apply', s.name, 'not one of our sets'));
      return false;
    });
    const observed = await this.client.list();
    const plan = diffIpsets(ours, observed);
    errors.push(...plan.conflicts, ...plan.invalid);
    const repaired = countDrift(plan, this.applied);
    const outcome = await this.restore(plan.lines);
    errors.push(...outcome.errors);
    this.shapes = new Map(ours.map((s) => [s.name, { type: s.type, family: s.family }]));
    if (outcome.errors.length === 0) {
      const byName = new Map(ours.map((s) => [s.name, s.entries]));
      this.applied = new Map([...plan.result].map(([k, v]) => [k, sharedForms(v, byName.get(k) ?? [])]));
    } else {
      this.applied = null;
    }
    return this.result('full', outcome.written, repaired, errors);
  }

  /**
   * Writes only these entries, deletes before adds (an entry in both ends up
   * present), in one `ipset restore`, without reading the kernel; starts no
   * process when there is nothing to write. Entries of sets not owned are
   * refused (EPERM) and invalid ones skipped (InvalidEntryError), both in
   * `errors`. Sets must exist (a full apply creates them); a missing one fails
   * the restore (ENOENT in `errors`). Never rejects.
   */
  async applyDelta(adds: readonly SetEntry[], dels: readonly SetEntry[]): Promise<ApplyResult> {
    const errors: Error[] = [];
    const bySet = new Map<string, { dels: Set<string>; adds: Set<string> }>();
    const collect = (list: readonly SetEntry[], kind: 'dels' | 'adds'): void => {
      for (const { set, entry } of list) {
        const element = this.deltaElement(set, entry, errors);
        if (element === null) continue;
        let group = bySet.get(set);
        if (!group) bySet.set(set, (group = { dels: new Set(), adds: new Set() }));
        group[kind].add(element);
      }
    };
    collect(dels, 'dels');
    collect(adds, 'adds');
    const lines = [...bySet].flatMap(([set, g]) => [...[...g.dels].map((e) => delLine(set, e)), ...[...g.adds].map((e) => addLine(set, e))]);
    const outcome = await this.restore(lines);
    errors.push(...outcome.errors);
    if (outcome.errors.length > 0) {
      this.applied = null;
    } else if (this.applied) {
      for (const [set, g] of bySet) {
        const entries = this.applied.get(set);
        if (!entries) continue;
        for (const e of g.dels) entries.delete(e);
        for (const e of g.adds) entries.add(e);
      }
    }
    return this.result('delta', outcome.written, 0, errors);
  }

  /**
   * Destroys every owned set present on the host (`ipset destroy`, one at a
   * time). The caller removes the iptables rules using them first; a set still
   * in use fails with EBUSY in `errors` and the others are still destroyed.
   * Rejects only if the kernel cannot be read.
   */
  async cleanup(): Promise<ApplyResult> {
    const errors: Error[] = [];
    const destroyed: string[] = [];
    for (const s of await this.client.list()) {
      if (!this.owned.has(s.name)) continue;
      try {
        await this.client.destroy(s.name);
        destroyed.push(`destroy ${s.name}`);
      } catch (err) {
        // Gone already (someone else destroyed it meanwhile): nothing to do.
        if (!(err instanceof KernelError && err.code === 'ENOENT')) errors.push(err as Error);
      }
    }
    this.shapes = new Map();
    this.applied = null;
    return this.result('cleanup', destroyed, 0, errors);
  }

  /** The element to write for a delta entry, or null (with the error recorded). */
  private deltaElement(set: string, entry: string, errors: Error[]): string | null {
    if (!this.owned.has(set)) {
      errors.push(new KernelError('EPERM', 'ipset apply', set, 'not one of our sets'));
      return null;
    }
    const shape = this.shapes.get(set);
    if (!shape) return entry;
    const r = canonicalElement(shape, entry);
    if (r.ok) return r.element;
    errors.push(new InvalidEntryError(set, entry, r.message));
    return null;
  }

  /**
   * Runs the lines in one restore; when the kernel names a failing line, sends
   * the batch again without it, up to `maxRestores` restores in all.
   */
  private async restore(lines: readonly string[]): Promise<RestoreOutcome> {
    const errors: Error[] = [];
    let batch = lines;
    for (let attempt = 0; attempt < this.maxRestores && batch.length > 0; attempt++) {
      try {
        await this.client.restore(batch);
        return { written: batch, errors };
      } catch (err) {
        errors.push(err as Error);
        if (!(err instanceof IpsetError) || err.line === null) return { written: [], errors };
        const failed = err.line - 1;
        if (attempt + 1 === this.maxRestores) return { written: batch.slice(0, failed), errors };
        batch = batch.filter((_, i) => i !== failed);
      }
    }
    return { written: [], errors };
  }

  private result(mode: string, written: readonly string[], repaired: number, errors: readonly Error[]): ApplyResult {
    const ops = opsOf(written);
    this.log.debug({ mode, writes: written.length, ops, repaired, errors: errors.length }, 'ipset apply');
    for (const err of errors) this.log.warn({ mode, err }, 'ipset write failed');
    return { subsystem: 'ipset', writes: written.length, ops, repaired, errors };
  }
}
