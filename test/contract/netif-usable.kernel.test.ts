// SPDX-License-Identifier: Apache-2.0
// What the kernel does with addresses on a dummy link that is left down, as
// kube-proxy leaves kube-ipvs0: are they local (served by this node)? Only
// loopback traffic inside the sandbox.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createConnection, createServer } from 'node:net';
import { readHostAddresses } from '../../src/netif/host-addresses.ts';
import { RtNetlinkClient } from '../../src/netif/rtnetlink-client.ts';
import type { Link } from '../../src/netif/types.ts';
import { KernelError } from '../../src/netlink/errors.ts';

const linkName = 'kipvs-t2';
let c: RtNetlinkClient;
let link: Link;

/** Listens on `address` (port chosen by the kernel), connects from the node, resolves to what the server said. */
function roundTrip(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer((sock) => sock.end('served'));
    const timer = setTimeout(() => { server.close(); reject(new Error(`no answer from ${address}`)); }, 5000);
    const fail = (err: Error): void => { clearTimeout(timer); server.close(); reject(err); };
    server.once('error', fail);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      const client = createConnection({ host: address, port });
      let got = '';
      client.on('data', (d: Buffer) => { got += d.toString('utf8'); });
      client.on('end', () => { clearTimeout(timer); server.close(); resolve(got); });
      client.on('error', fail);
    });
  });
}

beforeAll(async () => {
  c = RtNetlinkClient.open();
  try {
    await c.deleteLink(linkName);
  } catch (err) {
    if (!(err instanceof KernelError && err.code === 'ENODEV')) throw err;
  }
  await c.addDummyLink(linkName);
  link = await c.getLink(linkName);
});

afterEach(async () => {
  const ops = (await c.listAddresses({ ifindex: link.index })).map((a) => ({ op: 'delete-address' as const, address: a }));
  await c.apply(ops);
});

afterAll(async () => {
  await c.deleteLink(linkName);
  c.close();
});

/**
 * `roundTrip`, retried while the address is not yet local. IPv6 only: the
 * kernel inserts an IPv6 address's local route when duplicate address detection
 * ends, from a work queue, even with noDad and even on a NOARP link, so for a
 * moment after the add the address answers EADDRNOTAVAIL (bind, while
 * tentative) or ENETUNREACH (connect, before the route). Bounded: 100 tries.
 */
async function roundTripWhenLocal(address: string): Promise<{ answer: string; retries: number }> {
  for (let retries = 0; ; retries++) {
    try {
      return { answer: await roundTrip(address), retries };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (retries >= 100 || (code !== 'ENETUNREACH' && code !== 'EADDRNOTAVAIL')) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe('addresses on a dummy link that is down', () => {
  it('IPv4 /32 is local as soon as the add returns: a server bound to it answers the node', async () => {
    await c.addAddress({ ifindex: link.index, family: 'inet', address: '10.96.7.1', prefixLength: 32 });
    expect((await c.getLink(linkName)).up).toBe(false);
    expect(await roundTrip('10.96.7.1')).toBe('served');
  });

  it.each([
    { name: 'without noDad (as kube-proxy adds)', noDad: false },
    { name: 'with noDad', noDad: true },
  ])('IPv6 /128 $name becomes local moments after the add (20 of 20)', async ({ noDad }) => {
    let served = 0;
    for (let i = 0; i < 20; i++) {
      const address = `fd00:96:${noDad ? 9 : 8}::${(i + 1).toString(16)}`;
      await c.addAddress({ ifindex: link.index, family: 'inet6', address, prefixLength: 128, noDad });
      if ((await roundTripWhenLocal(address)).answer === 'served') served++;
    }
    expect(served).toBe(20);
    expect((await c.getLink(linkName)).up).toBe(false);
  });

  it('IPv6 added with noDad is never listed as tentative (50 of 50)', async () => {
    let tentative = 0;
    for (let i = 0; i < 50; i++) {
      const address = `fd00:96:a::${(i + 1).toString(16)}`;
      await c.addAddress({ ifindex: link.index, family: 'inet6', address, prefixLength: 128, noDad: true });
      if ((await c.listAddresses({ ifindex: link.index })).some((a) => a.address === address && a.tentative)) tentative++;
    }
    expect(tentative).toBe(0);
  });
});

describe('host addresses', () => {
  it("lists the node's addresses from every link but the excluded one", async () => {
    await c.addAddress({ ifindex: link.index, family: 'inet', address: '10.96.7.9', prefixLength: 32 });
    const all = await readHostAddresses('kube-ipvs0');
    expect(all).toEqual(expect.arrayContaining(['127.0.0.1', '::1', '10.96.7.9']));
    const without = await readHostAddresses(linkName);
    expect(without).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
    expect(without).not.toContain('10.96.7.9');
  });
});
