import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { findResourceByKind } from '../apiserver/resources.ts';
import { DevApiServer } from '../apiserver/server.ts';
import { loadClusterAccess } from '../informers/cluster-access.ts';
import { defaultProxyConfig } from '../config/types.ts';
import { node, service, slice } from '../model/builders.ts';
import { createLogger } from '../observability/logger.ts';
import { run } from '../sandbox/exec.ts';
import { Lab, type Pod } from '../sandbox/lab.ts';
import { sendRequests } from '../sandbox/requests.ts';
import { Agent } from '../sync/agent.ts';
import type { Command, CliIo } from './command.ts';

const usage = `Usage: ipvs-proxy demo

The one-command tour, with no cluster, no Docker and no root on your real
network: inside a throwaway Linux kernel (user-mode Linux, booted by
scripts/sandbox.sh) it starts a local Kubernetes API server, two "whoami" pods,
a Service with its EndpointSlice and the ipvs-proxy agent; prints the IPVS
table, sends four requests to the Service's ClusterIP (answered round-robin),
scales the Service to three endpoints and shows the new real server appear.
Needs the Debian packages the sandbox installs (run as root the first time).
`;

const vip = '10.96.0.10';
const nodeName = 'sandbox';

/** Re-runs `ipvs-proxy demo` inside the kernel sandbox; resolves to its exit status. */
function inSandbox(io: CliIo): Promise<number> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn('sh', [join(root, 'scripts/sandbox.sh'), join(root, 'bin/ipvs-proxy'), 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => io.stdout.write(c));
    child.stderr.on('data', (c: Buffer) => io.stderr.write(c));
    child.on('exit', (code) => resolve(code ?? 1));
    child.on('error', (err) => { io.stderr.write(`ipvs-proxy demo: cannot start the sandbox: ${err.message}\n`); resolve(1); });
  });
}

async function realServers(): Promise<number> {
  const out = await run('ipvsadm', ['-Ln', '-t', `${vip}:80`]).catch(() => '');
  return (out.match(/->\s+\d/g) ?? []).length;
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

/** The demo itself, inside the sandbox. */
async function demo(io: CliIo): Promise<number> {
  const say = (text: string): void => { io.stdout.write(`${text}\n`); };
  const dir = mkdtempSync('/tmp/ipvs-proxy-demo-');
  const logger = createLogger({ destination: io.stderr, level: 'warn' });
  let lab: Lab | undefined;
  let server: DevApiServer | undefined;
  let agent: Agent | undefined;
  try {
    say('==> Starting a local Kubernetes API server (in memory, HTTPS, on 127.0.0.1)');
    server = await DevApiServer.create({ host: '127.0.0.1', port: 0 });
    await server.start();
    await server.writeKubeconfig(join(dir, 'kubeconfig'));

    say('==> Starting two pods, each a network namespace running a whoami server ("I\'m <pod>")');
    lab = await Lab.create({ prefix: 'demo' });
    const pods: Pod[] = await Promise.all([lab.addPod('pod1'), lab.addPod('pod2')]);
    for (const p of pods) say(`    ${p.name}  ${p.ip}:${p.port}`);

    say(`==> Creating Service "whoami" (ClusterIP ${vip}:80 -> port 8080) and its EndpointSlice`);
    const ep = (p: Pod) => ({ ip: p.ip, node: nodeName, ready: true });
    server.load([
      node(nodeName, { addresses: [lab.gateway] }),
      service('default/whoami', { clusterIP: vip, ports: [{ name: 'http', port: 80 }] }),
      slice('default/whoami', { name: 'whoami-1', ports: [{ name: 'http', port: 8080 }], endpoints: pods.map(ep) }),
    ]);

    say('==> Starting the ipvs-proxy agent');
    agent = await Agent.start({
      config: { ...defaultProxyConfig, hostnameOverride: nodeName },
      kubeConfig: loadClusterAccess({ kubeconfig: join(dir, 'kubeconfig') }),
      nodeName, logger,
    });
    if (!(await waitFor(async () => (await realServers()) === 2, 30_000))) throw new Error('the agent did not program the Service in 30 s');

    say('\n$ ipvsadm -Ln');
    io.stdout.write(await run('ipvsadm', ['-Ln']));

    say(`\n==> Four requests to http://${vip}/ (round-robin between the pods)`);
    for (let i = 0; i < 4; i++) {
      const [r] = await sendRequests({ proto: 'tcp', host: vip, port: 80, count: 1, timeoutMs: 3000 });
      say(`    ${r?.ok ? r.answer : `failed: ${r?.error ?? '?'}`}`);
    }

    say('\n==> Scaling "whoami" to three endpoints');
    const pod3 = await lab.addPod('pod3');
    say(`    ${pod3.name}  ${pod3.ip}:${pod3.port}`);
    const sliceResource = findResourceByKind('discovery.k8s.io/v1', 'EndpointSlice')!;
    const current = server.registry.get(sliceResource, 'default', 'whoami-1');
    const scaled = slice('default/whoami', { name: 'whoami-1', ports: [{ name: 'http', port: 8080 }], endpoints: [...pods, pod3].map(ep) });
    server.registry.update(sliceResource, 'default', 'whoami-1', JSON.parse(JSON.stringify({ ...scaled, metadata: { ...scaled.metadata, resourceVersion: current.metadata.resourceVersion } })) as never);
    if (!(await waitFor(async () => (await realServers()) === 3, 30_000))) throw new Error('the third real server did not appear in 30 s');
    say('\n$ ipvsadm -Ln');
    io.stdout.write(await run('ipvsadm', ['-Ln']));
    say('\nDone: the new real server appeared as soon as its endpoint did.');
    return 0;
  } catch (err) {
    io.stderr.write(`ipvs-proxy demo: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await agent?.stop();
    await server?.stop();
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `demo`: the built-in tour (what `npm start` runs without a cluster). */
export function demoCommand(): Command {
  return {
    name: ['demo'],
    summary: 'one-command tour in a throwaway kernel: API server, two pods, a Service, the agent, requests',
    usage,
    run(_args, io) {
      return process.env.IPVS_PROXY_SANDBOX ? demo(io) : inSandbox(io);
    },
  };
}
