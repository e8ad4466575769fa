// `ipvs-proxy apply --once` on a real kernel: the kernel ends up holding exactly
// what `plan` prints, a second apply writes nothing, a one-endpoint change
// writes just that, tampering is repaired and counted, packets take every
// Service path, and `cleanup` removes every trace.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { service, slice, node } from '../src/model/builders.ts';
import { readHostAddresses } from '../src/netif/host-addresses.ts';
import { cli, expectKernelEqualsPlan as kernelStateEqualsPlan } from './kernel-state.ts';
import { loadManifests } from '../src/cli/manifest-files.ts';
import { defaultProxyConfig } from '../src/config/types.ts';
import { ClusterState } from '../src/model/cluster-state.ts';
import { buildLocalNode } from '../src/model/node.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { SyncEngine } from '../src/sync/engine.ts';
import { hostFamilies, openKernel } from '../src/sync/kernel.ts';
import { run, CommandError } from '../src/sandbox/exec.ts';
import { type ExternalHost, Lab, type Pod } from '../src/sandbox/lab.ts';

const nodeName = 'sandbox';

let lab: Lab;
let pods: Pod[];
let ext: ExternalHost[];
let dir: string;

interface Summary { writes: number; ops: Record<string, number>; ok: boolean; durationMs: number }

async function apply(): Promise<Summary> {
  const out = await run(cli, ['apply', '--once', '-f', dir, '--hostname-override', nodeName], { timeoutMs: 120_000 });
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Summary;
}

