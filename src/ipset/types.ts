// Kernel vocabulary for ipsets: set types, families, the creation options
// kube-proxy uses, and entry text. Entries are kept in the exact text form
// `ipset list`/`ipset save` prints (kube-proxy's Entry.String()), so desired and
// observed sets compare as plain strings.

import { canonicalElement } from './element.ts';

/** The set types kube-proxy's IPVS mode creates. */
export type IpSetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

/** Address family of a hash set (`family inet|inet6`); bitmap:port sets have none. */
export type IpSetFamily = 'inet' | 'inet6';

/** Creation options kube-proxy passes (setIPSetDefaults): hash sets get these sizes, bitmap:port this range. */
export const ipSetDefaults = { hashSize: 1024, maxElem: 65536, portRange: '0-65535' } as const;

/** A set with its entries. */
export interface IpSet {
  readonly name: string;
  readonly type: IpSetType;
  /** The proxier's family; for bitmap:port it only says which proxier owns the set. */
  readonly family: IpSetFamily;
  /** Entries in `ipset save` text, sorted, without duplicates. */
  readonly entries: readonly string[];
}

/** The one key of a set: its name (names are unique per host). */
export function ipSetKey(set: Pick<IpSet, 'name'>): string {
  return set.name;
}

/** Lower-case protocol as entries spell it. */
export type EntryProtocol = 'tcp' | 'udp' | 'sctp';

/** `hash:ip,port` entry: `10.96.0.1,tcp:443` (IPv6 addresses unbracketed, as ipset prints them). */
export function ipPortEntry(ip: string, protocol: EntryProtocol, port: number): string {
  return `${ip},${protocol}:${port}`;
}

/** `hash:ip,port,ip` entry: `10.244.1.5,tcp:8080,10.244.1.5`. */
export function ipPortIpEntry(ip: string, protocol: EntryProtocol, port: number, ip2: string): string {
  return `${ip},${protocol}:${port},${ip2}`;
}

/** `hash:ip,port,net` entry: `1.2.3.4,tcp:80,10.0.0.0/8`. */
export function ipPortNetEntry(ip: string, protocol: EntryProtocol, port: number, cidr: string): string {
  const text = `${ip},${protocol}:${port},${cidr}`;
  // In the form the kernel prints it (a /32 or /128 net loses its suffix), so
  // plan shows exactly what the kernel will hold.
  const canonical = canonicalElement({ type: 'hash:ip,port,net', family: ip.includes(':') ? 'inet6' : 'inet' }, text);
  return canonical.ok ? canonical.element : text;
}

/** The `create` options of a set as `ipset save` would restore them. */
export function createOptions(set: Pick<IpSet, 'type' | 'family'>): string {
  if (set.type === 'bitmap:port') return `range ${ipSetDefaults.portRange}`;
  return `family ${set.family} hashsize ${ipSetDefaults.hashSize} maxelem ${ipSetDefaults.maxElem}`;
}

/** Text like `ipset save` for the given sets: one `create` line per set, then its `add` lines. */
export function renderIpsetSave(sets: readonly IpSet[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    lines.push(`create ${s.name} ${s.type} ${createOptions(s)}`);
    for (const e of s.entries) lines.push(`add ${s.name} ${e}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * A set as `ipset save` shows it, whatever its type (other programs' sets
 * included): header options other than `family` (`hashsize`, `maxelem`,
 * `range`, `bucketsize`, `initval`, flags such as `comment` with value ''),
 * and its entries' element text, sorted. Per-entry options (a comment, a
 * timeout) are not kept.
 */
export interface ObservedSet {
  readonly name: string;
  /** The set type as the kernel names it, e.g. `hash:ip,port` (any type, not only ours). */
  readonly type: string;
  /** The header's `family`; null for types without one (bitmap:port). */
  readonly family: IpSetFamily | null;
  readonly options: Readonly<Record<string, string>>;
  readonly entries: readonly string[];
}
