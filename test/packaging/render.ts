// SPDX-License-Identifier: Apache-2.0
// Helpers for the packaging tests: render a kustomization with `kubectl kustomize`
// and read the rendered objects as plain data, and expand a container's command
// line the way the kubelet does.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The repository root. */
export const repoRoot = join(import.meta.dirname, '..', '..');

/** A rendered Kubernetes object, as untyped data. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/**
 * Renders `dir` (relative to the repository) with `kubectl kustomize` and parses
 * every document. Throws with kubectl's message when it refuses the
 * kustomization, or when kubectl is missing (install kubectl).
 */
export function kustomize(dir: string): KubeObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(repoRoot, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return parseAllDocuments(out).map((d) => {
    if (d.errors.length > 0) throw new Error(`kubectl kustomize ${dir} printed invalid YAML: ${d.errors[0]?.message}`);
    return d.toJS() as KubeObject;
  });
}

/** The one object of `kind` named `name`; throws naming what was there otherwise. */
export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} ${name}, found ${found.length} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  }
  return found[0]!;
}

/** The parts of a container spec the tests read. */
export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, string>> }[];
  readonly securityContext?: {
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  readonly volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readonly livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readonly readinessProbe?: { httpGet?: { path: string; port: number | string } };
  readonly ports?: { name?: string; containerPort: number }[];
}

/** The parts of a pod spec the tests read. */
export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly priorityClassName?: string;
  readonly hostNetwork?: boolean;
  readonly dnsPolicy?: string;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: Record<string, unknown>[];
  readonly initContainers?: Container[];
  readonly containers: Container[];
  readonly volumes?: { name: string; configMap?: { name: string }; hostPath?: { path: string; type?: string }; emptyDir?: unknown }[];
}

/** A DaemonSet's pod spec. */
export function podSpec(ds: KubeObject): PodSpec {
  return (ds as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

/**
 * The argument vector the container runs with, with `$(VAR)` references
 * expanded as the kubelet does (`$$` is a literal `$`; unknown names stay as
 * written). `env` gives the values of variables set from elsewhere (fieldRef,
 * configMapKeyRef).
 */
export function expandCommand(c: Container, env: Readonly<Record<string, string>>): string[] {
  const values: Record<string, string> = { ...env };
  for (const e of c.env ?? []) if (e.value !== undefined) values[e.name] = e.value;
  const expand = (s: string): string => s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && values[name] !== undefined ? values[name] : m;
  });
  return [...(c.command ?? []), ...(c.args ?? [])].map(expand);
}
