// host:port addresses of the healthz and metrics listeners, with Go's
// net.SplitHostPort rules and kube-proxy's AppendPortIfNeeded.

import { parseIp } from '../model/ip.ts';

/** A listener address split into host and port. */
export interface HostPort {
  /** IP without brackets, e.g. `0.0.0.0`, `::1`. */
  readonly host: string;
  readonly port: number;
}

/**
 * Go's net.SplitHostPort: `1.2.3.4:80`, `[::1]:80`, `host:80`. Returns null for
 * a missing port, a bare IPv6 address (too many colons) or unbalanced brackets;
 * the port is returned as text, unvalidated.
 */
export function splitHostPort(s: string): { host: string; port: string } | null {
  const colon = s.lastIndexOf(':');
  if (colon < 0) return null;
  let host = s.slice(0, colon);
  const port = s.slice(colon + 1);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return null;
    host = host.slice(1, -1);
    if (host.includes('[') || host.includes(']')) return null;
  } else if (host.includes(':') || host.includes('[') || host.includes(']')) {
    return null;
  }
  return { host, port };
}

/** A port 1-65535 written as decimal digits, or null. */
function parsePort(s: string): number | null {
  if (!/^[0-9]{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : null;
}

/**
 * kube-proxy's AppendPortIfNeeded: an address that already has a port, or is
 * not an IP (left for validation to reject), is returned as is; a bare IP gets
 * `:port` (`[ip]:port` for IPv6). Never throws.
 */
export function appendPortIfNeeded(addr: string, port: number): string {
  if (splitHostPort(addr)) return addr;
  const ip = parseIp(addr);
  if (!ip) return addr;
  return ip.family === 'IPv6' ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/**
 * Why `input` is not a valid `IP:port` listener address (kube-proxy's
 * validateHostPort), or null when it is.
 */
export function hostPortProblem(input: string): string | null {
  const hp = splitHostPort(input);
  if (!hp) return `${JSON.stringify(input)} must be IP:port`;
  if (!parseIp(hp.host)) return `${JSON.stringify(hp.host)} must be a valid IP`;
  if (parsePort(hp.port) === null) return `${JSON.stringify(hp.port)} must be a valid port`;
  return null;
}

/**
 * Splits a validated listener address. Returns null for anything
 * hostPortProblem rejects, so callers never bind a half-parsed address.
 */
export function parseHostPort(input: string): HostPort | null {
  if (hostPortProblem(input) !== null) return null;
  const hp = splitHostPort(input)!;
  return { host: hp.host, port: parsePort(hp.port)! };
}

/**
 * Why `s` is not acceptable to kube-proxy's IPPortVar flag (`IP` or `IP:port`,
 * empty allowed), or null when it is.
 */
export function ipPortFlagProblem(s: string): string | null {
  if (s === '' || parseIp(s)) return null;
  const hp = splitHostPort(s);
  if (!hp) return `${JSON.stringify(s)} is not in a valid format (ip or ip:port)`;
  if (!parseIp(hp.host)) return `${JSON.stringify(hp.host)} is not a valid IP address`;
  if (parsePort(hp.port) === null) return `${JSON.stringify(hp.port)} is not a valid number`;
  return null;
}
