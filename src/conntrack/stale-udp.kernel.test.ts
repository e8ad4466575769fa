// Stale UDP flows with real packets. A client pod keeps one UDP flow (a fixed
// source port) to a Service; the backend it is stuck on stops being an
// endpoint; after the cleaner, the same flow reaches the serving endpoint.
//
// What the kernel does by itself matters here. With kube-proxy's IPVS settings
// (vs/conntrack=1, vs/expire_nodest_conn=1) deleting a UDP real server makes
// IPVS expire that server's connections and drop their conntrack entries at
// once (this 6.1 kernel does it before the next datagram), so for a flow IPVS
// created the cleaner usually finds nothing left. The flows only the cleaner
// can fix are those NATed by netfilter rather than IPVS, e.g. ones a previous
// proxy (kube-proxy in iptables mode) DNATed before ipvs-proxy took over: the
// NAT binding lives in the conntrack entry, so the flow keeps going to the old
// backend, past IPVS, for as long as the client keeps talking.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { NetlinkIpvsClient } from '../ipvs/netlink-client.ts';
import type { RealServer, VirtualServer } from '../ipvs/types.ts';
import { service, slice } from '../model/builders.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import type { ClusterSnapshot } from '../model/types.ts';
import { silentLogger } from '../observability/logger.ts';
import { run } from '../sandbox/exec.ts';
import { Lab, type Pod } from '../sandbox/lab.ts';
import { ConntrackCleaner } from './cleaner.ts';
import { ExecConntrack } from './exec-client.ts';
import type { Flow } from './types.ts';
import { NetnsUdpSession } from './udp-session.ts';

const link = 'ct-ipvs0';
const vipIpvs = '10.96.53.10';
const vipDnat = '10.96.53.12';
const sysctls = ['net/ipv4/vs/expire_nodest_conn', 'net/ipv4/vs/expire_quiescent_template', 'net/ipv4/vs/conntrack'];
const saved = new Map<string, string>();
const comment = ['-m', 'comment', '--comment', 'ipvs-proxy conntrack kernel test'];

// kube-proxy's KUBE-FORWARD rule dropping conntrack-INVALID packets. Any rule
// that needs conntrack makes the kernel track this namespace's packets (the
// hooks are registered only while some user needs them), as on a real node.
const invalidRule = (op: '-I' | '-D'): string[] =>
  ['-w', '5', '-t', 'filter', op, 'FORWARD', '-m', 'conntrack', '--ctstate', 'INVALID', ...comment, '-j', 'DROP'];
// An iptables-mode Service rule: UDP to vipDnat:53 DNATed to one pod.
const dnatRule = (op: '-I' | '-D', pod: Pod): string[] =>
  ['-w', '5', '-t', 'nat', op, 'PREROUTING', '-d', `${vipDnat}/32`, '-p', 'udp', '--dport', '53', ...comment,
    '-j', 'DNAT', '--to-destination', `${pod.ip}:${pod.port}`];

const vs = (address: string): VirtualServer => ({ family: 'inet', protocol: 'UDP', address, port: 53, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null });
const rs = (pod: Pod): RealServer => ({ family: 'inet', address: pod.ip, port: pod.port, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null });

/** The Service `ns1/dns` (UDP 53 on `clusterIP`, target port 8080) with these pods as endpoints. */
function snapshotWith(clusterIP: string, pods: Pod[]): ClusterSnapshot {
  const { snapshot } = buildSnapshot(
    [service('ns1/dns', { clusterIP, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] })],
    [slice('ns1/dns', { ports: [{ name: 'dns', port: 8080, protocol: 'UDP' }], endpoints: pods.map((p) => ({ ip: p.ip })) })],
  );
  return snapshot;
}

// The DNAT target (xt_nat) is not among the modules the sandbox loads: load it
// for this file and unload it afterwards if it was not there before.
let loadedXtNat = false;

let lab: Lab;
let podA: Pod;
let podB: Pod;
let client: Pod;
let ipvs: NetlinkIpvsClient | undefined;
const conntrack = new ExecConntrack();
const cleaner = new ConntrackCleaner(conntrack, silentLogger(), { families: ['inet'] });

/** The backends (`ip:port`) the kernel's flows from `sourcePort` to `dst` go to. */
async function backendsOf(dst: string, sourcePort: number): Promise<string[]> {
  const flows: Flow[] = await conntrack.list('inet', 'udp');
  return flows.filter((f) => f.original.dst === dst && f.original.srcPort === sourcePort).map((f) => `${f.reply.src}:${f.reply.srcPort}`);
}

