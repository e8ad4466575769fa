// The snapshot the reconciler reads: Kubernetes Services, EndpointSlices and the
// own Node reduced to what a service proxy needs, one ServicePort per Service
// port and IP family (kube-proxy's ServicePortName + BaseServicePortInfo), and
// endpoints grouped by ServicePort key. Everything here is already validated and
// in canonical form; conversion (service.ts, endpoint-slice.ts, node.ts) is the
// only place that looks at raw objects.

/** An IP family as Kubernetes names it. */
export type IpFamily = 'IPv4' | 'IPv6';

/** Both families, in the order kube-proxy's dual-stack proxier builds them. */
export const ipFamilies: readonly IpFamily[] = ['IPv4', 'IPv6'];

/** Transport protocol of a Service port. */
export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';

/** Forwarding method a Service may ask for through our annotation. */
export type ForwardChoice = 'masq' | 'droute' | 'tunnel';

/**
 * Per-Service IPVS settings from our annotations (see annotations.ts). A null
 * field means "use the global default"; invalid values were already turned into
 * warnings and null.
 */
export interface IpvsOverrides {
  readonly scheduler: string | null;
  /** Scheduler-flag names (ipvsadm's: sh-port, mh-fallback, flag-1, onepacket, ...). */
  readonly schedulerFlags: readonly string[] | null;
  readonly forward: ForwardChoice | null;
}

/** Client-IP session affinity of a Service. */
export interface SessionAffinity {
  readonly timeoutSeconds: number;
}

/** One port of one Service in one IP family. */
export interface ServicePort {
  /** `servicePortKey(...)`; the same in both families. */
  readonly key: string;
  readonly family: IpFamily;
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly protocol: ServiceProtocol;
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when the port has no NodePort. */
  readonly nodePort: number;
  /** External IPs of this family, canonical, in spec order, without duplicates. */
  readonly externalIPs: readonly string[];
  /** LoadBalancer ingress IPs of this family in VIP mode (ipMode unset or VIP). */
  readonly loadBalancerVIPs: readonly string[];
  /** loadBalancerSourceRanges of this family, as network CIDRs (`10.0.0.0/8`). */
  readonly loadBalancerSourceRanges: readonly string[];
  /** 0 unless type=LoadBalancer with externalTrafficPolicy=Local. */
  readonly healthCheckNodePort: number;
  readonly sessionAffinity: SessionAffinity | null;
  /** externalTrafficPolicy=Local on an externally accessible Service. */
  readonly externalPolicyLocal: boolean;
  /** internalTrafficPolicy=Local. */
  readonly internalPolicyLocal: boolean;
  readonly ipvs: IpvsOverrides;
}

/** One endpoint of a ServicePort (kube-proxy's BaseEndpointInfo). */
export interface Endpoint {
  /** Canonical IP of the endpoint's first address. */
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName: string | null;
  readonly zone: string | null;
  readonly zoneHints: readonly string[];
  readonly nodeHints: readonly string[];
}

/** A node address as the Node object reports it. */
export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

/** The node this agent runs on, as the Node object describes it. */
export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly addresses: readonly NodeAddress[];
  /** spec.podCIDRs (or spec.podCIDR), canonical network form. */
  readonly podCIDRs: readonly string[];
}

/** Endpoints of one family keyed by ServicePort key, sorted by `address:port`. */
export type EndpointsByServicePort = ReadonlyMap<string, readonly Endpoint[]>;

/** Everything the reconciler needs from the API server. */
export interface ClusterSnapshot {
  /** Sorted by key, then family (IPv4 first). */
  readonly servicePorts: readonly ServicePort[];
  readonly endpoints: Readonly<Record<IpFamily, EndpointsByServicePort>>;
}

/** A problem with one input object; the object (or part of it) was skipped. */
export interface Warning {
  /** e.g. `Service default/web` or `EndpointSlice default/web-abc12`. */
  readonly object: string;
  /** JSON-path-like field, e.g. `spec.ports[1].protocol`. */
  readonly field: string;
  readonly message: string;
}

/** One line for logs and `plan` output. */
export function formatWarning(w: Warning): string {
  return `${w.object}: ${w.field}: ${w.message}`;
}

/**
 * The one key of a Service port: kube-proxy's ServicePortName
 * (`namespace/name:portName`) plus the protocol, e.g. `default/web:http/TCP`;
 * an unnamed port gives `default/web/TCP`.
 */
export function servicePortKey(namespace: string, name: string, portName: string, protocol: ServiceProtocol): string {
  return `${namespace}/${name}${portName ? `:${portName}` : ''}/${protocol}`;
}

/** `namespace/name` of the Service a ServicePort belongs to. */
export function serviceName(sp: Pick<ServicePort, 'namespace' | 'name'>): string {
  return `${sp.namespace}/${sp.name}`;
}
