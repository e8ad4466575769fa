// iptables vocabulary: tables, chains, backends. Kernel terms only (no
// Kubernetes words below this folder's applier).

import type { IpFamily } from '../model/types.ts';

export type { IpFamily } from '../model/types.ts';

/** The iptables tables the kernel knows. */
export type Table = 'filter' | 'nat' | 'mangle' | 'raw' | 'security';

export const tables: readonly Table[] = ['filter', 'nat', 'mangle', 'raw', 'security'];

/** Built-in chains of each table, in the kernel's (and iptables-save's) order. */
export const builtinChains: Readonly<Record<Table, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** True for a chain the kernel creates with the table (it has a policy, cannot be deleted). */
export function isBuiltinChain(table: Table, chain: string): boolean {
  return builtinChains[table].includes(chain);
}

/** True for a known table name. */
export function isTable(name: string): name is Table {
  return (tables as readonly string[]).includes(name);
}

/**
 * Which iptables the host uses: `legacy` (x_tables, iptables-legacy) or `nft`
 * (nf_tables through iptables-nft). Rules written with one are invisible to the
 * other, so every component on a node must agree.
 */
export type Backend = 'legacy' | 'nft';

/** The command names of one family and backend (`iptables-legacy`, `ip6tables-nft-restore`, ...). */
export interface Commands {
  readonly iptables: string;
  readonly save: string;
  readonly restore: string;
}

/** The binaries for a family and backend. Naming them explicitly sidesteps the host's alternatives symlinks. */
export function commandsFor(family: IpFamily, backend: Backend): Commands {
  const base = `${family === 'IPv6' ? 'ip6tables' : 'iptables'}-${backend}`;
  return { iptables: base, save: `${base}-save`, restore: `${base}-restore` };
}
