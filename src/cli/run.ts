import { ClusterAccessError, loadClusterAccess } from '../informers/cluster-access.ts';
import { KernelError } from '../netlink/errors.ts';
import { createLogger } from '../observability/logger.ts';
import { parseDuration } from '../config/duration.ts';
import { Agent } from '../sync/agent.ts';
import { loadAgentConfig, nodeName } from './agent-config.ts';
import { cleanupCommand } from './cleanup.ts';
import { initOnly } from './init-only.ts';
import { type Command, UsageError } from './command.ts';
import { explainKernelError } from './ipvs-list.ts';
import { lastValue, splitOwnOptions } from './own-options.ts';

const usage = `Usage: ipvs-proxy run [kube-proxy flags...] [--iptables-backend legacy|nft] [--drain-check-period 1m]

The node agent: watches Services, EndpointSlices and its own Node and keeps the
kernel programmed, exactly like "kube-proxy --proxy-mode=ipvs". Takes kube-proxy's
flags and --config KubeProxyConfiguration unchanged (see docs/config.md), e.g.
  --kubeconfig FILE | --master URL   cluster access (default: in-cluster)
  --hostname-override NAME           node name (default: $NODE_NAME, then the hostname)
  --config FILE                      KubeProxyConfiguration (mode: ipvs)
  --cleanup                          remove everything programmed, then exit
  --init-only                        privileged setup (modules, sysctls, kube-ipvs0), then exit
ipvs-proxy's own:
  --iptables-backend legacy|nft      skip backend detection
  --drain-check-period DURATION      how often drained real servers are checked (default 1m)

Serves /metrics, /proxyMode and /debug/state on the metrics address (default
127.0.0.1:10249) and /healthz, /livez on the health address (default
0.0.0.0:10256). SIGTERM or SIGINT stop the agent without touching kernel state.
`;

/** Splits ipvs-proxy's own options from kube-proxy's flags. */
function splitRunArgs(args: readonly string[]): { backend: 'legacy' | 'nft' | undefined; drainCheckMs: number | undefined; rest: string[] } {
  const { values, rest } = splitOwnOptions(args, ['iptables-backend', 'drain-check-period']);
  const backend = lastValue(values['iptables-backend']);
  if (backend !== undefined && backend !== 'legacy' && backend !== 'nft') throw new UsageError('--iptables-backend must be legacy or nft');
  let drainCheckMs: number | undefined;
  const drain = lastValue(values['drain-check-period']);
  if (drain !== undefined) {
    const d = parseDuration(drain);
    if (d === null || d <= 0) throw new UsageError(`--drain-check-period: not a positive duration: ${drain}`);
    drainCheckMs = d;
  }
  return { backend, drainCheckMs, rest };
}

/** Resolves when SIGTERM or SIGINT arrives. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGTERM', on('SIGTERM'));
    process.once('SIGINT', on('SIGINT'));
  });
}

/** `run`: the agent. */
export function runCommand(): Command {
  return {
    name: ['run'],
    summary: 'run the node agent against a cluster (kube-proxy --proxy-mode=ipvs drop-in; needs root)',
    usage,
    async run(args, io) {
      const a = splitRunArgs(args);
      const loaded = loadAgentConfig(a.rest, io, 'run');
      if (!loaded) return 2;
      if (loaded.options.cleanup) return cleanupCommand().run(a.rest, io);
      if (loaded.options.initOnly) return initOnly(loaded.config, io);
      const { config, options } = loaded;
      const verbosity = config.logging.verbosity;
      const logger = createLogger({ level: process.env.LOG_LEVEL ?? (verbosity >= 6 ? 'trace' : verbosity >= 4 ? 'debug' : 'info') });
      let kubeConfig;
      try {
        kubeConfig = loadClusterAccess({ kubeconfig: config.clientConnection.kubeconfig || undefined, master: options.master || undefined });
      } catch (err) {
        if (!(err instanceof ClusterAccessError)) throw err;
        io.stderr.write(`ipvs-proxy run: ${err.message}\n`);
        return 1;
      }
      let agent: Agent;
      try {
        agent = await Agent.start({
          config, kubeConfig, nodeName: nodeName(config.hostnameOverride), logger,
          ...(a.backend ? { iptablesBackend: a.backend } : {}),
          ...(a.drainCheckMs ? { drainCheckMs: a.drainCheckMs } : {}),
        });
      } catch (err) {
        if (err instanceof KernelError) {
          io.stderr.write(`ipvs-proxy run: ${explainKernelError(err)}\n`);
          return 1;
        }
        io.stderr.write(`ipvs-proxy run: ${(err as Error).message}\n`);
        return 1;
      }
      const sig = await untilSignal();
      logger.info({ signal: sig }, 'stopping');
      await agent.stop();
      logger.flush();
      return 0;
    },
  };
}
