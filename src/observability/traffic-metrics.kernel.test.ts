// Per-Service and per-backend traffic metrics from a real kernel's IPVS
// counters: six TCP requests to a virtual server with two pods behind it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetlinkIpvsClient } from '../ipvs/netlink-client.ts';
import { readTable } from '../ipvs/table.ts';
import type { RealServer, VirtualServer } from '../ipvs/types.ts';
import { run } from '../sandbox/exec.ts';
import { Lab, type Pod } from '../sandbox/lab.ts';
import { sendRequests } from '../sandbox/requests.ts';
import { createProxyMetrics } from './metrics.ts';

const vip = '10.96.0.30';
const dummy = 'tm-ipvs0';
const vs: VirtualServer = { family: 'inet', protocol: 'TCP', address: vip, port: 80, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null };
const rs = (pod: Pod): RealServer => ({ family: 'inet', address: pod.ip, port: pod.port, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null });

let lab: Lab;
let pods: Pod[];
let client: NetlinkIpvsClient;

beforeAll(async () => {
  lab = await Lab.create({ prefix: 'tm' });
  pods = await Promise.all([lab.addPod('pod1'), lab.addPod('pod2')]);
  await run('ip', ['link', 'add', dummy, 'type', 'dummy']);
  await run('ip', ['addr', 'add', `${vip}/32`, 'dev', dummy]);
  client = await NetlinkIpvsClient.open();
  await client.addVirtualServer(vs);
  for (const pod of pods) await client.addRealServer(vs, rs(pod));
});

afterAll(async () => {
  await client?.deleteVirtualServer(vs).catch(() => undefined);
  client?.close();
  await run('ip', ['link', 'del', dummy]).catch(() => undefined);
  await lab?.close();
});

describe('traffic metrics from the kernel\'s IPVS counters', () => {
  it('counts connections, packets and bytes per Service port and per backend', async () => {
    const answers = await sendRequests({ proto: 'tcp', host: vip, port: 80, count: 6, timeoutMs: 3000 });
    expect(answers.filter((a) => a.ok)).toHaveLength(6);
    // The kernel folds its per-CPU counters into what it reports from a timer
    // (the rate estimator, every 2 s), so fresh traffic shows up with a delay.
    let table = (await readTable(client)).filter((e) => e.virtualServer.address === vip);
    for (let i = 0; i < 20 && table[0]?.virtualServer.stats.connections !== 6; i++) {
      await sleep(500);
      table = (await readTable(client)).filter((e) => e.virtualServer.address === vip);
    }
    const metrics = createProxyMetrics({ traffic: { enabled: true, maxSeries: 10 } });
    const owners = new Map([[`TCP/${vip}:80`, { namespace: 'default', name: 'web', portName: 'http' }]]);
    expect(metrics.updateTraffic(table, owners)).toEqual({ series: 3, dropped: 0 });
    const text = (await metrics.registry.metrics()).split('\n');
    const value = (prefix: string): number => Number(text.find((l) => l.startsWith(prefix))?.split(' ').pop());
    const svc = 'namespace="default",service="web",port_name="http"';
    expect(value(`ipvsproxy_service_connections_total{${svc}}`)).toBe(6);
    for (const pod of pods) expect(value(`ipvsproxy_backend_connections_total{${svc},backend="${pod.ip}:${pod.port}"}`)).toBe(3);
    // Each TCP request is at least SYN, ACK, request and FIN in, and the answer out.
    expect(value(`ipvsproxy_service_packets_total{${svc},direction="in"}`)).toBeGreaterThanOrEqual(6 * 4);
    expect(value(`ipvsproxy_service_packets_total{${svc},direction="out"}`)).toBeGreaterThanOrEqual(6 * 2);
    expect(value(`ipvsproxy_service_bytes_total{${svc},direction="out"}`)).toBeGreaterThan(6 * "I'm pod1".length);
  });
});
