// Compact builders for Service, EndpointSlice and Node objects, for tests,
// benchmarks and examples. They only fill in what is given; everything else is
// left unset as in a minimal manifest.

import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';

/** A Service port in builder form. */
export interface PortSpec {
  name?: string;
  port: number;
  protocol?: string;
  nodePort?: number;
}

/** Options of `service()`. */
export interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ports: PortSpec[];
  externalIPs?: string[];
  /** LoadBalancer ingress IPs; `ip@Proxy` sets ipMode Proxy, `ip@VIP` ipMode VIP. */
  lbIPs?: string[];
  sourceRanges?: string[];
  etp?: string;
  itp?: string;
  healthCheckNodePort?: number;
  /** ClientIP affinity with this timeout (null: ClientIP without a config, i.e. the default). */
  affinity?: number | null;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/** A v1 Service `namespace/name` (namespace defaults to "ns1"). */
export function service(id: string, s: ServiceSpec): V1Service {
  const [namespace, name] = id.includes('/') ? id.split('/', 2) as [string, string] : ['ns1', id];
  const spec: Record<string, unknown> = { type: s.type ?? 'ClusterIP', ports: s.ports };
  if (s.clusterIP !== undefined) spec.clusterIP = s.clusterIP;
  if (s.clusterIPs) spec.clusterIPs = s.clusterIPs;
  if (s.ipFamilies) spec.ipFamilies = s.ipFamilies;
  if (s.externalIPs) spec.externalIPs = s.externalIPs;
  if (s.sourceRanges) spec.loadBalancerSourceRanges = s.sourceRanges;
  if (s.etp) spec.externalTrafficPolicy = s.etp;
  if (s.itp) spec.internalTrafficPolicy = s.itp;
  if (s.healthCheckNodePort !== undefined) spec.healthCheckNodePort = s.healthCheckNodePort;
  if (s.affinity !== undefined) {
    spec.sessionAffinity = 'ClientIP';
    if (s.affinity !== null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: s.affinity } };
  }
  const ingress = (s.lbIPs ?? []).map((v) => {
    const [ip, mode] = v.split('@');
    return mode ? { ip, ipMode: mode } : { ip };
  });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name, ...(s.annotations ? { annotations: s.annotations } : {}), ...(s.labels ? { labels: s.labels } : {}) },
    spec,
    ...(ingress.length ? { status: { loadBalancer: { ingress } } } : {}),
  };
}

/** An endpoint in builder form. */
export interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  zone?: string;
  zoneHints?: string[];
  nodeHints?: string[];
}

/** Options of `slice()`. */
export interface SliceSpec {
  /** Slice name; defaults to `<service>-<addressType>`. */
  name?: string;
  addressType?: string;
  ports: { name?: string; port: number; protocol?: string }[];
  endpoints: EndpointSpec[];
}

/** A discovery.k8s.io/v1 EndpointSlice of Service `namespace/name` (namespace defaults to "ns1"). */
export function slice(serviceId: string, s: SliceSpec): V1EndpointSlice {
  const [namespace, svcName] = serviceId.includes('/') ? serviceId.split('/', 2) as [string, string] : ['ns1', serviceId];
  const addressType = s.addressType ?? (s.endpoints[0]?.ip.includes(':') ? 'IPv6' : 'IPv4');
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name: s.name ?? `${svcName}-${addressType.toLowerCase()}`, labels: { 'kubernetes.io/service-name': svcName } },
    addressType,
    ports: s.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: s.endpoints.map((e) => {
      const ep: Record<string, unknown> = { addresses: [e.ip] };
      const cond: Record<string, boolean> = {};
      if (e.ready !== undefined) cond.ready = e.ready;
      if (e.serving !== undefined) cond.serving = e.serving;
      if (e.terminating !== undefined) cond.terminating = e.terminating;
      if (Object.keys(cond).length) ep.conditions = cond;
      if (e.node) ep.nodeName = e.node;
      if (e.zone) ep.zone = e.zone;
      if (e.zoneHints || e.nodeHints) {
        ep.hints = {
          ...(e.zoneHints ? { forZones: e.zoneHints.map((name) => ({ name })) } : {}),
          ...(e.nodeHints ? { forNodes: e.nodeHints.map((name) => ({ name })) } : {}),
        };
      }
      return ep;
    }),
  } as unknown as V1EndpointSlice;
}

/** A v1 Node with InternalIP addresses, labels and pod CIDRs. */
export function node(name: string, s: { addresses?: string[]; labels?: Record<string, string>; podCIDRs?: string[] } = {}): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, ...(s.labels ? { labels: s.labels } : {}) },
    spec: s.podCIDRs ? { podCIDRs: s.podCIDRs } : {},
    status: { addresses: (s.addresses ?? []).map((address) => ({ type: 'InternalIP', address })) },
  };
}
