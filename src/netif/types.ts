// SPDX-License-Identifier: Apache-2.0
// Interface vocabulary in the kernel's terms: links (by name and index) and
// the addresses on them.

/** Address family, in the kernel's words (AF_INET / AF_INET6). */
export type AddressFamily = 'inet' | 'inet6';

/** The dummy interface kube-proxy's IPVS mode binds service addresses to. */
export const kubeIpvsLink = 'kube-ipvs0';

/** A network interface. */
export interface Link {
  /** ifindex: addresses refer to their link by it. */
  readonly index: number;
  readonly name: string;
  /** The link type's kind ("dummy", "veth", "bridge", …); null for links without one, like `lo`. */
  readonly kind: string | null;
  /** Raw ifi_flags (IFF_UP, IFF_NOARP, IFF_LOWER_UP, …). */
  readonly flags: number;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
}

/** Which address, on which link: the kernel's identity of an address. */
export interface AddressId {
  readonly ifindex: number;
  readonly family: AddressFamily;
  /** Canonical text (Go's net.IP.String()): `10.96.0.1`, `fd00::1`. */
  readonly address: string;
  readonly prefixLength: number;
}

/** An address to add. */
export interface AddressSpec extends AddressId {
  /** IPv6 only: skip duplicate address detection (IFA_F_NODAD). */
  readonly noDad?: boolean;
}

/** An address as listed. */
export interface InterfaceAddress extends AddressId {
  /** Name of the link (`ifindex`) at listing time. */
  readonly interfaceName: string;
  /** IPv6 duplicate address detection still running (IFA_F_TENTATIVE): not yet usable as a source or to bind. */
  readonly tentative: boolean;
  /** Added with IFA_F_NODAD. */
  readonly noDad: boolean;
}

/** One address write in a batch. */
export type NetifOp =
  | { readonly op: 'add-address'; readonly address: AddressSpec }
  | { readonly op: 'delete-address'; readonly address: AddressId };

/** `address/prefix` text of an address, e.g. `10.96.0.1/32`. */
export function addressKey(a: Pick<AddressId, 'address' | 'prefixLength'>): string {
  return `${a.address}/${a.prefixLength}`;
}
