// SPDX-License-Identifier: Apache-2.0
import { afterAll } from '@jest/globals';
import type { NetifClient } from '../../src/netif/client.ts';
import { RtNetlinkClient } from '../../src/netif/rtnetlink-client.ts';
import { KernelError } from '../../src/netlink/errors.ts';
import { describeNetifContract, testLinks } from './netif-client.contract.ts';

let client: RtNetlinkClient | undefined;

/** Deletes the contract's links (and so their addresses); nothing else is touched. */
async function removeTestLinks(c: NetifClient): Promise<void> {
  for (const name of testLinks) {
    try {
      await c.deleteLink(name);
    } catch (err) {
      if (!(err instanceof KernelError && err.code === 'ENODEV')) throw err;
    }
  }
}

describeNetifContract('rtnetlink client on the real kernel', {
  async fresh() {
    client ??= RtNetlinkClient.open();
    await removeTestLinks(client);
    return client;
  },
});

afterAll(async () => {
  if (client) await removeTestLinks(client);
  client?.close();
});
