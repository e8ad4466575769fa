// SPDX-License-Identifier: Apache-2.0
import type { NetifClient } from './client.ts';
import { nodeAddresses } from './diff.ts';
import { RtNetlinkClient } from './rtnetlink-client.ts';
import { kubeIpvsLink } from './types.ts';

/**
 * The node's IP addresses from its interfaces, as kube-proxy finds them when no
 * Node object gives them: every address on every link except `exceptLink`
 * (kube-ipvs0), canonical, sorted, without duplicates (loopback and link-local
 * included; the reconciler drops them where kube-proxy does). Rejects with the
 * client's `KernelError` when the addresses cannot be listed.
 */
export async function hostAddresses(client: NetifClient, exceptLink: string = kubeIpvsLink): Promise<string[]> {
  return nodeAddresses(await client.listAddresses(), exceptLink);
}

/**
 * `hostAddresses` over a NETLINK_ROUTE socket opened for the call and closed
 * after (for the CLI). Rejects with `KernelError` (or the socket's error).
 */
export async function readHostAddresses(exceptLink: string = kubeIpvsLink): Promise<string[]> {
  const client = RtNetlinkClient.open();
  try {
    return await hostAddresses(client, exceptLink);
  } finally {
    client.close();
  }
}
