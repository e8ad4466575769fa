// SPDX-License-Identifier: Apache-2.0
// Set elements (entries) as ipset reads and prints them, for the set types
// kube-proxy uses. One function checks an element against its set's type and
// family and returns the exact text `ipset save` prints for it, so desired and
// observed entries compare as strings. The fake kernel stores these texts; the
// diff compares through them. Pure: no I/O.
//
// Measured in the sandbox (ipset 7.17, kernel 6.1):
// - `hash:ip,port` without a protocol means tcp (`10.0.0.1,80` is `10.0.0.1,tcp:80`);
// - IPv6 is printed compressed and lower case;
// - `hash:ip,port,net` clears host bits and prints a full-length prefix without
//   `/32` or `/128`; `/0` is refused by the kernel, `/33` by the ipset tool;
// - a bad port or protocol is reported without a line number;
// - `bitmap:port` takes `80`, `tcp:80` or `udp:80`, and prints `80`.
//
// Deliberately narrower than the ipset tool (nothing of ours writes these):
// service names for ports (`http`), protocols other than tcp/udp/sctp, port
// ranges, CIDRs in `hash:ip` (the tool adds every address of the range), and
// IPv4 octets with leading zeros (the tool reads them as octal). They are
// refused with EINVAL.

import { addressBits, formatAddress, networkOf, parseAddress } from './address.ts';
import type { IpSetFamily, IpSetType } from './types.ts';

/** What an element is checked against: the set's type and family. */
export interface SetShape {
  readonly type: IpSetType;
  readonly family: IpSetFamily;
}

/** An element refused, as the ipset tool (`parse`) or the kernel (`kernel`) would refuse it. */
export interface ElementError {
  readonly ok: false;
  readonly code: 'EINVAL';
  readonly message: string;
  /** `parse`: refused by the ipset tool before it reaches the kernel; `kernel`: refused by the kernel. */
  readonly stage: 'parse' | 'kernel';
  /** False where the ipset tool reports the error without "Error in line N" (bad ports). */
  readonly reportsLine: boolean;
}

/** An element accepted: its canonical text, and for bitmap:port the port number. */
export interface ElementOk {
  readonly ok: true;
  readonly element: string;
  /** The port of a bitmap:port element (for range checks). */
  readonly port: number | null;
}

const protocols = new Set(['tcp', 'udp', 'sctp']);

function fail(message: string, stage: 'parse' | 'kernel' = 'parse', reportsLine = true): ElementError {
  return { ok: false, code: 'EINVAL', message, stage, reportsLine };
}

function parsePortNumber(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

/** `proto:port` or a bare port (tcp); canonical `proto:port`. */
function protoPort(text: string): string | ElementError {
  const colon = text.indexOf(':');
  const proto = colon < 0 ? 'tcp' : text.slice(0, colon);
  const portText = colon < 0 ? text : text.slice(colon + 1);
  if (!protocols.has(proto)) return fail(`protocol '${proto}' is not supported`);
  const port = parsePortNumber(portText);
  if (port === null) return fail(`cannot parse '${portText}' as a ${proto} port`, 'parse', false);
  return `${proto}:${port}`;
}

function address(family: IpSetFamily, text: string): string | ElementError {
  const ip = parseAddress(family, text);
  if (!ip) return fail(`cannot parse ${text}: not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`);
  return formatAddress(ip);
}

function network(family: IpSetFamily, text: string): string | ElementError {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const ip = parseAddress(family, addrText);
  if (!ip) return fail(`cannot parse ${addrText}: not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`);
  const bits = addressBits(family);
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > bits) return fail(`'${p}' is out of range 0-${bits}`);
    prefix = Number(p);
  }
  // The tool accepts /0; the kernel's hash:*net types refuse a zero prefix.
  if (prefix === 0) return fail('The value of the CIDR parameter of the IP address is invalid', 'kernel');
  const net = formatAddress(networkOf(ip, prefix));
  return prefix === bits ? net : `${net}/${prefix}`;
}

function bitmapPort(text: string): ElementOk | ElementError {
  const colon = text.indexOf(':');
  if (colon >= 0 && !['tcp', 'udp'].includes(text.slice(0, colon))) return fail('Only protocols TCP and UDP are valid');
  const portText = colon < 0 ? text : text.slice(colon + 1);
  const port = parsePortNumber(portText);
  if (port === null) return fail(`cannot parse '${portText}' as a tcp port`, 'parse', false);
  return { ok: true, element: String(port), port };
}

const missing = ['', 'Second', 'Third'];

/**
 * Checks `text` as an element of a set of this shape and returns the text
 * `ipset save` would print for it. Never throws: a refused element comes back
 * as an `ElementError` saying whether the tool or the kernel refuses it.
 */
export function canonicalElement(shape: SetShape, text: string): ElementOk | ElementError {
  if (shape.type === 'bitmap:port') return bitmapPort(text);
  const parts = text.split(',');
  const want = shape.type.split(',').length;
  if (parts.length < want) return fail(`${missing[parts.length] ?? 'An'} element is missing from ${text}.`);
  if (parts.length > want) return fail(`too many elements in ${text}`);
  const out: string[] = [];
  const kinds = shape.type.slice('hash:'.length).split(',');
  for (let i = 0; i < kinds.length; i++) {
    const part = parts[i]!;
    const kind = kinds[i];
    const r = kind === 'port' ? protoPort(part) : kind === 'net' ? network(shape.family, part) : address(shape.family, part);
    if (typeof r !== 'string') return r;
    out.push(r);
  }
  return { ok: true, element: out.join(','), port: null };
}
