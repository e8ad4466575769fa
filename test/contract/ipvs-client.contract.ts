// One contract for every IpvsClient: the FakeIpvs on the host and the netlink
// client against the real kernel in the sandbox. When the kernel and the fake
// disagree, this suite fails on one of the two.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { IpvsClient } from '../../src/ipvs/client.ts';
import {
  type Family, type Protocol, type RealServer, type VirtualServer, VsFlag,
} from '../../src/ipvs/types.ts';
import { codeOf } from './kernel-code.ts';

export interface ContractTarget {
  /** Returns a client whose table is empty and whose timeouts are the defaults. */
  fresh(): Promise<IpvsClient>;
}

export function vs(over: Partial<VirtualServer> = {}): VirtualServer {
  return {
    family: 'inet', protocol: 'TCP', address: '10.96.0.1', port: 80, fwmark: null,
    scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null, ...over,
  };
}

export function rs(over: Partial<RealServer> = {}): RealServer {
  return {
    family: 'inet', address: '10.244.1.1', port: 8080, weight: 1, forward: 'masq',
    upperThreshold: 0, lowerThreshold: 0, tunnel: null, ...over,
  };
}

const fwm = (family: Family, mark: number): VirtualServer =>
  vs({ family, protocol: null, address: null, port: null, fwmark: mark });

/** Strips read-only status fields so read-back compares with what was written. */
function plainVs(v: VirtualServer): VirtualServer {
  return {
    family: v.family, protocol: v.protocol, address: v.address, port: v.port, fwmark: v.fwmark,
    scheduler: v.scheduler, flags: v.flags, persistence: v.persistence, persistenceEngine: v.persistenceEngine,
  };
}

function plainRs(r: RealServer): RealServer {
  return {
    family: r.family, address: r.address, port: r.port, weight: r.weight, forward: r.forward,
    upperThreshold: r.upperThreshold, lowerThreshold: r.lowerThreshold, tunnel: r.tunnel,
  };
}

