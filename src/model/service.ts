// v1.Service → ServicePorts, with kube-proxy's filters (ServiceChangeTracker,
// newBaseServiceInfo, pkg/api/v1/service/util.go) and our annotations.

import type { V1Service } from '@kubernetes/client-node';
import { parseIpvsAnnotations } from './annotations.ts';
import { compactList, intern, sharedName } from './compact.ts';
import { parseCidr, parseIp } from './ip.ts';
import { int, isPort, list, record, show, str, stringMap } from './raw.ts';
import {
  type IpFamily, type IpvsOverrides, type ServicePort, type ServiceProtocol, type SessionAffinity, type Warning,
  ipFamilies, servicePortKey,
} from './types.ts';

/** Services with this label belong to another proxy; kube-proxy's informer never sees them. */
export const serviceProxyNameLabel = 'service.kubernetes.io/service-proxy-name';
/** Headless Services carry this label on their EndpointSlices' Service; kube-proxy filters them too. */
export const headlessLabel = 'service.kubernetes.io/headless';

/** API default of sessionAffinityConfig.clientIP.timeoutSeconds (DefaultClientIPServiceAffinitySeconds). */
export const defaultAffinitySeconds = 10800;
/** API maximum of the ClientIP timeout (MaxClientIPServiceAffinitySeconds). */
const maxAffinitySeconds = 86400;

const protocols: readonly ServiceProtocol[] = ['TCP', 'UDP', 'SCTP'];
const serviceTypes = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

/** Result of converting one Service. */
export interface ServiceConversion {
  /** One entry per valid port and per IP family the Service has a cluster IP in. */
  readonly ports: ServicePort[];
  readonly warnings: Warning[];
}

/** Fields shared by every port of one Service in one family. */
interface ServiceCommon {
  namespace: string;
  name: string;
  externalIPs: Record<IpFamily, string[]>;
  vips: Record<IpFamily, string[]>;
  sourceRanges: Record<IpFamily, string[]>;
  healthCheckNodePort: number;
  sessionAffinity: SessionAffinity | null;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  ipvs: IpvsOverrides;
}

const byFamily = (): Record<IpFamily, string[]> => ({ IPv4: [], IPv6: [] });

function pushUnique(arr: string[], v: string): void {
  if (!arr.includes(v)) arr.push(v);
}

/**
 * Whether kube-proxy would ignore this Service entirely without complaint:
 * labelled for another proxy or headless, ExternalName, or no cluster IP.
 */
export function isIgnoredService(svc: V1Service): boolean {
  if (!record(svc)) return true;
  const labels = stringMap(record(svc.metadata)?.labels);
  if (serviceProxyNameLabel in labels || headlessLabel in labels) return true;
  const spec = record(svc.spec);
  if (str(spec?.type) === 'ExternalName') return true;
  const clusterIP = str(spec?.clusterIP) ?? str(list(spec?.clusterIPs)?.[0]) ?? '';
  return clusterIP === '' || clusterIP === 'None';
}

