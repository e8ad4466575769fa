// kube-proxy's command-line flags (cmd/kube-proxy/app/options.go and the
// logging flags of component-base), what each sets in the configuration, and
// whether it still applies when --config is given. kube-proxy replaces its
// whole configuration with the file's, so every flag bound to the
// configuration is ignored then; only --hostname-override, the logging flags
// and the flags that are not configuration (--master, --cleanup, ...) survive.

import { parseIp } from '../model/ip.ts';
import { ipPortFlagProblem } from './addresses.ts';
import { parseDuration } from './duration.ts';
import { parseBool, parseInt32, stringSlice } from './flags.ts';
import { readCidrs, readClusterCIDRs, readNodePortAddresses } from './kube-proxy-config.ts';
import type { ConfigError, DetectLocalMode, ProxyConfig } from './types.ts';

/** A ProxyConfig under construction. */
export type Draft = DeepMutable<ProxyConfig>;
type DeepMutable<T> = {
  -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] extends object ? DeepMutable<T[K]> : T[K];
};

/** How a flag's raw text is converted. */
export type FlagKind = 'bool' | 'string' | 'stringSlice' | 'duration' | 'int' | 'float' | 'mapStringBool' | 'ip' | 'ipPort' | 'version';

/**
 * `config`: sets a configuration field; kube-proxy ignores it when --config is
 * given. `always`: applies with or without --config. `option`: not part of the
 * configuration (read by the loader). `other-mode`: accepted, has no effect in
 * IPVS mode, warned about.
 */
export type FlagScope = 'config' | 'always' | 'option' | 'other-mode';

/** Converted value of a flag (all occurrences folded, as pflag does). */
export type FlagValue = boolean | string | number | string[] | Record<string, boolean>;

/** One flag. */
export interface FlagDef {
  readonly name: string;
  readonly kind: FlagKind;
  readonly scope: FlagScope;
  readonly shorthand?: string;
  /** KubeProxyConfiguration path it sets, to name the flag in validation errors. */
  readonly field?: string;
  /** Sets the value; pushes errors for values the configuration cannot hold. */
  readonly apply?: (d: Draft, v: FlagValue, errors: ConfigError[]) => void;
  /** Warning printed whenever the flag is given (no effect in ipvs-proxy). */
  readonly note?: string;
}

const str = (v: FlagValue): string => v as string;
const num = (v: FlagValue): number => v as number;
const bool = (v: FlagValue): boolean => v as boolean;
const list = (v: FlagValue): string[] => v as string[];

const d = (name: string, kind: FlagKind, field: string, apply: FlagDef['apply']): FlagDef => ({ name, kind, scope: 'config', field, apply });
const always = (name: string, kind: FlagKind, field: string, apply: FlagDef['apply'], shorthand?: string): FlagDef => ({
  name, kind, scope: 'always', field, apply, ...(shorthand ? { shorthand } : {}),
});
const option = (name: string, kind: FlagKind, shorthand?: string): FlagDef => ({ name, kind, scope: 'option', ...(shorthand ? { shorthand } : {}) });
const otherMode = (name: string, kind: FlagKind, note: string): FlagDef => ({ name, kind, scope: 'other-mode', note });
const noEffect = (name: string, kind: FlagKind, note: string, scope: FlagScope = 'config'): FlagDef => ({ name, kind, scope, note });