/** Writes the manifests: services and slices (with `backends` for the web Service). */
function writeManifests(webBackends: Pod[]): void {
  const [p1, p2] = [pods[0]!, pods[1]!];
  const ep = (p: Pod) => ({ ip: p.ip, node: nodeName, ready: true });
  const objects = [
    node(nodeName, { addresses: [ext[0]!.nodeIp] }),
    service('default/web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }),
    slice('default/web', { ports: [{ name: 'http', port: 8080 }], endpoints: webBackends.map(ep) }),
    service('default/solo', { clusterIP: '10.96.0.11', ports: [{ name: 'http', port: 80 }] }),
    slice('default/solo', { ports: [{ name: 'http', port: 8080 }], endpoints: [ep(p1)] }),
    service('default/dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    slice('default/dns', { ports: [{ name: 'dns', port: 8080, protocol: 'UDP' }], endpoints: [ep(p1), ep(p2)] }),
    service('default/sticky', { clusterIP: '10.96.0.12', affinity: 300, ports: [{ name: 'http', port: 80 }] }),
    slice('default/sticky', { ports: [{ name: 'http', port: 8080 }], endpoints: [ep(p1), ep(p2)] }),
    service('default/np', { type: 'NodePort', clusterIP: '10.96.0.13', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
    slice('default/np', { ports: [{ name: 'http', port: 8080 }], endpoints: [ep(p2)] }),
    service('default/local', { type: 'NodePort', clusterIP: '10.96.0.14', etp: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30081 }] }),
    slice('default/local', { ports: [{ name: 'http', port: 8080 }], endpoints: [ep(p2)] }),
    service('default/lb', {
      type: 'LoadBalancer', clusterIP: '10.96.0.15', lbIPs: ['203.0.113.10'], sourceRanges: [`${ext[0]!.ip}/32`],
      ports: [{ name: 'http', port: 80, nodePort: 30082 }],
    }),
    slice('default/lb', { ports: [{ name: 'http', port: 8080 }], endpoints: [ep(p1)] }),
  ];
  writeFileSync(join(dir, 'objects.yaml'), objects.map((o) => stringify(o)).join('---\n'));
}

async function expectKernelEqualsPlan(): Promise<void> {
  await kernelStateEqualsPlan(dir, nodeName);
}

beforeAll(async () => {
  dir = mkdtempSync('/tmp/apply-');
  lab = await Lab.create({ prefix: 'ap' });
  pods = await Promise.all([lab.addPod('pod1'), lab.addPod('pod2')]);
  ext = [await lab.addExternal('ext1'), await lab.addExternal('ext2')];
  writeManifests([pods[0]!]);
}, 120_000);

afterAll(async () => {
  await run(cli, ['cleanup'], { timeoutMs: 120_000 }).catch(() => undefined);
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('apply --once', () => {
  it('programs exactly what plan prints, and a second apply writes nothing', async () => {
    const first = await apply();
    expect(first.ok).toBe(true);
    expect(first.ops.ipvs).toBeGreaterThan(0);
    expect(first.ops.ipset).toBeGreaterThan(0);
    await expectKernelEqualsPlan();
    const second = await apply();
    expect(second).toMatchObject({ writes: 0, ok: true });
  }, 240_000);

  it('writes only what one endpoint change needs', async () => {
    writeManifests([pods[0]!, pods[1]!]);
    const r = await apply();
    // The web ClusterIP virtual server gains one real server. Its KUBE-LOOP-BACK entry
    // (pod2:8080/tcp) is already there for other Services, and nothing else changes.
    expect(r.ops).toEqual({ ipvs: 1, ipset: 0, iptables: 0, netif: 0 });
    await expectKernelEqualsPlan();
  }, 240_000);

  it('repairs tampering on the next full sync of a running agent, and counts it per subsystem', async () => {
    // The agent's own code path (as `apply` and `run` wire it), kept alive across two full syncs.
    const logger = silentLogger();
    const families = hostFamilies();
    const kernel = await openKernel({ config: defaultProxyConfig, families, logger });
    try {
      const node = buildLocalNode({ name: nodeName, localAddresses: await readHostAddresses(), ipFamilies: families });
      const state = new ClusterState();
      const { manifests } = loadManifests([dir]);
      for (const o of manifests.services) state.upsertService(o);
      for (const o of manifests.endpointSlices) state.upsertSlice(o);
      const engine = new SyncEngine({ state, node, config: defaultProxyConfig, stages: kernel.stages, logger });
      const converged = await engine.sync('full');
      expect(converged.ok).toBe(true);
      expect(converged.results.map((r) => r.writes)).toEqual([0, 0, 0, 0]);

      await run('ipvsadm', ['-D', '-t', '10.96.0.11:80']);
      await run('ipvsadm', ['-a', '-t', '10.96.0.10:80', '-r', '10.244.0.99:8080', '-m']);
      await run('ipset', ['del', 'KUBE-CLUSTER-IP', '10.96.0.53,udp:53']);
      await run('iptables-legacy', ['-t', 'nat', '-F', 'KUBE-SERVICES']);
      await run('ip', ['addr', 'del', '10.96.0.12/32', 'dev', 'kube-ipvs0']);
      const repaired = await engine.sync('full');
      expect(repaired.ok).toBe(true);
      expect(Object.fromEntries(repaired.results.map((r) => [r.subsystem, r.repaired]))).toEqual({
        ipset: 1, iptables: 1, netif: 1,
        ipvs: 3, // the deleted virtual server, its real server, the stray real server
      });
      await expectKernelEqualsPlan();
      expect((await engine.sync('full')).results.map((r) => r.writes)).toEqual([0, 0, 0, 0]);
    } finally {
      kernel.close();
    }
  }, 240_000);
});

describe('packets through the programmed node', () => {
  const answers = (rs: { ok: boolean; answer?: string; error?: string }[]): string[] => rs.map((r) => (r.ok ? r.answer! : `error ${r.error}`));

  it('ClusterIP from the node alternates between the pods', async () => {
    const r = await lab.request({ node: true }, { proto: 'tcp', host: '10.96.0.10', port: 80, count: 4, timeoutMs: 3000 });
    expect([...answers(r)].sort()).toEqual(["I'm pod1", "I'm pod1", "I'm pod2", "I'm pod2"]);
  });

  it('ClusterIP from a pod reaches the other pod with the pod source kept', async () => {
    const r = await lab.request({ pod: pods[1]! }, { proto: 'tcp', host: '10.96.0.11', port: 80, count: 1, timeoutMs: 3000, message: '?client' });
    expect(answers(r)[0]).toMatch(new RegExp(`^I'm pod1; client ${pods[1]!.ip.replace(/\./g, '\\.')}:\\d+$`));
  });

  it('hairpin: a pod reaches itself through its Service', async () => {
    const r = await lab.request({ pod: pods[0]! }, { proto: 'tcp', host: '10.96.0.11', port: 80, count: 2, timeoutMs: 3000 });
    expect(answers(r)).toEqual(["I'm pod1", "I'm pod1"]);
  });

  it('UDP Service answers', async () => {
    const r = await lab.request({ node: true }, { proto: 'udp', host: '10.96.0.53', port: 53, count: 4, timeoutMs: 3000 });
    expect([...answers(r)].sort()).toEqual(["I'm pod1", "I'm pod1", "I'm pod2", "I'm pod2"]);
  });

  it('session affinity sticks to one pod', async () => {
    const r = answers(await lab.request({ node: true }, { proto: 'tcp', host: '10.96.0.12', port: 80, count: 4, timeoutMs: 3000 }));
    expect(new Set(r).size).toBe(1);
    expect(r[0]).toMatch(/^I'm pod[12]$/);
  });

  it('NodePort from an external host, masqueraded (externalTrafficPolicy Cluster)', async () => {
    const r = await lab.request({ external: ext[0]! }, { proto: 'tcp', host: ext[0]!.nodeIp, port: 30080, count: 1, timeoutMs: 3000, message: '?client' });
    expect(answers(r)[0]).toMatch(/^I'm pod2; client 10\.244\.0\.1:\d+$/);
  });

  it('externalTrafficPolicy Local keeps the client source IP', async () => {
    const r = await lab.request({ external: ext[0]! }, { proto: 'tcp', host: ext[0]!.nodeIp, port: 30081, count: 1, timeoutMs: 3000, message: '?client' });
    expect(answers(r)[0]).toMatch(new RegExp(`^I'm pod2; client ${ext[0]!.ip.replace(/\./g, '\\.')}:\\d+$`));
  });

  it('loadBalancerSourceRanges admit an allowed source and drop another', async () => {
    const allowed = await lab.request({ external: ext[0]! }, { proto: 'tcp', host: '203.0.113.10', port: 80, count: 1, timeoutMs: 3000 });
    expect(answers(allowed)).toEqual(["I'm pod1"]);
    await run('ip', ['netns', 'exec', ext[1]!.netns, 'ip', 'route', 'replace', '203.0.113.10/32', 'via', ext[1]!.nodeIp]);
    const denied = await lab.request({ external: ext[1]! }, { proto: 'tcp', host: '203.0.113.10', port: 80, count: 1, timeoutMs: 2000 });
    expect(denied[0]?.ok).toBe(false);
  });
});

describe('cleanup', () => {
  it('removes every trace', async () => {
    await run(cli, ['cleanup'], { timeoutMs: 120_000 });
    expect((await run('ipvsadm', ['-Sn'])).trim()).toBe('');
    expect((await run('ipset', ['list', '-n'])).split('\n').filter((n) => n.startsWith('KUBE-'))).toEqual([]);
    expect(await run('iptables-legacy-save', [])).not.toMatch(/KUBE-/);
    await expect(run('ip', ['link', 'show', 'kube-ipvs0'])).rejects.toBeInstanceOf(CommandError);
  }, 240_000);
});
