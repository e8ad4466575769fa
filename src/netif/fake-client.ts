// SPDX-License-Identifier: Apache-2.0
// An in-memory model of the kernel's links and addresses that follows the
// kernel's rules (net/core/rtnetlink.c, net/ipv4/devinet.c, net/ipv6/addrconf.c),
// for unit tests of everything above the interface client. The contract suite
// runs against this fake and the real kernel to keep the two the same.

import { KernelError, applyEach, fakeCall } from '../netlink/errors.ts';
import { Iff } from '../netlink/rtnetlink.ts';
import { addressBytes, addressText, compareAddressIds, maxPrefix } from './address.ts';
import type { AddressFilter, NetifClient, NetifOpResult } from './client.ts';
import { type AddressId, type AddressSpec, type InterfaceAddress, type Link, type NetifOp, addressKey } from './types.ts';

interface StoredLink {
  index: number;
  name: string;
  kind: string | null;
  flags: number;
}

interface StoredAddress {
  readonly ifindex: number;
  readonly family: 'inet' | 'inet6';
  readonly address: string;
  readonly prefixLength: number;
  readonly noDad: boolean;
}

/** One write the fake accepted, in order (see `writes`). */
export interface FakeNetifWrite {
  readonly op: 'add-link' | 'set-link-up' | 'delete-link' | NetifOp['op'];
  readonly object: string;
}

/** IFNAMSIZ - 1: the longest name the kernel's netlink policy accepts. */
const maxNameLength = 15;
const dummyDownFlags = Iff.Broadcast | Iff.NoArp;
/** A dummy always has carrier, so setting it up also makes it RUNNING and LOWER_UP. */
const upFlags = Iff.Up | Iff.Running | Iff.LowerUp;

/**
 * Kernel-faithful in-memory links and addresses. Starts with `lo` (index 1,
 * up, 127.0.0.1/8 and ::1/128). Same errors as the kernel: EEXIST, ENODEV,
 * EADDRNOTAVAIL, EINVAL (bad name, address or prefix), ERANGE (name longer
 * than 15 bytes), EOPNOTSUPP (deleting `lo`). Listing is sorted, so it is
 * deterministic. Every accepted write is logged in `writes`.
 */
export class FakeNetif implements NetifClient {
  private readonly links = new Map<number, StoredLink>();
  private addresses: StoredAddress[] = [];
  private nextIndex = 2;
  private readonly log: FakeNetifWrite[] = [];
  /** When set, every call rejects with this error (to test failure handling). */
  failWith: KernelError | null = null;

  constructor() {
    this.links.set(1, { index: 1, name: 'lo', kind: null, flags: Iff.Loopback | upFlags });
    this.addresses.push(
      { ifindex: 1, family: 'inet', address: '127.0.0.1', prefixLength: 8, noDad: false },
      { ifindex: 1, family: 'inet6', address: '::1', prefixLength: 128, noDad: false },
    );
  }

  /** Every accepted write so far; `writes.slice(mark)` gives those since `mark = writes.length`. */
  get writes(): readonly FakeNetifWrite[] {
    return this.log;
  }

  /**
   * Adds a link of any kind as another program would (e.g. `eth0` with its
   * addresses, for host-address tests); no write is logged. Throws EEXIST if the name is taken.
   */
  addHostLink(name: string, kind: string | null, addresses: readonly Omit<AddressId, 'ifindex'>[] = []): Link {
    const index = this.create(name, kind, Iff.Broadcast | upFlags, 'add host link');
    for (const a of addresses) this.insertAddress({ ...a, ifindex: index }, 'add host address');
    return this.toLink(this.links.get(index)!);
  }

  /** Removes an address as another program would (drift); no write is logged. Throws like `deleteAddress`. */
  tamperDeleteAddress(a: AddressId): void {
    this.removeAddress(a, 'tamper delete address');
  }

  /** Adds an address as another program would (drift); no write is logged. Throws like `addAddress`. */
  tamperAddAddress(a: AddressSpec): void {
    this.insertAddress(a, 'tamper add address');
  }

  getLink(name: string): Promise<Link> {
    return this.guard(() => this.toLink(this.byName(name, 'get link')));
  }

  listLinks(): Promise<Link[]> {
    return this.guard(() => [...this.links.values()].sort((a, b) => a.index - b.index).map((l) => this.toLink(l)));
  }

  addDummyLink(name: string): Promise<void> {
    return this.guard(() => {
      this.create(name, 'dummy', dummyDownFlags, 'add dummy link');
      this.log.push({ op: 'add-link', object: name });
    });
  }

  setLinkUp(name: string): Promise<void> {
    return this.guard(() => {
      const link = this.byName(name, 'set link up');
      if ((link.flags & Iff.Up) === 0) {
        link.flags |= upFlags;
        // Bringing a link up makes the kernel add its IPv6 link-local address (addrgenmode eui64).
        if (link.kind !== null) this.addresses.push({ ifindex: link.index, family: 'inet6', address: linkLocal(link.index), prefixLength: 64, noDad: false });
      }
      this.log.push({ op: 'set-link-up', object: name });
    });
  }

