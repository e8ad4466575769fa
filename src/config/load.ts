// loadProxyConfig: kube-proxy's command line (and --config file) to a frozen
// ProxyConfig, with kube-proxy's precedence (cmd/kube-proxy/app/options.go
// Complete): with --config the file is the whole configuration, except
// --hostname-override and the logging flags, which win over it; without it the
// flags fill kube-proxy's defaults. Pure apart from the injected file read.

import { appendPortIfNeeded } from './addresses.ts';
import { splitArgs } from './flags.ts';
import { parseKubeProxyConfig } from './kube-proxy-config.ts';
import { type Draft, type FlagDef, type FlagValue, convertFlag, kubeProxyFlags } from './kube-proxy-flags.ts';
import { type ConfigError, type ProxyConfig, defaultProxyConfig, formatConfigError, proxyHealthzPort, proxyMetricsPort } from './types.ts';
import { validateProxyConfig } from './validate.ts';

/** Command-line settings that are not part of the configuration. */
export interface ProxyOptions {
  /** Path given to --config, or "". */
  readonly configFile: string;
  readonly writeConfigTo: string;
  /** --cleanup: remove every kernel object ipvs-proxy owns and exit. */
  readonly cleanup: boolean;
  /** --init-only: do the privileged setup and exit. */
  readonly initOnly: boolean;
  /** --master: API server URL overriding the kubeconfig's. */
  readonly master: string;
  readonly help: boolean;
  /** --version value: "" when absent, "true", "raw", ... */
  readonly version: string;
}

/** A loaded configuration. */
export interface LoadedConfig {
  readonly config: ProxyConfig;
  readonly options: ProxyOptions;
  /** Accepted settings without effect, ignored flags, unknown file fields. */
  readonly warnings: readonly string[];
}

/**
 * Invalid command line or configuration. `kind` is `usage` for pflag's errors
 * (unknown flag, missing value, unexpected argument) and `invalid` for values
 * kube-proxy's parsing or validation rejects; `errors` name each field or flag.
 */
export class ConfigLoadError extends Error {
  readonly code = 'EINVALIDCONFIG';
  readonly kind: 'usage' | 'invalid';
  readonly errors: readonly ConfigError[];
  readonly warnings: readonly string[];
  constructor(kind: 'usage' | 'invalid', errors: readonly ConfigError[], warnings: readonly string[] = []) {
    super(errors.map(formatConfigError).join('; '));
    this.name = 'ConfigLoadError';
    this.kind = kind;
    this.errors = errors;
    this.warnings = warnings;
  }
}

/** Reads a file's text; throws (e.g. ENOENT) when it cannot. */
export type ReadFile = (path: string) => string;

type Values = Map<string, FlagValue>;

function convertAll(flags: ReadonlyMap<string, readonly string[]>, errors: ConfigError[]): Values {
  const values: Values = new Map();
  for (const def of kubeProxyFlags) {
    const raws = flags.get(def.name);
    if (!raws) continue;
    const r = convertFlag(def, raws);
    if ('problem' in r) errors.push({ field: `--${def.name}`, message: r.problem });
    else values.set(def.name, r.value);
  }
  return values;
}

function readOptions(v: Values): ProxyOptions {
  const s = (n: string): string => (v.get(n) as string | undefined) ?? '';
  const b = (n: string): boolean => (v.get(n) as boolean | undefined) ?? false;
  return {
    configFile: s('config'), writeConfigTo: s('write-config-to'), cleanup: b('cleanup'), initOnly: b('init-only'),
    master: s('master'), help: b('help'), version: s('version'),
  };
}

function draftOf(config: ProxyConfig): Draft {
  return structuredClone(config) as Draft;
}

function applyFlags(draft: Draft, v: Values, scopes: readonly FlagDef['scope'][], errors: ConfigError[]): void {
  for (const def of kubeProxyFlags) {
    const value = v.get(def.name);
    if (value !== undefined && def.apply && scopes.includes(def.scope)) def.apply(draft, value, errors);
  }
}

function flagWarnings(v: Values, withFile: boolean): string[] {
  const out: string[] = [];
  for (const def of kubeProxyFlags) {
    if (!v.has(def.name)) continue;
    if (def.note) out.push(`--${def.name}: ${def.note}`);
    else if (withFile && def.scope === 'config') out.push(`--${def.name}: ignored because --config is given (kube-proxy ignores it too); set ${def.field ?? 'it'} in the file`);
  }
  for (const n of ['healthz-port', 'metrics-port']) {
    if (v.has(n)) out.push(`--${n}: deprecated; use --${n.replace('-port', '-bind-address')}${withFile ? ' (ignored because --config is given)' : ''}`);
  }
  if (v.get('feature-gates') !== undefined && !withFile) out.push('--feature-gates: Kubernetes feature gates have no effect in ipvs-proxy');
  if (v.get('profiling') === true && !withFile) out.push('--profiling: has no effect in ipvs-proxy (no /debug/pprof)');
  return out;
}

