import { ClusterState } from '../model/cluster-state.ts';
import { buildLocalNode, fromNode } from '../model/node.ts';
import { formatWarning } from '../model/types.ts';
import { readHostAddresses } from '../netif/host-addresses.ts';
import { KernelError } from '../netlink/errors.ts';
import { createLogger } from '../observability/logger.ts';
import { SyncEngine } from '../sync/engine.ts';
import { hostFamilies, openKernel } from '../sync/kernel.ts';
import { loadAgentConfig, nodeName } from './agent-config.ts';
import { type Command, UsageError } from './command.ts';
import { explainKernelError } from './ipvs-list.ts';
import { loadManifests } from './manifest-files.ts';
import { lastValue, splitOwnOptions } from './own-options.ts';

const usage = `Usage: ipvs-proxy apply --once -f <file|dir>... [--hostname-override NAME] [--config FILE]
                        [--iptables-backend legacy|nft] [kube-proxy flags...]

Programs the kernel once for the given Services, EndpointSlices and Nodes (the
same input as "plan"), exactly as the agent would, and exits. Node IPs come from
the host's interfaces, as kube-proxy does. Logs go to stderr; the last line on
stdout is a JSON summary:
  {"writes":N,"ops":{"ipvs":N,"ipset":N,"iptables":N,"netif":N},"durationMs":N,...}
Run twice on the same input, the second run reports "writes":0.
Needs root (CAP_NET_ADMIN), the ip_vs module, ipset and iptables.

Exit status: 0 when the kernel converged, 1 when a write failed or a
capability is missing, 2 on bad usage or configuration.
`;

/** Splits our own options from the kube-proxy flags passed on to the config loader. */
export function splitApplyArgs(args: readonly string[]): { files: string[]; once: boolean; backend: 'legacy' | 'nft' | undefined; rest: string[] } {
  const { values, rest } = splitOwnOptions(args, ['filename', 'iptables-backend'], ['once'], { filename: 'f' });
  const backend = lastValue(values['iptables-backend']);
  if (backend !== undefined && backend !== 'legacy' && backend !== 'nft') throw new UsageError('--iptables-backend must be legacy or nft');
  return { files: (values.filename as string[] | undefined) ?? [], once: values.once === true, backend, rest };
}

/** `apply --once`: one full sync of the kernel from manifests. */
export function applyCommand(): Command {
  return {
    name: ['apply'],
    summary: 'program the kernel once from Service/EndpointSlice/Node files, then exit (needs root)',
    usage,
    async run(args, io) {
      const a = splitApplyArgs(args);
      if (!a.once) throw new UsageError('only --once is supported: apply programs the kernel once and exits');
      if (a.files.length === 0) throw new UsageError('at least one -f <file|dir> is required');
      const loaded = loadAgentConfig(a.rest, io, 'apply');
      if (!loaded) return 2;
      const { config } = loaded;
      let manifests;
      try {
        ({ manifests } = loadManifests(a.files));
      } catch (err) {
        io.stderr.write(`ipvs-proxy apply: ${(err as Error).message}\n`);
        return 1;
      }
      const logger = createLogger({ destination: io.stderr, level: process.env.LOG_LEVEL ?? 'warn' });
      const started = performance.now();
      const name = nodeName(config.hostnameOverride);
      const families = hostFamilies();
      let kernel;
      try {
        kernel = await openKernel({ config, families, logger, ...(a.backend ? { iptablesBackend: a.backend } : {}) });
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        io.stderr.write(`ipvs-proxy apply: ${explainKernelError(err)}\n`);
        return 1;
      }
      try {
        const nodeObj = manifests.nodes.find((n) => n.metadata?.name === name);
        const node = buildLocalNode({
          name, info: nodeObj ? fromNode(nodeObj).node : null, localAddresses: await readHostAddresses(),
          bindAddress: config.bindAddress, ipFamilies: families,
        });
        const state = new ClusterState();
        const warnings = [];
        for (const s of manifests.services) warnings.push(...state.upsertService(s).warnings);
        for (const s of manifests.endpointSlices) warnings.push(...state.upsertSlice(s).warnings);
        const engine = new SyncEngine({ state, node, config, stages: kernel.stages, logger });
        const report = await engine.sync('full');
        for (const w of new Set([...warnings, ...report.warnings].map(formatWarning))) io.stderr.write(`ipvs-proxy apply: warning: ${w}\n`);
        if (report.failed) io.stderr.write(`ipvs-proxy apply: ${report.failed.subsystem}: ${report.failed.error.message}\n`);
        for (const r of report.results) for (const e of r.errors) io.stderr.write(`ipvs-proxy apply: ${r.subsystem}: ${e.message}\n`);
        const ops = { ipvs: 0, ipset: 0, iptables: 0, netif: 0 };
        for (const r of report.results) ops[r.subsystem] += r.writes;
        const summary = {
          writes: Object.values(ops).reduce((x, y) => x + y, 0),
          ops,
          ok: report.ok,
          durationMs: Math.round(performance.now() - started),
        };
        io.stdout.write(`${JSON.stringify(summary)}\n`);
        return report.ok ? 0 : 1;
      } finally {
        kernel.close();
      }
    },
  };
}
