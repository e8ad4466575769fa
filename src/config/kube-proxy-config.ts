// Parser for a kube-proxy configuration file (KubeProxyConfiguration,
// kubeproxy.config.k8s.io/v1alpha1), e.g. the `config.conf` of kubeadm's
// kube-proxy ConfigMap. Every field that applies to IPVS mode is read with
// v1alpha1's defaulting (defaults.go) and conversion (conversion.go: in mode
// ipvs, ipvs.syncPeriod/minSyncPeriod are the sync periods and
// iptables.masqueradeAll/masqueradeBit the masquerade settings). Fields that
// only matter to other modes or platforms are accepted, with a warning when
// they are set to something that would have had an effect; unknown fields are
// accepted with a warning, as kube-proxy's lenient decoding does.

import { parse as parseYaml } from 'yaml';
import { parseCidr, parseIp } from '../model/ip.ts';
import { appendPortIfNeeded } from './addresses.ts';
import { parseDuration } from './duration.ts';
import { notApplicableWarnings, unknownFieldWarnings } from './file-warnings.ts';
import { type ConfigError, type DetectLocalMode, type ProxyConfig, defaultProxyConfig, proxyHealthzPort, proxyMetricsPort } from './types.ts';
import { validateProxyConfig } from './validate.ts';

export { type ConfigError, formatConfigError } from './types.ts';

/** The apiVersion and kind we accept. */
export const kubeProxyApiVersion = 'kubeproxy.config.k8s.io/v1alpha1';
export const kubeProxyKind = 'KubeProxyConfiguration';

/** The parsed configuration with warnings, or every error found. */
export type ConfigResult =
  | { readonly ok: true; readonly config: ProxyConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly ConfigError[]; readonly warnings: readonly string[] };

type Obj = Readonly<Record<string, unknown>>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

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

  /** An integer; `zeroMeansDefault` mirrors defaults.go, where 0 is "unset". */
  int(o: Obj, key: string, path: string, dflt: number, zeroMeansDefault = false): number {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number' && Number.isInteger(v)) return v === 0 && zeroMeansDefault ? dflt : v;
    this.fail(path, `must be an integer, not ${JSON.stringify(v)}`);
    return dflt;
  }

  number(o: Obj, key: string, path: string, dflt: number): number {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number' && Number.isFinite(v)) return v === 0 ? dflt : v;
    this.fail(path, `must be a number, not ${JSON.stringify(v)}`);
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
    return ms === 0 && zeroMeansDefault ? dflt : ms;
  }

  cidrs(values: readonly string[], path: string): string[] {
    return readCidrs(values, path, this.errors);
  }
}

/** Canonical CIDRs; each invalid one is an error naming `path[i]`. */
export function readCidrs(values: readonly string[], path: string, errors: ConfigError[]): string[] {
  const out: string[] = [];
  values.forEach((s, i) => {
    const c = parseCidr(s.trim());
    if (!c) errors.push({ field: `${path}[${i}]`, message: `${JSON.stringify(s)} is not a CIDR` });
    else out.push(c.text);
  });
  return out;
}

/** clusterCIDR / --cluster-cidr: one CIDR, or a dual-stack pair, comma-separated. */
export function readClusterCIDRs(raw: string, field: string, errors: ConfigError[]): string[] {
  if (raw.trim() === '') return [];
  const cidrs = readCidrs(raw.split(',').map((s) => s.trim()), field, errors);
  const families = cidrs.map((c) => (c.includes(':') ? 'IPv6' : 'IPv4'));
  if (cidrs.length > 2 || (cidrs.length === 2 && families[0] === families[1])) {
    errors.push({ field, message: 'must be one CIDR, or two of different IP families (dual-stack)' });
  }
  return cidrs;
}

/** nodePortAddresses / --nodeport-addresses: CIDRs, or exactly `primary`. */
export function readNodePortAddresses(values: readonly string[], field: string, errors: ConfigError[]): string[] {
  if (values.includes('primary')) {
    if (values.length !== 1) errors.push({ field, message: '"primary" must be the only value' });
    return ['primary'];
  }
  return readCidrs(values, field, errors);
}

/** Healthz/metrics defaults follow the family of bindAddress (defaults.go getDefaultAddresses). */
export function defaultListenAddresses(bindAddress: string): { healthz: string; metrics: string } {
  const v6 = parseIp(bindAddress)?.family === 'IPv6';
  return v6
    ? { healthz: `[::]:${proxyHealthzPort}`, metrics: `[::1]:${proxyMetricsPort}` }
    : { healthz: `0.0.0.0:${proxyHealthzPort}`, metrics: `127.0.0.1:${proxyMetricsPort}` };
}