  deleteLink(name: string): Promise<void> {
    return this.guard(() => {
      const link = this.byName(name, 'delete link');
      // Links without rtnl_link_ops (lo) cannot be deleted.
      if (link.kind === null) throw new KernelError('EOPNOTSUPP', 'delete link', name);
      this.links.delete(link.index);
      this.addresses = this.addresses.filter((a) => a.ifindex !== link.index);
      this.log.push({ op: 'delete-link', object: name });
    });
  }

  listAddresses(filter: AddressFilter = {}): Promise<InterfaceAddress[]> {
    return this.guard(() => this.addresses
      .filter((a) => (filter.ifindex === undefined || a.ifindex === filter.ifindex) && (filter.family === undefined || a.family === filter.family))
      .map((a) => ({
        ...a,
        interfaceName: this.links.get(a.ifindex)?.name ?? '',
        // Dummy links are NOARP, so IPv6 duplicate address detection finishes at once.
        tentative: false,
      }))
      .sort(compareAddressIds));
  }

  addAddress(a: AddressSpec): Promise<void> {
    return this.guard(() => this.write({ op: 'add-address', address: a }));
  }

  deleteAddress(a: AddressId): Promise<void> {
    return this.guard(() => this.write({ op: 'delete-address', address: a }));
  }

  apply(ops: readonly NetifOp[]): Promise<NetifOpResult[]> {
    return this.guard(() => applyEach(ops, (op) => this.write(op)));
  }

  close(): void {
    // Nothing to release.
  }

  private guard<T>(fn: () => T): Promise<T> {
    return fakeCall(this.failWith, fn);
  }

  private toLink(l: StoredLink): Link {
    return { index: l.index, name: l.name, kind: l.kind, flags: l.flags, up: (l.flags & Iff.Up) !== 0 };
  }

  private checkNameLength(name: string, op: string): void {
    // The netlink policy for IFLA_IFNAME (NLA_STRING, len IFNAMSIZ-1) fails before any lookup.
    if (Buffer.byteLength(name) > maxNameLength) throw new KernelError('ERANGE', op, name, 'name too long');
  }

  private byName(name: string, op: string): StoredLink {
    this.checkNameLength(name, op);
    for (const l of this.links.values()) if (l.name === name) return l;
    throw new KernelError('ENODEV', op, name);
  }

  private create(name: string, kind: string | null, flags: number, op: string): number {
    this.checkNameLength(name, op);
    for (const l of this.links.values()) if (l.name === name) throw new KernelError('EEXIST', op, name);
    // dev_valid_name: not empty, not "." or "..", no '/', ':' or whitespace.
    if (name === '' || name === '.' || name === '..' || /[/:\s]/.test(name)) throw new KernelError('EINVAL', op, name, 'invalid name');
    const index = this.nextIndex++;
    this.links.set(index, { index, name, kind, flags });
    return index;
  }

  private canonical(a: AddressId, op: string): StoredAddress {
    const object = `${addressKey(a)} ifindex ${a.ifindex}`;
    const bytes = addressBytes(a.family, a.address);
    if (!bytes) throw new KernelError('EINVAL', op, object, `not an ${a.family} address`);
    if (!Number.isInteger(a.prefixLength) || a.prefixLength < 0 || a.prefixLength > maxPrefix(a.family)) {
      throw new KernelError('EINVAL', op, object, 'prefix length out of range');
    }
    if (!this.links.has(a.ifindex)) throw new KernelError('ENODEV', op, object);
    const noDad = a.family === 'inet6' && 'noDad' in a && (a as AddressSpec).noDad === true;
    return { ifindex: a.ifindex, family: a.family, address: addressText(bytes), prefixLength: a.prefixLength, noDad };
  }

  private insertAddress(a: AddressSpec, op: string): void {
    const c = this.canonical(a, op);
    // IPv4 (inet_insert_ifa): a duplicate is the same local address with the
    // same mask. IPv6 (ipv6_chk_same_addr): the same address on the link,
    // whatever the prefix.
    const dup = this.addresses.some((x) => x.ifindex === c.ifindex && x.family === c.family && x.address === c.address
      && (c.family === 'inet6' || x.prefixLength === c.prefixLength));
    if (dup) throw new KernelError('EEXIST', op, `${addressKey(c)} ifindex ${c.ifindex}`);
    this.addresses.push(c);
  }

  private removeAddress(a: AddressId, op: string): void {
    const c = this.canonical(a, op);
    const i = this.addresses.findIndex((x) => x.ifindex === c.ifindex && x.family === c.family && x.address === c.address && x.prefixLength === c.prefixLength);
    if (i < 0) throw new KernelError('EADDRNOTAVAIL', op, `${addressKey(c)} ifindex ${c.ifindex}`);
    this.addresses.splice(i, 1);
  }

  private write(op: NetifOp): void {
    const name = op.op.replace(/-/g, ' ');
    if (op.op === 'add-address') this.insertAddress(op.address, name);
    else this.removeAddress(op.address, name);
    this.log.push({ op: op.op, object: `${addressKey(op.address)} ifindex ${op.address.ifindex}` });
  }
}

/** The EUI-64 link-local address of the fake's MAC 02:00:00:00:xx:yy for `index`. */
function linkLocal(index: number): string {
  return `fe80::ff:fe00:${index.toString(16)}`;
}
