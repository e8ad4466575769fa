// SPDX-License-Identifier: Apache-2.0
// Address text <-> bytes and family names <-> numbers, shared by the real and
// the fake client so both canonicalise addresses the same way.

import { formatIp, parseIp } from '../model/ip.ts';
import type { IpFamily } from '../model/types.ts';
import { Af } from '../netlink/rtnetlink.ts';
import type { AddressFamily } from './types.ts';

/** AF_INET / AF_INET6 for a family name. */
export function familyNumber(f: AddressFamily): number {
  return f === 'inet' ? Af.Inet : Af.Inet6;
}

/** The family name for AF_INET / AF_INET6; null for any other family. */
export function familyName(n: number): AddressFamily | null {
  return n === Af.Inet ? 'inet' : n === Af.Inet6 ? 'inet6' : null;
}

/** The kernel family for the model's IPv4/IPv6. */
export function fromIpFamily(f: IpFamily): AddressFamily {
  return f === 'IPv4' ? 'inet' : 'inet6';
}

/** The model's IPv4/IPv6 for a kernel family. */
export function toIpFamily(f: AddressFamily): IpFamily {
  return f === 'inet' ? 'IPv4' : 'IPv6';
}

/** Longest prefix of a family: 32 or 128. */
export function maxPrefix(f: AddressFamily): number {
  return f === 'inet' ? 32 : 128;
}

/**
 * The bytes of `text` as an address of `family` (4 or 16), or null when the
 * text is not an address of that family. Never throws.
 */
export function addressBytes(family: AddressFamily, text: string): Uint8Array | null {
  if (family === 'inet6' && text.includes(':')) {
    // parseIp turns IPv4-mapped IPv6 into IPv4, as Go does; an inet6 address
    // keeps its 16 bytes.
    const ip = parseIp(text);
    if (!ip) return null;
    if (ip.family === 'IPv6') return ip.bytes;
    const b = new Uint8Array(16);
    b[10] = 0xff;
    b[11] = 0xff;
    b.set(ip.bytes, 12);
    return b;
  }
  const ip = parseIp(text);
  return ip && ip.family === 'IPv4' && family === 'inet' ? ip.bytes : null;
}

/** Canonical text of 4 or 16 address bytes (Go's net.IP.String() for IPv4 and IPv6). */
export function addressText(bytes: Uint8Array): string {
  return formatIp(bytes);
}

/** Canonical text of `text` in `family`, or null when it is not an address of that family. */
export function canonicalAddress(family: AddressFamily, text: string): string | null {
  const b = addressBytes(family, text);
  return b ? addressText(b) : null;
}

/** Listing order: ifindex, family (inet first), address bytes, prefix length. */
export function compareAddressIds(a: AddressIdLike, b: AddressIdLike): number {
  if (a.ifindex !== b.ifindex) return a.ifindex - b.ifindex;
  if (a.family !== b.family) return a.family === 'inet' ? -1 : 1;
  const x = addressBytes(a.family, a.address) ?? new Uint8Array();
  const y = addressBytes(b.family, b.address) ?? new Uint8Array();
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length || a.prefixLength - b.prefixLength;
}

interface AddressIdLike {
  readonly ifindex: number;
  readonly family: AddressFamily;
  readonly address: string;
  readonly prefixLength: number;
}
