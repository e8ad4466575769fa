import { KernelError } from '../netlink/errors.ts';
import { createLogger } from '../observability/logger.ts';
import { ClusterState } from '../model/cluster-state.ts';
import { buildLocalNode } from '../model/node.ts';
import { SyncEngine } from '../sync/engine.ts';
import { hostFamilies, openKernel } from '../sync/kernel.ts';
import { loadAgentConfig, nodeName } from './agent-config.ts';
import type { Command } from './command.ts';
import { explainKernelError } from './ipvs-list.ts';

const usage = `Usage: ipvs-proxy cleanup [--config FILE] [kube-proxy flags...]
       ipvs-proxy --cleanup [...]

Removes every trace of ipvs-proxy (and of kube-proxy's IPVS mode) from the
kernel, like "kube-proxy --cleanup": our IPVS virtual servers (all but those in
ipvs.excludeCIDRs and fwmark ones), the kube-ipvs0 interface, our iptables
chains and the jumps into them, and our ipsets. Prints a JSON summary.
`;

/** `cleanup` (also `--cleanup`). */
export function cleanupCommand(): Command {
  return {
    name: ['cleanup'],
    summary: 'remove everything ipvs-proxy (or kube-proxy IPVS mode) programmed, like kube-proxy --cleanup',
    usage,
    async run(args, io) {
      const loaded = loadAgentConfig(args.filter((a) => a !== '--cleanup'), io, 'cleanup');
      if (!loaded) return 2;
      const { config } = loaded;
      const logger = createLogger({ destination: io.stderr, level: process.env.LOG_LEVEL ?? 'warn' });
      const families = hostFamilies();
      let kernel;
      try {
        kernel = await openKernel({ config, families, logger });
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        io.stderr.write(`ipvs-proxy cleanup: ${explainKernelError(err)}\n`);
        return 1;
      }
      try {
        const node = buildLocalNode({ name: nodeName(config.hostnameOverride), ipFamilies: families });
        const engine = new SyncEngine({ state: new ClusterState(), node, config, stages: kernel.stages, logger });
        const results = await engine.cleanup();
        const errors = results.flatMap((r) => r.errors.map((e) => `${r.subsystem}: ${e.message}`));
        for (const e of errors) io.stderr.write(`ipvs-proxy cleanup: ${e}\n`);
        io.stdout.write(`${JSON.stringify({ removed: Object.fromEntries(results.map((r) => [r.subsystem, r.writes])), ok: errors.length === 0 })}\n`);
        return errors.length === 0 ? 0 : 1;
      } finally {
        kernel.close();
      }
    },
  };
}
