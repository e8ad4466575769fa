import type { Backend, IpFamily, Table } from './types.ts';

/**
 * One family's iptables (iptables or ip6tables), with the kernel's verbs. Every
 * method rejects with `IptablesError` (a `KernelError`) whose `code` gives the
 * kernel meaning:
 * - `ENOENT`: a missing chain, rule, set (`--match-set`), match or target;
 * - `EEXIST`: creating a chain that exists;
 * - `EBUSY`: deleting a chain that rules still jump to;
 * - `ENOTEMPTY`: deleting a chain that still holds rules;
 * - `EINVAL`: bad syntax, a wrong address family, a built-in chain where a user
 *   chain is required;
 * - `ETIMEDOUT`: the xtables lock stayed busy, or the command did not finish in time;
 * - `EPERM`: not allowed (not root / no CAP_NET_ADMIN);
 * - `EOPNOTSUPP`: the backend does not work on this kernel (e.g. nft without nf_tables for the family).
 * A failed `restore` also carries the failing input `line`.
 */
export interface IptablesClient {
  readonly family: IpFamily;
  readonly backend: Backend;

  /**
   * Runs one `iptables-restore --noflush` with `payload`. Chains declared with
   * `:CHAIN - [0:0]` are created or flushed; chains and rules not named are left
   * alone. Each `*table` block is all-or-nothing: on failure the failing block
   * changes nothing, blocks committed before it stay (legacy backend; nft
   * commits the whole input as one transaction).
   */
  restore(payload: string, opts: { readonly noflush: true }): Promise<void>;

  /**
   * `iptables-save -t <table>`: the table's chains and rules as text; without a
   * table, every table the kernel has loaded (one process for all).
   */
  save(table?: Table): Promise<string>;

  /**
   * `iptables -C`: whether the rule exists in the chain. Resolves false for a
   * missing rule (and, as the kernel answers, for a missing chain); rejects for
   * a rule that cannot exist (missing set or target: ENOENT, bad syntax: EINVAL).
   */
  checkRule(table: Table, chain: string, args: readonly string[]): Promise<boolean>;

  /** `iptables -I <chain> 1`: puts the rule first in the chain. */
  insertRule(table: Table, chain: string, args: readonly string[]): Promise<void>;

  /** `iptables -D`: deletes the first rule that matches; ENOENT if none does. */
  deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void>;

  /** Every chain of the table (built-in first, then user chains by name). */
  listChains(table: Table): Promise<string[]>;

  /** `iptables -F <chain>`: removes every rule of the chain; ENOENT if it is missing. */
  flushChain(table: Table, chain: string): Promise<void>;

  /** `iptables -X <chain>`: deletes an empty, unreferenced user chain. */
  deleteChain(table: Table, chain: string): Promise<void>;
}
