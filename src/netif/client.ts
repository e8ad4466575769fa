// SPDX-License-Identifier: Apache-2.0
import type { KernelError } from '../netlink/errors.ts';
import type { AddressFamily, AddressId, AddressSpec, InterfaceAddress, Link, NetifOp } from './types.ts';

/** Result of one op of a batch: `error` is null when the kernel accepted it. */
export interface NetifOpResult {
  readonly op: NetifOp;
  readonly error: KernelError | null;
}

/** Which addresses to list. */
export interface AddressFilter {
  readonly ifindex?: number;
  readonly family?: AddressFamily;
}

/**
 * Links and addresses of the kernel (rtnetlink), with the kernel's verbs and
 * rules. Every method rejects with `KernelError`: `EEXIST` for adding what
 * exists, `ENODEV` for a missing link, `EADDRNOTAVAIL` for deleting an address
 * that is not there, `EINVAL` for values the kernel refuses (bad name, prefix
 * out of range), `EOPNOTSUPP` for a link type the kernel lacks or a link that
 * cannot be deleted, `EPERM` without CAP_NET_ADMIN, `ETIMEDOUT` when the kernel
 * does not answer.
 */
export interface NetifClient {
  /** The link named `name`; rejects with `ENODEV` if there is none. */
  getLink(name: string): Promise<Link>;
  /** Every link, sorted by index. */
  listLinks(): Promise<Link[]>;
  /** Creates a dummy link, down; `EEXIST` if the name is taken (whatever its kind). */
  addDummyLink(name: string): Promise<void>;
  /** Sets a link administratively up (a no-op if it is up); `ENODEV` if absent. */
  setLinkUp(name: string): Promise<void>;
  /** Deletes a link and with it its addresses; `ENODEV` if absent. */
  deleteLink(name: string): Promise<void>;

  /**
   * Addresses on every link, or those matching `filter`, sorted by ifindex,
   * family (inet first), address bytes and prefix length.
   */
  listAddresses(filter?: AddressFilter): Promise<InterfaceAddress[]>;
  /**
   * Adds an address (scope global). `EEXIST` if the link has it: for IPv4 the
   * same address and prefix, for IPv6 the same address whatever the prefix.
   * `ENODEV` if no link has `ifindex`; `EINVAL` for a prefix out of range or a
   * malformed address.
   */
  addAddress(a: AddressSpec): Promise<void>;
  /** Deletes an address by address and prefix; `EADDRNOTAVAIL` if the link does not have it, `ENODEV` if no such link. */
  deleteAddress(a: AddressId): Promise<void>;

  /**
   * Applies address writes in order and reports one result per op (kernel
   * refusals are results, not rejections). Rejects only if the kernel stopped
   * answering; then which ops took effect is unknown and the caller must re-read.
   */
  apply(ops: readonly NetifOp[]): Promise<NetifOpResult[]>;

  /** Releases the kernel connection. */
  close(): void;
}
