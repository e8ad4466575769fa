// A kubeconfig for the local API server: its URL, its CA (inline) and the
// bearer token, in the format kubectl and client libraries read.

import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/** What a kubeconfig needs to reach one server. */
export interface KubeconfigSpec {
  readonly server: string;
  readonly caCert: string;
  readonly token: string;
  /** Names of the cluster, user and context (default `ipvs-proxy-dev`). */
  readonly name?: string;
  readonly namespace?: string;
}

/** The kubeconfig YAML text. Pure. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const name = spec.name ?? 'ipvs-proxy-dev';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: spec.server, 'certificate-authority-data': Buffer.from(spec.caCert).toString('base64') } }],
    users: [{ name, user: { token: spec.token } }],
    contexts: [{ name, context: { cluster: name, user: name, ...(spec.namespace ? { namespace: spec.namespace } : {}) } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes the kubeconfig to `path` with mode 0600 (it holds a credential). Rejects on I/O errors. */
export async function writeKubeconfigFile(path: string, spec: KubeconfigSpec): Promise<void> {
  await writeFile(path, renderKubeconfig(spec), { mode: 0o600 });
}
