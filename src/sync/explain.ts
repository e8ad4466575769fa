// `explain`: one Service's desired kernel state, what the kernel actually holds
// for it, and the difference. The views and the diff are pure; the agent reads
// the kernel (debug-state.ts) and the CLI prints (cli/explain.ts).

import { type RealServerJson, type TableEntry, type VirtualServerJson, toJson } from '../ipvs/format.ts';
import type { DesiredState, SetEntry } from '../reconciler/types.ts';

/** One Service's kernel objects, desired or actual. */
export interface ServiceView {
  readonly virtualServers: VirtualServerJson[];
  readonly setEntries: SetEntry[];
  readonly addresses: string[];
}

/** What /debug/state?service=ns/name answers and `explain` prints. */
export interface Explanation {
  readonly service: string;
  /** ServicePort keys of the Service (empty: the agent does not know it). */
  readonly servicePorts: string[];
  readonly desired: ServiceView;
  readonly actual: ServiceView;
  /** One line per difference; empty when the kernel matches. */
  readonly differences: string[];
}

/** True when a ServicePort key (`ns/name:port/PROTO` or `ns/name/PROTO`) belongs to `service` (`ns/name`). */
export function keyOfService(key: string, service: string): boolean {
  return key.startsWith(`${service}:`) || key.startsWith(`${service}/`);
}

/**
 * The desired view of a Service: its virtual servers (JSON shape), set entries
 * and kube-ipvs0 addresses, from the desired state's per-port contributions.
 * Also returns the virtualServerKeys to read from the kernel.
 */
export function desiredView(state: DesiredState, service: string): { ports: string[]; vsKeys: string[]; view: ServiceView } {
  const ports: string[] = [];
  const table: TableEntry[] = [];
  const vsKeys: string[] = [];
  const setEntries: SetEntry[] = [];
  const addresses = new Set<string>();
  for (const f of state.families) {
    for (const [key, c] of f.byServicePort) {
      if (!keyOfService(key, service)) continue;
      if (!ports.includes(key)) ports.push(key);
      for (const k of c.virtualServers) {
        const dvs = f.virtualServers.get(k);
        if (dvs && !vsKeys.includes(k)) { vsKeys.push(k); table.push(dvs); }
      }
      setEntries.push(...c.setEntries);
      for (const a of c.addresses) addresses.add(a);
    }
  }
  const uniqueEntries = [...new Map(setEntries.map((e) => [`${e.set} ${e.entry}`, e])).values()];
  return { ports: ports.sort(), vsKeys, view: { virtualServers: toJson(table).virtualServers, setEntries: uniqueEntries, addresses: [...addresses].sort() } };
}

const vsName = (v: VirtualServerJson): string => (v.fwmark !== null ? `FWM ${v.fwmark}` : `${v.protocol ?? ''} ${v.family === 'inet6' ? `[${v.address ?? ''}]` : v.address ?? ''}:${v.port ?? 0}`);
const rsName = (r: RealServerJson): string => (r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`);

/** Lists every difference between the desired and the actual view. */
export function diffViews(desired: ServiceView, actual: ServiceView): string[] {
  const out: string[] = [];
  const actualVs = new Map(actual.virtualServers.map((v) => [vsName(v), v]));
  for (const want of desired.virtualServers) {
    const name = vsName(want);
    const have = actualVs.get(name);
    if (!have) { out.push(`virtual server ${name}: missing from the kernel`); continue; }
    for (const field of ['scheduler', 'persistence', 'netmask'] as const) {
      if (want[field] !== have[field]) out.push(`virtual server ${name}: ${field} is ${String(have[field])}, want ${String(want[field])}`);
    }
    if (want.flags.join(',') !== have.flags.join(',')) out.push(`virtual server ${name}: flags are [${have.flags.join(',')}], want [${want.flags.join(',')}]`);
    const haveRs = new Map(have.realServers.map((r) => [rsName(r), r]));
    for (const r of want.realServers) {
      const h = haveRs.get(rsName(r));
      if (!h) out.push(`virtual server ${name}: real server ${rsName(r)} missing`);
      else if (h.weight !== r.weight || h.forward !== r.forward) out.push(`virtual server ${name}: real server ${rsName(r)} has weight ${h.weight} ${h.forward}, want ${r.weight} ${r.forward}`);
      haveRs.delete(rsName(r));
    }
    for (const [n, h] of haveRs) {
      out.push(`virtual server ${name}: real server ${n} not desired${h.weight === 0 ? ' (weight 0: draining until its connections end)' : ''}`);
    }
  }
  const haveEntries = new Set(actual.setEntries.map((e) => `${e.set} ${e.entry}`));
  for (const e of desired.setEntries) if (!haveEntries.has(`${e.set} ${e.entry}`)) out.push(`ipset ${e.set}: entry ${e.entry} missing`);
  const haveAddr = new Set(actual.addresses);
  for (const a of desired.addresses) if (!haveAddr.has(a)) out.push(`kube-ipvs0: address ${a} not bound`);
  return out;
}

/** Text for operators. */
export function renderExplanation(e: Explanation): string {
  const lines = [`Service ${e.service}`];
  if (e.servicePorts.length === 0) return `${lines[0]}: not known to this node's agent (filtered, headless, or absent)\n`;
  lines.push(`  service ports: ${e.servicePorts.join(', ')}`);
  const show = (title: string, v: ServiceView): void => {
    lines.push(`  ${title}:`);
    for (const vs of v.virtualServers) {
      lines.push(`    ${vsName(vs)} ${vs.scheduler}${vs.flags.length ? ` (${vs.flags.join(',')})` : ''}${vs.persistence !== null ? ` persistent ${vs.persistence}` : ''}`);
      for (const r of vs.realServers) lines.push(`      -> ${rsName(r)} ${r.forward} weight ${r.weight} active ${r.activeConnections} inactive ${r.inactiveConnections}`);
    }
    for (const s of v.setEntries) lines.push(`    ipset ${s.set} ${s.entry}`);
    for (const a of v.addresses) lines.push(`    kube-ipvs0 ${a}`);
  };
  show('desired', e.desired);
  show('in the kernel', e.actual);
  lines.push(e.differences.length ? '  differences:' : '  differences: none (the kernel matches)');
  for (const d of e.differences) lines.push(`    ${d}`);
  return `${lines.join('\n')}\n`;
}
