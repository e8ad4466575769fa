// One iptables table in memory, with the kernel's (libiptc's) rules for each
// command. Used by FakeIptables; pure apart from mutating the model it is given.

import { type RuleContext, checkRuleSpec, jumpTarget } from './rule-check.ts';
import type { ChainDump } from './restore-text.ts';
import { type IpFamily, type Table, builtinChains, isBuiltinChain } from './types.ts';

/** A refused command: the kernel meaning and what iptables would say. */
export class Refusal extends Error {
  readonly code: string;
  constructor(code: string, detail: string) {
    super(detail);
    this.code = code;
  }
}

interface Chain {
  policy: string | null;
  rules: string[][];
}

/** Longest chain name iptables accepts (XT_EXTENSION_MAXNAMELEN 29, with the NUL). */
const maxChainName = 28;

const sameRule = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((w, i) => w === b[i]);

/** A table's chains and rules. `clone()` gives the copy a restore works on, so a failed block changes nothing. */
export class TableModel {
  readonly table: Table;
  private chains: Map<string, Chain>;

  constructor(table: Table, chains?: Map<string, Chain>) {
    this.table = table;
    this.chains = chains ?? new Map(builtinChains[table].map((c) => [c, { policy: 'ACCEPT', rules: [] }]));
  }

  /** A model holding what `iptables-save` showed for this table (rules are taken as they are, unchecked). */
  static fromDump(table: Table, dump: ReadonlyMap<string, ChainDump>): TableModel {
    return new TableModel(table, new Map([...dump].map(([k, c]) => [k, { policy: c.policy, rules: c.rules.map((r) => [...r]) }])));
  }

  clone(): TableModel {
    return new TableModel(this.table, new Map([...this.chains].map(([k, c]) => [k, { policy: c.policy, rules: c.rules.map((r) => [...r]) }])));
  }

  /** Chains and rules as iptables-save would list them (copies). */
  dump(): Map<string, ChainDump> {
    return new Map([...this.chains].map(([k, c]) => [k, { policy: c.policy, rules: c.rules.map((r) => [...r]) }]));
  }

  has(chain: string): boolean {
    return this.chains.has(chain);
  }

  /** How many rules of this table jump or go to `chain`. */
  references(chain: string): number {
    let n = 0;
    for (const c of this.chains.values()) for (const r of c.rules) if (jumpTarget(r) === chain) n++;
    return n;
  }

  /** Whether any rule of this table uses `set` with --match-set. */
  usesSet(set: string): boolean {
    for (const c of this.chains.values()) {
      for (const r of c.rules) for (let i = 0; i < r.length - 1; i++) if (r[i] === '--match-set' && r[i + 1] === set) return true;
    }
    return false;
  }

  /**
   * A restore `:CHAIN POLICY` line in --noflush mode: a user chain (`-`) is
   * created, or flushed if it exists; a built-in chain gets its policy.
   */
  declare(chain: string, policy: string): void {
    if (isBuiltinChain(this.table, chain)) {
      if (policy !== 'ACCEPT' && policy !== 'DROP') throw new Refusal('EINVAL', `Bad built-in chain policy ${policy}`);
      this.chains.get(chain)!.policy = policy;
      return;
    }
    if (policy !== '-') throw new Refusal('EINVAL', `Can't set policy \`${policy}' on user-defined chain ${chain}`);
    const existing = this.chains.get(chain);
    if (existing) existing.rules = [];
    else this.create(chain);
  }