function readIpvs(r: Reader, doc: Obj): ProxyConfig['ipvs'] {
  const d = defaultProxyConfig.ipvs;
  const ipvs = r.section(doc, 'ipvs', 'ipvs');
  return {
    scheduler: r.string(ipvs, 'scheduler', 'ipvs.scheduler', '').trim() || d.scheduler,
    excludeCIDRs: r.cidrs(r.strings(ipvs, 'excludeCIDRs', 'ipvs.excludeCIDRs'), 'ipvs.excludeCIDRs'),
    strictARP: r.bool(ipvs, 'strictARP', 'ipvs.strictARP', d.strictARP),
    syncPeriodMs: r.duration(ipvs, 'syncPeriod', 'ipvs.syncPeriod', d.syncPeriodMs, true),
    minSyncPeriodMs: r.duration(ipvs, 'minSyncPeriod', 'ipvs.minSyncPeriod', d.minSyncPeriodMs, false),
    tcpTimeoutMs: r.duration(ipvs, 'tcpTimeout', 'ipvs.tcpTimeout', 0, false),
    tcpFinTimeoutMs: r.duration(ipvs, 'tcpFinTimeout', 'ipvs.tcpFinTimeout', 0, false),
    udpTimeoutMs: r.duration(ipvs, 'udpTimeout', 'ipvs.udpTimeout', 0, false),
  };
}

function readConntrack(r: Reader, doc: Obj): ProxyConfig['conntrack'] {
  const d = defaultProxyConfig.conntrack;
  const ct = r.section(doc, 'conntrack', 'conntrack');
  // Pointer fields in v1alpha1: only null/absent takes the default, an explicit 0 stays 0.
  return {
    maxPerCore: r.int(ct, 'maxPerCore', 'conntrack.maxPerCore', d.maxPerCore),
    min: r.int(ct, 'min', 'conntrack.min', d.min),
    tcpEstablishedTimeoutMs: r.duration(ct, 'tcpEstablishedTimeout', 'conntrack.tcpEstablishedTimeout', d.tcpEstablishedTimeoutMs, false),
    tcpCloseWaitTimeoutMs: r.duration(ct, 'tcpCloseWaitTimeout', 'conntrack.tcpCloseWaitTimeout', d.tcpCloseWaitTimeoutMs, false),
    tcpBeLiberal: r.bool(ct, 'tcpBeLiberal', 'conntrack.tcpBeLiberal', d.tcpBeLiberal),
    udpTimeoutMs: r.duration(ct, 'udpTimeout', 'conntrack.udpTimeout', d.udpTimeoutMs, false),
    udpStreamTimeoutMs: r.duration(ct, 'udpStreamTimeout', 'conntrack.udpStreamTimeout', d.udpStreamTimeoutMs, false),
  };
}

function readClientConnection(r: Reader, doc: Obj): ProxyConfig['clientConnection'] {
  const d = defaultProxyConfig.clientConnection;
  const cc = r.section(doc, 'clientConnection', 'clientConnection');
  return {
    kubeconfig: r.string(cc, 'kubeconfig', 'clientConnection.kubeconfig', d.kubeconfig),
    acceptContentTypes: r.string(cc, 'acceptContentTypes', 'clientConnection.acceptContentTypes', d.acceptContentTypes),
    contentType: r.string(cc, 'contentType', 'clientConnection.contentType', '') || d.contentType,
    qps: r.number(cc, 'qps', 'clientConnection.qps', d.qps),
    burst: r.int(cc, 'burst', 'clientConnection.burst', d.burst, true),
  };
}

function readLogging(r: Reader, doc: Obj): ProxyConfig['logging'] {
  const d = defaultProxyConfig.logging;
  const lg = r.section(doc, 'logging', 'logging');
  return {
    verbosity: r.int(lg, 'verbosity', 'logging.verbosity', d.verbosity),
    format: r.string(lg, 'format', 'logging.format', '') || d.format,
    // component-base accepts a duration string or a number of nanoseconds (kubeadm writes 0).
    flushFrequencyMs: typeof lg.flushFrequency === 'number'
      ? (lg.flushFrequency / 1e6 || d.flushFrequencyMs)
      : r.duration(lg, 'flushFrequency', 'logging.flushFrequency', d.flushFrequencyMs, true),
  };
}

function readFeatureGates(r: Reader, doc: Obj): Record<string, boolean> {
  const fg = r.section(doc, 'featureGates', 'featureGates');
  const out: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(fg)) {
    if (typeof v === 'boolean') out[k] = v;
    else r.fail(`featureGates.${k}`, `must be true or false, not ${JSON.stringify(v)}`);
  }
  return out;
}

function readListeners(r: Reader, doc: Obj, bindAddress: string): Pick<ProxyConfig, 'healthzBindAddress' | 'metricsBindAddress'> {
  const d = defaultListenAddresses(bindAddress);
  const healthz = r.string(doc, 'healthzBindAddress', 'healthzBindAddress', '');
  const metrics = r.string(doc, 'metricsBindAddress', 'metricsBindAddress', '');
  return {
    healthzBindAddress: healthz === '' ? d.healthz : appendPortIfNeeded(healthz, proxyHealthzPort),
    metricsBindAddress: metrics === '' ? d.metrics : appendPortIfNeeded(metrics, proxyMetricsPort),
  };
}

