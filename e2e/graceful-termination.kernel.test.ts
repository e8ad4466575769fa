// Graceful termination with real packets: a removed TCP backend keeps serving
// its open connection at weight 0 and disappears once that connection ends.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { IpvsApplier } from '../src/ipvs/applier.ts';
import type { VirtualServerEntry } from '../src/ipvs/diff.ts';
import { NetlinkIpvsClient } from '../src/ipvs/netlink-client.ts';
import { type RealServer, type VirtualServer, virtualServerKey } from '../src/ipvs/types.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { run } from '../src/sandbox/exec.ts';
import { Lab, type Pod } from '../src/sandbox/lab.ts';
import { type HeldConnection, holdConnection, sendRequests } from '../src/sandbox/requests.ts';

const vip = '10.96.0.20';
const vs: VirtualServer = { family: 'inet', protocol: 'TCP', address: vip, port: 80, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null };
const rs = (pod: Pod): RealServer => ({ family: 'inet', address: pod.ip, port: pod.port, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null });
const entry = (...pods: Pod[]): Map<string, VirtualServerEntry> => new Map([[virtualServerKey(vs), { virtualServer: vs, realServers: pods.map(rs) }]]);

let lab: Lab;
let pods: Pod[];
let client: NetlinkIpvsClient | undefined;
let applier: IpvsApplier;

beforeAll(async () => {
  lab = await Lab.create({ prefix: 'gt' });
  pods = await Promise.all([lab.addPod('pod1'), lab.addPod('pod2')]);
  await run('ip', ['link', 'add', 'kube-ipvs0', 'type', 'dummy']);
  await run('ip', ['addr', 'add', `${vip}/32`, 'dev', 'kube-ipvs0']);
  client = await NetlinkIpvsClient.open();
  applier = new IpvsApplier(client, silentLogger());
  await applier.applyFull([{ family: 'inet', virtualServers: entry(pods[0]!, pods[1]!), excludeCIDRs: [] }]);
});

afterAll(async () => {
  await client?.flush();
  client?.close();
  await run('ip', ['link', 'del', 'kube-ipvs0']).catch(() => undefined);
  await lab.close();
});

describe('graceful termination', () => {
  it('keeps an open connection to a removed backend working, then deletes the backend', async () => {
    // Round-robin: two connections land on the two pods.
    const held: HeldConnection[] = [await holdConnection(vip, 80), await holdConnection(vip, 80)];
    const answers = await Promise.all(held.map((h) => h.ask()));
    expect([...answers].sort()).toEqual(["I'm pod1", "I'm pod2"]);
    const toPod2 = held[answers.indexOf("I'm pod2")]!;
    const toPod1 = held[answers.indexOf("I'm pod1")]!;

    const removed = await applier.applyDelta(entry(pods[0]!));
    expect(removed.ops).toEqual({ 'update-real-server': 1 });
    expect(applier.drainingCount).toBe(1);
    const [draining] = (await client!.listRealServers(vs)).filter((r) => r.address === pods[1]!.ip);
    expect(draining).toMatchObject({ weight: 0, activeConnections: 1 });

    // The open connection still reaches pod2; new connections only reach pod1.
    expect(await toPod2.ask()).toBe("I'm pod2");
    const fresh = await sendRequests({ proto: 'tcp', host: vip, port: 80, count: 4, timeoutMs: 3000 });
    expect(fresh.map((r) => (r.ok ? r.answer : r.error))).toEqual(Array(4).fill("I'm pod1"));
    expect((await applier.checkDraining()).writes).toBe(0);

    // Reset the connection: IPVS expires a closed entry in about 10 s (a FIN would leave TIME_WAIT for 2 minutes).
    toPod2.close('reset');
    toPod1.close('reset');
    let deleted = false;
    for (let i = 0; i < 40 && !deleted; i++) {
      await sleep(1000);
      deleted = (await applier.checkDraining()).writes === 1;
    }
    expect(deleted).toBe(true);
    expect((await client!.listRealServers(vs)).map((r) => r.address)).toEqual([pods[0]!.ip]);
    expect(applier.drainingCount).toBe(0);
  });
});
