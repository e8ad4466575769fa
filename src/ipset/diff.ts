// SPDX-License-Identifier: Apache-2.0
// Desired sets against the sets the kernel holds → the fewest restore lines:
// create what is missing, delete extra entries, add missing ones. Only the
// desired sets are looked at; every other set on the host is left alone.
// Entries compare in the kernel's printed form (element.ts), so `10.0.0.5/32`
// desired and `10.0.0.5` observed are the same entry, not a delete and an add
// on every sync. Pure: no I/O, no clock.

import type { SetEntry } from '../reconciler/types.ts';
import { addLine, createLine, delLine } from './codec.ts';
import { canonicalElement, type SetShape } from './element.ts';
import { InvalidEntryError, SetConflictError } from './errors.ts';
import { type IpSet, type ObservedSet, ipSetDefaults } from './types.ts';

/** What to write, and what could not be. */
export interface IpsetPlan {
  /** `ipset restore` lines: per set, its create (if missing), its dels, then its adds. */
  readonly lines: readonly string[];
  /** Sets to create. */
  readonly creates: readonly string[];
  readonly adds: readonly SetEntry[];
  readonly dels: readonly SetEntry[];
  /** Desired sets that exist with another type, family or options; nothing is written to them. */
  readonly conflicts: readonly SetConflictError[];
  /** Desired entries that are not valid elements of their set; skipped. */
  readonly invalid: readonly InvalidEntryError[];
  /** Every synced set's entries (kernel form) once the lines are applied. */
  readonly result: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Header options that change what a set holds (entries expiring, addresses merged into networks). */
const harmfulOptions = ['timeout', 'netmask', 'bitmask'];

/**
 * Why an existing set cannot be used as the desired one, or null if it can.
 * kube-proxy runs `ipset create … -exist` each sync; when the kernel refuses
 * it (another type, maxelem or range) the whole sync fails and is retried
 * forever, and kube-proxy never destroys the set. The kernel also accepts
 * some sets of the other family silently (see fake-client.ts `compatible`), so
 * we compare ourselves, report a conflict and sync the other sets.
 */
function conflictOf(want: IpSet, have: ObservedSet): SetConflictError | null {
  if (have.type !== want.type) return new SetConflictError(want.name, 'type', want.type, have.type);
  if (want.type === 'bitmap:port') {
    const range = have.options.range ?? '';
    if (range !== ipSetDefaults.portRange) return new SetConflictError(want.name, 'range', ipSetDefaults.portRange, range);
  } else {
    if (have.family !== want.family) return new SetConflictError(want.name, 'family', want.family, have.family ?? '');
    const maxElem = have.options.maxelem ?? '';
    if (maxElem !== String(ipSetDefaults.maxElem)) return new SetConflictError(want.name, 'maxelem', String(ipSetDefaults.maxElem), maxElem);
  }
  for (const o of harmfulOptions) {
    if (o in have.options) return new SetConflictError(want.name, o, '', have.options[o] ?? '');
  }
  return null;
}

/** The kernel form of an observed entry; kept as printed if our codec cannot read it. */
function observedForm(shape: SetShape, entry: string): string {
  const r = canonicalElement(shape, entry);
  return r.ok ? r.element : entry;
}

/**
 * The desired entries in kernel form, with the invalid ones reported. kube-proxy
 * likewise validates each entry and skips (logs) the bad ones; here a bad entry
 * must never reach the restore, where it would stop every line after it.
 */
function desiredForms(set: IpSet, printed: ReadonlySet<string>): { entries: Set<string>; invalid: InvalidEntryError[] } {
  const entries = new Set<string>();
  const invalid: InvalidEntryError[] = [];
  for (const e of set.entries) {
    // Text the kernel printed is valid and in kernel form already: no need to parse it.
    if (printed.has(e)) {
      entries.add(e);
      continue;
    }
    const r = canonicalElement(set, e);
    if (r.ok) entries.add(r.element);
    else invalid.push(new InvalidEntryError(set.name, e, r.message));
  }
  return { entries, invalid };
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Diffs desired sets (names unique) against `ipset save` of the host. Never
 * throws: conflicting sets and invalid entries come back typed in the plan.
 */
export function diffIpsets(desired: readonly IpSet[], observed: readonly ObservedSet[]): IpsetPlan {
  const have = new Map(observed.map((s) => [s.name, s]));
  const lines: string[] = [];
  const creates: string[] = [];
  const adds: SetEntry[] = [];
  const dels: SetEntry[] = [];
  const conflicts: SetConflictError[] = [];
  const invalid: InvalidEntryError[] = [];
  const result = new Map<string, ReadonlySet<string>>();
  for (const want of desired) {
    if (result.has(want.name)) continue;
    const current = have.get(want.name);
    const conflict = current ? conflictOf(want, current) : null;
    if (conflict) {
      conflicts.push(conflict);
      continue;
    }
    const printed = new Set(current?.entries ?? []);
    const d = desiredForms(want, printed);
    invalid.push(...d.invalid);
    result.set(want.name, d.entries);
    if (!current) {
      creates.push(want.name);
      lines.push(createLine(want));
    }
    const present = new Set([...printed].map((e) => (d.entries.has(e) ? e : observedForm(want, e))));
    for (const e of [...present].filter((x) => !d.entries.has(x)).sort(byString)) {
      dels.push({ set: want.name, entry: e });
      lines.push(delLine(want.name, e));
    }
    for (const e of [...d.entries].filter((x) => !present.has(x)).sort(byString)) {
      adds.push({ set: want.name, entry: e });
      lines.push(addLine(want.name, e));
    }
  }
  return { lines, creates, adds, dels, conflicts, invalid, result };
}

/**
 * How many of the plan's writes undo drift: changes someone else made since
 * `lastApplied` (each set's entries as this applier last left them; null when
 * unknown, e.g. on the first sync or after a failure, which counts nothing).
 * A set re-created counts 1, an entry re-added or removed 1 each.
 */
export function countDrift(plan: IpsetPlan, lastApplied: ReadonlyMap<string, ReadonlySet<string>> | null): number {
  if (!lastApplied) return 0;
  let n = plan.creates.filter((s) => lastApplied.has(s)).length;
  for (const a of plan.adds) if (lastApplied.get(a.set)?.has(a.entry)) n++;
  for (const d of plan.dels) {
    const last = lastApplied.get(d.set);
    if (last && !last.has(d.entry)) n++;
  }
  return n;
}
