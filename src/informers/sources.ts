// Where the informers read from: list calls through client-node's typed API
// clients and watches through its Watch transport (bearer tokens, rotated
// service-account tokens, CAs and client certificates all come from the
// KubeConfig). Listed objects are turned back into plain JSON shaped like watch
// events (string timestamps, kind and apiVersion set), so consumers see one
// shape whichever path an object came by.

import * as k8s from '@kubernetes/client-node';
import type { ListFn, ListPage, WatchFn, WatchHandle } from './reflector.ts';

/**
 * Turns typed client objects (Dates, class instances) into plain JSON with kind
 * and apiVersion, one item at a time (never the whole page as one string).
 * Throws only what JSON.stringify throws (cycles, BigInt), which typed list
 * results never hold.
 */
export function toPlain<T>(items: readonly unknown[], apiVersion: string, kind: string): T[] {
  return items.map((o) => {
    // Set on the parsed copy itself rather than spread into another object: one object per item, not two.
    const plain = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
    plain.apiVersion = apiVersion;
    plain.kind = kind;
    return plain as T;
  });
}

interface TypedList { items: unknown[]; metadata?: { resourceVersion?: string; _continue?: string } | undefined }

function page<T>(l: TypedList, apiVersion: string, kind: string): ListPage<T> {
  return { items: toPlain<T>(l.items, apiVersion, kind), resourceVersion: l.metadata?.resourceVersion ?? '', continue: l.metadata?._continue };
}

/** A watch function on `path` with fixed selectors, through client-node's Watch. */
export function watchFn(kc: k8s.KubeConfig, path: string, selectors: { labelSelector?: string; fieldSelector?: string }): WatchFn {
  const watch = new k8s.Watch(kc);
  return async (params, onEvent, done): Promise<WatchHandle> => {
    const query = { ...params, ...selectors };
    const controller = await watch.watch(path, query, (type: string, obj: unknown) => onEvent(type, obj), done);
    return { abort: () => controller.abort() };
  };
}

/** List and watch of all Services matching `labelSelector`. */
export function serviceSource(kc: k8s.KubeConfig, labelSelector: string): { list: ListFn<k8s.V1Service>; watch: WatchFn } {
  const api = kc.makeApiClient(k8s.CoreV1Api);
  return {
    list: async ({ limit, continue: cont }) =>
      page<k8s.V1Service>(await api.listServiceForAllNamespaces({ labelSelector, limit, ...(cont ? { _continue: cont } : {}) }), 'v1', 'Service'),
    watch: watchFn(kc, '/api/v1/services', { labelSelector }),
  };
}

/** List and watch of all discovery/v1 EndpointSlices matching `labelSelector`. */
export function endpointSliceSource(kc: k8s.KubeConfig, labelSelector: string): { list: ListFn<k8s.V1EndpointSlice>; watch: WatchFn } {
  const api = kc.makeApiClient(k8s.DiscoveryV1Api);
  return {
    list: async ({ limit, continue: cont }) =>
      page<k8s.V1EndpointSlice>(await api.listEndpointSliceForAllNamespaces({ labelSelector, limit, ...(cont ? { _continue: cont } : {}) }), 'discovery.k8s.io/v1', 'EndpointSlice'),
    watch: watchFn(kc, '/apis/discovery.k8s.io/v1/endpointslices', { labelSelector }),
  };
}

/** List and watch of the Nodes matching `fieldSelector` (this node's name). */
export function nodeSource(kc: k8s.KubeConfig, fieldSelector: string): { list: ListFn<k8s.V1Node>; watch: WatchFn } {
  const api = kc.makeApiClient(k8s.CoreV1Api);
  return {
    list: async ({ limit, continue: cont }) =>
      page<k8s.V1Node>(await api.listNode({ fieldSelector, limit, ...(cont ? { _continue: cont } : {}) }), 'v1', 'Node'),
    watch: watchFn(kc, '/api/v1/nodes', { fieldSelector }),
  };
}
