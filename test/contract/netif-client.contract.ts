// SPDX-License-Identifier: Apache-2.0
// One contract for every NetifClient: FakeNetif on the host and the rtnetlink
// client against the real kernel in the sandbox. When the kernel and the fake
// disagree, this suite fails on one of the two. It only creates links named
// kipvs-t0/kipvs-t1 and never writes to other links.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { NetifClient } from '../../src/netif/client.ts';
import type { AddressFamily, AddressId, InterfaceAddress, Link } from '../../src/netif/types.ts';
import { KernelError } from '../../src/netlink/errors.ts';
import { codeOf } from './kernel-code.ts';

export interface NetifContractTarget {
  /** Returns a client on a kernel where no link named kipvs-t* exists. */
  fresh(): Promise<NetifClient>;
}

export const testLinks = ['kipvs-t0', 'kipvs-t1'] as const;
const t0 = testLinks[0];
const t1 = testLinks[1];
/** An ifindex no link has (the kernel hands them out upwards from 1). */
const noSuchIndex = 0x7ffffff0;

interface FamilyCase {
  readonly name: string;
  readonly family: AddressFamily;
  /** Two host addresses in the family's service range. */
  readonly a: string;
  readonly b: string;
  /** The full-length prefix kube-proxy binds with. */
  readonly host: number;
  /** A shorter prefix. */
  readonly short: number;
  /** A non-canonical spelling of `a`. */
  readonly aSpelled: string;
}

const families: readonly FamilyCase[] = [
  { name: 'IPv4', family: 'inet', a: '10.96.0.10', b: '10.96.0.11', host: 32, short: 24, aSpelled: '010.96.0.010' },
  { name: 'IPv6', family: 'inet6', a: 'fd00:96::10', b: 'fd00:96::11', host: 128, short: 64, aSpelled: 'FD00:0096:0:0:0:0:0:0010' },
];

/** The listed form of an address we added, once DAD has ended (see `ours`). */
function listed(link: Link, family: AddressFamily, address: string, prefixLength: number, noDad = false): InterfaceAddress {
  return { ifindex: link.index, family, address, prefixLength, interfaceName: link.name, tentative: false, noDad };
}