  /**
   * Runs one iptables command (the words after `-t table`), throwing a Refusal
   * with the kernel's meaning: ENOENT for a missing chain, rule, target, match
   * or set; EEXIST for an existing chain; EBUSY for deleting a referenced
   * chain; ENOTEMPTY for deleting a non-empty one; EINVAL for bad syntax or a
   * built-in chain where a user chain is required. Returns true for `-C` when
   * the rule exists (false when it does not).
   */
  run(args: readonly string[], family: IpFamily, setExists: (name: string) => boolean): boolean {
    const [cmd, chain] = args;
    const ctx: RuleContext = { family, setExists, chainExists: (c) => this.chains.has(c) && !isBuiltinChain(this.table, c) };
    switch (cmd) {
      case '-A': case '-I': case '-D': case '-C': {
        if (chain === undefined) throw new Refusal('EINVAL', `option "${cmd}" requires an argument`);
        let spec = args.slice(2);
        let position: number | null = null;
        if ((cmd === '-I' || cmd === '-D') && spec[0] !== undefined && /^[0-9]+$/.test(spec[0])) {
          position = Number(spec[0]);
          spec = spec.slice(1);
        }
        if (!(cmd === '-D' && position !== null)) {
          const problem = checkRuleSpec(spec, ctx);
          if (problem) throw new Refusal(problem.code, problem.detail);
        }
        const c = this.chains.get(chain);
        // -C and -D answer "Bad rule" for a missing chain too (the tool looks the rule up, not the chain).
        if (!c) {
          if (cmd === '-C') return false;
          throw new Refusal('ENOENT', cmd === '-D' ? 'Bad rule (does a matching rule exist in that chain?).' : 'No chain/target/match by that name.');
        }
        if (cmd === '-A') c.rules.push([...spec]);
        else if (cmd === '-I') {
          const at = (position ?? 1) - 1;
          if (at < 0 || at > c.rules.length) throw new Refusal('EINVAL', 'Index of insertion too big.');
          c.rules.splice(at, 0, [...spec]);
        } else {
          const idx = position !== null ? position - 1 : c.rules.findIndex((r) => sameRule(r, spec));
          if (cmd === '-C') return idx >= 0;
          if (idx < 0 || idx >= c.rules.length) throw new Refusal('ENOENT', 'Bad rule (does a matching rule exist in that chain?).');
          c.rules.splice(idx, 1);
        }
        return true;
      }
      case '-N':
        if (chain === undefined) throw new Refusal('EINVAL', 'option "-N" requires an argument');
        if (this.chains.has(chain)) throw new Refusal('EEXIST', 'Chain already exists.');
        this.create(chain);
        return true;
      case '-F':
        if (chain === undefined) {
          for (const c of this.chains.values()) c.rules = [];
          return true;
        }
        if (!this.chains.has(chain)) throw new Refusal('ENOENT', 'No chain/target/match by that name.');
        this.chains.get(chain)!.rules = [];
        return true;
      case '-X': {
        const victims = chain === undefined ? [...this.chains.keys()].filter((c) => !isBuiltinChain(this.table, c)) : [chain];
        for (const v of victims) this.deleteChain(v);
        return true;
      }
      case '-P': {
        const policy = args[2];
        if (chain === undefined || policy === undefined) throw new Refusal('EINVAL', 'option "-P" requires an argument');
        if (!this.chains.has(chain)) throw new Refusal('ENOENT', 'No chain/target/match by that name.');
        if (!isBuiltinChain(this.table, chain)) throw new Refusal('EINVAL', 'Bad built-in chain name.');
        if (policy !== 'ACCEPT' && policy !== 'DROP') throw new Refusal('EINVAL', 'Bad policy name.');
        this.chains.get(chain)!.policy = policy;
        return true;
      }
      case '-Z':
        return true; // counters are not modelled
      default:
        throw new Refusal('EINVAL', cmd === undefined ? 'no command specified' : `unknown option "${cmd}"`);
    }
  }

  private create(chain: string): void {
    if (chain.length > maxChainName || chain.startsWith('-') || chain === '') {
      throw new Refusal('EINVAL', `chain name \`${chain}' not allowed`);
    }
    this.chains.set(chain, { policy: null, rules: [] });
  }

  // libiptc's order of checks: built-in (EINVAL), referenced (EMLINK, "Too many
  // links"; reported here as EBUSY, its meaning), not empty (ENOTEMPTY).
  private deleteChain(chain: string): void {
    const c = this.chains.get(chain);
    if (!c) throw new Refusal('ENOENT', 'No chain/target/match by that name.');
    if (isBuiltinChain(this.table, chain)) throw new Refusal('EINVAL', 'Invalid argument.');
    if (this.references(chain) > 0) throw new Refusal('EBUSY', 'Too many links.');
    if (c.rules.length > 0) throw new Refusal('ENOTEMPTY', 'Directory not empty.');
    this.chains.delete(chain);
  }
}