/** The cluster IP per family (GetClusterIPByFamily), validated. */
function clusterIPs(spec: Readonly<Record<string, unknown>>, object: string, warnings: Warning[]): Partial<Record<IpFamily, string>> {
  const out: Partial<Record<IpFamily, string>> = {};
  const single = str(spec.clusterIP) ?? '';
  const ips = (list(spec.clusterIPs) ?? []).map((v) => str(v) ?? '');
  const families = (list(spec.ipFamilies) ?? []).map((v) => str(v) ?? '');
  // kube-proxy reads clusterIPs[i] for ipFamilies[i]; a hand-written manifest may
  // give only clusterIP, which the API server would have copied into clusterIPs[0].
  if (ips.length === 0 && single !== '') ips.push(single);
  const candidates: { ip: string; field: string; family: string | undefined }[] = families.length === 0
    ? [{ ip: ips[0] ?? '', field: spec.clusterIPs ? 'spec.clusterIPs[0]' : 'spec.clusterIP', family: undefined }]
    : families.map((f, i) => ({ ip: ips[i] ?? '', field: `spec.clusterIPs[${i}]`, family: f }));
  candidates.forEach(({ ip, field, family }, i) => {
    if (family !== undefined && family !== 'IPv4' && family !== 'IPv6') {
      warnings.push({ object, field: `spec.ipFamilies[${i}]`, message: `${show(family)} is not IPv4 or IPv6; ignoring that family` });
      return;
    }
    if (ip === '') return;
    const parsed = parseIp(ip);
    if (!parsed) {
      warnings.push({ object, field, message: `${show(ip)} is not a valid IP address; skipping the Service in that family` });
      return;
    }
    if (family !== undefined && parsed.family !== family) {
      warnings.push({ object, field, message: `${parsed.text} is not an ${family} address as spec.ipFamilies[${i}] says; skipping the Service in that family` });
      return;
    }
    // The object's own string when already canonical (formatting makes a new one per Service).
    out[parsed.family] ??= ip === parsed.text ? ip : parsed.text;
  });
  return out;
}

function readIpList(values: unknown, fieldName: string, object: string, warnings: Warning[]): Record<IpFamily, string[]> {
  const out = byFamily();
  (list(values) ?? []).forEach((v, i) => {
    const s = str(v);
    // The API server does not validate empty externalIPs; kube-proxy skips them quietly.
    if (s !== undefined && s.trim() === '') return;
    const ip = s === undefined ? null : parseIp(s);
    if (!ip) warnings.push({ object, field: `${fieldName}[${i}]`, message: `${show(v)} is not a valid IP address; ignoring it` });
    else pushUnique(out[ip.family], ip.text);
  });
  return out;
}

function readSourceRanges(values: unknown, object: string, warnings: Warning[]): Record<IpFamily, string[]> {
  const out = byFamily();
  (list(values) ?? []).forEach((v, i) => {
    // kube-proxy trims each range (MapCIDRsByIPFamily) and prints the network address.
    const s = str(v)?.trim();
    if (s === '') return;
    const cidr = s === undefined ? null : parseCidr(s);
    if (!cidr) warnings.push({ object, field: `spec.loadBalancerSourceRanges[${i}]`, message: `${show(v)} is not a valid CIDR; ignoring it` });
    else pushUnique(out[cidr.family], cidr.text);
  });
  return out;
}

function readIngress(status: unknown, object: string, warnings: Warning[]): Record<IpFamily, string[]> {
  const out = byFamily();
  const ingress = list(record(record(status)?.loadBalancer)?.ingress) ?? [];
  ingress.forEach((raw, i) => {
    const ing = record(raw);
    const ip = str(ing?.ip) ?? '';
    if (ip === '') return;
    const mode = ing?.ipMode;
    // IsVIPMode: only ipMode unset or VIP is programmed; Proxy-mode load balancers
    // send traffic to the node, not to the VIP.
    if (mode !== undefined && mode !== null && mode !== 'VIP') {
      if (mode !== 'Proxy') warnings.push({ object, field: `status.loadBalancer.ingress[${i}].ipMode`, message: `${show(mode)} is not VIP or Proxy; ignoring this ingress` });
      return;
    }
    const parsed = parseIp(ip);
    if (!parsed) warnings.push({ object, field: `status.loadBalancer.ingress[${i}].ip`, message: `${show(ip)} is not a valid IP address; ignoring it` });
    else pushUnique(out[parsed.family], parsed.text);
  });
  return out;
}

function readPolicy(v: unknown, field: string, object: string, warnings: Warning[]): boolean | undefined {
  if (v === undefined || v === null || v === 'Cluster') return false;
  if (v === 'Local') return true;
  warnings.push({ object, field, message: `${show(v)} is not Cluster or Local` });
  return undefined;
}