beforeAll(async () => {
  for (const s of sysctls) saved.set(s, (await readFile(`/proc/sys/${s}`, 'utf8')).trim());
  // kube-proxy's IPVS settings (src/netif/sysctl-settings.ts).
  for (const s of sysctls) await writeFile(`/proc/sys/${s}`, '1');
  lab = await Lab.create({ prefix: 'ct', bridge: 'ctbr0', podNet: '10.245.0' });
  const pods = await Promise.all([lab.addPod('a'), lab.addPod('b'), lab.addPod('client')]);
  [podA, podB, client] = [pods[0], pods[1], pods[2]];
  await run('ip', ['link', 'add', link, 'type', 'dummy']);
  for (const v of [vipIpvs, vipDnat]) await run('ip', ['addr', 'add', `${v}/32`, 'dev', link]);
  await run('iptables-legacy', invalidRule('-I'));
  if (!existsSync('/sys/module/xt_nat')) {
    await run('modprobe', ['-d', '/run', 'xt_nat']);
    loadedXtNat = true;
  }
  ipvs = await NetlinkIpvsClient.open();
});

afterAll(async () => {
  for (const v of [vipIpvs, vipDnat]) await ipvs?.deleteVirtualServer(vs(v)).catch(() => undefined);
  ipvs?.close();
  await run('iptables-legacy', dnatRule('-D', podA)).catch(() => undefined);
  await run('iptables-legacy', invalidRule('-D')).catch(() => undefined);
  if (loadedXtNat) await run('modprobe', ['-r', '-d', '/run', 'xt_nat']).catch(() => undefined);
  await conntrack.delete([vipIpvs, vipDnat].map((v) => ({ family: 'inet', protocol: 'udp', original: { dst: v } }))).catch(() => undefined);
  await run('ip', ['link', 'del', link]).catch(() => undefined);
  await lab.close();
  for (const [s, v] of saved) await writeFile(`/proc/sys/${s}`, v).catch(() => undefined);
});

describe('stale UDP conntrack flows, with packets', () => {
  it('a flow stuck on a real server removed from IPVS reaches the remaining one after the cleanup', async () => {
    await ipvs!.addVirtualServer(vs(vipIpvs));
    await ipvs!.addRealServer(vs(vipIpvs), rs(podA));
    const session = await NetnsUdpSession.open(client.netns, vipIpvs, 53, 40053);
    try {
      expect(await session.askMany(3)).toEqual(Array(3).fill("I'm a"));
      await ipvs!.addRealServer(vs(vipIpvs), rs(podB));
      // One source port, one flow: it stays on pod A although B is there too.
      expect(await session.askMany(3)).toEqual(Array(3).fill("I'm a"));
      expect(await backendsOf(vipIpvs, 40053)).toEqual([`${podA.ip}:8080`]);

      await ipvs!.deleteRealServer(vs(vipIpvs), rs(podA)); // UDP: deleted at once, no draining
      const result = await cleaner.cleanup(snapshotWith(vipIpvs, [podB]));
      expect(result.errors).toEqual([]);
      // 0 when IPVS already dropped the entry (expire_nodest_conn), 1 otherwise.
      expect(result.deleted).toBeLessThanOrEqual(1);
      expect(await session.askMany(3)).toEqual(Array(3).fill("I'm b"));
      expect(await backendsOf(vipIpvs, 40053)).toEqual([`${podB.ip}:8080`]);
    } finally {
      await session.close();
    }
  });

  it('a flow DNATed by netfilter to an old backend stays there past IPVS until the cleaner deletes it', async () => {
    // Before: an iptables-mode proxy sent vipDnat:53 to pod A.
    await run('iptables-legacy', dnatRule('-I', podA));
    const session = await NetnsUdpSession.open(client.netns, vipDnat, 53, 40055);
    try {
      expect(await session.askMany(2)).toEqual(Array(2).fill("I'm a"));
      expect(await backendsOf(vipDnat, 40055)).toEqual([`${podA.ip}:8080`]);

      // Takeover: the DNAT rule is gone and IPVS serves the Service, whose only endpoint is pod B.
      await run('iptables-legacy', dnatRule('-D', podA));
      await ipvs!.addVirtualServer(vs(vipDnat));
      await ipvs!.addRealServer(vs(vipDnat), rs(podB));
      // The NAT binding lives in the conntrack entry: the flow still goes to pod A.
      expect(await session.askMany(2)).toEqual(Array(2).fill("I'm a"));

      const result = await cleaner.cleanup(snapshotWith(vipDnat, [podB]));
      expect(result).toMatchObject({ deleted: 1, errors: [] });
      expect(result.families).toEqual([expect.objectContaining({ family: 'inet', stale: 1, deleted: 1 })]);
      expect(await session.askMany(3)).toEqual(Array(3).fill("I'm b"));
      expect(await backendsOf(vipDnat, 40055)).toEqual([`${podB.ip}:8080`]);

      // Converged: a second cleanup finds nothing stale.
      expect((await cleaner.cleanup(snapshotWith(vipDnat, [podB]))).deleted).toBe(0);
    } finally {
      await session.close();
    }
  });
});
