import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigLoadError, type LoadedConfig, loadProxyConfig } from '../config/load.ts';
import { formatConfigError } from '../config/types.ts';
import type { CliIo } from './command.ts';

/**
 * Loads the configuration from kube-proxy's flags (and --config) for a
 * command; prints warnings and errors. Returns null (after printing) when the
 * configuration is invalid.
 */
export function loadAgentConfig(argv: readonly string[], io: CliIo, command: string): LoadedConfig | null {
  try {
    const loaded = loadProxyConfig(argv, (p) => readFileSync(p, 'utf8'));
    for (const w of loaded.warnings) io.stderr.write(`ipvs-proxy ${command}: warning: ${w}\n`);
    return loaded;
  } catch (err) {
    if (!(err instanceof ConfigLoadError)) throw err;
    for (const w of err.warnings) io.stderr.write(`ipvs-proxy ${command}: warning: ${w}\n`);
    for (const e of err.errors) io.stderr.write(`ipvs-proxy ${command}: ${formatConfigError(e)}\n`);
    return null;
  }
}

/** The node name as kube-proxy decides it: --hostname-override, then NODE_NAME, then the hostname; lower-cased and trimmed. */
export function nodeName(hostnameOverride: string): string {
  return (hostnameOverride || process.env.NODE_NAME || hostname()).trim().toLowerCase();
}
