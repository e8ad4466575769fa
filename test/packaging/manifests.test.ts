// SPDX-License-Identifier: Apache-2.0
// The kustomize base (manifests/) and the kube-proxy migration overlay
// (deploy/migrate-from-kube-proxy/) render, grant least privilege, run the
// DaemonSet as the issue asks, and their command lines and KubeProxyConfiguration
// are accepted by the agent's configuration loader.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigLoadError, type LoadedConfig, loadProxyConfig } from '../../src/config/load.ts';
import { formatConfigError } from '../../src/config/types.ts';
import { type Container, type KubeObject, expandCommand, findObject, kustomize, podSpec, repoRoot } from './render.ts';

const renders = [
  { name: 'base (manifests/)', dir: 'manifests', nodeSelector: { 'kubernetes.io/os': 'linux' } },
  {
    name: 'migration overlay (deploy/migrate-from-kube-proxy/)', dir: 'deploy/migrate-from-kube-proxy',
    nodeSelector: { 'kubernetes.io/os': 'linux', 'ipvs-proxy.io/proxy': 'ipvs-proxy' },
  },
];
const rendered = new Map(renders.map((r) => [r.dir, kustomize(r.dir)]));
const objectsOf = (dir: string): KubeObject[] => rendered.get(dir)!;
const daemonSet = (dir: string): KubeObject => findObject(objectsOf(dir), 'DaemonSet', 'ipvs-proxy');

/** The files the pod sees: every ConfigMap volume's keys under its mount path. */
function podFiles(dir: string, c: Container): Map<string, string> {
  const spec = podSpec(daemonSet(dir));
  const files = new Map<string, string>();
  for (const m of c.volumeMounts ?? []) {
    const cmName = spec.volumes?.find((v) => v.name === m.name)?.configMap?.name;
    if (!cmName) continue;
    const data = (findObject(objectsOf(dir), 'ConfigMap', cmName) as unknown as { data: Record<string, string> }).data;
    for (const [key, text] of Object.entries(data)) files.set(join(m.mountPath, key), text);
  }
  return files;
}

/** Loads a container's command line (after `ipvs-proxy run`) as the agent would, on node `node-a`. */
function loadContainer(dir: string, c: Container): LoadedConfig {
  const argv = expandCommand(c, { NODE_NAME: 'node-a' });
  expect(argv.slice(0, 2)).toEqual(['/usr/local/bin/ipvs-proxy', 'run']);
  const files = podFiles(dir, c);
  try {
    return loadProxyConfig(argv.slice(2), (p) => {
      const text = files.get(p);
      if (text === undefined) throw new Error(`ENOENT: ${p} is not mounted in container ${c.name}`);
      return text;
    });
  } catch (err) {
    if (err instanceof ConfigLoadError) throw new Error(`${c.name}: ${err.errors.map(formatConfigError).join('; ')}`, { cause: err });
    throw err;
  }
}

const portOf = (hostPort: string): number => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));

