// SPDX-License-Identifier: Apache-2.0
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../observability/logger.ts';
import { KernelError } from '../netlink/errors.ts';
import { NetifApplier } from './applier.ts';
import type { NetifClient } from './client.ts';
import { FakeNetif } from './fake-client.ts';
import { FakeSysctl } from './fake-sysctl.ts';
import { hostAddresses } from './host-addresses.ts';
import type { InterfaceAddress } from './types.ts';

/** /proc/sys of a fresh node with ip_vs loaded: every setting at its kernel default. */
function freshSysctls(release = '6.1.176'): FakeSysctl {
  return new FakeSysctl({
    'kernel/osrelease': release,
    'net/ipv4/vs/conntrack': '0',
    'net/ipv4/vs/conn_reuse_mode': '1',
    'net/ipv4/vs/expire_nodest_conn': '0',
    'net/ipv4/vs/expire_quiescent_template': '0',
    'net/ipv4/ip_forward': '0',
    'net/ipv4/conf/all/arp_ignore': '0',
    'net/ipv4/conf/all/arp_announce': '0',
    'net/bridge/bridge-nf-call-iptables': '1',
  });
}

/** Counts calls per method of a client (to prove partial syncs read nothing). */
function counting(inner: NetifClient): { client: NetifClient; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const client = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]): unknown => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client, calls };
}

const texts = (l: readonly InterfaceAddress[]): string[] => l.map((a) => `${a.address}/${a.prefixLength}`);

