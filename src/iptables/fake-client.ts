import { fakeCall } from '../netlink/errors.ts';
import type { IptablesClient } from './client.ts';
import { IptablesError } from './errors.ts';
import { parseRestore, renderTable } from './restore-text.ts';
import { Refusal, TableModel } from './table-model.ts';
import { type Backend, type IpFamily, type Table, isTable } from './types.ts';

// An in-memory iptables that follows the legacy backend's rules, for unit
// tests of everything above the client. The contract suite runs it and the
// real iptables-legacy (in the sandbox) through the same tests.

/** One write the fake accepted, in order (see `writes`). */
export interface FakeIptablesWrite {
  readonly op: 'restore' | 'insert-rule' | 'delete-rule' | 'flush-chain' | 'delete-chain';
  /** `table` for a restore block, `table/chain` otherwise. */
  readonly object: string;
}

export interface FakeIptablesOptions {
  readonly family?: IpFamily;
  /** Whether an ipset exists; wire to FakeIpset. Default: every set exists. */
  readonly setExists?: (name: string) => boolean;
}

/**
 * In-memory kernel model of one family's iptables. `restore` parses the same
 * text the real client sends and applies each `*table` block to a copy,
 * committing only when the whole block succeeds (a failure reports the failing
 * line and leaves that table as it was; earlier blocks stay). It rejects jumps
 * to missing chains, unknown options, wrong-family addresses and
 * `--match-set` references to missing sets (via `setExists`), refuses to delete
 * a referenced chain (EBUSY) or a non-empty one (ENOTEMPTY), renders `save()`
 * deterministically, and logs every accepted write.
 */
export class FakeIptables implements IptablesClient {
  readonly family: IpFamily;
  readonly backend: Backend = 'legacy';
  private readonly setExists: (name: string) => boolean;
  private readonly tables = new Map<Table, TableModel>();
  private readonly log: FakeIptablesWrite[] = [];
  /** When set, every call rejects with this error (to test failure handling). */
  failWith: IptablesError | null = null;

  constructor(opts: FakeIptablesOptions = {}) {
    this.family = opts.family ?? 'IPv4';
    this.setExists = opts.setExists ?? (() => true);
  }

  /** Every accepted write so far; `writes.slice(mark)` gives those since `mark = writes.length`. */
  get writes(): readonly FakeIptablesWrite[] {
    return this.log;
  }

  /** Whether any rule of any table matches the set (the hook FakeIpset needs to refuse destroying it). */
  isSetReferenced(name: string): boolean {
    return [...this.tables.values()].some((t) => t.usesSet(name));
  }

  /** Every table that exists, as iptables-save text, in a fixed table order. */
  dump(): string {
    return (['filter', 'mangle', 'nat', 'raw', 'security'] as const)
      .filter((t) => this.tables.has(t))
      .map((t) => renderTable(t, this.tables.get(t)!.dump()))
      .join('');
  }

  restore(payload: string, _opts: { readonly noflush: true }): Promise<void> {
    return this.guard(() => {
      const parsed = parseRestore(payload);
      for (const block of parsed.blocks) {
        if (!isTable(block.table)) {
          throw new IptablesError('EINVAL', 'restore', block.table, `unable to initialize table '${block.table}'`, block.line);
        }
        const work = this.table(block.table).clone();
        for (const l of block.lines) {
          try {
            if (l.kind === 'chain') work.declare(l.chain, l.policy);
            else work.run(l.args, this.family, this.setExists);
          } catch (err) {
            if (err instanceof Refusal) throw new IptablesError(err.code, 'restore', block.table, err.message, l.line);
            throw err;
          }
        }
        this.tables.set(block.table, work);
        this.log.push({ op: 'restore', object: block.table });
      }
      if (parsed.error) throw new IptablesError('EINVAL', 'restore', '', parsed.error.detail, parsed.error.line);
    });
  }

  save(table?: Table): Promise<string> {
    return this.guard(() => (table ? renderTable(table, this.table(table).dump()) : this.dump()));
  }

  checkRule(table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    return this.guard(() => this.command('check-rule', table, chain, ['-C', chain, ...args], false));
  }

  insertRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    return this.guard(() => { this.command('insert-rule', table, chain, ['-I', chain, '1', ...args], true); });
  }

  deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    return this.guard(() => { this.command('delete-rule', table, chain, ['-D', chain, ...args], true); });
  }

  listChains(table: Table): Promise<string[]> {
    return this.guard(() => [...this.table(table).dump().keys()]);
  }

  flushChain(table: Table, chain: string): Promise<void> {
    return this.guard(() => { this.command('flush-chain', table, chain, ['-F', chain], true); });
  }

  deleteChain(table: Table, chain: string): Promise<void> {
    return this.guard(() => { this.command('delete-chain', table, chain, ['-X', chain], true); });
  }

  private command(op: FakeIptablesWrite['op'] | 'check-rule', table: Table, chain: string, args: string[], write: boolean): boolean {
    try {
      const result = this.table(table).run(args, this.family, this.setExists);
      if (write && op !== 'check-rule') this.log.push({ op, object: `${table}/${chain}` });
      return result;
    } catch (err) {
      if (err instanceof Refusal) throw new IptablesError(err.code, op, `${table}/${chain}`, err.message);
      throw err;
    }
  }

  // The kernel creates a table the first time any command touches it.
  private table(name: Table): TableModel {
    let t = this.tables.get(name);
    if (!t) {
      t = new TableModel(name);
      this.tables.set(name, t);
    }
    return t;
  }

  private guard<T>(fn: () => T): Promise<T> {
    return fakeCall(this.failWith, fn);
  }
}
