// The desired state as `plan` prints it: text (ipvsadm -Sn, ipset save,
// iptables-restore payloads, jump rules, addresses) or JSON. Every list is
// sorted, so output is byte-for-byte reproducible.

import { renderIpsetSave } from '../ipset/types.ts';
import { type TableEntry, type VirtualServerJson, renderSave, toJson } from '../ipvs/format.ts';
import { compareStrings } from '../model/compare.ts';
import { renderJumpRule } from './iptables.ts';
import type { DesiredState, IptablesPayload } from './types.ts';

/** The JSON document `plan --output json` prints. */
export interface PlanJson {
  virtualServers: VirtualServerJson[];
  ipsets: { name: string; type: string; family: string; entries: string[] }[];
  addresses: string[];
  /** IPv4 payload (empty strings when the proxier does not run IPv4). */
  iptables: IptablesPayload;
  /** IPv6 payload, for ip6tables-restore. */
  ip6tables: IptablesPayload;
  warnings: string[];
}

/** Every virtual server of every family, as TableEntry for the ipvs formatters. */
export function desiredTable(state: DesiredState): TableEntry[] {
  return state.families.flatMap((f) => [...f.virtualServers.values()]);
}

const emptyPayload: IptablesPayload = { nat: '', filter: '' };

/** The plan as a JSON-ready object; `virtualServers` is exactly `toJson(...)`'s list. */
export function planJson(state: DesiredState, warnings: readonly string[]): PlanJson {
  const v4 = state.families.find((f) => f.family === 'IPv4');
  const v6 = state.families.find((f) => f.family === 'IPv6');
  return {
    virtualServers: toJson(desiredTable(state)).virtualServers,
    ipsets: state.families
      .flatMap((f) => f.ipsets.map((s) => ({ name: s.name, type: s.type, family: s.family, entries: [...s.entries] })))
      .sort((a, b) => compareStrings(a.name, b.name)),
    addresses: state.families.flatMap((f) => f.addresses).sort(compareStrings),
    iptables: v4?.iptables ?? emptyPayload,
    ip6tables: v6?.iptables ?? emptyPayload,
    warnings: [...warnings].sort(compareStrings),
  };
}

/** The plan as text sections, each headed by a `#` comment line. */
export function planText(state: DesiredState, warnings: readonly string[]): string {
  const out: string[] = [];
  const section = (title: string, body: string): void => {
    out.push(`# ${title}\n${body}${body === '' || body.endsWith('\n') ? '' : '\n'}`);
  };
  section('IPVS virtual and real servers (ipvsadm -Sn)', renderSave(desiredTable(state)));
  const sets = state.families.flatMap((f) => f.ipsets).sort((a, b) => compareStrings(a.name, b.name));
  section('ipsets (ipset save)', renderIpsetSave(sets));
  for (const f of state.families) {
    const tool = f.family === 'IPv4' ? 'iptables' : 'ip6tables';
    section(`${tool}-restore --noflush (${f.family})`, f.iptables.nat + f.iptables.filter);
    section(`${tool} jump rules from built-in chains (${f.family}, ensured with -C/-I)`, f.jumpRules.map((r) => `${renderJumpRule(r, f.family)}\n`).join(''));
  }
  section('addresses on kube-ipvs0', state.families.flatMap((f) => f.addresses).sort(compareStrings).map((a) => `${a}\n`).join(''));
  section('warnings', [...warnings].sort(compareStrings).map((w) => `${w}\n`).join(''));
  return out.join('\n');
}
