// Defaulting and validation kube-apiserver applies to the three served kinds,
// reduced to what a service proxy and its tests depend on: Service defaults
// (type, sessionAffinity, protocols, targetPorts, traffic policies, IP
// families), ClusterIP and NodePort allocation, immutable ClusterIPs, names,
// port ranges and EndpointSlice address types. Failures are 422 Invalid.

import { isIP } from 'node:net';
import { type Cause, invalid } from './status.ts';
import { type Json, type JsonObject, type KubeObject, type ResourceInfo, isJsonObject, metaString } from './types.ts';

/**
 * Where ClusterIPs and NodePorts come from: the values other Services hold
 * (the object being updated does not count against itself). Answers must be
 * O(1)-ish per call, not a scan of the stored Services.
 */
export interface Allocation {
  /** The lowest free address of the service CIDR after the network address, or undefined when none is (range full, or not an IPv4 CIDR). kube-apiserver picks at random; tests want determinism. */
  freeClusterIP(): string | undefined;
  /** The lowest NodePort of 30000-32767 that no other Service holds and `taken` does not contain, or undefined. */
  freeNodePort(taken: ReadonlySet<number>): number | undefined;
}

const dns1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function obj(v: Json | undefined): JsonObject {
  return isJsonObject(v) ? v : {};
}

function list(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

function nameCauses(r: ResourceInfo, o: KubeObject): Cause[] {
  const name = metaString(o, 'name');
  const out: Cause[] = [];
  if (name === '') return [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }];
  const ok = r.kind === 'Service' ? name.length <= 63 && dns1035.test(name) : name.length <= 253 && dns1123Subdomain.test(name);
  if (!ok) {
    const what = r.kind === 'Service' ? 'a DNS-1035 label' : 'a lowercase RFC 1123 subdomain';
    out.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: "${name}": must be ${what}` });
  }
  const ns = metaString(o, 'namespace');
  if (r.namespaced && ns !== '' && !(ns.length <= 63 && dns1123Label.test(ns))) {
    out.push({ field: 'metadata.namespace', reason: 'FieldValueInvalid', message: `Invalid value: "${ns}": a lowercase RFC 1123 label` });
  }
  return out;
}

/** Allocates into `taken` (the NodePorts this object already uses). */
function allocateNodePort(alloc: Allocation, taken: Set<number>): number | undefined {
  const p = alloc.freeNodePort(taken);
  if (p !== undefined) taken.add(p);
  return p;
}

const serviceTypes = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const protocols = ['TCP', 'UDP', 'SCTP'];

function defaultServicePorts(spec: JsonObject, type: string, old: JsonObject | null, alloc: Allocation, causes: Cause[]): void {
  // NodePorts this object took so far, in port order (a later port's explicit one is not seen yet).
  const usedPorts = new Set<number>();
  const oldPorts = list(obj(old?.spec).ports).map(obj);
  const names = new Set<string>();
  const ports = list(spec.ports).map(obj);
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    p.protocol ??= 'TCP';
    if (typeof p.protocol !== 'string' || !protocols.includes(p.protocol)) causes.push({ field: `${at}.protocol`, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(p.protocol)}: supported values: "SCTP", "TCP", "UDP"` });
    if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) causes.push({ field: `${at}.port`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(p.port ?? null)}: must be between 1 and 65535, inclusive` });
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port ?? null;
    const name = typeof p.name === 'string' ? p.name : '';
    if (ports.length > 1 && name === '') causes.push({ field: `${at}.name`, reason: 'FieldValueRequired', message: 'Required value' });
    if (name !== '' && names.has(name)) causes.push({ field: `${at}.name`, reason: 'FieldValueDuplicate', message: `Duplicate value: "${name}"` });
    names.add(name);
    if (type === 'NodePort' || type === 'LoadBalancer') {
      // On update kube-apiserver keeps the NodePort a port already had (patchAllocatedValues).
      const before = oldPorts.find((o) => o.port === p.port && o.protocol === p.protocol);
      if (p.nodePort === undefined && typeof before?.nodePort === 'number') p.nodePort = before.nodePort;
      if (p.nodePort === undefined) p.nodePort = allocateNodePort(alloc, usedPorts) ?? null;
      else if (typeof p.nodePort === 'number') usedPorts.add(p.nodePort);
    } else if (p.nodePort !== undefined && type !== 'NodePort') {
      causes.push({ field: `${at}.nodePort`, reason: 'FieldValueForbidden', message: 'Forbidden: may not be used when `type` is \'ClusterIP\'' });
    }
  });
  if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') causes.push({ field: 'spec.ports', reason: 'FieldValueRequired', message: 'Required value' });
  spec.ports = ports;
}

function defaultClusterIPs(spec: JsonObject, old: JsonObject | null, alloc: Allocation, causes: Cause[]): void {
  const oldSpec = old ? obj(old.spec) : null;
  if (oldSpec && spec.clusterIP === undefined && spec.clusterIPs === undefined) {
    if (oldSpec.clusterIP !== undefined) spec.clusterIP = oldSpec.clusterIP;
    if (oldSpec.clusterIPs !== undefined) spec.clusterIPs = oldSpec.clusterIPs;
  }
  const ips = list(spec.clusterIPs).filter((x): x is string => typeof x === 'string');
  if ((spec.clusterIP === undefined || spec.clusterIP === '') && ips[0]) spec.clusterIP = ips[0];
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    const ip = alloc.freeClusterIP();
    if (ip === undefined) causes.push({ field: 'spec.clusterIP', reason: 'FieldValueInvalid', message: 'Invalid value: "": failed to allocate IP: range is full' });
    else spec.clusterIP = ip;
  }
  const primary = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  if (primary !== 'None' && primary !== '' && isIP(primary) === 0) causes.push({ field: 'spec.clusterIP', reason: 'FieldValueInvalid', message: `Invalid value: "${primary}": must be a valid IP address or "None"` });
  if (ips.length === 0 && primary !== '') spec.clusterIPs = [primary];
  if (oldSpec && typeof oldSpec.clusterIP === 'string' && oldSpec.clusterIP !== '' && oldSpec.clusterIP !== spec.clusterIP) {
    causes.push({ field: 'spec.clusterIPs[0]', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec.clusterIPs ?? [])}: may not change once set` });
  }
  if (primary !== 'None' && primary !== '') {
    spec.ipFamilies ??= list(spec.clusterIPs).map((ip) => (typeof ip === 'string' && isIP(ip) === 6 ? 'IPv6' : 'IPv4'));
    spec.ipFamilyPolicy ??= list(spec.clusterIPs).length > 1 ? 'RequireDualStack' : 'SingleStack';
  }
}

