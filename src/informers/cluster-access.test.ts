import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevApiServer } from '../apiserver/server.ts';
import { ClusterAccessError, loadClusterAccess } from './cluster-access.ts';

let server: DevApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  server = await DevApiServer.create();
  await server.start();
  server.load([{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } }]);
  dir = mkdtempSync(join(tmpdir(), 'cluster-access-'));
  kubeconfig = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function nodeNames(kc: k8s.KubeConfig): Promise<string[]> {
  const list = await kc.makeApiClient(k8s.CoreV1Api).listNode();
  return list.items.map((n) => n.metadata?.name ?? '');
}

describe('loadClusterAccess', () => {
  it('reads a kubeconfig (server, CA, token) that reaches the server', async () => {
    const kc = loadClusterAccess({ kubeconfig });
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
    expect(await nodeNames(kc)).toEqual(['node-a']);
  });

  it('lets --master replace the kubeconfig server', () => {
    const kc = loadClusterAccess({ kubeconfig, master: 'https://10.0.0.1:6443' });
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(kc.getCurrentUser()?.token).toBe(server.token);
  });

  it('builds a cluster from --master alone', () => {
    expect(loadClusterAccess({ master: 'http://127.0.0.1:8080/' }).getCurrentCluster()).toMatchObject({ server: 'http://127.0.0.1:8080', skipTLSVerify: true });
  });

  it('uses the in-cluster service account: CA and token files', async () => {
    const root = join(dir, 'pod');
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'ca.crt'), server.tls.caCert);
    // Projected tokens have no trailing newline; client-node sends the file as is.
    writeFileSync(join(sa, 'token'), server.token);
    writeFileSync(join(sa, 'namespace'), 'kube-system');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = String(server.port);
    try {
      const kc = loadClusterAccess({ inClusterRoot: root });
      expect((kc.getCurrentUser()?.authProvider as { config?: { tokenFile?: string } } | undefined)?.config?.tokenFile).toBe(join(sa, 'token'));
      expect(await nodeNames(kc)).toEqual(['node-a']);
    } finally {
      for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
        if (v === undefined) delete process.env[k]; else process.env[k] = v;
      }
    }
  });

  it.each([
    { name: 'a missing kubeconfig', opts: { kubeconfig: '/nonexistent/kubeconfig' }, message: /cannot read kubeconfig/ },
    { name: 'a master that is not a URL', opts: { master: 'not a url' }, message: /is not a URL/ },
    { name: 'a master with another scheme', opts: { master: 'ftp://x' }, message: /http or https/ },
  ])('explains $name', ({ opts, message }) => {
    expect(() => loadClusterAccess(opts)).toThrow(ClusterAccessError);
    expect(() => loadClusterAccess(opts)).toThrow(message);
  });

  it('explains that nothing is configured outside a pod', () => {
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      expect(() => loadClusterAccess({})).toThrow(/pass --kubeconfig or --master/);
    } finally {
      if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    }
  });
});
