// How the agent reaches the API server, as kube-proxy decides it: a kubeconfig
// file (--kubeconfig), optionally with its server replaced by --master; only
// --master; or, with neither, the in-cluster service account (token re-read
// from its projected file as it rotates).

import { existsSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';

/** Where the cluster is. */
export interface ClusterAccessOptions {
  readonly kubeconfig?: string | undefined;
  readonly master?: string | undefined;
  /** Root under which the service-account files are looked up (tests). */
  readonly inClusterRoot?: string | undefined;
}

/** Thrown when no usable cluster access can be built; the message says what to pass. */
export class ClusterAccessError extends Error {
  readonly code = 'ECLUSTERACCESS';
}

const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function withServer(kc: k8s.KubeConfig, server: string): k8s.KubeConfig {
  const current = kc.getCurrentCluster();
  if (!current) throw new ClusterAccessError('the kubeconfig has no current cluster to apply --master to');
  const out = new k8s.KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, server } : c)),
    users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext,
  });
  return out;
}

function checkUrl(master: string): URL {
  let url: URL;
  try {
    url = new URL(master);
  } catch {
    throw new ClusterAccessError(`--master ${JSON.stringify(master)} is not a URL (e.g. https://10.0.0.1:6443)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ClusterAccessError(`--master must be an http or https URL, got ${JSON.stringify(master)}`);
  return url;
}

/**
 * Builds the KubeConfig for the agent. Throws ClusterAccessError when the
 * kubeconfig cannot be read, `master` is not a URL, or (with neither) the
 * process is not in a pod (no KUBERNETES_SERVICE_HOST/PORT or no token file).
 */
export function loadClusterAccess(opts: ClusterAccessOptions): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (opts.kubeconfig) {
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (err) {
      throw new ClusterAccessError(`cannot read kubeconfig ${opts.kubeconfig}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!kc.getCurrentCluster()) throw new ClusterAccessError(`kubeconfig ${opts.kubeconfig} has no current context with a cluster`);
    return opts.master ? withServer(kc, checkUrl(opts.master).toString().replace(/\/$/, '')) : kc;
  }
  if (opts.master) {
    const url = checkUrl(opts.master);
    // client-node refuses plain http unless TLS verification is explicitly off.
    kc.loadFromClusterAndUser({ name: 'master', server: url.toString().replace(/\/$/, ''), skipTLSVerify: url.protocol === 'http:' }, { name: 'master' });
    return kc;
  }
  const root = opts.inClusterRoot ?? '';
  if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
    throw new ClusterAccessError('no cluster configured: pass --kubeconfig or --master, or run in a pod (KUBERNETES_SERVICE_HOST/PORT are not set)');
  }
  if (!existsSync(`${root}${tokenPath}`)) throw new ClusterAccessError(`in-cluster access needs the service-account token at ${root}${tokenPath}`);
  kc.loadFromCluster(root);
  return kc;
}
