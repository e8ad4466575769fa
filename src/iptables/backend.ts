// Which iptables backend the node uses, decided the way kube-proxy's image
// decides (kubernetes-sigs/iptables-wrappers, pkg/xtables/detect.go): the
// kubelet (1.17+) leaves a KUBE-IPTABLES-HINT (or KUBE-KUBELET-CANARY) chain in
// the mangle table of the backend it uses, so follow it. The rule implemented:
//
// 1. An explicit choice (`--iptables-backend legacy|nft`) wins.
// 2. A kubelet hint chain in the nft rules (iptables-nft-save, ip6tables-nft-save) → nft.
// 3. A kubelet hint chain in the legacy rules (iptables-legacy-save, ip6tables-legacy-save,
//    all tables: asking for `-t mangle` would make the legacy kernel create that table) → legacy.
// 4. No hint: the backend that already holds more rules (the wrapper's earlier shell
//    version compared rule counts the same way; this also keeps us on the backend an
//    earlier kube-proxy or ipvs-proxy wrote to).
// 5. No rules anywhere: the wrapper picks nft. We pick nft only if it can
//    really write here (one restore that creates and deletes a probe chain);
//    otherwise legacy. This is the step that lands on legacy in the sandbox,
//    whose kernel has no nf_tables for IPv4 ("TABLE_ADD failed (Operation not
//    supported)", or "Could not fetch rule set generation id" when nf_tables is
//    not loaded at all).

import { type RunResult, type Runner, execaRunner } from './exec-client.ts';
import type { Backend } from './types.ts';

/** The backend chosen and why (for the startup log line). */
export interface BackendChoice {
  readonly backend: Backend;
  readonly reason: 'configured' | 'kubelet-hint' | 'more-rules' | 'nft-works' | 'nft-unusable';
}

export interface DetectOptions {
  /** Skip detection: the operator's choice. */
  readonly override?: Backend;
  readonly run?: Runner;
  /** Per command; default 10 s. */
  readonly timeoutMs?: number;
  readonly binDir?: string;
}

const hintChains = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)\s/m;
const probeChain = 'IPVS-PROXY-PROBE';

/** Counts rules (`-A` lines) in iptables-save output. */
function ruleCount(save: string): number {
  return save.split('\n').filter((l) => l.startsWith('-A ')).length;
}

/**
 * Decides the iptables backend (see the rule above). Never rejects for a
 * backend that does not work (a failed save counts as "no rules"); rejects
 * with an Error only when neither backend can be used at all, which the
 * caller should treat as a failed startup capability check.
 */
export async function detectBackend(opts: DetectOptions = {}): Promise<BackendChoice> {
  if (opts.override) return { backend: opts.override, reason: 'configured' };
  const run = opts.run ?? execaRunner;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const bin = (name: string): string => (opts.binDir ? `${opts.binDir}/${name}` : name);
  const save = async (name: string): Promise<RunResult> => run(bin(name), [], { timeoutMs });
  const text = (r: RunResult): string => (r.exitCode === 0 ? r.stdout : '');

  const nft = (await Promise.all([save('iptables-nft-save'), save('ip6tables-nft-save')])).map(text).join('');
  if (hintChains.test(nft)) return { backend: 'nft', reason: 'kubelet-hint' };
  const legacyRuns = await Promise.all([save('iptables-legacy-save'), save('ip6tables-legacy-save')]);
  const legacy = legacyRuns.map(text).join('');
  if (hintChains.test(legacy)) return { backend: 'legacy', reason: 'kubelet-hint' };
  const [nftRules, legacyRules] = [ruleCount(nft), ruleCount(legacy)];
  if (legacyRules > nftRules) return { backend: 'legacy', reason: 'more-rules' };
  if (nftRules > legacyRules) return { backend: 'nft', reason: 'more-rules' };

  const probe = `*filter\n:${probeChain} - [0:0]\n-X ${probeChain}\nCOMMIT\n`;
  const nftWrite = await run(bin('iptables-nft-restore'), ['--noflush'], { input: probe, timeoutMs });
  if (nftWrite.exitCode === 0) return { backend: 'nft', reason: 'nft-works' };
  if (legacyRuns[0].exitCode === 0) return { backend: 'legacy', reason: 'nft-unusable' };
  throw new Error(
    `no usable iptables backend: iptables-nft-restore failed (${nftWrite.stderr.trim() || nftWrite.spawnError || 'no output'}) `
    + `and iptables-legacy-save failed (${legacyRuns[0].stderr.trim() || legacyRuns[0].spawnError || 'no output'})`,
  );
}
