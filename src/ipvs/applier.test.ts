import { beforeEach, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../observability/logger.ts';
import { IpvsApplier, type IpvsScope } from './applier.ts';
import type { VirtualServerEntry } from './diff.ts';
import { FakeIpvs } from './fake-client.ts';
import { type Protocol, type RealServer, type VirtualServer, virtualServerKey } from './types.ts';

const vs = (address: string, port = 80, protocol: Protocol = 'TCP', over: Partial<VirtualServer> = {}): VirtualServer => ({
  family: 'inet', protocol, address, port, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null, ...over,
});
const rs = (address: string, over: Partial<RealServer> = {}): RealServer => ({
  family: 'inet', address, port: 8080, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null, ...over,
});
const entry = (v: VirtualServer, ...backends: string[]): [string, VirtualServerEntry] =>
  [virtualServerKey(v), { virtualServer: v, realServers: backends.map((b) => rs(b)) }];
const scope = (...entries: [string, VirtualServerEntry][]): IpvsScope[] =>
  [{ family: 'inet', virtualServers: new Map(entries), excludeCIDRs: ['10.200.0.0/16'] }];

let kernel: FakeIpvs;
let applier: IpvsApplier;
beforeEach(() => {
  kernel = new FakeIpvs();
  applier = new IpvsApplier(kernel, silentLogger());
});

async function table(): Promise<string[]> {
  const out: string[] = [];
  for (const v of await kernel.listVirtualServers()) {
    out.push(`${virtualServerKey(v)} ${v.scheduler}`);
    for (const r of await kernel.listRealServers(v)) out.push(`  ${r.address}:${r.port} w${r.weight}`);
  }
  return out;
}

describe('IpvsApplier full sync', () => {
  it('programs an empty kernel, and a second full sync writes nothing', async () => {
    const desired = scope(entry(vs('10.96.0.1'), '10.244.0.1', '10.244.0.2'), entry(vs('10.96.0.2', 53, 'UDP'), '10.244.0.3'));
    const first = await applier.applyFull(desired);
    expect(first).toMatchObject({ subsystem: 'ipvs', writes: 5, repaired: 0, errors: [], ops: { 'add-virtual-server': 2, 'add-real-server': 3 } });
    expect(await table()).toEqual(['TCP/10.96.0.1:80 rr', '  10.244.0.1:8080 w1', '  10.244.0.2:8080 w1', 'UDP/10.96.0.2:53 rr', '  10.244.0.3:8080 w1']);
    expect((await applier.applyFull(desired)).writes).toBe(0);
  });

  it('repairs drift and counts it', async () => {
    const desired = scope(entry(vs('10.96.0.1'), '10.244.0.1'), entry(vs('10.96.0.2'), '10.244.0.2'));
    await applier.applyFull(desired);
    await kernel.deleteVirtualServer(vs('10.96.0.2'));
    await kernel.addRealServer(vs('10.96.0.1'), rs('10.244.9.9'));
    await kernel.updateVirtualServer(vs('10.96.0.1', 80, 'TCP', { scheduler: 'wlc' }));
    await kernel.addVirtualServer(vs('10.96.0.3'));
    const r = await applier.applyFull(desired);
    // VS .2 and its real server gone (2), stray real server (1), scheduler changed (1), stray VS (1).
    expect(r.repaired).toBe(5);
    expect(await table()).toEqual(['TCP/10.96.0.1:80 rr', '  10.244.0.1:8080 w1', 'TCP/10.96.0.2:80 rr', '  10.244.0.2:8080 w1']);
  });

  it('owns what kube-proxy owns: not excludeCIDRs, not fwmark, not the other family', async () => {
    await kernel.addVirtualServer(vs('10.200.1.1'));
    await kernel.addVirtualServer(vs('fd00::1', 80, 'TCP', { family: 'inet6' }));
    await kernel.addVirtualServer(vs('', 0, 'TCP', { protocol: null, address: null, port: null, fwmark: 7 }));
    await kernel.addVirtualServer(vs('10.96.9.9'));
    await applier.applyFull(scope());
    expect(await table()).toEqual(['FWM/inet/7 rr', 'TCP/10.200.1.1:80 rr', 'TCP/[fd00::1]:80 rr']);
  });

  it('resets weights an earlier run left at 0 and updates settings in place', async () => {
    await kernel.addVirtualServer(vs('10.96.0.1', 80, 'TCP', { scheduler: 'wlc' }));
    await kernel.addRealServer(vs('10.96.0.1'), rs('10.244.0.1', { weight: 0 }));
    const r = await applier.applyFull(scope(entry(vs('10.96.0.1'), '10.244.0.1')));
    expect(r.ops).toEqual({ 'update-virtual-server': 1, 'update-real-server': 1 });
    expect(await table()).toEqual(['TCP/10.96.0.1:80 rr', '  10.244.0.1:8080 w1']);
  });
});

describe('graceful termination', () => {
  const web = vs('10.96.0.1');
  beforeEach(async () => {
    await applier.applyFull(scope(entry(web, '10.244.0.1', '10.244.0.2')));
  });

  it('drains a TCP real server with connections at weight 0, deletes it when they end', async () => {
    kernel.setConnections(web, rs('10.244.0.2'), { active: 1, inactive: 2 });
    const r = await applier.applyDelta(new Map([entry(web, '10.244.0.1')]));
    expect(r.ops).toEqual({ 'update-real-server': 1 });
    expect(await table()).toEqual(['TCP/10.96.0.1:80 rr', '  10.244.0.1:8080 w1', '  10.244.0.2:8080 w0']);
    expect(applier.drainingCount).toBe(1);
    expect((await applier.checkDraining()).writes).toBe(0);
    kernel.setConnections(web, rs('10.244.0.2'), { active: 0, inactive: 0 });
    expect((await applier.checkDraining()).ops).toEqual({ 'delete-real-server': 1 });
    expect(await table()).toEqual(['TCP/10.96.0.1:80 rr', '  10.244.0.1:8080 w1']);
    expect(applier.drainingCount).toBe(0);
  });

  it('deletes a TCP real server without connections at once', async () => {
    const r = await applier.applyDelta(new Map([entry(web, '10.244.0.1')]));
    expect(r.ops).toEqual({ 'delete-real-server': 1 });
    expect(applier.drainingCount).toBe(0);
  });

  it('deletes UDP real servers at once, connections or not', async () => {
    const dns = vs('10.96.0.2', 53, 'UDP');
    await applier.applyDelta(new Map([entry(dns, '10.244.0.1', '10.244.0.2')]));
    kernel.setConnections(dns, rs('10.244.0.2'), { active: 0, inactive: 5 });
    const r = await applier.applyDelta(new Map([entry(dns, '10.244.0.1')]));
    expect(r.ops).toEqual({ 'delete-real-server': 1 });
  });

  it('restores a draining real server that comes back', async () => {
    kernel.setConnections(web, rs('10.244.0.2'), { active: 1 });
    await applier.applyDelta(new Map([entry(web, '10.244.0.1')]));
    const r = await applier.applyDelta(new Map([entry(web, '10.244.0.1', '10.244.0.2')]));
    expect(r.ops).toEqual({ 'update-real-server': 1 });
    expect(await table()).toEqual(['TCP/10.96.0.1:80 rr', '  10.244.0.1:8080 w1', '  10.244.0.2:8080 w1']);
    expect(applier.drainingCount).toBe(0);
  });

  it('keeps draining real servers through a full sync', async () => {
    kernel.setConnections(web, rs('10.244.0.2'), { active: 1 });
    await applier.applyDelta(new Map([entry(web, '10.244.0.1')]));
    const r = await applier.applyFull(scope(entry(web, '10.244.0.1')));
    expect(r.writes).toBe(0);
    expect(r.repaired).toBe(0);
    expect(applier.drainingCount).toBe(1);
  });
});

describe('what the applier remembers between syncs', () => {
  const web = vs('10.96.0.1');
  /** A desired entry frozen all the way down: the applier keeps it, and must never change it. */
  const frozen = (...backends: string[]): [string, VirtualServerEntry] => {
    const [k, e] = entry(web, ...backends);
    e.realServers.forEach((r) => Object.freeze(r));
    Object.freeze(e.realServers);
    return [k, Object.freeze(e)];
  };

  it('keeps the desired entries it wrote without changing them, through draining and its end', async () => {
    const first = frozen('10.244.0.1', '10.244.0.2');
    await applier.applyFull(scope(first));
    kernel.setConnections(web, rs('10.244.0.2'), { active: 1 });
    const second = frozen('10.244.0.1');
    await applier.applyDelta(new Map([second]));
    kernel.setConnections(web, rs('10.244.0.2'), { active: 0 });
    expect((await applier.checkDraining()).ops).toEqual({ 'delete-real-server': 1 });
    expect(first[1].realServers.map((r) => r.address)).toEqual(['10.244.0.1', '10.244.0.2']);
    expect(second[1].realServers.map((r) => r.address)).toEqual(['10.244.0.1']);
    // The cache followed the kernel: nothing to repair.
    expect((await applier.applyFull(scope(second))).repaired).toBe(0);
  });

  it('remembers a draining real server: a later change of its virtual server leaves it alone', async () => {
    await applier.applyFull(scope(frozen('10.244.0.1', '10.244.0.2')));
    kernel.setConnections(web, rs('10.244.0.2'), { active: 1 });
    await applier.applyDelta(new Map([frozen('10.244.0.1')]));
    const r = await applier.applyDelta(new Map([frozen('10.244.0.1', '10.244.0.3')]));
    expect(r.ops).toEqual({ 'add-real-server': 1 });
    expect(await table()).toEqual(['TCP/10.96.0.1:80 rr', '  10.244.0.1:8080 w1', '  10.244.0.2:8080 w0', '  10.244.0.3:8080 w1']);
    expect(applier.drainingCount).toBe(1);
    expect((await applier.applyFull(scope(frozen('10.244.0.1', '10.244.0.3')))).repaired).toBe(0);
  });

  it('counts drift against the real servers it wrote, draining ones included', async () => {
    await applier.applyFull(scope(frozen('10.244.0.1', '10.244.0.2')));
    kernel.setConnections(web, rs('10.244.0.2'), { active: 1 });
    await applier.applyDelta(new Map([frozen('10.244.0.1')]));
    await kernel.deleteRealServer(web, rs('10.244.0.2'));
    await kernel.updateRealServer(web, rs('10.244.0.1', { weight: 5 }));
    const r = await applier.applyFull(scope(frozen('10.244.0.1')));
    // The drained one vanished (1) and the other's weight changed (1).
    expect(r.repaired).toBe(2);
    expect(r.ops).toEqual({ 'update-real-server': 1 });
  });
});

describe('IpvsApplier partial sync', () => {
  it('writes only the changed virtual servers', async () => {
    await applier.applyFull(scope(entry(vs('10.96.0.1'), '10.244.0.1'), entry(vs('10.96.0.2'), '10.244.0.2')));
    const mark = kernel.writes.length;
    const r = await applier.applyDelta(new Map([entry(vs('10.96.0.2'), '10.244.0.2', '10.244.0.3'), [virtualServerKey(vs('10.96.0.1')), null]]));
    expect(r.ops).toEqual({ 'add-real-server': 1, 'delete-virtual-server': 1 });
    expect(kernel.writes.slice(mark).map((w) => `${w.op} ${w.object}`)).toEqual([
      'add-real-server TCP/10.96.0.2:80 -> 10.244.0.3:8080',
      'delete-virtual-server TCP/10.96.0.1:80',
    ]);
  });

  it('refuses to run before a full sync', async () => {
    await expect(applier.applyDelta(new Map())).rejects.toMatchObject({ code: 'ENOTREADY' });
  });

  it('reports kernel refusals as errors and demands a full sync', async () => {
    await applier.applyFull(scope());
    await kernel.addVirtualServer(vs('10.96.0.5'));
    const r = await applier.applyDelta(new Map([entry(vs('10.96.0.5'), '10.244.0.1')]));
    expect(r.errors.map((e) => (e as { code?: string }).code)).toEqual(['EEXIST']);
    expect(applier.ready).toBe(false);
    const repaired = await applier.applyFull(scope(entry(vs('10.96.0.5'), '10.244.0.1')));
    expect(repaired.errors).toEqual([]);
    expect(await table()).toEqual(['TCP/10.96.0.5:80 rr', '  10.244.0.1:8080 w1']);
  });
});

describe('cleanup', () => {
  it('removes our virtual servers and keeps excluded and fwmark ones', async () => {
    await applier.applyFull(scope(entry(vs('10.96.0.1'), '10.244.0.1')));
    await kernel.addVirtualServer(vs('10.200.0.1'));
    await kernel.addVirtualServer(vs('', 0, 'TCP', { protocol: null, address: null, port: null, fwmark: 3 }));
    await applier.cleanup([{ family: 'inet', excludeCIDRs: ['10.200.0.0/16'] }, { family: 'inet6', excludeCIDRs: [] }]);
    expect(await table()).toEqual(['FWM/inet/3 rr', 'TCP/10.200.0.1:80 rr']);
  });
});

describe('IpvsApplier full sync in chunks', () => {
  /** A FakeIpvs that records how many ops each apply call carried. */
  class CountingIpvs extends FakeIpvs {
    readonly batches: number[] = [];
    override async apply(ops: Parameters<FakeIpvs['apply']>[0]): ReturnType<FakeIpvs['apply']> {
      this.batches.push(ops.length);
      return super.apply(ops);
    }
  }
  const desired = scope(
    entry(vs('10.96.0.1'), '10.244.0.1', '10.244.0.2'), entry(vs('10.96.0.2'), '10.244.0.3'),
    entry(vs('10.96.0.3'), '10.244.0.4'), entry(vs('10.96.0.4', 53, 'UDP'), '10.244.0.5'),
  );
  async function tamper(k: FakeIpvs): Promise<void> {
    await k.deleteVirtualServer(vs('10.96.0.2'));
    await k.addRealServer(vs('10.96.0.1'), rs('10.244.9.9'));
    await k.updateVirtualServer(vs('10.96.0.3', 80, 'TCP', { scheduler: 'wlc' }));
    await k.addVirtualServer(vs('10.96.0.9'));
  }

  it.each([{ name: 'one virtual server per step', chunkSize: 1 }, { name: 'three per step', chunkSize: 3 }])(
    '$name: same kernel, ops and repaired count as one step, and no step carries more than its chunk', async ({ chunkSize }) => {
      const whole = new FakeIpvs();
      const oneStep = new IpvsApplier(whole, silentLogger());
      const chunkedKernel = new CountingIpvs();
      const chunked = new IpvsApplier(chunkedKernel, silentLogger(), { chunkSize });
      const cold = [await oneStep.applyFull(desired), await chunked.applyFull(desired)];
      expect(cold[1]).toEqual(cold[0]);
      // Adds of a virtual server with its real servers: at most chunkSize virtual servers per call.
      expect(Math.max(...chunkedKernel.batches)).toBeLessThanOrEqual(chunkSize * 3);
      expect(chunkedKernel.batches.length).toBe(Math.ceil(4 / chunkSize));
      await tamper(whole);
      await tamper(chunkedKernel);
      const repair = [await oneStep.applyFull(desired), await chunked.applyFull(desired)];
      expect(repair[1]).toEqual(repair[0]);
      // VS .2 and its real server gone (2), stray real server (1), scheduler changed (1), stray VS (1).
      expect(repair[1]?.repaired).toBe(5);
      const dump = async (k: FakeIpvs): Promise<unknown[]> =>
        Promise.all((await k.listVirtualServers()).map(async (v) => [virtualServerKey(v), v.scheduler, (await k.listRealServers(v)).map((r) => r.address).sort()]));
      expect(await dump(chunkedKernel)).toEqual(await dump(whole));
      expect((await chunked.applyFull(desired)).writes).toBe(0);
    });
});
