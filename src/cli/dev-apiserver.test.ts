import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse, stringify } from 'yaml';
import { devApiserverCommand, parseListen } from './dev-apiserver.ts';
import { main } from './main.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dev-apiserver-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Kubeconfig { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] }

function get(kc: Kubeconfig, path: string): Promise<{ status: number; body: { items?: { metadata: { name: string } }[] } }> {
  const c = kc.clusters[0]!.cluster;
  return new Promise((resolve, reject) => {
    request(`${c.server}${path}`, {
      ca: Buffer.from(c['certificate-authority-data'], 'base64').toString(), agent: false, timeout: 3000,
      headers: { authorization: `Bearer ${kc.users[0]!.user.token}` },
    }, (res) => {
      let t = '';
      res.on('data', (d: Buffer) => { t += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(t) as never }));
    }).on('error', reject).end();
  });
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ipvs-proxy dev-apiserver', () => {
  it('loads files, writes a working kubeconfig, prints ready, and exits 0 on shutdown', async () => {
    const manifests = join(dir, 'objs.yaml');
    writeFileSync(manifests, [
      stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', resourceVersion: '77', uid: 'old' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] } }),
      stringify({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.11'] }] }),
      stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ignored' } }),
    ].join('---\n'));
    const out = join(dir, 'kubeconfig');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let text = '';
    stdout.on('data', (c: Buffer) => { text += c.toString(); });
    let shutdown = (): void => {};
    const stopped = new Promise<void>((r) => { shutdown = r; });
    const running = main(['dev-apiserver', '--listen', '127.0.0.1:0', '--kubeconfig-out', out, '-f', manifests], { stdout, stderr }, [devApiserverCommand(() => stopped)]);
    await until(() => text.includes('\n'), 5000);
    expect(text).toMatch(/^ready https:\/\/127\.0\.0\.1:\d+\n$/);
    const kc = parse(readFileSync(out, 'utf8')) as Kubeconfig;
    expect(kc.clusters[0]!.cluster.server).toBe(text.trim().split(' ')[1]);
    const svcs = await get(kc, '/api/v1/services');
    expect(svcs.body.items?.map((i) => i.metadata.name)).toEqual(['web']);
    expect((await get(kc, '/apis/discovery.k8s.io/v1/endpointslices')).body.items).toHaveLength(1);
    shutdown();
    expect(await running).toBe(0);
  });

  it.each([
    { name: 'missing --kubeconfig-out', args: ['--listen', '127.0.0.1:0'] },
    { name: 'a bad --listen', args: ['--kubeconfig-out', '/tmp/x', '--listen', 'nowhere'] },
  ])('exits 2 for $name', async ({ args }) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    expect(await main(['dev-apiserver', ...args], { stdout, stderr }, [devApiserverCommand(() => Promise.resolve())])).toBe(2);
  });

  it('parses IPv4 and bracketed IPv6 listen addresses', () => {
    expect(parseListen('127.0.0.1:6443')).toEqual({ host: '127.0.0.1', port: 6443 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });
});