function defaultService(o: KubeObject, old: KubeObject | null, alloc: Allocation, causes: Cause[]): void {
  const spec = obj(o.spec);
  o.spec = spec;
  spec.type ??= 'ClusterIP';
  const type = typeof spec.type === 'string' ? spec.type : '';
  if (!serviceTypes.includes(type)) causes.push({ field: 'spec.type', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(spec.type)}: supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"` });
  spec.sessionAffinity ??= 'None';
  if (type === 'ExternalName') {
    if (typeof spec.externalName !== 'string' || spec.externalName === '') causes.push({ field: 'spec.externalName', reason: 'FieldValueRequired', message: 'Required value' });
  } else {
    defaultClusterIPs(spec, old, alloc, causes);
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  if (type === 'NodePort' || type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  defaultServicePorts(spec, type, old, alloc, causes);
  if (type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && spec.healthCheckNodePort === undefined) {
    const keep = obj(old?.spec).healthCheckNodePort;
    const used = new Set(list(spec.ports).map((p) => obj(p).nodePort).filter((n): n is number => typeof n === 'number'));
    spec.healthCheckNodePort = typeof keep === 'number' ? keep : (alloc.freeNodePort(used) ?? null);
  }
}

const addressTypes = ['IPv4', 'IPv6', 'FQDN'];

function validateEndpointSlice(o: KubeObject, old: KubeObject | null, causes: Cause[]): void {
  const at = o.addressType;
  if (typeof at !== 'string' || !addressTypes.includes(at)) causes.push({ field: 'addressType', reason: at === undefined ? 'FieldValueRequired' : 'FieldValueNotSupported', message: at === undefined ? 'Required value' : `Unsupported value: ${JSON.stringify(at)}: supported values: "FQDN", "IPv4", "IPv6"` });
  if (old && old.addressType !== at) causes.push({ field: 'addressType', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(at ?? null)}: field is immutable` });
  const want = at === 'IPv4' ? 4 : at === 'IPv6' ? 6 : 0;
  list(o.endpoints).forEach((e, i) => {
    const addrs = list(obj(e).addresses);
    if (addrs.length < 1 || addrs.length > 100) causes.push({ field: `endpoints[${i}].addresses`, reason: 'FieldValueRequired', message: 'Required value: must contain at least 1 address' });
    addrs.forEach((a, j) => {
      if (want && (typeof a !== 'string' || isIP(a) !== want)) causes.push({ field: `endpoints[${i}].addresses[${j}]`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(a)}: must be a valid ${String(want === 4 ? 'IPv4' : 'IPv6')} address` });
    });
  });
  list(o.ports).forEach((p, i) => {
    const port = obj(p);
    port.protocol ??= 'TCP';
    if (typeof port.protocol !== 'string' || !protocols.includes(port.protocol)) causes.push({ field: `ports[${i}].protocol`, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(port.protocol)}` });
    if (port.port !== undefined && port.port !== null && (typeof port.port !== 'number' || port.port < 1 || port.port > 65535)) causes.push({ field: `ports[${i}].port`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(port.port)}: must be between 1 and 65535, inclusive` });
  });
}

/**
 * Defaults and validates `o` (modified in place) for create (`old` null) or
 * update. Throws ApiError 422 Invalid listing every problem found.
 */
export function admit(r: ResourceInfo, o: KubeObject, old: KubeObject | null, alloc: Allocation): void {
  const causes = nameCauses(r, o);
  if (r.kind === 'Service') defaultService(o, old, alloc, causes);
  if (r.kind === 'EndpointSlice') validateEndpointSlice(o, old, causes);
  if (causes.length > 0) throw invalid(r, metaString(o, 'name'), causes);
}
