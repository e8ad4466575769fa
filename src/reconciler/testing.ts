// Helpers for tests and benchmarks: run the whole pipeline (objects → snapshot
// → desired state) and look at the result in compact forms.

import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { type ProxyConfig, defaultProxyConfig } from '../config/types.ts';
import { realServerKey } from '../ipvs/types.ts';
import { buildLocalNode, fromNode } from '../model/node.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import { type IpFamily, formatWarning } from '../model/types.ts';
import { buildDesiredState } from './build.ts';
import type { DesiredState, FamilyState } from './types.ts';

/** Inputs of one scenario. */
export interface ScenarioInput {
  services?: V1Service[];
  slices?: V1EndpointSlice[];
  /** The own Node object (labels, pod CIDRs). */
  node?: V1Node;
  /** Node name; default `test-node` as in kube-proxy's tests. */
  nodeName?: string;
  /** Addresses on the node's interfaces (default: none). */
  nodeIPs?: string[];
  /** Primary IP (kube-proxy's bindAddress / nodeIP); default: first node IP of each family. */
  bindAddress?: string;
  families?: IpFamily[];
  randomFully?: boolean;
  config?: Partial<Omit<ProxyConfig, 'ipvs'>> & { ipvs?: Partial<ProxyConfig['ipvs']> };
}

/** Result of a scenario: the desired state and every warning as text. */
export interface ScenarioResult {
  readonly state: DesiredState;
  readonly warnings: string[];
}

/** Runs conversion and buildDesiredState for a scenario. */
export function runScenario(input: ScenarioInput): ScenarioResult {
  const config: ProxyConfig = {
    ...defaultProxyConfig,
    ...input.config,
    ipvs: { ...defaultProxyConfig.ipvs, ...input.config?.ipvs },
  };
  const snap = buildSnapshot(input.services ?? [], input.slices ?? []);
  const conv = input.node ? fromNode(input.node) : null;
  const node = buildLocalNode({
    name: input.nodeName ?? 'test-node',
    info: conv?.node ?? null,
    localAddresses: input.nodeIPs ?? [],
    ...(input.bindAddress ? { bindAddress: input.bindAddress } : {}),
    ipFamilies: input.families ?? ['IPv4', 'IPv6'],
    iptablesRandomFully: input.randomFully ?? true,
  });
  const state = buildDesiredState(snap.snapshot, node, config);
  return { state, warnings: [...snap.warnings, ...(conv?.warnings ?? []), ...state.warnings].map(formatWarning) };
}

/** The state of one family (throws if the family was not built: a test bug). */
export function family(state: DesiredState, f: IpFamily = 'IPv4'): FamilyState {
  const s = state.families.find((x) => x.family === f);
  if (!s) throw new Error(`family ${f} not in state`);
  return s;
}

/** `{ 'TCP/10.0.0.1:80': ['10.180.0.1:80', ...] }` for one family. */
export function vsTable(state: DesiredState, f: IpFamily = 'IPv4'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, { realServers }] of family(state, f).virtualServers) out[key] = realServers.map(realServerKey);
  return out;
}

/** Non-empty sets of one family: `{ 'KUBE-CLUSTER-IP': ['10.0.0.1,tcp:80'] }`. */
export function setEntries(state: DesiredState, f: IpFamily = 'IPv4'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of family(state, f).ipsets) if (s.entries.length > 0) out[s.name] = [...s.entries];
  return out;
}

/** The nat and filter rule lines (`-A ...`) of one chain, in order. */
export function chainRules(state: DesiredState, table: 'nat' | 'filter', chain: string, f: IpFamily = 'IPv4'): string[] {
  return family(state, f).iptables[table].split('\n').filter((l) => l.startsWith(`-A ${chain} `));
}
