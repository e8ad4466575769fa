// Parser for a kube-proxy configuration file (KubeProxyConfiguration,
// kubeproxy.config.k8s.io/v1alpha1), for the fields the reconciler needs. Other
// fields are accepted and ignored, so an existing kube-proxy ConfigMap works as is.

import { parse as parseYaml } from 'yaml';
import { schedulers } from '../ipvs/types.ts';
import { parseCidr, parseIp } from '../model/ip.ts';
import { parseDuration } from './duration.ts';
import { type DetectLocalMode, type ProxyConfig, defaultProxyConfig, detectLocalModes } from './types.ts';

/** The apiVersion and kind we accept. */
export const kubeProxyApiVersion = 'kubeproxy.config.k8s.io/v1alpha1';
export const kubeProxyKind = 'KubeProxyConfiguration';

/** One invalid field: its path and why. */
export interface ConfigError {
  readonly field: string;
  readonly message: string;
}

/** The parsed configuration, or every error found. */
export type ConfigResult =
  | { readonly ok: true; readonly config: ProxyConfig }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/** `field: message` for humans. */
export function formatConfigError(e: ConfigError): string {
  return `${e.field}: ${e.message}`;
}

type Obj = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads typed fields, collecting errors instead of throwing. */
class Reader {
  readonly errors: ConfigError[] = [];

  fail(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  section(o: Obj, key: string, path: string): Obj {
    const v = o[key];
    if (v === undefined || v === null) return {};
    if (isObj(v)) return v;
    this.fail(path, 'must be a mapping');
    return {};
  }

  string(o: Obj, key: string, path: string, dflt: string): string {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'string') return v;
    this.fail(path, `must be a string, not ${JSON.stringify(v)}`);
    return dflt;
  }

  bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    this.fail(path, `must be true or false, not ${JSON.stringify(v)}`);
    return dflt;
  }

  strings(o: Obj, key: string, path: string): string[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) return v;
    this.fail(path, 'must be a list of strings');
    return [];
  }

  /** A Go duration in ms; `zeroMeansDefault` mirrors defaults.go, where 0 is "unset". */
  duration(o: Obj, key: string, path: string, dflt: number, zeroMeansDefault: boolean): number {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    const ms = typeof v === 'string' ? parseDuration(v) : null;
    if (ms === null) {
      this.fail(path, `${JSON.stringify(v)} is not a duration such as "30s" or "1m0s"`);
      return dflt;
    }
    if (ms < 0) {
      this.fail(path, `${JSON.stringify(v)} must not be negative`);
      return dflt;
    }
    return ms === 0 && zeroMeansDefault ? dflt : ms;
  }

  cidrs(values: readonly string[], path: string): string[] {
    const out: string[] = [];
    values.forEach((s, i) => {
      const c = parseCidr(s.trim());
      if (!c) this.fail(`${path}[${i}]`, `${JSON.stringify(s)} is not a CIDR`);
      else out.push(c.text);
    });
    return out;
  }
}

function readClusterCIDRs(r: Reader, raw: string): string[] {
  if (raw.trim() === '') return [];
  const cidrs = r.cidrs(raw.split(',').map((s) => s.trim()), 'clusterCIDR');
  const families = cidrs.map((c) => (c.includes(':') ? 'IPv6' : 'IPv4'));
  if (cidrs.length > 2 || (cidrs.length === 2 && families[0] === families[1])) {
    r.fail('clusterCIDR', 'must be one CIDR, or two of different IP families (dual-stack)');
  }
  return cidrs;
}

function readNodePortAddresses(r: Reader, values: readonly string[]): string[] {
  if (values.includes('primary')) {
    if (values.length !== 1) r.fail('nodePortAddresses', '"primary" must be the only value');
    return ['primary'];
  }
  return r.cidrs(values, 'nodePortAddresses');
}

function readDetectLocal(r: Reader, doc: Obj): Pick<ProxyConfig, 'detectLocalMode' | 'bridgeInterface' | 'interfaceNamePrefix'> {
  const rawMode = r.string(doc, 'detectLocalMode', 'detectLocalMode', '');
  let detectLocalMode: DetectLocalMode = defaultProxyConfig.detectLocalMode;
  if (rawMode !== '') {
    if ((detectLocalModes as readonly string[]).includes(rawMode)) detectLocalMode = rawMode as DetectLocalMode;
    else r.fail('detectLocalMode', `${JSON.stringify(rawMode)} is not one of ${detectLocalModes.join(', ')}`);
  }
  const dl = r.section(doc, 'detectLocal', 'detectLocal');
  const bridgeInterface = r.string(dl, 'bridgeInterface', 'detectLocal.bridgeInterface', '');
  const interfaceNamePrefix = r.string(dl, 'interfaceNamePrefix', 'detectLocal.interfaceNamePrefix', '');
  if (detectLocalMode === 'BridgeInterface' && bridgeInterface === '') r.fail('detectLocal.bridgeInterface', 'required when detectLocalMode is BridgeInterface');
  if (detectLocalMode === 'InterfaceNamePrefix' && interfaceNamePrefix === '') r.fail('detectLocal.interfaceNamePrefix', 'required when detectLocalMode is InterfaceNamePrefix');
  return { detectLocalMode, bridgeInterface, interfaceNamePrefix };
}

