import { beforeEach, describe, expect, it } from '@jest/globals';
import { defaultProxyConfig } from '../config/types.ts';
import { IpvsApplier } from '../ipvs/applier.ts';
import { FakeIpvs } from '../ipvs/fake-client.ts';
import { service, slice } from '../model/builders.ts';
import { ClusterState } from '../model/cluster-state.ts';
import { buildLocalNode } from '../model/node.ts';
import { silentLogger } from '../observability/logger.ts';
import type { FamilyDelta } from '../reconciler/incremental.ts';
import type { ApplyResult } from './apply-result.ts';
import { type Stage, SyncEngine } from './engine.ts';
import { ipvsStage } from './ipvs-stage.ts';

const node = buildLocalNode({ name: 'node-a', localAddresses: ['192.168.1.10'], ipFamilies: ['IPv4'] });
const empty = (subsystem: Stage['subsystem']): ApplyResult => ({ subsystem, writes: 0, ops: {}, repaired: 0, errors: [] });

/** A stage that records what it was asked to do, and can be told to fail. */
class RecordingStage implements Stage {
  readonly subsystem = 'ipset' as const;
  readonly calls: string[] = [];
  lastDeltas: readonly FamilyDelta[] = [];
  fail = false;
  full(): Promise<ApplyResult> {
    this.calls.push('full');
    return this.fail ? Promise.reject(new Error('boom')) : Promise.resolve(empty('ipset'));
  }
  partial(deltas: readonly FamilyDelta[]): Promise<ApplyResult> {
    this.calls.push('partial');
    this.lastDeltas = deltas;
    return this.fail ? Promise.reject(new Error('boom')) : Promise.resolve(empty('ipset'));
  }
  cleanup(): Promise<ApplyResult> {
    this.calls.push('cleanup');
    return Promise.resolve(empty('ipset'));
  }
}

let state: ClusterState;
let kernel: FakeIpvs;
let recorder: RecordingStage;
let engine: SyncEngine;

beforeEach(() => {
  state = new ClusterState();
  kernel = new FakeIpvs();
  recorder = new RecordingStage();
  const applier = new IpvsApplier(kernel, silentLogger());
  engine = new SyncEngine({
    state, node, config: defaultProxyConfig, logger: silentLogger(),
    stages: [recorder, ipvsStage(applier, () => [{ family: 'inet', excludeCIDRs: [] }])],
  });
  engine.markChanged(state.upsertService(service('ns/web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] })).keys);
  engine.markChanged(state.upsertSlice(slice('ns/web', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.0.11', ready: true }] })).keys);
});

describe('SyncEngine', () => {
  it('starts with a full sync, then syncs only what changed', async () => {
    const first = await engine.sync();
    expect(first).toMatchObject({ mode: 'full', ok: true });
    expect(first.results.map((r) => `${r.subsystem}:${r.writes}`)).toEqual(['ipset:0', 'ipvs:2']);

    engine.markChanged(state.upsertSlice(slice('ns/web', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.0.11', ready: true }, { ip: '10.244.0.12', ready: true }] })).keys);
    const second = await engine.sync();
    expect(second.mode).toBe('partial');
    expect(second.results.find((r) => r.subsystem === 'ipvs')?.ops).toEqual({ 'add-real-server': 1 });
    expect(recorder.calls).toEqual(['full', 'partial']);
    expect(recorder.lastDeltas[0]?.setAdds).toEqual([]);
  });

  it('does nothing on a partial sync without changes', async () => {
    await engine.sync();
    const r = await engine.sync();
    expect(r).toMatchObject({ mode: 'partial', ok: true, results: [] });
    expect(recorder.calls).toEqual(['full']);
  });

  it('makes the next sync full after a failure, and stops at the failing stage', async () => {
    await engine.sync();
    recorder.fail = true;
    engine.markChanged(state.deleteService('ns/web').keys);
    const failed = await engine.sync();
    expect(failed.ok).toBe(false);
    expect(failed.failed?.subsystem).toBe('ipset');
    expect(failed.results).toEqual([]);
    expect(engine.fullPending).toBe(true);
    recorder.fail = false;
    const repaired = await engine.sync();
    expect(repaired.mode).toBe('full');
    expect(await kernel.listVirtualServers()).toEqual([]);
  });

  it('resyncs periodically against the desired state it keeps: drift repaired, pending changes folded in, nothing rebuilt', async () => {
    engine.markChanged(state.upsertService(service('ns/odd', {
      clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }], annotations: { 'ipvs-proxy.io/scheduler-flags': 'onepacket' },
    })).keys);
    const first = await engine.sync();
    expect(first.warnings.map((w) => w.object)).toEqual(['Service ns/odd']);
    const web = (await kernel.listVirtualServers()).find((v) => v.address === '10.96.0.10')!;
    await kernel.deleteVirtualServer(web); // drift
    engine.markChanged(state.upsertSlice(slice('ns/web', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.0.11', ready: true }, { ip: '10.244.0.12', ready: true }] })).keys);
    engine.requestResync();
    expect(engine.fullPending).toBe(true);

    const resync = await engine.sync();
    expect(resync).toMatchObject({ mode: 'full', ok: true });
    expect(resync.results.find((r) => r.subsystem === 'ipvs')?.repaired).toBeGreaterThan(0);
    expect((await kernel.listRealServers(web)).map((r) => r.address).sort()).toEqual(['10.244.0.11', '10.244.0.12']);
    // Not rebuilt: the odd Service's warning was given when it changed, not again.
    expect(resync.warnings).toEqual([]);
    expect(recorder.calls).toEqual(['full', 'full']);

    engine.requestFull();
    const rebuilt = await engine.sync();
    expect(rebuilt.mode).toBe('full');
    expect(rebuilt.warnings.map((w) => w.object)).toEqual(['Service ns/odd']);
    expect(rebuilt.results.find((r) => r.subsystem === 'ipvs')?.writes).toBe(0);
  });

  it('rebuilds on the full sync after a failure even when only a resync was asked for', async () => {
    engine.markChanged(state.upsertService(service('ns/odd', {
      clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }], annotations: { 'ipvs-proxy.io/scheduler-flags': 'onepacket' },
    })).keys);
    await engine.sync();
    recorder.fail = true;
    engine.requestResync();
    expect((await engine.sync()).ok).toBe(false);
    recorder.fail = false;
    engine.requestResync();
    const after = await engine.sync();
    expect(after).toMatchObject({ mode: 'full', ok: true });
    expect(after.warnings.map((w) => w.object)).toEqual(['Service ns/odd']);
  });

  it('cleans up in reverse stage order', async () => {
    await engine.sync();
    await engine.cleanup();
    expect(recorder.calls).toEqual(['full', 'cleanup']);
    expect(await kernel.listVirtualServers()).toEqual([]);
  });
});
