// URL paths of kube-apiserver's REST API → what they address. Pure.
//   /api/v1[/watch][/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]
//   /apis/<group>/<version>[/watch][/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]

import { findResource } from './resources.ts';
import type { ResourceInfo } from './types.ts';

/** A request for a served resource. */
export interface ResourcePath {
  readonly resource: ResourceInfo;
  /** '' for cluster-wide requests and cluster-scoped resources. */
  readonly namespace: string;
  /** '' for the collection. */
  readonly name: string;
  readonly subresource: '' | 'status';
  /** The deprecated `/watch/` path prefix was used. */
  readonly watchPrefix: boolean;
}

/** What a path addresses: a discovery document, a resource, or nothing served. */
export type Route =
  | { readonly kind: 'discovery'; readonly path: string }
  | { readonly kind: 'resource'; readonly target: ResourcePath }
  | { readonly kind: 'none' };

const discoveryPaths = new Set(['/version', '/api', '/api/v1', '/apis', '/healthz', '/livez', '/readyz']);

/** Routes a URL path (without query). */
export function route(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (discoveryPaths.has(path) || /^\/apis\/[^/]+(\/[^/]+)?$/.test(path)) return { kind: 'discovery', path };
  const segs = path.split('/').slice(1).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (segs[0] === 'api' && segs[1] === 'v1') { group = ''; rest = segs.slice(1); }
  else if (segs[0] === 'apis' && segs.length >= 3) { group = segs[1]!; rest = segs.slice(2); }
  else return { kind: 'none' };
  const version = rest[0]!;
  rest = rest.slice(1);
  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]!; rest = rest.slice(2); }
  const [plural, name = '', sub = '', ...extra] = rest;
  if (!plural || extra.length > 0) return { kind: 'none' };
  const resource = findResource(group, version, plural);
  if (!resource) return { kind: 'none' };
  if (namespace !== '' && !resource.namespaced) return { kind: 'none' };
  if (sub !== '' && !(sub === 'status' && resource.hasStatus)) return { kind: 'none' };
  return { kind: 'resource', target: { resource, namespace, name, subresource: sub === 'status' ? 'status' : '', watchPrefix } };
}
