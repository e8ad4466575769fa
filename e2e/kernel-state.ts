// Shared by the end-to-end kernel tests: the kernel's state in plan's shapes,
// and the check "the kernel holds exactly what plan prints".
import { expect } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { readHostAddresses } from '../src/netif/host-addresses.ts';
import { run } from '../src/sandbox/exec.ts';

export const cli = fileURLToPath(new URL('../bin/ipvs-proxy', import.meta.url));

export interface PlanJson {
  virtualServers: unknown[];
  ipsets: { name: string; entries: string[] }[];
  addresses: string[];
}

/** `ipvs-proxy plan -o json` for the manifests in `dir`, with the host's addresses as node IPs. */
export async function planJson(dir: string, nodeName: string): Promise<PlanJson> {
  const nodeIps = await readHostAddresses();
  const args = ['plan', '-f', dir, '--node-name', nodeName, '-o', 'json', ...nodeIps.flatMap((ip) => ['--node-ip', ip])];
  return JSON.parse(await run(cli, args)) as PlanJson;
}

/** What the kernel holds: IPVS (connection counts zeroed), our ipsets, kube-ipvs0 addresses. */
export async function kernelState(): Promise<{ virtualServers: unknown[]; ipsets: Map<string, string[]>; addresses: string[] }> {
  const list = JSON.parse(await run(cli, ['ipvs', 'list', '--json'])) as { virtualServers: { realServers: Record<string, unknown>[] }[] };
  for (const v of list.virtualServers) for (const r of v.realServers) { r.activeConnections = 0; r.inactiveConnections = 0; }
  const sets = new Map<string, string[]>();
  for (const line of (await run('ipset', ['save'])).split('\n')) {
    const [verb, name, entry] = line.split(' ');
    if (verb === 'create' && name) sets.set(name, []);
    if (verb === 'add' && name && entry) sets.get(name)?.push(entry);
  }
  for (const v of sets.values()) v.sort();
  const addr = JSON.parse(await run('ip', ['-j', 'addr', 'show', 'dev', 'kube-ipvs0'])) as { addr_info: { local: string; scope: string }[] }[];
  const addresses = (addr[0]?.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => a.local).sort();
  return { virtualServers: list.virtualServers, ipsets: sets, addresses };
}

/** Asserts that IPVS, the ipsets and the kube-ipvs0 addresses are exactly what plan prints. */
export async function expectKernelEqualsPlan(dir: string, nodeName: string): Promise<void> {
  const plan = await planJson(dir, nodeName);
  const k = await kernelState();
  expect(k.virtualServers).toEqual(plan.virtualServers);
  for (const s of plan.ipsets) expect({ set: s.name, entries: k.ipsets.get(s.name) }).toEqual({ set: s.name, entries: [...s.entries].sort() });
  expect(k.addresses).toEqual([...plan.addresses].sort());
}