describe('NetifApplier', () => {
  let netif: FakeNetif;
  let sysctl: FakeSysctl;
  let applier: NetifApplier;
  const desired = { addresses: { IPv4: ['10.96.0.1', '10.96.0.10'], IPv6: ['fd00:96::1'] }, strictARP: false };

  async function bound(): Promise<string[]> {
    const link = await netif.getLink('kube-ipvs0');
    return texts(await netif.listAddresses({ ifindex: link.index }));
  }

  beforeEach(() => {
    netif = new FakeNetif();
    sysctl = freshSysctls();
    applier = new NetifApplier({ client: netif, sysctl, logger: silentLogger() });
  });

  describe('full sync', () => {
    it('on a fresh node creates kube-ipvs0 (left down), binds /32 and /128, and sets the sysctls that differ', async () => {
      const r = await applier.applyFull(desired);
      expect(r).toEqual({
        subsystem: 'netif', writes: 8, repaired: 0, errors: [],
        ops: { 'write-sysctl': 4, 'add-link': 1, 'add-address': 3 },
      });
      const link = await netif.getLink('kube-ipvs0');
      expect(link).toMatchObject({ kind: 'dummy', up: false });
      expect(await bound()).toEqual(['10.96.0.1/32', '10.96.0.10/32', 'fd00:96::1/128']);
      expect(sysctl.writes).toEqual([
        { path: 'net/ipv4/vs/conntrack', value: '1' },
        { path: 'net/ipv4/vs/expire_nodest_conn', value: '1' },
        { path: 'net/ipv4/vs/expire_quiescent_template', value: '1' },
        { path: 'net/ipv4/ip_forward', value: '1' },
      ]);
      expect(applier.ready).toBe(true);
    });

    it('writes nothing the second time', async () => {
      await applier.applyFull(desired);
      const mark = netif.writes.length;
      const sysMark = sysctl.writes.length;
      const r = await applier.applyFull(desired);
      expect(r).toEqual({ subsystem: 'netif', writes: 0, ops: {}, repaired: 0, errors: [] });
      expect(netif.writes.slice(mark)).toEqual([]);
      expect(sysctl.writes.slice(sysMark)).toEqual([]);
    });

    it('writes only the difference when the desired addresses change', async () => {
      await applier.applyFull(desired);
      const mark = netif.writes.length;
      const r = await applier.applyFull({ ...desired, addresses: { IPv4: ['10.96.0.1', '10.96.0.20'], IPv6: ['fd00:96::1'] } });
      expect(r).toMatchObject({ writes: 2, ops: { 'add-address': 1, 'delete-address': 1 }, repaired: 0 });
      expect(netif.writes.slice(mark).map((w) => `${w.op} ${w.object}`)).toEqual([
        'add-address 10.96.0.20/32 ifindex 2',
        'delete-address 10.96.0.10/32 ifindex 2',
      ]);
    });

    it('repairs and counts drift: a removed address, a stray address, a changed sysctl', async () => {
      await applier.applyFull(desired);
      const link = await netif.getLink('kube-ipvs0');
      netif.tamperDeleteAddress({ ifindex: link.index, family: 'inet', address: '10.96.0.10', prefixLength: 32 });
      netif.tamperAddAddress({ ifindex: link.index, family: 'inet6', address: 'fd00:96::99', prefixLength: 128 });
      sysctl.tamper('net/ipv4/ip_forward', '0');
      const r = await applier.applyFull(desired);
      expect(r).toMatchObject({ writes: 3, repaired: 3, errors: [], ops: { 'write-sysctl': 1, 'add-address': 1, 'delete-address': 1 } });
      expect(await bound()).toEqual(['10.96.0.1/32', '10.96.0.10/32', 'fd00:96::1/128']);
    });

    it('re-creates kube-ipvs0 deleted behind its back and counts the link and its addresses as repaired', async () => {
      await applier.applyFull(desired);
      await netif.deleteLink('kube-ipvs0');
      const r = await applier.applyFull(desired);
      expect(r).toMatchObject({ writes: 4, repaired: 4, ops: { 'add-link': 1, 'add-address': 3 } });
      expect(await bound()).toEqual(['10.96.0.1/32', '10.96.0.10/32', 'fd00:96::1/128']);
    });

    it('after a restart removes addresses left by the previous run without calling it drift', async () => {
      const old = netif.addHostLink('kube-ipvs0', 'dummy', [
        { family: 'inet', address: '10.96.0.1', prefixLength: 32 },
        { family: 'inet', address: '10.96.0.77', prefixLength: 32 },
      ]);
      const r = await applier.applyFull(desired);
      expect(r).toMatchObject({ repaired: 0, ops: { 'add-address': 2, 'delete-address': 1 } });
      expect((await netif.getLink('kube-ipvs0')).index).toBe(old.index);
      expect(await bound()).toEqual(['10.96.0.1/32', '10.96.0.10/32', 'fd00:96::1/128']);
    });

    it('leaves addresses of a family it does not run alone (single-stack IPv4)', async () => {
      const link = netif.addHostLink('kube-ipvs0', 'dummy', [{ family: 'inet6', address: 'fd00:96::5', prefixLength: 128 }]);
      const r = await applier.applyFull({ addresses: { IPv4: ['10.96.0.1'] }, strictARP: false });
      expect(r.ops).toEqual({ 'write-sysctl': 4, 'add-address': 1 });
      expect(texts(await netif.listAddresses({ ifindex: link.index }))).toEqual(['10.96.0.1/32', 'fd00:96::5/128']);
    });

    it('uses an existing kube-ipvs0 that is up, keeping its IPv6 link-local address', async () => {
      await netif.addDummyLink('kube-ipvs0');
      await netif.setLinkUp('kube-ipvs0');
      const r = await applier.applyFull({ addresses: { IPv6: ['fd00:96::1'] }, strictARP: false });
      expect(r.ops).toEqual({ 'write-sysctl': 4, 'add-address': 1 });
      expect(await bound()).toEqual(['fd00:96::1/128', 'fe80::ff:fe00:2/64']);
    });

    it('with strictARP also sets arp_ignore and arp_announce', async () => {
      await applier.applyFull({ ...desired, strictARP: true });
      expect(sysctl.writes.slice(-2)).toEqual([
        { path: 'net/ipv4/conf/all/arp_ignore', value: '1' },
        { path: 'net/ipv4/conf/all/arp_announce', value: '2' },
      ]);
    });

    it('sets conn_reuse_mode=0 on a 4.19 kernel, and leaves it on 6.1', async () => {
      const old = freshSysctls('4.19.0-25-amd64');
      await new NetifApplier({ client: netif, sysctl: old, logger: silentLogger() }).applyFull(desired);
      expect(old.writes).toContainEqual({ path: 'net/ipv4/vs/conn_reuse_mode', value: '0' });
      await applier.applyFull(desired);
      expect(sysctl.writes.map((w) => w.path)).not.toContain('net/ipv4/vs/conn_reuse_mode');
    });

    it('reports a sysctl the kernel lacks (ip_vs not loaded) as an error and still binds the addresses', async () => {
      const bare = new FakeSysctl({ 'kernel/osrelease': '6.1.0', 'net/ipv4/ip_forward': '1' });
      const r = await new NetifApplier({ client: netif, sysctl: bare, logger: silentLogger() }).applyFull(desired);
      expect(r.errors.map((e) => (e as KernelError).code)).toEqual(['ENOENT', 'ENOENT', 'ENOENT']);
      expect(r.ops).toEqual({ 'add-link': 1, 'add-address': 3 });
      expect(await bound()).toHaveLength(3);
    });

    it('rejects with the kernel error when the interface cannot be read', async () => {
      netif.failWith = new KernelError('EPERM', 'get link', 'kube-ipvs0');
      await expect(applier.applyFull(desired)).rejects.toMatchObject({ code: 'EPERM' });
    });

    it('logs each sysctl it sets with its reason', async () => {
      const lines: string[] = [];
      const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done(); } });
      const logged = new NetifApplier({ client: netif, sysctl, logger: createLogger({ destination: sink }) });
      await logged.applyFull(desired);
      const set = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'sysctl set');
      expect(set.map((l) => [l.sysctl, l.from, l.to, l.subsystem])).toContainEqual(['net/ipv4/vs/conntrack', '0', '1', 'netif']);
      expect(set.every((l) => typeof l.reason === 'string')).toBe(true);
    });
  });

  describe('partial sync', () => {
    it('writes only the given changes, without reading the kernel', async () => {
      const { client, calls } = counting(netif);
      const a = new NetifApplier({ client, sysctl, logger: silentLogger() });
      await a.applyFull(desired);
      calls.clear();
      const r = await a.applyDelta(['10.96.0.30', 'fd00:96::30'], ['10.96.0.10']);
      expect(r).toMatchObject({ writes: 3, repaired: 0, errors: [], ops: { 'add-address': 2, 'delete-address': 1 } });
      expect([...calls.keys()]).toEqual(['apply']);
      expect(await bound()).toEqual(['10.96.0.1/32', '10.96.0.30/32', 'fd00:96::1/128', 'fd00:96::30/128']);
    });

    it('skips what it knows is already so: a repeated delta sends nothing to the kernel', async () => {
      const { client, calls } = counting(netif);
      const a = new NetifApplier({ client, sysctl, logger: silentLogger() });
      await a.applyFull(desired);
      await a.applyDelta(['10.96.0.30'], ['10.96.0.10']);
      calls.clear();
      const mark = netif.writes.length;
      const r = await a.applyDelta(['10.96.0.30', '10.96.0.1'], ['10.96.0.10', '10.96.0.99']);
      expect(r.writes).toBe(0);
      expect([...calls.keys()]).toEqual([]);
      expect(netif.writes.slice(mark)).toEqual([]);
    });

    it('binds an address given both to add and to delete', async () => {
      await applier.applyFull(desired);
      await applier.applyDelta(['10.96.0.10'], ['10.96.0.10']);
      expect(await bound()).toContain('10.96.0.10/32');
    });

    it('before any full sync looks the link up once and writes every change; EEXIST and EADDRNOTAVAIL are no errors', async () => {
      const link = netif.addHostLink('kube-ipvs0', 'dummy', [{ family: 'inet', address: '10.96.0.1', prefixLength: 32 }]);
      const r = await applier.applyDelta(['10.96.0.1', '10.96.0.2'], ['10.96.0.3']);
      expect(r).toMatchObject({ writes: 1, errors: [], ops: { 'add-address': 1 } });
      expect(texts(await netif.listAddresses({ ifindex: link.index }))).toEqual(['10.96.0.1/32', '10.96.0.2/32']);
    });

    it('rejects with ENODEV when kube-ipvs0 is absent and unknown', async () => {
      await expect(applier.applyDelta(['10.96.0.1'], [])).rejects.toMatchObject({ code: 'ENODEV' });
    });

    it('reports text that is not an address as EINVAL and writes the rest', async () => {
      await applier.applyFull(desired);
      const r = await applier.applyDelta(['10.96.0.40', 'bogus'], []);
      expect(r.writes).toBe(1);
      expect(r.errors.map((e) => (e as KernelError).code)).toEqual(['EINVAL']);
    });

    it('reports a write the kernel refuses (link gone) and the next full sync repairs it', async () => {
      await applier.applyFull(desired);
      await netif.deleteLink('kube-ipvs0');
      const r = await applier.applyDelta(['10.96.0.40'], []);
      expect(r.errors.map((e) => (e as KernelError).code)).toEqual(['ENODEV']);
      const full = await applier.applyFull({ ...desired, addresses: { ...desired.addresses, IPv4: [...desired.addresses.IPv4, '10.96.0.40'] } });
      expect(full.errors).toEqual([]);
      expect(await bound()).toEqual(['10.96.0.1/32', '10.96.0.10/32', '10.96.0.40/32', 'fd00:96::1/128']);
    });
  });

  describe('cleanup', () => {
    it('deletes kube-ipvs0 and its addresses', async () => {
      await applier.applyFull(desired);
      const r = await applier.cleanup();
      expect(r).toEqual({ subsystem: 'netif', writes: 1, ops: { 'delete-link': 1 }, repaired: 0, errors: [] });
      await expect(netif.getLink('kube-ipvs0')).rejects.toMatchObject({ code: 'ENODEV' });
      expect(applier.ready).toBe(false);
    });

    it('does nothing when kube-ipvs0 is absent', async () => {
      expect(await applier.cleanup()).toEqual({ subsystem: 'netif', writes: 0, ops: {}, repaired: 0, errors: [] });
    });

    it('leaves a kube-ipvs0 that is not a dummy alone and says so', async () => {
      netif.addHostLink('kube-ipvs0', 'veth');
      const r = await applier.cleanup();
      expect(r.writes).toBe(0);
      expect(r.errors.map((e) => (e as KernelError).code)).toEqual(['EOPNOTSUPP']);
      expect((await netif.getLink('kube-ipvs0')).kind).toBe('veth');
    });
  });
});

describe('hostAddresses', () => {
  it("lists the node's addresses from every interface but kube-ipvs0", async () => {
    const netif = new FakeNetif();
    netif.addHostLink('eth0', 'veth', [
      { family: 'inet', address: '192.168.1.10', prefixLength: 24 },
      { family: 'inet6', address: '2001:db8::10', prefixLength: 64 },
    ]);
    netif.addHostLink('kube-ipvs0', 'dummy', [{ family: 'inet', address: '10.96.0.1', prefixLength: 32 }]);
    expect(await hostAddresses(netif)).toEqual(['127.0.0.1', '192.168.1.10', '2001:db8::10', '::1']);
  });
});