export function describeIpvsContract(name: string, target: ContractTarget): void {
  describe(`IpvsClient contract: ${name}`, () => {
    let c: IpvsClient;
    beforeEach(async () => { c = await target.fresh(); });

    describe('virtual servers', () => {
      const identities: { name: string; v: VirtualServer }[] = [];
      for (const family of ['inet', 'inet6'] as const) {
        for (const protocol of ['TCP', 'UDP', 'SCTP'] as Protocol[]) {
          identities.push({
            name: `${protocol} ${family}`,
            v: vs({ family, protocol, address: family === 'inet' ? '10.96.0.10' : 'fd00:96::10', port: 53 }),
          });
        }
        identities.push({ name: `fwmark ${family}`, v: fwm(family, 4096) });
      }

      it.each(identities)('adds, gets and lists a $name virtual server', async ({ v }) => {
        await c.addVirtualServer(v);
        expect(plainVs(await c.getVirtualServer(v))).toEqual(v);
        expect((await c.listVirtualServers()).map(plainVs)).toEqual([v]);
      });

      it('keeps virtual servers of both families and all protocols apart', async () => {
        for (const { v } of identities) await c.addVirtualServer(v);
        const listed = (await c.listVirtualServers()).map(plainVs);
        expect(listed).toHaveLength(identities.length);
        expect(listed).toEqual(expect.arrayContaining(identities.map((i) => i.v)));
      });

      it.each(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh'].map((s) => ({ s })))(
        'accepts the $s scheduler', async ({ s }) => {
          const v = vs({ scheduler: s });
          await c.addVirtualServer(v);
          expect((await c.getVirtualServer(v)).scheduler).toBe(s);
        },
      );

      it.each([
        { name: 'sh-fallback,sh-port', scheduler: 'sh', flags: VsFlag.Sched1 | VsFlag.Sched2 },
        { name: 'mh-fallback', scheduler: 'mh', flags: VsFlag.Sched1 },
        { name: 'mh-port', scheduler: 'mh', flags: VsFlag.Sched2 },
        { name: 'flag-3', scheduler: 'wlc', flags: VsFlag.Sched3 },
        { name: 'onepacket', scheduler: 'rr', flags: VsFlag.OnePacket },
      ])('stores scheduler flags $name', async ({ scheduler, flags }) => {
        const v = vs({ protocol: 'UDP', scheduler, flags });
        await c.addVirtualServer(v);
        expect((await c.getVirtualServer(v)).flags).toBe(flags);
      });

      it.each([
        { name: 'IPv4 one client', v: vs({ persistence: { timeout: 10800, prefixLength: 32 } }) },
        { name: 'IPv4 /24', v: vs({ persistence: { timeout: 300, prefixLength: 24 } }) },
        { name: 'IPv6 /64', v: vs({ family: 'inet6', address: 'fd00::1', persistence: { timeout: 100, prefixLength: 64 } }) },
        { name: 'IPv6 one client', v: vs({ family: 'inet6', address: 'fd00::1', persistence: { timeout: 60, prefixLength: 128 } }) },
        { name: 'fwmark', v: { ...fwm('inet', 7), persistence: { timeout: 60, prefixLength: 32 } } },
        { name: 'with the sip engine', v: vs({ protocol: 'UDP', persistence: { timeout: 60, prefixLength: 32 }, persistenceEngine: 'sip' }) },
      ])('stores persistence: $name', async ({ v }) => {
        await c.addVirtualServer(v);
        expect(plainVs(await c.getVirtualServer(v))).toEqual(v);
      });

      it('lists virtual servers without stats, as the full listing has them', async () => {
        await c.addVirtualServer(vs({ persistence: { timeout: 300, prefixLength: 24 } }));
        await c.addVirtualServer(vs({ family: 'inet6', address: 'fd00::1', protocol: 'UDP', scheduler: 'mh', flags: VsFlag.Sched2 }));
        await c.addVirtualServer(fwm('inet', 7));
        const full = (await c.listVirtualServers()).map(({ stats: _stats, ...rest }) => rest);
        const settings = await c.listVirtualServerSettings();
        expect(settings).toHaveLength(3);
        expect(settings).toEqual(full);
        for (const v of settings) expect(v).not.toHaveProperty('stats');
      });

      it('updates scheduler, flags and persistence in place, keeping real servers', async () => {
        const v = vs({ persistence: { timeout: 300, prefixLength: 32 } });
        await c.addVirtualServer(v);
        await c.addRealServer(v, rs());
        const changed = vs({ scheduler: 'mh', flags: VsFlag.Sched2, persistence: null });
        await c.updateVirtualServer(changed);
        expect(plainVs(await c.getVirtualServer(v))).toEqual(changed);
        expect((await c.listRealServers(v)).map(plainRs)).toEqual([rs()]);
      });

      it('deletes a virtual server with its real servers', async () => {
        const v = vs();
        await c.addVirtualServer(v);
        await c.addRealServer(v, rs());
        await c.deleteVirtualServer(v);
        expect(await c.listVirtualServers()).toEqual([]);
        expect(await codeOf(c.getVirtualServer(v))).toBe('ESRCH');
        await c.addVirtualServer(v);
        expect(await c.listRealServers(v)).toEqual([]);
      });

      it('refuses to add an existing virtual server with EEXIST', async () => {
        await c.addVirtualServer(vs());
        expect(await codeOf(c.addVirtualServer(vs({ scheduler: 'wrr' })))).toBe('EEXIST');
        expect((await c.getVirtualServer(vs())).scheduler).toBe('rr');
      });

      it.each([
        { name: 'get', call: (cl: IpvsClient) => cl.getVirtualServer(vs()) },
        { name: 'update', call: (cl: IpvsClient) => cl.updateVirtualServer(vs()) },
        { name: 'delete', call: (cl: IpvsClient) => cl.deleteVirtualServer(vs()) },
        { name: 'zero', call: (cl: IpvsClient) => cl.zero(vs()) },
      ])('answers ESRCH to $name a missing virtual server', async ({ call }) => {
        expect(await codeOf(call(c))).toBe('ESRCH');
      });

      it('lists no real servers for a missing virtual server (the kernel dumps nothing)', async () => {
        expect(await c.listRealServers(vs())).toEqual([]);
      });

      it('answers ENOENT for an unknown scheduler or persistence engine', async () => {
        expect(await codeOf(c.addVirtualServer(vs({ scheduler: 'nosuch' })))).toBe('ENOENT');
        expect(await codeOf(c.addVirtualServer(vs({ persistence: { timeout: 60, prefixLength: 32 }, persistenceEngine: 'nosuch' })))).toBe('ENOENT');
        expect(await c.listVirtualServers()).toEqual([]);
      });

      it('answers EINVAL for an IPv6 persistence prefix of 0', async () => {
        const v = vs({ family: 'inet6', address: 'fd00::1', persistence: { timeout: 60, prefixLength: 0 } });
        expect(await codeOf(c.addVirtualServer(v))).toBe('EINVAL');
      });

      it('answers EINVAL for an address that does not parse', async () => {
        expect(await codeOf(c.addVirtualServer(vs({ address: '10.96.0.300' })))).toBe('EINVAL');
        expect(await codeOf(c.addVirtualServer(vs({ family: 'inet6', address: '10.96.0.1' })))).toBe('EINVAL');
      });

      it('canonicalises IPv6 addresses as the kernel prints them', async () => {
        await c.addVirtualServer(vs({ family: 'inet6', address: 'FD00:0:0:0:0:0:0:1' }));
        expect((await c.listVirtualServers())[0]?.address).toBe('fd00::1');
        await c.getVirtualServer(vs({ family: 'inet6', address: 'fd00::1' }));
      });

      it('flushes every virtual server', async () => {
        await c.addVirtualServer(vs());
        await c.addVirtualServer(fwm('inet6', 1));
        await c.flush();
        expect(await c.listVirtualServers()).toEqual([]);
      });
    });

    describe('real servers', () => {
      const v = vs({ scheduler: 'wrr' });
      beforeEach(async () => { await c.addVirtualServer(v); });

      it.each([
        { name: 'masq with weight and thresholds', r: rs({ weight: 5, upperThreshold: 100, lowerThreshold: 10 }) },
        { name: 'masq with a u32 weight', r: rs({ weight: 65536 }) },
        { name: 'masq at weight 0', r: rs({ weight: 0 }) },
        { name: 'direct routing', r: rs({ forward: 'droute', port: 80 }) },
        { name: 'ipip tunnel', r: rs({ forward: 'tunnel', port: 80, tunnel: { type: 'ipip', port: 0, flags: 0 } }) },
        { name: 'GUE tunnel with checksum', r: rs({ forward: 'tunnel', port: 80, tunnel: { type: 'gue', port: 6080, flags: 1 } }) },
        { name: 'GRE tunnel without checksum', r: rs({ forward: 'tunnel', port: 80, tunnel: { type: 'gre', port: 0, flags: 0 } }) },
        { name: 'IPv6 real server through a tunnel', r: rs({ family: 'inet6', address: 'fd00::5', forward: 'tunnel', port: 80, tunnel: { type: 'ipip', port: 0, flags: 0 } }) },
      ])('adds and lists a real server: $name', async ({ r }) => {
        await c.addRealServer(v, r);
        const [got] = await c.listRealServers(v);
        expect(got && plainRs(got)).toEqual(r);
        expect(got?.activeConnections).toBe(0);
        expect(got?.inactiveConnections).toBe(0);
        expect(got?.persistentConnections).toBe(0);
      });

      it('serves real servers of IPv6 and fwmark virtual servers', async () => {
        const v6 = vs({ family: 'inet6', address: 'fd00::10' });
        const mark = fwm('inet', 99);
        await c.addVirtualServer(v6);
        await c.addVirtualServer(mark);
        await c.addRealServer(v6, rs({ family: 'inet6', address: 'fd00::20' }));
        await c.addRealServer(mark, rs({ port: 0 }));
        expect((await c.listRealServers(v6)).map(plainRs)).toEqual([rs({ family: 'inet6', address: 'fd00::20' })]);
        expect((await c.listRealServers(mark)).map(plainRs)).toEqual([rs({ port: 0 })]);
      });

      it('lists real servers with connection counts and without stats, as the full listing has them', async () => {
        const v6 = vs({ family: 'inet6', address: 'fd00::10' });
        await c.addVirtualServer(v6);
        await c.addRealServer(v, rs({ address: '10.244.1.1', weight: 0 }));
        await c.addRealServer(v, rs({ address: '10.244.1.2', forward: 'tunnel', port: 80, tunnel: { type: 'gue', port: 6080, flags: 1 } }));
        await c.addRealServer(v6, rs({ family: 'inet6', address: 'fd00::20' }));
        for (const x of [v, v6]) {
          const full = (await c.listRealServers(x)).map(({ stats: _stats, ...rest }) => rest);
          const connections = await c.listRealServerConnections(x);
          expect(connections.map((r) => r.address).sort()).toEqual(x === v ? ['10.244.1.1', '10.244.1.2'] : ['fd00::20']);
          expect(connections).toEqual(full);
          for (const r of connections) expect(r).not.toHaveProperty('stats');
        }
        expect(await c.listRealServerConnections(vs({ address: '10.96.99.99' }))).toEqual([]);
      });

      it('updates weight, thresholds and forwarding in place', async () => {
        await c.addRealServer(v, rs());
        const changed = rs({ weight: 0, upperThreshold: 50, lowerThreshold: 5 });
        await c.updateRealServer(v, changed);
        expect((await c.listRealServers(v)).map(plainRs)).toEqual([changed]);
      });

      it('deletes one real server and keeps the others', async () => {
        await c.addRealServer(v, rs({ address: '10.244.1.1' }));
        await c.addRealServer(v, rs({ address: '10.244.1.2' }));
        await c.deleteRealServer(v, rs({ address: '10.244.1.1' }));
        expect((await c.listRealServers(v)).map((r) => r.address)).toEqual(['10.244.1.2']);
      });

      it('answers EEXIST, ENOENT and ESRCH as the kernel does', async () => {
        await c.addRealServer(v, rs());
        expect(await codeOf(c.addRealServer(v, rs({ weight: 9 })))).toBe('EEXIST');
        expect(await codeOf(c.updateRealServer(v, rs({ address: '10.244.9.9' })))).toBe('ENOENT');
        expect(await codeOf(c.deleteRealServer(v, rs({ address: '10.244.9.9' })))).toBe('ENOENT');
        const missing = vs({ port: 81 });
        expect(await codeOf(c.addRealServer(missing, rs()))).toBe('ESRCH');
        expect(await codeOf(c.deleteRealServer(missing, rs()))).toBe('ESRCH');
      });

      it('refuses a lower threshold above the upper one with ERANGE', async () => {
        expect(await codeOf(c.addRealServer(v, rs({ upperThreshold: 5, lowerThreshold: 10 })))).toBe('ERANGE');
      });

      it('refuses a family mix without a tunnel with EINVAL', async () => {
        expect(await codeOf(c.addRealServer(v, rs({ family: 'inet6', address: 'fd00::5' })))).toBe('EINVAL');
      });

      it('zeroes counters of one or all virtual servers', async () => {
        await c.addRealServer(v, rs());
        await c.zero(v);
        await c.zero();
        const [got] = await c.listVirtualServers();
        expect(got?.stats.connections).toBe(0);
      });
    });

    describe('batched writes', () => {
      it('applies ops in order and reports each result', async () => {
        const v = vs();
        const results = await c.apply([
          { op: 'add-virtual-server', virtualServer: v },
          { op: 'add-real-server', virtualServer: v, realServer: rs({ address: '10.244.1.1' }) },
          { op: 'add-virtual-server', virtualServer: v },
          { op: 'add-real-server', virtualServer: vs({ port: 81 }), realServer: rs() },
          { op: 'add-real-server', virtualServer: v, realServer: rs({ address: '10.244.1.2' }) },
          { op: 'update-real-server', virtualServer: v, realServer: rs({ address: '10.244.1.2', weight: 7 }) },
          { op: 'delete-real-server', virtualServer: v, realServer: rs({ address: '10.244.1.9' }) },
          { op: 'add-virtual-server', virtualServer: vs({ address: 'bad' }) },
          { op: 'delete-virtual-server', virtualServer: vs({ port: 82 }) },
        ]);
        expect(results.map((r) => r.error?.code ?? 'ok')).toEqual(['ok', 'ok', 'EEXIST', 'ESRCH', 'ok', 'ok', 'ENOENT', 'EINVAL', 'ESRCH']);
        expect(results[2]?.error?.object).toBe('TCP/10.96.0.1:80');
        const listed = (await c.listRealServers(v)).map((r) => `${r.address}/${r.weight}`).sort();
        expect(listed).toEqual(['10.244.1.1/1', '10.244.1.2/7']);
      });

      it('handles a batch larger than one datagram', async () => {
        const ops = [];
        for (let i = 0; i < 1500; i++) ops.push({ op: 'add-virtual-server' as const, virtualServer: vs({ port: 1000 + i }) });
        ops.push({ op: 'add-virtual-server' as const, virtualServer: vs({ port: 1000 }) });
        const results = await c.apply(ops);
        expect(results.filter((r) => r.error === null)).toHaveLength(1500);
        expect(results[1500]?.error?.code).toBe('EEXIST');
        expect(await c.listVirtualServers()).toHaveLength(1500);
      });

      it('returns no results for no ops', async () => {
        expect(await c.apply([])).toEqual([]);
      });
    });

    describe('configuration', () => {
      it('reports the IPVS version and connection table size', async () => {
        const info = await c.info();
        expect(info.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(info.connectionTableSize).toBeGreaterThan(0);
      });

      it('sets timeouts, leaving 0 unchanged', async () => {
        const before = await c.getTimeouts();
        await c.setTimeouts({ tcp: 7200, udp: 0 });
        expect(await c.getTimeouts()).toEqual({ ...before, tcp: 7200 });
        await c.setTimeouts(before);
        expect(await c.getTimeouts()).toEqual(before);
      });
    });
  });
}
