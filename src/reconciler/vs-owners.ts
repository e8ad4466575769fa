// Which Service ports claim each virtual server. Almost every virtual server
// has exactly one claimant, so that case is stored as the claimant itself; a
// list is made only while two or more ports claim the same virtual server, and
// dropped again when one is left. At 10,000s of virtual servers a Map per
// virtual server would cost more than the virtual servers themselves.

import { compareStrings } from '../model/compare.ts';

/** A claimant, identified by its key (a ServicePort key). */
export interface Owner {
  readonly key: string;
}

/**
 * virtualServerKey → the owners claiming it; the owner with the greatest key
 * wins (as in the full build). Pure data structure; never throws.
 */
export class VirtualServerOwners<T extends Owner> {
  private readonly byKey = new Map<string, T | T[]>();

  /** Number of virtual servers claimed by at least one owner. */
  get size(): number {
    return this.byKey.size;
  }

  /** Keys of every claimed virtual server, in insertion order. */
  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** Adds `owner` as a claimant of `vsKey`, replacing an owner with the same key. */
  add(vsKey: string, owner: T): void {
    const cur = this.byKey.get(vsKey);
    if (cur === undefined || (!Array.isArray(cur) && cur.key === owner.key)) {
      this.byKey.set(vsKey, owner);
    } else if (!Array.isArray(cur)) {
      this.byKey.set(vsKey, [cur, owner]);
    } else {
      const i = cur.findIndex((o) => o.key === owner.key);
      if (i < 0) cur.push(owner); else cur[i] = owner;
    }
  }

  /** Removes the claimant with key `ownerKey` from `vsKey` (no-op if it is not one). */
  remove(vsKey: string, ownerKey: string): void {
    const cur = this.byKey.get(vsKey);
    if (cur === undefined) return;
    if (!Array.isArray(cur)) {
      if (cur.key === ownerKey) this.byKey.delete(vsKey);
      return;
    }
    const rest = cur.filter((o) => o.key !== ownerKey);
    if (rest.length === 0) this.byKey.delete(vsKey);
    else this.byKey.set(vsKey, rest.length === 1 ? rest[0]! : rest);
  }

  /** The owner with the greatest key, or undefined when nobody claims `vsKey`. */
  winner(vsKey: string): T | undefined {
    const cur = this.byKey.get(vsKey);
    if (!Array.isArray(cur)) return cur;
    let best: T | undefined;
    for (const o of cur) if (best === undefined || compareStrings(o.key, best.key) > 0) best = o;
    return best;
  }

  /** Every claimant of `vsKey` (for tests and diagnostics). */
  owners(vsKey: string): readonly T[] {
    const cur = this.byKey.get(vsKey);
    return cur === undefined ? [] : Array.isArray(cur) ? cur.slice() : [cur];
  }
}
