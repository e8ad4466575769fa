import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseKubeProxyConfig, formatConfigError } from '../config/kube-proxy-config.ts';
import { type ProxyConfig, defaultProxyConfig } from '../config/types.ts';
import { parseIp } from '../model/ip.ts';
import type { Manifests } from '../model/manifests.ts';
import { buildLocalNode, fromNode } from '../model/node.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import { type Warning, formatWarning } from '../model/types.ts';
import { buildDesiredState } from '../reconciler/build.ts';
import { planJson, planText } from '../reconciler/render.ts';
import { type Command, UsageError } from './command.ts';
import { loadManifests } from './manifest-files.ts';

const usage = `Usage: ipvs-proxy plan -f <file|dir>... [--hostname-override NAME | --node-name NAME]
                       [--node-ip IP]... [--config kube-proxy-config.yaml] [--output text|json]

Prints what ipvs-proxy (and kube-proxy --proxy-mode=ipvs) would program on a
node for the given Services, EndpointSlices and Nodes: IPVS virtual and real
servers, ipsets, the iptables-restore payloads and the kube-ipvs0 addresses.
Needs no cluster and no root, and touches no kernel.

  -f, --filename PATH        YAML or JSON file (multi-document and List kinds
                             allowed) or directory (read recursively: *.yaml,
                             *.yml, *.json); repeat for more
  --hostname-override NAME   the node to plan for (endpoints on it are local);
  --node-name NAME           default: hostnameOverride from --config, else the
                             only Node in the input
  --node-ip IP               an address on the node's interfaces (NodePorts
                             listen on it); repeat for more. Default: the
                             Node object's InternalIP addresses
  --config FILE              KubeProxyConfiguration (v1alpha1): scheduler,
                             clusterCIDR, nodePortAddresses, masqueradeAll, ...
  -o, --output text|json     text (default): ipvsadm -Sn, ipset save,
                             iptables-restore, addresses; json: one document
                             with every list sorted

Exit status: 0 on success (problems in objects are printed as warnings),
1 if a file cannot be read or the configuration is invalid, 2 on bad usage.
`;

interface PlanArgs {
  files: string[];
  nodeName: string | undefined;
  nodeIPs: string[];
  config: string | undefined;
  output: 'text' | 'json';
}

function readArgs(args: readonly string[]): PlanArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        'hostname-override': { type: 'string' },
        'node-name': { type: 'string' },
        'node-ip': { type: 'string', multiple: true },
        config: { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const files = (values.filename as string[] | undefined) ?? [];
  if (files.length === 0) throw new UsageError('at least one -f <file|dir> is required');
  const output = (values.output as string | undefined) ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, not ${JSON.stringify(output)}`);
  const override = values['hostname-override'] as string | undefined;
  const nodeNameFlag = values['node-name'] as string | undefined;
  if (override !== undefined && nodeNameFlag !== undefined && override !== nodeNameFlag) {
    throw new UsageError('--hostname-override and --node-name name different nodes');
  }
  const nodeIPs = ((values['node-ip'] as string[] | undefined) ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  for (const ip of nodeIPs) if (!parseIp(ip)) throw new UsageError(`--node-ip ${JSON.stringify(ip)} is not an IP address`);
  return {
    files,
    // kube-proxy lower-cases and trims the hostname override.
    nodeName: (override ?? nodeNameFlag)?.trim().toLowerCase(),
    nodeIPs,
    config: values.config as string | undefined,
    output,
  };
}

/** The plan for already-loaded inputs: pure apart from nothing; exported for tests. */
export function computePlan(manifests: Manifests, opts: { nodeName?: string | undefined; nodeIPs?: readonly string[]; config?: ProxyConfig }, loadWarnings: readonly Warning[] = []): { text: string; json: string } {
  const config = opts.config ?? defaultProxyConfig;
  const warnings: Warning[] = [...loadWarnings];
  let nodeName = opts.nodeName || config.hostnameOverride;
  if (!nodeName) {
    const names = manifests.nodes.map((n) => n.metadata?.name).filter((n): n is string => typeof n === 'string' && n !== '');
    if (names.length === 1) nodeName = names[0]!;
    else warnings.push({ object: 'plan', field: '--node-name', message: names.length === 0 ? 'no node name and no Node object; no endpoint is local' : 'several Node objects; pass --node-name to choose one; no endpoint is local' });
  }
  const nodeObj = manifests.nodes.find((n) => n.metadata?.name === nodeName);
  const conv = nodeObj ? fromNode(nodeObj) : null;
  if (conv) warnings.push(...conv.warnings);
  const localAddresses = opts.nodeIPs && opts.nodeIPs.length > 0 ? opts.nodeIPs : undefined;
  const node = buildLocalNode({ name: nodeName ?? '', info: conv?.node ?? null, localAddresses, bindAddress: config.bindAddress });
  if (node.localAddresses.length === 0) {
    warnings.push({ object: 'plan', field: '--node-ip', message: 'no node IPs (no --node-ip and no Node addresses); NodePort virtual servers are left out' });
  }
  const snap = buildSnapshot(manifests.services, manifests.endpointSlices);
  warnings.push(...snap.warnings);
  const state = buildDesiredState(snap.snapshot, node, config);
  warnings.push(...state.warnings);
  const lines = [...new Set(warnings.map(formatWarning))];
  return { text: planText(state, lines), json: `${JSON.stringify(planJson(state, lines), null, 2)}\n` };
}

/** `plan`: desired kernel state from manifests, without a cluster or a kernel. */
export function planCommand(): Command {
  return {
    name: ['plan'],
    summary: 'print what would be programmed for given Services/EndpointSlices/Nodes (no cluster, no root)',
    usage,
    run(args, io) {
      const a = readArgs(args);
      let config = defaultProxyConfig;
      if (a.config !== undefined) {
        let text: string;
        try {
          text = readFileSync(a.config, 'utf8');
        } catch (err) {
          io.stderr.write(`ipvs-proxy plan: --config ${a.config}: ${(err as Error).message}\n`);
          return Promise.resolve(1);
        }
        const parsed = parseKubeProxyConfig(text);
        if (!parsed.ok) {
          io.stderr.write(parsed.errors.map((e) => `ipvs-proxy plan: --config ${a.config}: ${formatConfigError(e)}\n`).join(''));
          return Promise.resolve(1);
        }
        config = parsed.config;
      }
      let loaded: ReturnType<typeof loadManifests>;
      try {
        loaded = loadManifests(a.files);
      } catch (err) {
        io.stderr.write(`ipvs-proxy plan: ${(err as Error).message}\n`);
        return Promise.resolve(1);
      }
      const { manifests, warnings } = loaded;
      const plan = computePlan(manifests, { nodeName: a.nodeName, nodeIPs: a.nodeIPs, config }, warnings);
      io.stdout.write(a.output === 'json' ? plan.json : plan.text);
      return Promise.resolve(0);
    },
  };
}
