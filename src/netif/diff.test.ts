// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { type BoundAddress, diffAddresses, localElsewhere, nodeAddresses } from './diff.ts';
import type { InterfaceAddress } from './types.ts';

const v4 = (address: string, prefixLength = 32): BoundAddress => ({ family: 'inet', address, prefixLength });
const v6 = (address: string, prefixLength = 128): BoundAddress => ({ family: 'inet6', address, prefixLength });

function on(interfaceName: string, ifindex: number, a: BoundAddress): InterfaceAddress {
  return { ...a, ifindex, interfaceName, tentative: false, noDad: false };
}

describe('diffAddresses', () => {
  it.each([
    {
      name: 'empty interface: add every desired address with the host prefix, sorted by bytes',
      desired: { IPv4: ['10.96.0.10', '10.96.0.2'], IPv6: ['fd00::10', 'fd00::2'] },
      observed: [],
      adds: [v4('10.96.0.2'), v4('10.96.0.10'), v6('fd00::2'), v6('fd00::10')],
      deletes: [],
    },
    {
      name: 'in sync: nothing to write',
      desired: { IPv4: ['10.96.0.10'], IPv6: ['fd00::10'] },
      observed: [v4('10.96.0.10'), v6('fd00::10')],
      adds: [],
      deletes: [],
    },
    {
      name: 'stale addresses are deleted, missing ones added',
      desired: { IPv4: ['10.96.0.10', '10.96.0.11'] },
      observed: [v4('10.96.0.10'), v4('10.96.0.99')],
      adds: [v4('10.96.0.11')],
      deletes: [v4('10.96.0.99')],
    },
    {
      name: 'non-canonical spellings match their canonical form',
      desired: { IPv4: ['010.096.000.010'], IPv6: ['FD00:0:0:0:0:0:0:0010'] },
      observed: [v4('10.96.0.10'), v6('fd00::10')],
      adds: [],
      deletes: [],
    },
    {
      name: 'duplicates in the desired list give one add',
      desired: { IPv4: ['10.96.0.10', '10.96.0.10', '10.96.0.010'] },
      observed: [],
      adds: [v4('10.96.0.10')],
      deletes: [],
    },
    {
      name: 'an address bound with another prefix is replaced by the host prefix',
      desired: { IPv4: ['10.96.0.10'], IPv6: ['fd00::10'] },
      observed: [v4('10.96.0.10', 24), v6('fd00::10', 64)],
      adds: [v4('10.96.0.10'), v6('fd00::10')],
      deletes: [v4('10.96.0.10', 24), v6('fd00::10', 64)],
    },
    {
      name: 'a family that is not desired is left alone (single-stack proxier, as kube-proxy filters by family)',
      desired: { IPv4: [] },
      observed: [v4('10.96.0.10'), v6('fd00::10')],
      adds: [],
      deletes: [v4('10.96.0.10')],
    },
    {
      name: 'IPv6 link-local addresses (the kernel adds one when the link goes up) are never deleted',
      desired: { IPv6: [] },
      observed: [v6('fe80::1:2ff:fe03:405', 64), v6('febf::1', 64), v6('fd00::10')],
      adds: [],
      deletes: [v6('fd00::10')],
    },
  ])('$name', ({ desired, observed, adds, deletes }) => {
    const d = diffAddresses(desired, observed);
    expect({ adds: d.adds, deletes: d.deletes, invalid: d.invalid }).toEqual({ adds, deletes, invalid: [] });
  });

  it('reports entries that are not addresses of their family and binds the rest', () => {
    const d = diffAddresses({ IPv4: ['fd00::1', '10.96.0.1', 'x'], IPv6: ['10.96.0.2', '::ffff:10.0.0.1'] }, []);
    expect(d.invalid).toEqual(['10.96.0.2', 'fd00::1', 'x']);
    // An IPv4-mapped IPv6 address stays IPv6, as the kernel stores it.
    expect(d.adds).toEqual([v4('10.96.0.1'), v6('::ffff:a00:1')]);
  });
});

describe('node addresses from the interfaces', () => {
  const all = [
    on('lo', 1, v4('127.0.0.1', 8)),
    on('lo', 1, v6('::1')),
    on('eth0', 2, v4('192.168.1.10', 24)),
    on('eth0', 2, v6('fe80::1', 64)),
    on('eth1', 3, v4('192.168.1.10', 24)),
    on('kube-ipvs0', 4, v4('10.96.0.10')),
    on('kube-ipvs0', 4, v4('203.0.113.7')),
  ];

  it('lists every address except those on kube-ipvs0, once each, sorted', () => {
    expect(nodeAddresses(all, 'kube-ipvs0')).toEqual(['127.0.0.1', '192.168.1.10', '::1', 'fe80::1']);
  });

  it('finds which external IPs are already local on another interface (so kube-ipvs0 does not bind them)', () => {
    expect(localElsewhere(['192.168.001.10', '203.0.113.7', 'not-an-ip', '::1'], all, 'kube-ipvs0'))
      .toEqual(['192.168.1.10', '::1']);
  });
});
