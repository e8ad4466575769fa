// The agent end to end: `ipvs-proxy run` against the local API server, with pods
// answering for real. Services appear, scale and go; watch streams close, expire
// (410) and the API server restarts; the agent itself restarts — and requests to
// a Service that did not change never fail, because nothing is ever flushed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { DevApiServer } from '../src/apiserver/server.ts';
import { call } from '../src/apiserver/testing.ts';
import { node, service, slice } from '../src/model/builders.ts';
import { type CommandError, run } from '../src/sandbox/exec.ts';
import { Lab, type Pod } from '../src/sandbox/lab.ts';
import { sendRequests } from '../src/sandbox/requests.ts';
import { cli, expectKernelEqualsPlan } from './kernel-state.ts';

const nodeName = 'sandbox';
let lab: Lab;
let pods: Pod[];
let server: DevApiServer;
let dir: string;
let agent: ChildProcess | null = null;
let agentLog = '';

function startAgent(): void {
  agent = spawn(cli, ['run', '--kubeconfig', join(dir, 'kubeconfig'), '--hostname-override', nodeName,
    '--metrics-bind-address', '127.0.0.1:10249', '--healthz-bind-address', '127.0.0.1:10256',
    '--ipvs-sync-period', '5m', '--drain-check-period', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout?.on('data', (c: Buffer) => { agentLog += c.toString(); });
  agent.stderr?.on('data', (c: Buffer) => { agentLog += c.toString(); });
}

async function stopAgent(): Promise<number | null> {
  const a = agent;
  if (!a || a.exitCode !== null) return a?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => a.once('exit', (code) => r(code)));
  a.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(20_000).then(() => { a.kill('SIGKILL'); return -1; })]);
  agent = null;
  return code;
}