describe.each(renders)('$name', ({ dir, nodeSelector }) => {
  const objects = objectsOf(dir);
  const spec = podSpec(daemonSet(dir));
  const main = spec.containers.find((c) => c.name === 'ipvs-proxy')!;
  const init = spec.initContainers?.find((c) => c.name === 'init');

  it('renders a ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap and DaemonSet, namespaced ones in kube-system', () => {
    const kinds = new Set(objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'ServiceAccount']);
    for (const o of objects.filter((x) => !x.kind.startsWith('Cluster'))) expect(`${o.kind}/${o.metadata.namespace}`).toBe(`${o.kind}/kube-system`);
  });

  it('grants exactly get/list/watch on Services, EndpointSlices and Nodes and create/patch on Events', () => {
    const role = findObject(objects, 'ClusterRole', 'ipvs-proxy') as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    const grants = role.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'}/${res}:${v}`)))).sort();
    expect(grants).toEqual([
      'core/events:create', 'core/events:patch',
      'core/nodes:get', 'core/nodes:list', 'core/nodes:watch',
      'core/services:get', 'core/services:list', 'core/services:watch',
      'discovery.k8s.io/endpointslices:get', 'discovery.k8s.io/endpointslices:list', 'discovery.k8s.io/endpointslices:watch',
      'events.k8s.io/events:create', 'events.k8s.io/events:patch',
    ]);
    const binding = findObject(objects, 'ClusterRoleBinding', 'ipvs-proxy') as unknown as { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] };
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'ipvs-proxy' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: spec.serviceAccountName, namespace: 'kube-system' }]);
    findObject(objects, 'ServiceAccount', spec.serviceAccountName ?? '');
  });

  it('runs on the host network of every node, node-critical, one node at a time', () => {
    expect(spec).toMatchObject({ hostNetwork: true, priorityClassName: 'system-node-critical', dnsPolicy: 'Default', nodeSelector });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect((daemonSet(dir) as unknown as { spec: { updateStrategy: unknown } }).spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  });

  it('gives the agent NET_ADMIN and NET_RAW only, on a read-only root filesystem', () => {
    expect(main.securityContext).toEqual({
      privileged: false, readOnlyRootFilesystem: true, runAsUser: 0, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    });
    // Only the run-once init container (kube-proxy's --init-only: sysctls) is privileged.
    expect(init?.securityContext).toEqual({ privileged: true });
  });

  it('takes NODE_NAME from the downward API and the API server address from ipvs-proxy-apiserver', () => {
    for (const c of [main, init!]) {
      expect(c.env).toEqual([
        { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'KUBERNETES_SERVICE_HOST', valueFrom: { configMapKeyRef: { name: 'ipvs-proxy-apiserver', key: 'host' } } },
        { name: 'KUBERNETES_SERVICE_PORT', valueFrom: { configMapKeyRef: { name: 'ipvs-proxy-apiserver', key: 'port' } } },
      ]);
    }
  });

  it('mounts /lib/modules read-only and the host xtables lock, both from the host', () => {
    const mount = (path: string) => {
      const m = main.volumeMounts?.find((v) => v.mountPath === path);
      return { readOnly: m?.readOnly ?? false, hostPath: spec.volumes?.find((v) => v.name === m?.name)?.hostPath };
    };
    expect(mount('/lib/modules')).toEqual({ readOnly: true, hostPath: { path: '/lib/modules', type: 'Directory' } });
    expect(mount('/run/xtables.lock')).toEqual({ readOnly: false, hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } });
  });

  it('probes /livez (liveness) and /healthz (readiness) on the port the configuration serves them', () => {
    const { config } = loadContainer(dir, main);
    const healthz = portOf(config.healthzBindAddress);
    expect(healthz).toBe(10256);
    expect(main.livenessProbe?.httpGet).toEqual({ path: '/livez', port: healthz });
    expect(main.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: healthz });
    expect(main.ports?.find((p) => p.name === 'healthz')?.containerPort).toBe(healthz);
  });

  it('has a command line and KubeProxyConfiguration the agent accepts: mode ipvs, in-cluster access, this node', () => {
    const loaded = loadContainer(dir, main);
    expect(loaded.config).toMatchObject({ mode: 'ipvs', hostnameOverride: 'node-a', clientConnection: { kubeconfig: '' } });
    expect(loaded.options).toMatchObject({ configFile: '/etc/ipvs-proxy/config.conf', initOnly: false, cleanup: false, master: '' });
    expect(loaded.warnings).toEqual([]);
    const file = podFiles(dir, main).get('/etc/ipvs-proxy/config.conf') ?? '';
    expect(parse(file)).toMatchObject({ kind: 'KubeProxyConfiguration', mode: 'ipvs' });
  });

  it('runs the init container with the same configuration and --init-only', () => {
    const loaded = loadContainer(dir, init!);
    expect(loaded.options).toMatchObject({ initOnly: true, configFile: '/etc/ipvs-proxy/config.conf' });
    expect(loaded.config).toEqual(loadContainer(dir, main).config);
    expect(init?.image).toBe(main.image);
  });
});

describe('base specifics', () => {
  it('uses the image npm run image builds, and its entrypoint as the command', () => {
    const main = podSpec(daemonSet('manifests')).containers[0]!;
    expect(main.image).toBe('localhost/ipvs-proxy:dev');
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(main.command);
  });

  it('exposes /metrics on the node (for the dashboard) from the configuration', () => {
    const main = podSpec(daemonSet('manifests')).containers[0]!;
    const { config } = loadContainer('manifests', main);
    expect(config.metricsBindAddress).toBe('0.0.0.0:10249');
    expect(main.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(portOf(config.metricsBindAddress));
  });
});

describe('migration overlay specifics', () => {
  const dir = 'deploy/migrate-from-kube-proxy';

  it('sets the API server address from apiserver.env', () => {
    const cm = findObject(objectsOf(dir), 'ConfigMap', 'ipvs-proxy-apiserver') as unknown as { data: Record<string, string> };
    expect(Object.keys(cm.data).sort()).toEqual(['host', 'port']);
    expect(Number(cm.data.port)).toBeGreaterThan(0);
  });

  it('keeps kube-proxy off exactly the nodes it hands to ipvs-proxy, and the states in between', () => {
    const patch = parse(readFileSync(join(repoRoot, dir, 'kube-proxy-node-affinity.yaml'), 'utf8')) as {
      spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: { key: string; operator: string; values: string[] }[] }[] } } } } } };
    };
    const terms = patch.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([{ matchExpressions: [{ key: 'ipvs-proxy.io/proxy', operator: 'NotIn', values: ['none', 'ipvs-proxy'] }] }]);
    expect(podSpec(daemonSet(dir)).nodeSelector?.['ipvs-proxy.io/proxy']).toBe('ipvs-proxy');
  });

  it('reads kubeadm\'s config.conf: every kubeadm-written field is accepted without warnings', () => {
    const main = podSpec(daemonSet(dir)).containers[0]!;
    const text = podFiles(dir, main).get('/etc/ipvs-proxy/config.conf') ?? '';
    expect(text).toContain('winkernel:'); // the whole kubeadm file, not the base's short one
    expect(loadContainer(dir, main).warnings).toEqual([]);
  });
});