/** Every flag kube-proxy accepts on Linux, plus ipvs-proxy's own. */
export const kubeProxyFlags: readonly FlagDef[] = [
  option('config', 'string'),
  option('write-config-to', 'string'),
  option('cleanup', 'bool'),
  option('init-only', 'bool'),
  option('master', 'string'),
  option('help', 'bool', 'h'),
  option('version', 'version'),
  // Deprecated port flags: only without --config (Options.Complete).
  option('healthz-port', 'int'),
  option('metrics-port', 'int'),
  { name: 'proxy-mode', kind: 'string', scope: 'option' },
  d('feature-gates', 'mapStringBool', 'featureGates', (c, v) => { c.featureGates = { ...c.featureGates, ...(v as Record<string, boolean>) }; }),
  d('kubeconfig', 'string', 'clientConnection.kubeconfig', (c, v) => { c.clientConnection.kubeconfig = str(v); }),
  d('kube-api-content-type', 'string', 'clientConnection.contentType', (c, v) => { c.clientConnection.contentType = str(v); }),
  d('kube-api-burst', 'int', 'clientConnection.burst', (c, v) => { c.clientConnection.burst = num(v); }),
  d('kube-api-qps', 'float', 'clientConnection.qps', (c, v) => { c.clientConnection.qps = num(v); }),
  always('hostname-override', 'string', 'hostnameOverride', (c, v, errors) => {
    // processHostnameOverrideFlag: a set but blank override is an error; it is trimmed and lower-cased.
    const name = str(v).trim();
    if (str(v) !== '' && name === '') errors.push({ field: '--hostname-override', message: 'empty hostname-override is invalid' });
    else if (name !== '') c.hostnameOverride = name.toLowerCase();
  }),
  d('bind-address', 'ip', 'bindAddress', (c, v) => { c.bindAddress = str(v); }),
  d('healthz-bind-address', 'ipPort', 'healthzBindAddress', (c, v) => { c.healthzBindAddress = str(v); }),
  d('metrics-bind-address', 'ipPort', 'metricsBindAddress', (c, v) => { c.metricsBindAddress = str(v); }),
  d('bind-address-hard-fail', 'bool', 'bindAddressHardFail', (c, v) => { c.bindAddressHardFail = bool(v); }),
  d('profiling', 'bool', 'enableProfiling', (c, v) => { c.enableProfiling = bool(v); }),
  noEffect('show-hidden-metrics-for-version', 'string', 'has no effect in ipvs-proxy (no hidden metrics)'),
  d('iptables-masquerade-bit', 'int', 'iptables.masqueradeBit', (c, v) => { c.masqueradeBit = num(v); }),
  d('masquerade-all', 'bool', 'iptables.masqueradeAll', (c, v) => { c.masqueradeAll = bool(v); }),
  otherMode('iptables-localhost-nodeports', 'bool', 'applies to iptables mode only (IPVS mode never accepts NodePorts on localhost)'),
  otherMode('iptables-sync-period', 'duration', 'applies to iptables mode only; kube-proxy ignores it in IPVS mode too (use --ipvs-sync-period)'),
  otherMode('iptables-min-sync-period', 'duration', 'applies to iptables mode only; kube-proxy ignores it in IPVS mode too (use --ipvs-min-sync-period)'),
  d('ipvs-sync-period', 'duration', 'ipvs.syncPeriod', (c, v) => { c.ipvs.syncPeriodMs = num(v); }),
  d('ipvs-min-sync-period', 'duration', 'ipvs.minSyncPeriod', (c, v) => { c.ipvs.minSyncPeriodMs = num(v); }),
  d('ipvs-scheduler', 'string', 'ipvs.scheduler', (c, v) => { c.ipvs.scheduler = str(v).trim() || 'rr'; }),
  d('ipvs-exclude-cidrs', 'stringSlice', 'ipvs.excludeCIDRs', (c, v, errors) => { c.ipvs.excludeCIDRs = readCidrs(list(v), '--ipvs-exclude-cidrs', errors); }),
  d('ipvs-strict-arp', 'bool', 'ipvs.strictARP', (c, v) => { c.ipvs.strictARP = bool(v); }),
  d('ipvs-tcp-timeout', 'duration', 'ipvs.tcpTimeout', (c, v) => { c.ipvs.tcpTimeoutMs = num(v); }),
  d('ipvs-tcpfin-timeout', 'duration', 'ipvs.tcpFinTimeout', (c, v) => { c.ipvs.tcpFinTimeoutMs = num(v); }),
  d('ipvs-udp-timeout', 'duration', 'ipvs.udpTimeout', (c, v) => { c.ipvs.udpTimeoutMs = num(v); }),
  d('detect-local-mode', 'string', 'detectLocalMode', (c, v) => { c.detectLocalMode = (str(v) || 'ClusterCIDR') as DetectLocalMode; }),
  d('pod-bridge-interface', 'string', 'detectLocal.bridgeInterface', (c, v) => { c.bridgeInterface = str(v); }),
  d('pod-interface-name-prefix', 'string', 'detectLocal.interfaceNamePrefix', (c, v) => { c.interfaceNamePrefix = str(v); }),
  d('cluster-cidr', 'string', 'clusterCIDR', (c, v, errors) => { c.clusterCIDRs = readClusterCIDRs(str(v), '--cluster-cidr', errors); }),
  d('nodeport-addresses', 'stringSlice', 'nodePortAddresses', (c, v, errors) => { c.nodePortAddresses = readNodePortAddresses(list(v), '--nodeport-addresses', errors); }),
  d('oom-score-adj', 'int', 'oomScoreAdj', (c, v) => { c.oomScoreAdj = num(v); }),
  d('conntrack-max-per-core', 'int', 'conntrack.maxPerCore', (c, v) => { c.conntrack.maxPerCore = num(v); }),
  d('conntrack-min', 'int', 'conntrack.min', (c, v) => { c.conntrack.min = num(v); }),
  d('conntrack-tcp-timeout-established', 'duration', 'conntrack.tcpEstablishedTimeout', (c, v) => { c.conntrack.tcpEstablishedTimeoutMs = num(v); }),
  d('conntrack-tcp-timeout-close-wait', 'duration', 'conntrack.tcpCloseWaitTimeout', (c, v) => { c.conntrack.tcpCloseWaitTimeoutMs = num(v); }),
  d('conntrack-tcp-be-liberal', 'bool', 'conntrack.tcpBeLiberal', (c, v) => { c.conntrack.tcpBeLiberal = bool(v); }),
  d('conntrack-udp-timeout', 'duration', 'conntrack.udpTimeout', (c, v) => { c.conntrack.udpTimeoutMs = num(v); }),
  d('conntrack-udp-timeout-stream', 'duration', 'conntrack.udpStreamTimeout', (c, v) => { c.conntrack.udpStreamTimeoutMs = num(v); }),
  d('config-sync-period', 'duration', 'configSyncPeriod', (c, v) => { c.configSyncPeriodMs = num(v); }),
  // Logging flags win over the file's logging section (copyLogsFromFlags).
  always('v', 'int', 'logging.verbosity', (c, v) => { c.logging.verbosity = num(v); }, 'v'),
  always('logging-format', 'string', 'logging.format', (c, v) => { c.logging.format = str(v); }),
  always('log-flush-frequency', 'duration', 'logging.flushFrequency', (c, v) => { c.logging.flushFrequencyMs = num(v); }),
  noEffect('vmodule', 'string', 'has no effect (ipvs-proxy has no per-file verbosity)', 'always'),
  noEffect('log-text-split-stream', 'bool', 'has no effect (ipvs-proxy logs JSON lines to stdout)', 'always'),
  noEffect('log-text-info-buffer-size', 'string', 'has no effect (ipvs-proxy logs JSON lines to stdout)', 'always'),
  noEffect('log-json-split-stream', 'bool', 'has no effect (ipvs-proxy logs JSON lines to stdout)', 'always'),
  noEffect('log-json-info-buffer-size', 'string', 'has no effect (ipvs-proxy logs JSON lines to stdout)', 'always'),
  // ipvs-proxy's own flags; not in KubeProxyConfiguration, so they apply with --config too.
  always('ipvs-traffic-metrics', 'bool', 'trafficMetrics.enabled', (c, v) => { c.trafficMetrics.enabled = bool(v); }),
  always('ipvs-traffic-metrics-max-series', 'int', 'trafficMetrics.maxSeries', (c, v) => { c.trafficMetrics.maxSeries = num(v); }),
];