function readIpvs(r: Reader, doc: Obj): ProxyConfig['ipvs'] {
  const d = defaultProxyConfig.ipvs;
  const ipvs = r.section(doc, 'ipvs', 'ipvs');
  let scheduler = r.string(ipvs, 'scheduler', 'ipvs.scheduler', '').trim();
  if (scheduler === '') scheduler = d.scheduler;
  // Upstream validation once allowed a fixed list without mh; we accept every
  // scheduler the kernel ships, since an unknown one only fails at sync time.
  if (!(schedulers as readonly string[]).includes(scheduler)) {
    r.fail('ipvs.scheduler', `${JSON.stringify(scheduler)} is not an IPVS scheduler (one of ${schedulers.join(', ')})`);
    scheduler = d.scheduler;
  }
  const syncPeriodMs = r.duration(ipvs, 'syncPeriod', 'ipvs.syncPeriod', d.syncPeriodMs, true);
  const minSyncPeriodMs = r.duration(ipvs, 'minSyncPeriod', 'ipvs.minSyncPeriod', d.minSyncPeriodMs, false);
  if (minSyncPeriodMs > syncPeriodMs) r.fail('ipvs.minSyncPeriod', 'must not be greater than ipvs.syncPeriod');
  return {
    scheduler,
    excludeCIDRs: r.cidrs(r.strings(ipvs, 'excludeCIDRs', 'ipvs.excludeCIDRs'), 'ipvs.excludeCIDRs'),
    strictARP: r.bool(ipvs, 'strictARP', 'ipvs.strictARP', d.strictARP),
    syncPeriodMs,
    minSyncPeriodMs,
    tcpTimeoutMs: r.duration(ipvs, 'tcpTimeout', 'ipvs.tcpTimeout', 0, false),
    tcpFinTimeoutMs: r.duration(ipvs, 'tcpFinTimeout', 'ipvs.tcpFinTimeout', 0, false),
    udpTimeoutMs: r.duration(ipvs, 'udpTimeout', 'ipvs.udpTimeout', 0, false),
  };
}

/**
 * Parses a KubeProxyConfiguration document (YAML or JSON) into a ProxyConfig
 * with kube-proxy's defaults for unset fields. Never throws: malformed YAML, a
 * wrong apiVersion/kind and every invalid field are returned as errors naming
 * the field and the reason.
 */
export function parseKubeProxyConfig(text: string): ConfigResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [{ field: '(file)', message: `not valid YAML: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  if (!isObj(doc)) return { ok: false, errors: [{ field: '(file)', message: 'must be a KubeProxyConfiguration mapping' }] };
  const r = new Reader();
  if (doc.apiVersion !== kubeProxyApiVersion) r.fail('apiVersion', `must be ${kubeProxyApiVersion}, not ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== kubeProxyKind) r.fail('kind', `must be ${kubeProxyKind}, not ${JSON.stringify(doc.kind)}`);

  const bindAddress = r.string(doc, 'bindAddress', 'bindAddress', defaultProxyConfig.bindAddress).trim() || defaultProxyConfig.bindAddress;
  if (!parseIp(bindAddress)) r.fail('bindAddress', `${JSON.stringify(bindAddress)} is not an IP address`);
  const iptables = r.section(doc, 'iptables', 'iptables');
  let masqueradeBit = defaultProxyConfig.masqueradeBit;
  const rawBit = iptables.masqueradeBit;
  if (rawBit !== undefined && rawBit !== null) {
    if (typeof rawBit === 'number' && Number.isInteger(rawBit) && rawBit >= 0 && rawBit <= 31) masqueradeBit = rawBit;
    else r.fail('iptables.masqueradeBit', `${JSON.stringify(rawBit)} must be an integer in 0-31`);
  }
  const config: ProxyConfig = {
    // kube-proxy lower-cases and trims the hostname override.
    hostnameOverride: r.string(doc, 'hostnameOverride', 'hostnameOverride', '').trim().toLowerCase(),
    bindAddress,
    clusterCIDRs: readClusterCIDRs(r, r.string(doc, 'clusterCIDR', 'clusterCIDR', '')),
    ...readDetectLocal(r, doc),
    nodePortAddresses: readNodePortAddresses(r, r.strings(doc, 'nodePortAddresses', 'nodePortAddresses')),
    masqueradeAll: r.bool(iptables, 'masqueradeAll', 'iptables.masqueradeAll', defaultProxyConfig.masqueradeAll),
    masqueradeBit,
    ipvs: readIpvs(r, doc),
  };
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, config };
}