function readMode(r: Reader, doc: Obj, warnings: string[]): void {
  const mode = r.string(doc, 'mode', 'mode', '');
  if (mode === '') {
    warnings.push('mode: empty; kube-proxy would run its iptables mode (and use iptables.syncPeriod), ipvs-proxy runs IPVS with ipvs.syncPeriod');
  } else if (mode !== 'ipvs') {
    r.fail('mode', `${JSON.stringify(mode)} is not supported: ipvs-proxy implements only mode "ipvs"`);
  }
}

function readMasqueradeBit(r: Reader, iptables: Obj): number {
  const raw = iptables.masqueradeBit;
  if (raw === undefined || raw === null) return defaultProxyConfig.masqueradeBit;
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  r.fail('iptables.masqueradeBit', `${JSON.stringify(raw)} must be an integer in 0-31`);
  return defaultProxyConfig.masqueradeBit;
}

function readDocument(r: Reader, doc: Obj, warnings: string[]): ProxyConfig {
  if (doc.apiVersion !== kubeProxyApiVersion) r.fail('apiVersion', `must be ${kubeProxyApiVersion}, not ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== kubeProxyKind) r.fail('kind', `must be ${kubeProxyKind}, not ${JSON.stringify(doc.kind)}`);
  readMode(r, doc, warnings);
  const bindAddress = r.string(doc, 'bindAddress', 'bindAddress', '').trim() || defaultProxyConfig.bindAddress;
  if (!parseIp(bindAddress)) r.fail('bindAddress', `${JSON.stringify(bindAddress)} is not an IP address`);
  const iptables = r.section(doc, 'iptables', 'iptables');
  const detectLocal = r.section(doc, 'detectLocal', 'detectLocal');
  return {
    mode: 'ipvs',
    // kube-proxy lower-cases and trims the hostname override.
    hostnameOverride: r.string(doc, 'hostnameOverride', 'hostnameOverride', '').trim().toLowerCase(),
    bindAddress,
    ...readListeners(r, doc, bindAddress),
    bindAddressHardFail: r.bool(doc, 'bindAddressHardFail', 'bindAddressHardFail', false),
    clusterCIDRs: readClusterCIDRs(r.string(doc, 'clusterCIDR', 'clusterCIDR', ''), 'clusterCIDR', r.errors),
    detectLocalMode: (r.string(doc, 'detectLocalMode', 'detectLocalMode', '') || defaultProxyConfig.detectLocalMode) as DetectLocalMode,
    bridgeInterface: r.string(detectLocal, 'bridgeInterface', 'detectLocal.bridgeInterface', ''),
    interfaceNamePrefix: r.string(detectLocal, 'interfaceNamePrefix', 'detectLocal.interfaceNamePrefix', ''),
    nodePortAddresses: readNodePortAddresses(r.strings(doc, 'nodePortAddresses', 'nodePortAddresses'), 'nodePortAddresses', r.errors),
    masqueradeAll: r.bool(iptables, 'masqueradeAll', 'iptables.masqueradeAll', defaultProxyConfig.masqueradeAll),
    masqueradeBit: readMasqueradeBit(r, iptables),
    ipvs: readIpvs(r, doc),
    conntrack: readConntrack(r, doc),
    configSyncPeriodMs: r.duration(doc, 'configSyncPeriod', 'configSyncPeriod', defaultProxyConfig.configSyncPeriodMs, true),
    clientConnection: readClientConnection(r, doc),
    oomScoreAdj: r.int(doc, 'oomScoreAdj', 'oomScoreAdj', defaultProxyConfig.oomScoreAdj),
    enableProfiling: r.bool(doc, 'enableProfiling', 'enableProfiling', false),
    featureGates: readFeatureGates(r, doc),
    logging: readLogging(r, doc),
    trafficMetrics: defaultProxyConfig.trafficMetrics,
  };
}

/**
 * Parses a KubeProxyConfiguration document (YAML or JSON) into a ProxyConfig
 * with kube-proxy's defaults for unset fields, and validates it. Never throws:
 * malformed YAML, a wrong apiVersion/kind, a mode other than ipvs and every
 * invalid field are returned as errors naming the field and the reason.
 * Unknown fields and settings for other modes come back as warnings.
 */
export function parseKubeProxyConfig(text: string): ConfigResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [{ field: '(file)', message: `not valid YAML: ${err instanceof Error ? err.message : String(err)}` }], warnings: [] };
  }
  if (!isObj(doc)) return { ok: false, errors: [{ field: '(file)', message: 'must be a KubeProxyConfiguration mapping' }], warnings: [] };
  const r = new Reader();
  const warnings: string[] = [];
  const config = readDocument(r, doc, warnings);
  warnings.push(...unknownFieldWarnings(doc), ...notApplicableWarnings(doc));
  if (r.errors.length > 0) return { ok: false, errors: r.errors, warnings };
  const errors = validateProxyConfig(config);
  return errors.length > 0 ? { ok: false, errors, warnings } : { ok: true, config, warnings };
}