/** Polls `check` every 200 ms until it returns true; false after `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return true;
    await sleep(200);
  }
  return false;
}

async function realServers(vip: string): Promise<string[]> {
  const out = await run('ipvsadm', ['-Ln', '-t', `${vip}:80`]).catch(() => '');
  return [...out.matchAll(/-> (\d+\.\d+\.\d+\.\d+):\d+/g)].map((m) => m[1]!).sort();
}

const ep = (p: Pod) => ({ ip: p.ip, node: nodeName, ready: true });

async function put(obj: { metadata?: { namespace?: string; name?: string } }, kind: 'services' | 'endpointslices'): Promise<void> {
  const base = kind === 'services' ? '/api/v1' : '/apis/discovery.k8s.io/v1';
  const ns = obj.metadata?.namespace ?? 'default';
  const existing = await call(server, 'GET', `${base}/namespaces/${ns}/${kind}/${obj.metadata?.name ?? ''}`);
  const current = existing.body as { metadata?: { resourceVersion?: string } };
  const r = existing.status === 200
    ? await call(server, 'PUT', `${base}/namespaces/${ns}/${kind}/${obj.metadata?.name ?? ''}`, { ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } })
    : await call(server, 'POST', `${base}/namespaces/${ns}/${kind}`, obj);
  expect([200, 201]).toContain(r.status);
}

/** Writes what the API server holds to a file, for plan. */
async function snapshotToFiles(): Promise<string> {
  const out = join(dir, 'snapshot');
  rmSync(out, { recursive: true, force: true });
  const svcs = ((await call(server, 'GET', '/api/v1/services')).body as { items: unknown[] }).items;
  const slices = ((await call(server, 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).body as { items: unknown[] }).items;
  const { mkdirSync } = await import('node:fs');
  mkdirSync(out);
  writeFileSync(join(out, 'objects.yaml'), [...svcs.map((o) => ({ apiVersion: 'v1', kind: 'Service', ...(o as object) })),
    ...slices.map((o) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', ...(o as object) }))].map((o) => stringify(o)).join('---\n'));
  return out;
}

/** Continuous requests to the stable Service while `during` runs; returns the failures. */
async function underLoad(during: () => Promise<void>): Promise<{ sent: number; failed: string[] }> {
  let stop = false;
  const failed: string[] = [];
  let sent = 0;
  const loop = (async () => {
    for (let i = 0; i < 5000 && !stop; i++) {
      const [r] = await sendRequests({ proto: 'tcp', host: '10.96.0.50', port: 80, count: 1, timeoutMs: 2000 });
      sent++;
      if (!r?.ok) failed.push(r?.error ?? '?');
      else if (r.answer !== "I'm pod3") failed.push(r.answer);
      await sleep(25);
    }
  })();
  try {
    await during();
  } finally {
    stop = true;
    await loop;
  }
  return { sent, failed };
}

beforeAll(async () => {
  dir = mkdtempSync('/tmp/agent-');
  lab = await Lab.create({ prefix: 'ag' });
  pods = await Promise.all([lab.addPod('pod1'), lab.addPod('pod2'), lab.addPod('pod3')]);
  server = await DevApiServer.create({ host: '127.0.0.1', port: 0 });
  await server.start();
  await server.writeKubeconfig(join(dir, 'kubeconfig'));
  // A node always has its Node object; /healthz judges the node's eligibility from it.
  expect((await call(server, 'POST', '/api/v1/nodes', node(nodeName, { addresses: ['10.244.0.1'] }))).status).toBe(201);
  await put(service('default/stable', { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80 }] }), 'services');
  await put(slice('default/stable', { name: 'stable-1', ports: [{ name: 'http', port: 8080 }], endpoints: [ep(pods[2]!)] }), 'endpointslices');
  startAgent();
  expect(await eventually(async () => (await realServers('10.96.0.50')).length === 1)).toBe(true);
}, 120_000);

afterAll(async () => {
  await stopAgent();
  await run(cli, ['cleanup'], { timeoutMs: 120_000 }).catch(() => undefined);
  await server?.stop();
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('ipvs-proxy run against the local API server', () => {
  it('serves a new Service, follows its endpoints, removes it when deleted', async () => {
    await put(service('default/web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }), 'services');
    await put(slice('default/web', { name: 'web-1', ports: [{ name: 'http', port: 8080 }], endpoints: [ep(pods[0]!), ep(pods[1]!)] }), 'endpointslices');
    expect(await eventually(async () => (await realServers('10.96.0.10')).length === 2)).toBe(true);
    const answers = await sendRequests({ proto: 'tcp', host: '10.96.0.10', port: 80, count: 4, timeoutMs: 3000 });
    expect(answers.map((r) => (r.ok ? r.answer : r.error)).sort()).toEqual(["I'm pod1", "I'm pod1", "I'm pod2", "I'm pod2"]);

    await put(slice('default/web', { name: 'web-1', ports: [{ name: 'http', port: 8080 }], endpoints: [ep(pods[0]!), ep(pods[1]!), ep(pods[2]!)] }), 'endpointslices');
    expect(await eventually(async () => (await realServers('10.96.0.10')).length === 3)).toBe(true);
    await expectKernelEqualsPlan(await snapshotToFiles(), nodeName);

    expect((await call(server, 'DELETE', '/api/v1/namespaces/default/services/web')).status).toBe(200);
    expect(await eventually(async () => (await realServers('10.96.0.10')).length === 0 && !(await run('ipvsadm', ['-Sn'])).includes('10.96.0.10'))).toBe(true);
  }, 120_000);

  it('exposes kube-proxy metrics that move, and healthy probes', async () => {
    const metrics = await (await fetch('http://127.0.0.1:10249/metrics')).text();
    expect(metrics).toMatch(/^kubeproxy_sync_proxy_rules_duration_seconds_count\{[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^kubeproxy_sync_proxy_rules_endpoint_changes_total(\{[^}]*\})? [1-9]/m);
    expect(metrics).toMatch(/^kubeproxy_sync_proxy_rules_last_timestamp_seconds/m);
    expect(await (await fetch('http://127.0.0.1:10249/proxyMode')).text()).toBe('ipvs');
    const healthz = await fetch('http://127.0.0.1:10256/healthz');
    expect(healthz.status).toBe(200);
    expect((await healthz.json() as { healthy: boolean }).healthy).toBe(true);
  }, 60_000);

  it('serves a health-check node port for externalTrafficPolicy Local with the local endpoint count', async () => {
    await put(service('default/lbl', {
      type: 'LoadBalancer', clusterIP: '10.96.0.30', etp: 'Local', healthCheckNodePort: 32100,
      ports: [{ name: 'http', port: 80, nodePort: 30300 }],
    }), 'services');
    await put(slice('default/lbl', { name: 'lbl-1', ports: [{ name: 'http', port: 8080 }], endpoints: [ep(pods[0]!), ep(pods[1]!)] }), 'endpointslices');
    const probe = async (): Promise<{ status: number; weight: string | null; body: { localEndpoints?: number } }> => {
      const r = await fetch('http://127.0.0.1:32100/');
      return { status: r.status, weight: r.headers.get('x-load-balancing-endpoint-weight'), body: await r.json() as { localEndpoints?: number } };
    };
    expect(await eventually(async () => (await probe()).body.localEndpoints === 2)).toBe(true);
    expect(await probe()).toMatchObject({ status: 200, weight: '2' });
    await put(slice('default/lbl', { name: 'lbl-1', ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: pods[0]!.ip, node: 'elsewhere', ready: true }] }), 'endpointslices');
    expect(await eventually(async () => (await probe()).status === 503)).toBe(true);
    expect((await probe()).body.localEndpoints).toBe(0);
    expect((await call(server, 'DELETE', '/api/v1/namespaces/default/services/lbl')).status).toBe(200);
    expect(await eventually(async () => fetch('http://127.0.0.1:32100/').then(() => false, () => true))).toBe(true);
  }, 90_000);

  it('explains a Service: desired vs kernel, and the difference after tampering', async () => {
    const ok = await run(cli, ['explain', 'default/stable']);
    expect(ok).toContain('differences: none (the kernel matches)');
    expect(ok).toContain(`-> ${pods[2]!.ip}:8080 masq weight 1`);
    await run('ipvsadm', ['-d', '-t', '10.96.0.50:80', '-r', `${pods[2]!.ip}:8080`]);
    const drifted = await run(cli, ['explain', 'default/stable']).then(() => 'exit 0', (err: CommandError) => err.stdout);
    expect(drifted).toContain(`real server ${pods[2]!.ip}:8080 missing`);
    // Put it back as the agent's next full sync would (the test runs it with a 5 minute syncPeriod, so no sync races this check).
    await run('ipvsadm', ['-a', '-t', '10.96.0.50:80', '-r', `${pods[2]!.ip}:8080`, '-m', '-w', '1']);
  }, 60_000);

  it('rides out closed streams, expired watches and an API server restart without flushing', async () => {
    const load = await underLoad(async () => {
      server.closeWatches();
      await put(slice('default/stable', { name: 'stable-2', ports: [{ name: 'http', port: 8080 }], endpoints: [] }), 'endpointslices');
      server.expireWatches();
      await put(service('default/after410', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] }), 'services');
      await put(slice('default/after410', { name: 'after410-1', ports: [{ name: 'http', port: 8080 }], endpoints: [ep(pods[0]!)] }), 'endpointslices');
      expect(await eventually(async () => (await realServers('10.96.0.20')).length === 1)).toBe(true);
      await server.stop();
      await sleep(3000);
      await server.start();
      await put(slice('default/after410', { name: 'after410-1', ports: [{ name: 'http', port: 8080 }], endpoints: [ep(pods[0]!), ep(pods[1]!)] }), 'endpointslices');
      expect(await eventually(async () => (await realServers('10.96.0.20')).length === 2, 60_000)).toBe(true);
    });
    expect(load.sent).toBeGreaterThan(20);
    expect(load.failed).toEqual([]);
    await expectKernelEqualsPlan(await snapshotToFiles(), nodeName);
  }, 180_000);

  it('restarts under continuous requests with zero failures', async () => {
    const load = await underLoad(async () => {
      expect(await stopAgent()).toBe(0);
      await sleep(1000);
      startAgent();
      expect(await eventually(async () => (await fetch('http://127.0.0.1:10256/healthz')).status === 200)).toBe(true);
      await sleep(2000);
    });
    expect(load.sent).toBeGreaterThan(20);
    expect(load.failed).toEqual([]);
    expect(agentLog).not.toMatch(/"level":"error"/);
  }, 180_000);
});