/** Options.Complete without a file: the deprecated port flags rewrite the listener addresses (0 disables). */
function applyDeprecatedPorts(draft: Draft, v: Values): void {
  const port = (n: string, dflt: number): number => (v.get(n) as number | undefined) ?? dflt;
  const healthz = port('healthz-port', proxyHealthzPort);
  const metrics = port('metrics-port', proxyMetricsPort);
  draft.healthzBindAddress = healthz === 0 ? '' : appendPortIfNeeded(draft.healthzBindAddress, healthz);
  draft.metricsBindAddress = metrics === 0 ? '' : appendPortIfNeeded(draft.metricsBindAddress, metrics);
}

/** Names a validation error by the flag that set the field, when one did. */
function renameByFlag(errors: readonly ConfigError[], v: Values, scopes: readonly FlagDef['scope'][]): ConfigError[] {
  return errors.map((e) => {
    const def = kubeProxyFlags.find((f) => f.field === e.field && v.has(f.name) && scopes.includes(f.scope));
    return def ? { field: `--${def.name} (${e.field})`, message: e.message } : e;
  });
}

function fromFile(path: string, readFile: ReadFile, warnings: string[]): ProxyConfig {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigLoadError('invalid', [{ field: '--config', message: `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}` }], warnings);
  }
  const parsed = parseKubeProxyConfig(text);
  warnings.push(...parsed.warnings.map((w) => `${path}: ${w}`));
  if (!parsed.ok) throw new ConfigLoadError('invalid', parsed.errors.map((e) => ({ field: `${path}: ${e.field}`, message: e.message })), warnings);
  return parsed.config;
}

function checkMode(v: Values, errors: ConfigError[]): void {
  const mode = v.get('proxy-mode');
  if (mode !== undefined && mode !== '' && mode !== 'ipvs') {
    errors.push({ field: '--proxy-mode', message: `${JSON.stringify(mode)} is not supported: ipvs-proxy implements only mode "ipvs"` });
  }
}

/**
 * Loads the configuration from kube-proxy's command line: every kube-proxy
 * flag is accepted (pflag syntax), --config names a KubeProxyConfiguration
 * read through `readFile`, and precedence, defaulting and validation follow
 * kube-proxy. Returns the frozen configuration, the non-configuration options
 * and warnings (settings without effect in IPVS mode, flags ignored because
 * of --config, unknown file fields). Throws ConfigLoadError naming every
 * invalid flag or field and why; a --proxy-mode other than ipvs is an error
 * even with --config, since the operator asked for another proxy.
 */
export function loadProxyConfig(argv: readonly string[], readFile: ReadFile): LoadedConfig {
  const split = splitArgs(argv, kubeProxyFlags.map((f) => ({ name: f.name, bool: f.kind === 'bool' || f.kind === 'version', ...(f.shorthand ? { shorthand: f.shorthand } : {}) })));
  const usage: ConfigError[] = [...split.errors];
  for (const arg of split.positional) if (arg !== '') usage.push({ field: arg, message: `unexpected argument ${JSON.stringify(arg)}: ipvs-proxy takes flags only` });
  if (usage.length > 0) throw new ConfigLoadError('usage', usage);
  const errors: ConfigError[] = [];
  const values = convertAll(split.flags, errors);
  checkMode(values, errors);
  if (errors.length > 0) throw new ConfigLoadError('invalid', errors);
  const options = readOptions(values);
  const withFile = options.configFile !== '';
  const warnings = flagWarnings(values, withFile);
  if (options.help || options.version !== '') return { config: defaultProxyConfig, options, warnings };

  const draft = draftOf(withFile ? fromFile(options.configFile, readFile, warnings) : defaultProxyConfig);
  const scopes: FlagDef['scope'][] = withFile ? ['always'] : ['config', 'always'];
  applyFlags(draft, values, scopes, errors);
  if (!withFile) applyDeprecatedPorts(draft, values);
  const config = deepFreeze(draft) as ProxyConfig;
  errors.push(...renameByFlag(validateProxyConfig(config), values, scopes));
  if (errors.length > 0) throw new ConfigLoadError('invalid', errors, warnings);
  return { config, options, warnings };
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
