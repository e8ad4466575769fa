// discovery.k8s.io/v1 EndpointSlice → endpoints per ServicePort key, with
// kube-proxy's rules (EndpointSliceCache.addEndpoints, endpointSliceCacheKeys).

import type { V1EndpointSlice } from '@kubernetes/client-node';
import { emptyList, intern, sharedName } from './compact.ts';
import { sortedUniqueEndpoints } from './endpoint-key.ts';
import { canonicalIpText } from './ip.ts';
import { bool, int, isPort, list, record, show, str, stringMap } from './raw.ts';
import { headlessLabel, serviceProxyNameLabel } from './service.ts';
import { type Endpoint, type IpFamily, type ServiceProtocol, type Warning, servicePortKey } from './types.ts';

/** The label naming the Service an EndpointSlice belongs to. */
export const serviceNameLabel = 'kubernetes.io/service-name';

/** Endpoints of one ServicePort from one slice. */
export interface SlicePortEndpoints {
  readonly key: string;
  /** Sorted by endpointKey, one per ip:port (a non-terminating copy preferred), as buildSnapshot lists them. */
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

type EndpointBase = Omit<Endpoint, 'port'>;

/** Zone and node names repeat across thousands of endpoints: one shared copy each (see sharedName). */
function nameOrNull(v: unknown): string | null {
  const s = str(v);
  return s !== undefined && s !== '' ? sharedName(s) : null;
}

function hintNames(v: unknown): readonly string[] {
  const items = list(v);
  // Most endpoints have no hints: they share one empty array.
  if (!items || items.length === 0) return emptyList;
  const names = items.map((h) => nameOrNull(record(h)?.name)).filter((n): n is string => n !== null);
  return names.length ? [...new Set(names)].sort() : emptyList;
}

/**
 * The endpoint with its port, as an object literal with every field in one
 * order: all endpoints then share one V8 hidden class with the fields stored
 * inline (a `{ ...base, port }` spread adds `port` out of line, ~40 bytes more).
 */
function withPort(b: EndpointBase, port: number): Endpoint {
  return {
    address: b.address,
    port,
    ready: b.ready,
    serving: b.serving,
    terminating: b.terminating,
    nodeName: b.nodeName,
    zone: b.zone,
    zoneHints: b.zoneHints,
    nodeHints: b.nodeHints,
  };
}

function readEndpoint(raw: unknown, family: IpFamily, field: string, object: string, warnings: Warning[]): EndpointBase | undefined {
  const ep = record(raw);
  const addresses = list(ep?.addresses) ?? [];
  if (addresses.length === 0) {
    warnings.push({ object, field: `${field}.addresses`, message: 'empty; skipping the endpoint' });
    return undefined;
  }
  // kube-proxy uses only the first address of an endpoint.
  const written = str(addresses[0]) ?? '';
  const text = canonicalIpText(written);
  if (text === null || (text.includes(':') ? 'IPv6' : 'IPv4') !== family) {
    warnings.push({ object, field: `${field}.addresses[0]`, message: `${show(addresses[0])} is not an ${family} address; skipping the endpoint` });
    return undefined;
  }
  const cond = record(ep?.conditions);
  const hints = record(ep?.hints);
  return {
    // The parsed object's own string when already canonical (JSON.parse makes it
    // flat, and the informer's store holds it anyway); formatting made a new one.
    address: text,
    // Unset ready/serving mean true; unset terminating means false (EndpointConditions docs).
    ready: bool(cond?.ready) ?? true,
    serving: bool(cond?.serving) ?? true,
    terminating: bool(cond?.terminating) ?? false,
    nodeName: nameOrNull(ep?.nodeName),
    zone: nameOrNull(ep?.zone),
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

  const base: EndpointBase[] = [];
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
      // Interned: one flat copy shared with the Service's ServicePort key.
      key: intern(servicePortKey(namespace, service, name, protocol as ServiceProtocol)),
      endpoints: base.length === 0 ? emptyList : sortedUniqueEndpoints(base.map((ep) => withPort(ep, port))),
    });
  });
  return { family, ports, warnings };
}
