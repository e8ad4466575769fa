// SPDX-License-Identifier: Apache-2.0
// IP addresses as the ipset tool reads and prints them. ipset prints with
// glibc's inet_ntop, so IPv6 is compressed (longest run of two or more zero
// groups, the first on ties) and IPv4-mapped or IPv4-compatible addresses end
// in dotted quads (`::ffff:1.2.3.4`, measured in the sandbox). Pure: no I/O.

import type { IpSetFamily } from './types.ts';

/** Parses a dotted-quad IPv4 address; null for anything else. */
function ipv4Bytes(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    // ipset (inet_aton) would read a leading zero as octal (`010.0.0.9` is 8.0.0.9,
    // seen in the sandbox); nothing of ours writes such text, so it is refused.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function groupsOf(part: string): string[] {
  return part === '' ? [] : part.split(':');
}

/** Parses an IPv6 address (optionally ending in a dotted quad) into 8 words; null if malformed. */
function ipv6Words(text: string): number[] | null {
  if (text.length < 2 || /[^0-9a-fA-F:.]/.test(text)) return null;
  let body = text;
  let tailV4: number[] = [];
  if (body.includes('.')) {
    const i = body.lastIndexOf(':');
    const v4 = ipv4Bytes(body.slice(i + 1));
    if (!v4) return null;
    tailV4 = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    // Keep a `::` that ends right before the quad; drop a single separating `:`.
    const rest = body.slice(0, i + 1);
    body = rest.endsWith('::') ? rest : rest.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const given = [...head, ...tail];
  if (!given.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const total = given.length + tailV4.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const zeros = new Array<number>(8 - total).fill(0);
  const hex = (gs: string[]): number[] => gs.map((g) => parseInt(g, 16));
  return [...hex(head), ...(halves.length === 2 ? zeros : []), ...hex(tail), ...tailV4];
}

/** Formats 8 words as glibc's inet_ntop does. */
function formatIpv6(w: readonly number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  // glibc: an address whose first 96 bits are zero (IPv4-compatible) or are ::ffff
  // (IPv4-mapped) ends in a dotted quad.
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    const v4 = `${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
    return bestLen === 6 ? `::${v4}` : `::ffff:${v4}`;
  }
  const hex = (ws: readonly number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

/** An address as bits: 4 or 16 bytes. */
export interface IpBits {
  readonly family: IpSetFamily;
  readonly bytes: readonly number[];
}

/** Parses an address of the given family; null when it is not one (wrong family included). Never throws. */
export function parseAddress(family: IpSetFamily, text: string): IpBits | null {
  if (family === 'inet') {
    const b = ipv4Bytes(text);
    return b ? { family, bytes: b } : null;
  }
  const w = ipv6Words(text);
  if (!w) return null;
  return { family, bytes: w.flatMap((x) => [x >> 8, x & 0xff]) };
}

/** The text ipset prints for an address. */
export function formatAddress(ip: IpBits): string {
  if (ip.family === 'inet') return ip.bytes.join('.');
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!);
  return formatIpv6(w);
}

/** The address with every bit after `prefix` cleared (the network of a CIDR). */
export function networkOf(ip: IpBits, prefix: number): IpBits {
  const bytes = ip.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  return { family: ip.family, bytes };
}

/** Address length in bits: 32 or 128. */
export function addressBits(family: IpSetFamily): number {
  return family === 'inet' ? 32 : 128;
}
