// SPDX-License-Identifier: Apache-2.0
// What the informers keep of each object between events. A reflector needs an
// object's resourceVersion (to drop unchanged relisted or re-sent objects) and
// its consumer needs, for `old`, only the object's id and the few fields whose
// removal it must notice. Keeping the whole API object instead would hold every
// managedFields entry, last-applied-configuration annotation, label and slice
// endpoint twice over (once here, once in the model): at 10,000 Services and
// 10,000 ten-endpoint slices that is about 100 MB of heap (kube-proxy's
// informers strip managedFields for the same reason). Pure.

import type * as k8s from '@kubernetes/client-node';

/** The part of a Kubernetes object the reflector reads. */
export interface ObjectLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } | undefined;
}

/** The least a reflector keeps per object: its id and resourceVersion ('' when absent). */
export interface Retained {
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string;
}

/** What is kept of a Service: its id, resourceVersion and health-check node port (undefined when none). */
export interface RetainedService extends Retained {
  readonly healthCheckNodePort: number | undefined;
}

function own(s: unknown): string {
  return typeof s === 'string' ? s : '';
}

/** Keeps the id and resourceVersion of any object; missing fields become ''. Never throws. */
export function retainMeta(o: ObjectLike): Retained {
  const m = o.metadata;
  return { namespace: own(m?.namespace), name: own(m?.name), resourceVersion: own(m?.resourceVersion) };
}

/** Keeps a Service's id, resourceVersion and `spec.healthCheckNodePort`. Never throws. */
export function retainService(o: k8s.V1Service): RetainedService {
  const m = o.metadata;
  const port = o.spec?.healthCheckNodePort;
  return {
    namespace: own(m?.namespace), name: own(m?.name), resourceVersion: own(m?.resourceVersion),
    healthCheckNodePort: typeof port === 'number' ? port : undefined,
  };
}