export function describeNetifContract(name: string, target: NetifContractTarget): void {
  describe(`NetifClient contract: ${name}`, () => {
    let c: NetifClient;
    beforeEach(async () => { c = await target.fresh(); });

    async function dummy(n: string = t0): Promise<Link> {
      await c.addDummyLink(n);
      return c.getLink(n);
    }

    /**
     * The link's addresses once IPv6 duplicate address detection has ended. On a
     * NOARP dummy the kernel skips the probes but still finishes DAD from a work
     * queue: right after an add without noDad the address can be listed as
     * tentative for a moment (27 of 200 adds in the sandbox), so wait (bounded).
     */
    async function ours(link: Link): Promise<InterfaceAddress[]> {
      for (let i = 0; ; i++) {
        const list = await c.listAddresses({ ifindex: link.index });
        if (!list.some((a) => a.tentative) || i >= 100) return list;
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    describe('links', () => {
      it('creates a dummy link that is down, broadcast and NOARP, and lists it', async () => {
        const link = await dummy();
        expect(link).toEqual({ index: link.index, name: t0, kind: 'dummy', flags: 0x82, up: false });
        expect(link.index).toBeGreaterThan(1);
        expect((await c.listLinks()).filter((l) => l.name === t0)).toEqual([link]);
        expect(await ours(link)).toEqual([]);
      });

      it('refuses a second link of the same name with EEXIST, whatever its kind', async () => {
        await dummy();
        expect(await codeOf(c.addDummyLink(t0))).toBe('EEXIST');
        expect(await codeOf(c.addDummyLink('lo'))).toBe('EEXIST');
      });

      it('gives every link its own index, sorted in the listing', async () => {
        const a = await dummy(t0);
        const b = await dummy(t1);
        expect(b.index).not.toBe(a.index);
        const indexes = (await c.listLinks()).map((l) => l.index);
        expect(indexes).toEqual([...indexes].sort((x, y) => x - y));
      });

      it.each([
        { name: 'get', run: (cl: NetifClient) => cl.getLink(t0) },
        { name: 'set up', run: (cl: NetifClient) => cl.setLinkUp(t0) },
        { name: 'delete', run: (cl: NetifClient) => cl.deleteLink(t0) },
      ])('answers ENODEV to $name on a missing link', async ({ run }) => {
        expect(await codeOf(run(c))).toBe('ENODEV');
      });

      it('refuses names longer than 15 bytes with ERANGE, before looking them up', async () => {
        expect(await codeOf(c.addDummyLink('kipvs-t0-toolong'))).toBe('ERANGE');
        expect(await codeOf(c.getLink('kipvs-t0-toolong'))).toBe('ERANGE');
      });

      it.each([
        { name: 'a slash', link: 'kipvs-t0/x' },
        { name: 'a colon', link: 'kipvs-t0:x' },
        { name: 'a space', link: 'kipvs t0' },
      ])('refuses a name with $name with EINVAL', async ({ link }) => {
        expect(await codeOf(c.addDummyLink(link))).toBe('EINVAL');
      });

      it('sets a link up (running, lower up) idempotently; the kernel adds an IPv6 link-local address', async () => {
        const link = await dummy();
        await c.setLinkUp(t0);
        await c.setLinkUp(t0);
        const up = await c.getLink(t0);
        expect(up).toEqual({ ...link, up: true, flags: 0x82 | 0x1 | 0x40 | 0x10000 });
        const addrs = await ours(link);
        expect(addrs.map((a) => ({ family: a.family, prefixLength: a.prefixLength, linkLocal: a.address.startsWith('fe80:') })))
          .toEqual([{ family: 'inet6', prefixLength: 64, linkLocal: true }]);
      });

      it('deletes a link and, with it, its addresses', async () => {
        const link = await dummy();
        await c.addAddress({ ifindex: link.index, family: 'inet', address: '10.96.0.10', prefixLength: 32 });
        await c.addAddress({ ifindex: link.index, family: 'inet6', address: 'fd00:96::10', prefixLength: 128 });
        await c.deleteLink(t0);
        expect(await codeOf(c.getLink(t0))).toBe('ENODEV');
        expect((await c.listAddresses()).filter((a) => a.ifindex === link.index)).toEqual([]);
      });
    });

    describe.each(families)('$name addresses', (f) => {
      const id = (link: Link, address: string, prefixLength = f.host): AddressId =>
        ({ ifindex: link.index, family: f.family, address, prefixLength });

      it('adds a host address (as kube-proxy binds) on a link that is down, and lists it with its link name', async () => {
        const link = await dummy();
        await c.addAddress(id(link, f.a));
        expect(await ours(link)).toEqual([listed(link, f.family, f.a, f.host)]);
        expect((await c.listAddresses({ family: f.family })).filter((a) => a.ifindex === link.index)).toHaveLength(1);
        const other = f.family === 'inet' ? 'inet6' : 'inet';
        expect((await c.listAddresses({ family: other })).filter((a) => a.ifindex === link.index)).toEqual([]);
      });

      it('answers EEXIST to adding the same address and prefix twice', async () => {
        const link = await dummy();
        await c.addAddress(id(link, f.a));
        expect(await codeOf(c.addAddress(id(link, f.a)))).toBe('EEXIST');
        expect(await ours(link)).toHaveLength(1);
      });

      it('lists addresses in canonical form, whatever the spelling written', async () => {
        const link = await dummy();
        await c.addAddress(id(link, f.aSpelled));
        expect(await ours(link)).toEqual([listed(link, f.family, f.a, f.host)]);
        expect(await codeOf(c.addAddress(id(link, f.a)))).toBe('EEXIST');
      });

      it('lets two links hold the same address', async () => {
        const l0 = await dummy(t0);
        const l1 = await dummy(t1);
        await c.addAddress(id(l0, f.a));
        await c.addAddress(id(l1, f.a));
        expect(await ours(l1)).toEqual([listed(l1, f.family, f.a, f.host)]);
      });

      it('deletes by address and prefix; EADDRNOTAVAIL when absent or the prefix differs', async () => {
        const link = await dummy();
        await c.addAddress(id(link, f.a));
        expect(await codeOf(c.deleteAddress(id(link, f.a, f.short)))).toBe('EADDRNOTAVAIL');
        expect(await codeOf(c.deleteAddress(id(link, f.b)))).toBe('EADDRNOTAVAIL');
        expect(await ours(link)).toHaveLength(1);
        await c.deleteAddress(id(link, f.a));
        expect(await ours(link)).toEqual([]);
        expect(await codeOf(c.deleteAddress(id(link, f.a)))).toBe('EADDRNOTAVAIL');
      });

      it('answers ENODEV for an ifindex no link has', async () => {
        const missing = { ifindex: noSuchIndex, family: f.family, address: f.a, prefixLength: f.host };
        expect(await codeOf(c.addAddress(missing))).toBe('ENODEV');
        expect(await codeOf(c.deleteAddress(missing))).toBe('ENODEV');
      });

      it('answers EINVAL to a prefix out of range or an address of the other family', async () => {
        const link = await dummy();
        expect(await codeOf(c.addAddress(id(link, f.a, f.host + 1)))).toBe('EINVAL');
        const wrong = f.family === 'inet' ? 'fd00::1' : '10.0.0.1';
        expect(await codeOf(c.addAddress(id(link, wrong)))).toBe('EINVAL');
        expect(await codeOf(c.addAddress(id(link, 'not-an-ip')))).toBe('EINVAL');
        expect(await ours(link)).toEqual([]);
      });

      it('sorts the listing by address bytes, whatever the order of adding', async () => {
        const link = await dummy();
        await c.addAddress(id(link, f.b));
        await c.addAddress(id(link, f.a));
        expect((await ours(link)).map((a) => a.address)).toEqual([f.a, f.b]);
      });
    });

    describe('prefix rules that differ by family', () => {
      it('IPv4: the same address with another prefix is a second address', async () => {
        const link = await dummy();
        await c.addAddress({ ifindex: link.index, family: 'inet', address: '10.96.0.10', prefixLength: 32 });
        await c.addAddress({ ifindex: link.index, family: 'inet', address: '10.96.0.10', prefixLength: 24 });
        expect((await ours(link)).map((a) => a.prefixLength)).toEqual([24, 32]);
      });

      it('IPv6: the same address with another prefix is EEXIST', async () => {
        const link = await dummy();
        await c.addAddress({ ifindex: link.index, family: 'inet6', address: 'fd00:96::10', prefixLength: 128 });
        expect(await codeOf(c.addAddress({ ifindex: link.index, family: 'inet6', address: 'fd00:96::10', prefixLength: 64 }))).toBe('EEXIST');
      });

      it('IPv6: an address added with noDad is listed as such', async () => {
        const link = await dummy();
        await c.addAddress({ ifindex: link.index, family: 'inet6', address: 'fd00:96::10', prefixLength: 128, noDad: true });
        expect(await ours(link)).toEqual([listed(link, 'inet6', 'fd00:96::10', 128, true)]);
      });
    });

    describe('batches', () => {
      it('applies ops in order with one result per op; a refused op does not stop the rest', async () => {
        const link = await dummy();
        const a = { ifindex: link.index, family: 'inet' as const, address: '10.96.0.10', prefixLength: 32 };
        const b = { ifindex: link.index, family: 'inet6' as const, address: 'fd00:96::10', prefixLength: 128 };
        const results = await c.apply([
          { op: 'add-address', address: a },
          { op: 'add-address', address: a },
          { op: 'delete-address', address: { ...a, address: '10.96.0.99' } },
          { op: 'add-address', address: { ...a, prefixLength: 33 } },
          { op: 'add-address', address: b },
        ]);
        expect(results.map((r) => r.error?.code ?? 'ok')).toEqual(['ok', 'EEXIST', 'EADDRNOTAVAIL', 'EINVAL', 'ok']);
        expect(results[1]?.error).toBeInstanceOf(KernelError);
        expect((await ours(link)).map((x) => x.address)).toEqual(['10.96.0.10', 'fd00:96::10']);
      });

      it('adds and deletes 2,000 addresses (more than one 64 KiB datagram) in one call each', async () => {
        const link = await dummy();
        const ids = Array.from({ length: 2000 }, (_, i) => ({
          ifindex: link.index, family: 'inet' as const, address: `10.97.${i >> 8}.${i & 255}`, prefixLength: 32,
        }));
        const added = await c.apply(ids.map((address) => ({ op: 'add-address' as const, address })));
        expect(added.filter((r) => r.error !== null)).toEqual([]);
        expect(await ours(link)).toHaveLength(2000);
        const deleted = await c.apply(ids.map((address) => ({ op: 'delete-address' as const, address })));
        expect(deleted.filter((r) => r.error !== null)).toEqual([]);
        expect(await ours(link)).toEqual([]);
      });

      it('answers an empty batch with no results', async () => {
        expect(await c.apply([])).toEqual([]);
      });
    });

    it("lists lo's loopback addresses among all addresses", async () => {
      const lo = await c.getLink('lo');
      expect(lo).toMatchObject({ name: 'lo', kind: null, up: true });
      const mine = (await c.listAddresses()).filter((a) => a.ifindex === lo.index);
      expect(mine).toEqual(expect.arrayContaining([
        listed(lo, 'inet', '127.0.0.1', 8),
        listed(lo, 'inet6', '::1', 128),
      ]));
    });
  });
}
