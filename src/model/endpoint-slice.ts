// discovery.k8s.io/v1 EndpointSlice → endpoints per ServicePort key, with
// kube-proxy's rules (EndpointSliceCache.addEndpoints, endpointSliceCacheKeys).

import type { V1EndpointSlice } from '@kubernetes/client-node';
import { parseIp } from './ip.ts';
import { bool, int, isPort, list, record, show, str, stringMap } from './raw.ts';
import { headlessLabel, serviceProxyNameLabel } from './service.ts';
import { type Endpoint, type IpFamily, type ServiceProtocol, type Warning, servicePortKey } from './types.ts';

/** The label naming the Service an EndpointSlice belongs to. */
export const serviceNameLabel = 'kubernetes.io/service-name';

/** Endpoints of one ServicePort from one slice. */
export interface SlicePortEndpoints {
  readonly key: string;
  readonly endpoints: readonly Endpoint[];
}

/** Result of converting one EndpointSlice. */
export interface SliceConversion {
  /** null when the slice is skipped (FQDN, filtered, or invalid). */
  readonly family: IpFamily | null;
  readonly ports: readonly SlicePortEndpoints[];
  readonly warnings: Warning[];
}

const protocols: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** Shared by every endpoint without hints (most of them): one array, not one per endpoint. */
const noHints: readonly string[] = Object.freeze([]);

function hintNames(v: unknown): readonly string[] {
  const items = list(v);
  if (!items || items.length === 0) return noHints;
  const names = items.map((h) => str(record(h)?.name)).filter((n): n is string => n !== undefined && n !== '');
  return names.length ? [...new Set(names)].sort() : noHints;
}

function readEndpoint(raw: unknown, family: IpFamily, field: string, object: string, warnings: Warning[]): Omit<Endpoint, 'port'> | undefined {
  const ep = record(raw);
  const addresses = list(ep?.addresses) ?? [];
  if (addresses.length === 0) {
    warnings.push({ object, field: `${field}.addresses`, message: 'empty; skipping the endpoint' });
    return undefined;
  }
  // kube-proxy uses only the first address of an endpoint.
  const ip = parseIp(str(addresses[0]) ?? '');
  if (!ip || ip.family !== family) {
    warnings.push({ object, field: `${field}.addresses[0]`, message: `${show(addresses[0])} is not an ${family} address; skipping the endpoint` });
    return undefined;
  }
  const cond = record(ep?.conditions);
  const hints = record(ep?.hints);
  const nodeName = str(ep?.nodeName);
  const zone = str(ep?.zone);
  return {
    address: ip.text,
    // Unset ready/serving mean true; unset terminating means false (EndpointConditions docs).
    ready: bool(cond?.ready) ?? true,
    serving: bool(cond?.serving) ?? true,
    terminating: bool(cond?.terminating) ?? false,
    nodeName: nodeName !== undefined && nodeName !== '' ? nodeName : null,
    zone: zone !== undefined && zone !== '' ? zone : null,
    zoneHints: hintNames(hints?.forZones),
    nodeHints: hintNames(hints?.forNodes),
  };
}

/**
 * Converts an EndpointSlice into endpoints per ServicePort key. Never throws.
 * Slices of addressType FQDN and slices labelled for another proxy or a headless
 * Service are skipped quietly; a slice without the service-name label, a port
 * without a name or number, an unknown protocol, or an endpoint without a valid
 * address of the slice's family gives a warning and skips that slice, port or endpoint.
 */
export function fromEndpointSlice(slice: V1EndpointSlice): SliceConversion {
  const warnings: Warning[] = [];
  if (!record(slice)) return { family: null, ports: [], warnings: [{ object: 'EndpointSlice', field: '(object)', message: 'not an object; skipping it' }] };
  const meta = record(slice.metadata);
  const sliceName = str(meta?.name) ?? '';
  const namespace = str(meta?.namespace) || 'default';
  const object = `EndpointSlice ${namespace}/${sliceName}`;
  const skip = (field: string, message: string): SliceConversion => {
    warnings.push({ object, field, message });
    return { family: null, ports: [], warnings };
  };
  const labels = stringMap(meta?.labels);
  if (serviceProxyNameLabel in labels || headlessLabel in labels) return { family: null, ports: [], warnings };
  const service = labels[serviceNameLabel] ?? '';
  if (service === '') return skip(`metadata.labels[${serviceNameLabel}]`, 'missing; skipping the slice');
  if (sliceName === '') return skip('metadata.name', 'missing; skipping the slice');
  const addressType = slice.addressType as unknown;
  if (addressType === 'FQDN') return { family: null, ports: [], warnings };
  if (addressType !== 'IPv4' && addressType !== 'IPv6') return skip('addressType', `${show(addressType)} is not IPv4 or IPv6; skipping the slice`);
  const family: IpFamily = addressType;

  const base: Omit<Endpoint, 'port'>[] = [];
  (list(slice.endpoints) ?? []).forEach((raw, i) => {
    const ep = readEndpoint(raw, family, `endpoints[${i}]`, object, warnings);
    if (ep) base.push(ep);
  });

  const ports: SlicePortEndpoints[] = [];
  (list(slice.ports) ?? []).forEach((raw, i) => {
    const p = record(raw);
    const field = `ports[${i}]`;
    const name = str(p?.name);
    if (name === undefined) {
      // kube-proxy ignores ports with a nil name; an unnamed Service port matches name "".
      warnings.push({ object, field: `${field}.name`, message: 'missing (use "" for an unnamed Service port); skipping the port' });
      return;
    }
    const port = int(p?.port);
    if (!isPort(port)) {
      warnings.push({ object, field: `${field}.port`, message: `${show(p?.port)} is not a port in 1-65535; skipping the port` });
      return;
    }
    const protocol = p?.protocol ?? 'TCP';
    if (typeof protocol !== 'string' || !protocols.includes(protocol)) {
      warnings.push({ object, field: `${field}.protocol`, message: `${show(protocol)} is not TCP, UDP or SCTP; skipping the port` });
      return;
    }
    ports.push({
      key: servicePortKey(namespace, service, name, protocol as ServiceProtocol),
      endpoints: base.map((ep) => ({ ...ep, port })),
    });
  });
  return { family, ports, warnings };
}
