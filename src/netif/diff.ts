// SPDX-License-Identifier: Apache-2.0
// Pure: which addresses to add to and delete from kube-ipvs0, and which
// addresses the node has on its other interfaces.

import type { IpFamily } from '../model/types.ts';
import { compareStrings } from '../model/compare.ts';
import { addressBytes, addressText, compareAddressIds, fromIpFamily, maxPrefix } from './address.ts';
import { type AddressFamily, type InterfaceAddress, addressKey } from './types.ts';

/** An address as bound on the interface: kube-proxy binds host prefixes (/32, /128). */
export interface BoundAddress {
  readonly family: AddressFamily;
  /** Canonical text. */
  readonly address: string;
  readonly prefixLength: number;
}

/** Desired addresses per family; a family that is absent is not managed (its addresses are left alone). */
export type DesiredAddresses = Readonly<Partial<Record<IpFamily, readonly string[]>>>;

/** What to write to make the interface hold exactly the desired addresses. */
export interface AddressDiff {
  /** Sorted (family, address bytes). */
  readonly adds: readonly BoundAddress[];
  readonly deletes: readonly BoundAddress[];
  /** Desired entries that are not addresses of their family, as given (skipped). */
  readonly invalid: readonly string[];
}

/** The bound form of `text`: its family, canonical text, host prefix; null if not an address of `family`. */
export function hostAddress(family: AddressFamily, text: string): BoundAddress | null {
  const b = addressBytes(family, text);
  return b ? { family, address: addressText(b), prefixLength: maxPrefix(family) } : null;
}

/** The bound form of `text` in whichever family it belongs to; null if it is not an IP address. */
export function hostAddressAnyFamily(text: string): BoundAddress | null {
  return hostAddress(text.includes(':') ? 'inet6' : 'inet', text);
}

/** IPv6 link-local (fe80::/10): the kernel adds one when a link goes up; never ours to delete. */
function isLinkLocal(a: BoundAddress): boolean {
  if (a.family !== 'inet6') return false;
  const b = addressBytes('inet6', a.address);
  return b !== null && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}

const order = (a: BoundAddress, b: BoundAddress): number =>
  compareAddressIds({ ...a, ifindex: 0 }, { ...b, ifindex: 0 });

/** `family/address/prefix`: identity of a bound address across families. */
export function boundKey(a: BoundAddress): string {
  return `${a.family} ${addressKey(a)}`;
}

/**
 * Diffs the desired addresses (any spelling; each bound with the host prefix)
 * against those observed on the interface. Observed addresses of families
 * absent from `desired`, and IPv6 link-local addresses, are left alone; an
 * observed address with another prefix than the host prefix is deleted (and
 * the host form added). Never throws; invalid desired entries are returned.
 */
export function diffAddresses(desired: DesiredAddresses, observed: readonly BoundAddress[]): AddressDiff {
  const want = new Map<string, BoundAddress>();
  const invalid: string[] = [];
  const managed = new Set<AddressFamily>();
  for (const [ipFamily, list] of Object.entries(desired) as [IpFamily, readonly string[] | undefined][]) {
    if (!list) continue;
    const family = fromIpFamily(ipFamily);
    managed.add(family);
    for (const text of list) {
      const a = hostAddress(family, text);
      if (a) want.set(boundKey(a), a);
      else invalid.push(text);
    }
  }
  const have = new Set<string>();
  const deletes: BoundAddress[] = [];
  for (const o of observed) {
    if (!managed.has(o.family) || isLinkLocal(o)) continue;
    const key = boundKey(o);
    have.add(key);
    if (!want.has(key)) deletes.push({ family: o.family, address: o.address, prefixLength: o.prefixLength });
  }
  const adds = [...want.entries()].filter(([k]) => !have.has(k)).map(([, a]) => a);
  return { adds: adds.sort(order), deletes: deletes.sort(order), invalid: invalid.sort(compareStrings) };
}

/**
 * The node's addresses: every address on links other than `exceptLink`
 * (kube-ipvs0), canonical, sorted, without duplicates — kube-proxy's
 * GetAllLocalAddressesExcept. Loopback and link-local addresses are included;
 * the reconciler filters them where kube-proxy does.
 */
export function nodeAddresses(all: readonly InterfaceAddress[], exceptLink: string): string[] {
  const out = new Set<string>();
  for (const a of all) if (a.interfaceName !== exceptLink) out.add(a.address);
  return [...out].sort(compareStrings);
}

/**
 * Which of `candidates` (e.g. externalIPs, LoadBalancer IPs) some link other
 * than `exceptLink` already holds: kube-proxy does not bind those on
 * kube-ipvs0. Candidates that are not IP addresses are never local. Sorted.
 */
export function localElsewhere(candidates: readonly string[], all: readonly InterfaceAddress[], exceptLink: string): string[] {
  const local = new Set(nodeAddresses(all, exceptLink));
  const out = new Set<string>();
  for (const c of candidates) {
    const a = hostAddressAnyFamily(c);
    if (a && local.has(a.address)) out.add(a.address);
  }
  return [...out].sort(compareStrings);
}