function readAffinity(spec: Readonly<Record<string, unknown>>, object: string, warnings: Warning[]): SessionAffinity | null | undefined {
  const kind = spec.sessionAffinity;
  if (kind === undefined || kind === null || kind === 'None') return null;
  if (kind !== 'ClientIP') {
    warnings.push({ object, field: 'spec.sessionAffinity', message: `${show(kind)} is not None or ClientIP; skipping the Service` });
    return undefined;
  }
  const raw = record(record(spec.sessionAffinityConfig)?.clientIP)?.timeoutSeconds;
  if (raw === undefined || raw === null) return { timeoutSeconds: defaultAffinitySeconds };
  const t = int(raw);
  if (t === undefined || t < 1 || t > maxAffinitySeconds) {
    warnings.push({ object, field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', message: `${show(raw)} is not an integer in 1-${maxAffinitySeconds}; skipping the Service` });
    return undefined;
  }
  return { timeoutSeconds: t };
}

function readCommon(svc: V1Service, namespace: string, name: string, object: string, warnings: Warning[]): ServiceCommon | undefined {
  const spec = record(svc.spec) ?? {};
  const type = str(spec.type) ?? 'ClusterIP';
  const externalIPs = readIpList(spec.externalIPs, 'spec.externalIPs', object, warnings);
  // ExternallyAccessible (pkg/api/v1/service): NodePort, LoadBalancer, or ClusterIP with externalIPs.
  const accessible = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && (list(spec.externalIPs)?.length ?? 0) > 0);
  const etpLocal = readPolicy(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', object, warnings);
  const itpLocal = readPolicy(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', object, warnings);
  const affinity = readAffinity(spec, object, warnings);
  if (etpLocal === undefined || itpLocal === undefined || affinity === undefined) return undefined;
  const externalPolicyLocal = accessible && etpLocal;
  let healthCheckNodePort = 0;
  if (type === 'LoadBalancer' && externalPolicyLocal) {
    const raw = spec.healthCheckNodePort;
    const hc = int(raw);
    if (isPort(hc)) healthCheckNodePort = hc;
    else warnings.push({ object, field: 'spec.healthCheckNodePort', message: raw === undefined ? 'missing on a LoadBalancer Service with externalTrafficPolicy Local' : `${show(raw)} is not a port in 1-65535; no health check node port` });
  }
  return {
    namespace, name, externalIPs,
    vips: readIngress(svc.status, object, warnings),
    sourceRanges: readSourceRanges(spec.loadBalancerSourceRanges, object, warnings),
    healthCheckNodePort,
    sessionAffinity: affinity,
    externalPolicyLocal,
    internalPolicyLocal: itpLocal,
    ipvs: parseIpvsAnnotations(record(record(svc.metadata)?.annotations), object, warnings),
  };
}

interface PortSpec { portName: string; protocol: ServiceProtocol; port: number; nodePort: number }

function readPorts(spec: Readonly<Record<string, unknown>>, object: string, warnings: Warning[]): PortSpec[] {
  const out: PortSpec[] = [];
  const seen = new Set<string>();
  (list(spec.ports) ?? []).forEach((raw, i) => {
    const p = record(raw);
    const field = `spec.ports[${i}]`;
    const rawProtocol = p?.protocol ?? 'TCP';
    const protocol = protocols.find((x) => x === rawProtocol);
    if (protocol === undefined) {
      warnings.push({ object, field: `${field}.protocol`, message: `${show(rawProtocol)} is not TCP, UDP or SCTP; skipping the port` });
      return;
    }
    const port = int(p?.port);
    if (!isPort(port)) {
      warnings.push({ object, field: `${field}.port`, message: `${show(p?.port)} is not a port in 1-65535; skipping the port` });
      return;
    }
    const rawNodePort = p?.nodePort;
    const nodePort = rawNodePort === undefined || rawNodePort === null || rawNodePort === 0 ? 0 : int(rawNodePort);
    if (nodePort === undefined || (nodePort !== 0 && !isPort(nodePort))) {
      warnings.push({ object, field: `${field}.nodePort`, message: `${show(rawNodePort)} is not a port in 1-65535; skipping the port` });
      return;
    }
    const portName = str(p?.name) ?? '';
    const id = `${portName}/${protocol}`;
    if (seen.has(id)) {
      warnings.push({ object, field: `${field}.name`, message: `duplicate port name ${show(portName)} for ${protocol}; skipping the port` });
      return;
    }
    seen.add(id);
    out.push({ portName, protocol, port, nodePort });
  });
  return out;
}

/**
 * Converts a Service into ServicePorts for each IP family it has a cluster IP
 * in. Never throws. Ignored Services (isIgnoredService) give no ports and no
 * warnings; invalid fields give warnings naming the Service and the field, and
 * skip the Service (cluster IP, affinity, traffic policies), the port (port,
 * nodePort, protocol) or just the value (an externalIP, source range or ingress IP).
 */
export function fromService(svc: V1Service): ServiceConversion {
  const warnings: Warning[] = [];
  if (!record(svc)) return { ports: [], warnings: [{ object: 'Service', field: '(object)', message: 'not an object; skipping it' }] };
  const meta = record(svc.metadata);
  const name = str(meta?.name) ?? '';
  // Manifests without a namespace land in "default", as with kubectl apply.
  const namespace = str(meta?.namespace) || 'default';
  const object = `Service ${namespace}/${name}`;
  if (name === '') {
    warnings.push({ object: 'Service', field: 'metadata.name', message: 'missing; skipping the Service' });
    return { ports: [], warnings };
  }
  const spec = record(svc.spec) ?? {};
  if (isIgnoredService(svc)) {
    // The API server always sets clusterIP (or "None"); a manifest without one was
    // probably written by hand for `plan`, so say why nothing happens.
    const labels = stringMap(meta?.labels);
    const byLabel = serviceProxyNameLabel in labels || headlessLabel in labels;
    if (!byLabel && spec.clusterIP === undefined && spec.clusterIPs === undefined && str(spec.type) !== 'ExternalName') {
      warnings.push({ object, field: 'spec.clusterIP', message: 'missing; a Service without a cluster IP is not proxied' });
    }
    return { ports: [], warnings };
  }
  const type = str(spec.type) ?? 'ClusterIP';
  if (!(serviceTypes as readonly string[]).includes(type)) {
    warnings.push({ object, field: 'spec.type', message: `${show(spec.type)} is not a Service type; skipping the Service` });
    return { ports: [], warnings };
  }
  const ips = clusterIPs(spec, object, warnings);
  const common = readCommon(svc, namespace, name, object, warnings);
  if (!common) return { ports: [], warnings };
  const portSpecs = readPorts(spec, object, warnings);
  const ports: ServicePort[] = [];
  // A namespace repeats across its Services: one shared copy.
  const ns = sharedName(namespace);
  for (const family of ipFamilies) {
    const clusterIP = ips[family];
    if (clusterIP === undefined) continue;
    for (const p of portSpecs) {
      ports.push({
        // Interned: one flat copy, shared with the key of the Service's EndpointSlices.
        key: intern(servicePortKey(namespace, name, p.portName, p.protocol)),
        family,
        namespace: ns,
        name,
        portName: p.portName,
        protocol: p.protocol,
        clusterIP,
        port: p.port,
        nodePort: p.nodePort,
        // Most Services have none of these: they share one empty list instead of six arrays each.
        externalIPs: compactList(common.externalIPs[family]),
        loadBalancerVIPs: compactList(common.vips[family]),
        loadBalancerSourceRanges: compactList(common.sourceRanges[family]),
        healthCheckNodePort: common.healthCheckNodePort,
        sessionAffinity: common.sessionAffinity,
        externalPolicyLocal: common.externalPolicyLocal,
        internalPolicyLocal: common.internalPolicyLocal,
        ipvs: common.ipvs,
      });
    }
  }
  return { ports, warnings };
}
