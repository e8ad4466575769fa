// The resources the local API server serves and its discovery documents
// (/api, /apis, /api/v1, /apis/discovery.k8s.io/v1), shaped as kube-apiserver's.

import { type FieldGetter, type JsonObject, type KubeObject, type ResourceInfo, apiVersionOf, isJsonObject, metaString } from './types.ts';

function specString(field: string): FieldGetter {
  return (o: KubeObject) => {
    const spec = o.spec;
    const v = isJsonObject(spec) ? spec[field] : undefined;
    if (typeof v === 'boolean') return String(v);
    return typeof v === 'string' ? v : '';
  };
}

const name: FieldGetter = (o) => metaString(o, 'name');
const namespace: FieldGetter = (o) => metaString(o, 'namespace');

/** `v1` Services. */
export const services: ResourceInfo = {
  group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true,
  shortNames: ['svc'],
  fields: { 'metadata.name': name, 'metadata.namespace': namespace, 'spec.clusterIP': specString('clusterIP'), 'spec.type': specString('type') },
  returnDeletedObject: true, hasStatus: true, deleteCollection: false,
};

/** `v1` Nodes (cluster-scoped). */
export const nodes: ResourceInfo = {
  group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false,
  shortNames: ['no'],
  // An unset spec.unschedulable reads as "false", as in kube-apiserver's NodeToSelectableFields.
  fields: { 'metadata.name': name, 'spec.unschedulable': (o) => specString('unschedulable')(o) || 'false' },
  returnDeletedObject: false, hasStatus: true, deleteCollection: true,
};

/** `discovery.k8s.io/v1` EndpointSlices. */
export const endpointSlices: ResourceInfo = {
  group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice',
  namespaced: true, shortNames: [],
  fields: { 'metadata.name': name, 'metadata.namespace': namespace },
  returnDeletedObject: false, hasStatus: false, deleteCollection: true,
};

/** Every served resource. */
export const allResources: readonly ResourceInfo[] = [services, nodes, endpointSlices];

/** The resource for a group, version and plural, if served. */
export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return allResources.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** The resource for an apiVersion and kind, if served. */
export function findResourceByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return allResources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

function apiResource(r: ResourceInfo): JsonObject[] {
  const verbs = ['create', 'delete', ...(r.deleteCollection ? ['deletecollection'] : []), 'get', 'list', 'patch', 'update', 'watch'];
  const main: JsonObject = {
    name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs,
    ...(r.shortNames.length ? { shortNames: [...r.shortNames] } : {}),
    ...(r.kind === 'Service' ? { categories: ['all'] } : {}),
  };
  if (!r.hasStatus) return [main];
  return [main, { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }];
}

/** `GET /api/v1` or `/apis/<group>/<version>`: the APIResourceList of one group version. */
export function resourceList(group: string, version: string): JsonObject | undefined {
  const rs = allResources.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: rs.flatMap(apiResource) };
}

/** `GET /api`: the core group's versions. */
export function coreVersions(serverAddress: string): JsonObject {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(group: string): JsonObject {
  const gv = { groupVersion: `${group}/v1`, version: 'v1' };
  return { name: group, versions: [gv], preferredVersion: gv };
}

/** `GET /apis`: the named groups. */
export function groupList(): JsonObject {
  const groups = [...new Set(allResources.map((r) => r.group).filter((g) => g !== ''))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDoc) };
}

/** `GET /apis/<group>`: one named group, if served. */
export function group(name: string): JsonObject | undefined {
  if (!allResources.some((r) => r.group === name && name !== '')) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name) };
}

/** `GET /version`: a kube-apiserver-like version document. */
export function versionInfo(): JsonObject {
  return {
    major: '1', minor: '32', gitVersion: 'v1.32.0-ipvs-proxy-dev', gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'node', compiler: 'ipvs-proxy', platform: 'linux/amd64',
  };
}
