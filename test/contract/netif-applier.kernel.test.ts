// SPDX-License-Identifier: Apache-2.0
// NetifApplier against the sandbox kernel: its own dummy link (not kube-ipvs0),
// real /proc/sys (every sysctl it changes is put back afterwards).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NetifApplier } from '../../src/netif/applier.ts';
import { RtNetlinkClient } from '../../src/netif/rtnetlink-client.ts';
import { ProcSysctl } from '../../src/netif/sysctl.ts';
import { kubeProxySysctls } from '../../src/netif/sysctl-settings.ts';
import { KernelError } from '../../src/netlink/errors.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { run } from '../../src/sandbox/exec.ts';

const linkName = 'kipvs-t3';
const client = RtNetlinkClient.open();
const sysctl = new ProcSysctl();
/** Sysctl path → [value before the tests, value the applier wants]. */
const saved = new Map<string, [string, string]>();
const v4 = Array.from({ length: 300 }, (_, i) => `10.98.${(i + 1) >> 8}.${(i + 1) & 255}`);
const v6 = Array.from({ length: 50 }, (_, i) => `fd00:98::${(i + 1).toString(16)}`);
const desired = { addresses: { IPv4: v4, IPv6: v6 }, strictARP: true };
let applier: NetifApplier;

async function bound(): Promise<string[]> {
  const link = await client.getLink(linkName);
  return (await client.listAddresses({ ifindex: link.index })).map((a) => `${a.address}/${a.prefixLength}`).sort();
}
const expected = [...v4.map((a) => `${a}/32`), ...v6.map((a) => `${a}/128`)].sort();

beforeAll(async () => {
  const plan = kubeProxySysctls({ kernelRelease: await sysctl.read('kernel/osrelease'), strictARP: true });
  for (const s of plan.settings) saved.set(s.path, [await sysctl.read(s.path), s.value]);
  try {
    await client.deleteLink(linkName);
  } catch (err) {
    if (!(err instanceof KernelError && err.code === 'ENODEV')) throw err;
  }
  applier = new NetifApplier({ client, sysctl, logger: silentLogger(), linkName });
});

afterAll(async () => {
  for (const [path, [value]] of saved) await sysctl.write(path, value);
  try {
    await client.deleteLink(linkName);
  } catch (err) {
    if (!(err instanceof KernelError && err.code === 'ENODEV')) throw err;
  }
  client.close();
});

describe('NetifApplier on the real kernel', () => {
  it('creates the link down, binds 350 addresses and sets the sysctls that differ', async () => {
    const r = await applier.applyFull(desired);
    expect(r.errors).toEqual([]);
    expect(r.ops['add-link']).toBe(1);
    expect(r.ops['add-address']).toBe(350);
    // Only the settings that differed are written (the sandbox boots with conntrack=1 and ip_forward=1).
    const differing = [...saved.values()].filter(([before, want]) => before !== want).length;
    expect(differing).toBeGreaterThan(0);
    expect(r.ops['write-sysctl']).toBe(differing);
    expect(await sysctl.read('net/ipv4/vs/expire_nodest_conn')).toBe('1');
    expect(await sysctl.read('net/ipv4/conf/all/arp_announce')).toBe('2');
    expect((await client.getLink(linkName)).up).toBe(false);
    expect(await bound()).toEqual(expected);
  });

  it('writes nothing on a second full sync', async () => {
    expect(await applier.applyFull(desired)).toEqual({ subsystem: 'netif', writes: 0, ops: {}, repaired: 0, errors: [] });
  });

  it('repairs an address removed and one added with ip(8), and a sysctl changed with sysctl(8)', async () => {
    await run('ip', ['addr', 'del', '10.98.0.1/32', 'dev', linkName]);
    await run('ip', ['addr', 'add', '10.98.9.9/32', 'dev', linkName]);
    await run('sysctl', ['-qw', 'net.ipv4.vs.expire_quiescent_template=0']);
    const r = await applier.applyFull(desired);
    expect(r).toMatchObject({ writes: 3, repaired: 3, errors: [] });
    expect(await bound()).toEqual(expected);
  });

  it('applies a delta without reading, then a full sync finds nothing to do', async () => {
    const r = await applier.applyDelta(['10.98.100.1', 'fd00:98::100'], ['10.98.0.1', 'fd00:98::1']);
    expect(r).toMatchObject({ writes: 4, errors: [] });
    const next = {
      addresses: { IPv4: [...v4.filter((a) => a !== '10.98.0.1'), '10.98.100.1'], IPv6: [...v6.filter((a) => a !== 'fd00:98::1'), 'fd00:98::100'] },
      strictARP: true,
    };
    expect(await applier.applyFull(next)).toMatchObject({ writes: 0, repaired: 0 });
  });

  it('cleanup deletes the link and its addresses', async () => {
    expect(await applier.cleanup()).toMatchObject({ writes: 1, ops: { 'delete-link': 1 } });
    await expect(client.getLink(linkName)).rejects.toMatchObject({ code: 'ENODEV' });
    expect((await client.listAddresses()).filter((a) => a.address.startsWith('10.98.'))).toEqual([]);
  });
});
