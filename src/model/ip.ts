// IP address and CIDR parsing with the canonical text forms kube-proxy produces.
// kube-proxy parses with k8s.io/utils/net ParseIPSloppy/ParseCIDRSloppy (IPv4
// octets may carry leading zeros, read as decimal) and prints with Go's
// net.IP.String(): IPv6 in RFC 5952 form, IPv4-mapped IPv6 printed as IPv4.
// Every ipset entry, virtual server and bound address uses these forms, so two
// spellings of one address never yield two kernel objects.

import type { IpFamily } from './types.ts';

/** A parsed IP address. */
export interface ParsedIp {
  readonly family: IpFamily;
  /** Canonical text (Go's net.IP.String()). */
  readonly text: string;
  /** 4 or 16 bytes. */
  readonly bytes: Uint8Array;
}

/** A parsed CIDR, with the network address (host bits cleared) as kube-proxy prints it. */
export interface ParsedCidr {
  readonly family: IpFamily;
  readonly network: Uint8Array;
  readonly prefix: number;
  /** Canonical text, e.g. `10.0.0.0/8` for input `10.1.2.3/8`. */
  readonly text: string;
}

function parseIpv4(s: string): Uint8Array | null {
  // One pass over the characters: this runs for every endpoint of every
  // EndpointSlice event, and split() plus a regex per octet was a tenth of the
  // garbage of a one-endpoint change.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e; // the end closes the last octet like a '.'
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return null;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return null;
      value = value * 10 + (c - 0x30);
      if (value > 255) return null;
    } else {
      return null;
    }
  }
  return part === 4 ? out : null;
}

function parseIpv6(s: string): Uint8Array | null {
  if (s.length < 2 || /[^0-9a-fA-F:.]/.test(s)) return null;
  const out = new Uint8Array(16);
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): string[] | null => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const words: number[] = [];
  const pushGroups = (gs: string[], isLast: boolean): boolean => {
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i]!;
      if (g.includes('.')) {
        if (!isLast || i !== gs.length - 1) return false;
        const v4 = parseIpv4(g);
        if (!v4) return false;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      words.push(parseInt(g, 16));
    }
    return true;
  };
  const headEndsList = halves.length === 1;
  if (!pushGroups(head, headEndsList)) return null;
  const headLen = words.length;
  if (!pushGroups(tail, true)) return null;
  const tailLen = words.length - headLen;
  if (halves.length === 1) {
    if (words.length !== 8) return null;
  } else if (headLen + tailLen > 7) {
    return null;
  }
  const zeros = 8 - headLen - tailLen;
  const all = [...words.slice(0, headLen), ...new Array<number>(halves.length === 2 ? zeros : 0).fill(0), ...words.slice(headLen)];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (all[i]! >> 8) & 0xff;
    out[i * 2 + 1] = all[i]! & 0xff;
  }
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Canonical text of 4 or 16 address bytes (Go's net.IP.String()). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  // Longest run of at least two zero groups becomes "::" (the first on ties).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/**
 * Parses an IPv4 or IPv6 address as kube-proxy does (leading zeros allowed in
 * IPv4 octets). Returns null for anything else, including surrounding spaces;
 * never throws. IPv4-mapped IPv6 addresses are IPv4, as in Go.
 */
export function parseIp(s: string): ParsedIp | null {
  if (typeof s !== 'string' || s.length === 0 || s.length > 64) return null;
  if (!s.includes(':')) {
    const b = parseIpv4(s);
    return b ? { family: 'IPv4', text: formatIp(b), bytes: b } : null;
  }
  const b = parseIpv6(s);
  if (!b) return null;
  if (isV4Mapped(b)) {
    const v4 = b.slice(12);
    return { family: 'IPv4', text: formatIp(v4), bytes: v4 };
  }
  return { family: 'IPv6', text: formatIp(b), bytes: b };
}

/** Whether `s` is an IPv4 address as Go prints one (four octets 0-255, no leading zeros). Allocates nothing. */
function isCanonicalIpv4(s: string): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3 || (leadingZero && digits > 1)) return false;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) leadingZero = c === 0x30;
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

/**
 * The canonical text of an address, exactly `parseIp(s)?.text`, returning `s`
 * itself when it already is canonical IPv4 (the usual endpoint address, read
 * for every endpoint of every EndpointSlice event: no bytes, no new string).
 * The family is IPv6 exactly when the text has a ':'. Never throws.
 */
export function canonicalIpText(s: string): string | null {
  if (typeof s === 'string' && isCanonicalIpv4(s)) return s;
  return parseIp(s)?.text ?? null;
}

/**
 * Parses `address/prefix` into its network (host bits cleared), as Go's
 * ParseCIDR does. Returns null on any malformed input; never throws.
 */
export function parseCidr(s: string): ParsedCidr | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return null;
  // Go rejects an IPv4-mapped IPv6 CIDR's IPv4 reinterpretation only by length; keep the written family.
  const raw = addr.includes(':') ? parseIpv6(addr) : parseIpv4(addr);
  if (!raw) return null;
  const prefix = Number(bits);
  if (prefix > raw.length * 8) return null;
  const network = maskBytes(raw, prefix);
  const family: IpFamily = raw.length === 4 ? 'IPv4' : 'IPv6';
  return { family, network, prefix, text: `${formatIp(network)}/${prefix}` };
}

function maskBytes(b: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = b[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Whether `ip` lies inside `cidr` (false when the families differ). */
export function cidrContains(cidr: ParsedCidr, ip: ParsedIp): boolean {
  if (cidr.network.length !== ip.bytes.length) return false;
  const masked = maskBytes(ip.bytes, cidr.prefix);
  for (let i = 0; i < masked.length; i++) if (masked[i] !== cidr.network[i]) return false;
  return true;
}

/** Whether the address is loopback (127.0.0.0/8 or ::1). */
export function isLoopback(ip: ParsedIp): boolean {
  if (ip.family === 'IPv4') return ip.bytes[0] === 127;
  return ip.text === '::1';
}

/** Whether the address is an IPv6 link-local unicast address (fe80::/10). */
export function isIpv6LinkLocal(ip: ParsedIp): boolean {
  return ip.family === 'IPv6' && ip.bytes[0] === 0xfe && (ip.bytes[1]! & 0xc0) === 0x80;
}

/** Whether the CIDR covers its whole family (0.0.0.0/0 or ::/0). */
export function isZeroCidr(cidr: ParsedCidr): boolean {
  return cidr.prefix === 0;
}