function convertOne(kind: FlagKind, raw: string): { value: FlagValue } | { problem: string } {
  switch (kind) {
    case 'bool': {
      const b = parseBool(raw);
      return b === null ? { problem: `strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax` } : { value: b };
    }
    case 'duration': {
      const ms = parseDuration(raw);
      return ms === null ? { problem: `time: invalid duration ${JSON.stringify(raw)}` } : { value: ms };
    }
    case 'int': {
      const n = parseInt32(raw);
      return n === null ? { problem: `strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax` } : { value: n };
    }
    case 'float': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      return Number.isFinite(n) ? { value: n } : { problem: `strconv.ParseFloat: parsing ${JSON.stringify(raw)}: invalid syntax` };
    }
    case 'ip':
      return parseIp(raw) ? { value: raw } : { problem: `${JSON.stringify(raw)} is not a valid IP address` };
    case 'ipPort': {
      const problem = ipPortFlagProblem(raw);
      return problem ? { problem } : { value: raw };
    }
    default:
      return { value: raw };
  }
}

function convertMap(values: readonly string[]): { value: FlagValue } | { problem: string } {
  const out: Record<string, boolean> = {};
  for (const pair of stringSlice(values)) {
    const [k, v = ''] = pair.split('=', 2);
    const b = parseBool(v.trim());
    if (!k || b === null) return { problem: `missing bool value for ${JSON.stringify(pair)}` };
    out[k.trim()] = b;
  }
  return { value: out };
}

/**
 * Converts every occurrence of one flag to its value with pflag's rules:
 * scalars take the last occurrence, slices and maps accumulate. Returns the
 * problem in pflag's wording when a value does not parse.
 */
export function convertFlag(def: FlagDef, raws: readonly string[]): { value: FlagValue } | { problem: string } {
  if (def.kind === 'stringSlice') return { value: stringSlice(raws) };
  if (def.kind === 'mapStringBool') return convertMap(raws);
  let last: { value: FlagValue } | { problem: string } = { value: '' };
  for (const raw of raws) {
    last = convertOne(def.kind, raw);
    if ('problem' in last) return { problem: `invalid argument ${JSON.stringify(raw)} for "--${def.name}" flag: ${last.problem}` };
  }
  return last;
}
