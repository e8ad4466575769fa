// SPDX-License-Identifier: Apache-2.0
import { beforeEach, describe, expect, it } from '@jest/globals';
import { scenarioSets } from '../../test/contract/ipset-scenario.ts';
import { silentLogger } from '../observability/logger.ts';
import { IpsetApplier } from './applier.ts';
import type { IpsetClient, RestoreOptions } from './client.ts';
import { IpsetError } from './errors.ts';
import { FakeIpset } from './fake-client.ts';
import { type IpSet, renderIpsetSave } from './types.ts';

/** What the kernel should print for the desired sets (entries in kernel form, sorted). */
function expectedSave(sets: readonly IpSet[]): string {
  const kernelForm = (e: string): string => e.replace(/\/32$/, '');
  return renderIpsetSave([...sets].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => ({ ...s, entries: s.entries.map(kernelForm).sort() })));
}

/** The writes the fake logged since `mark`, as text. */
function writesSince(fake: FakeIpset, mark: number): string[] {
  return fake.writes.slice(mark).map((w) => `${w.op} ${w.set}${w.element ? ` ${w.element}` : ''}`);
}

let fake: FakeIpset;
let applier: IpsetApplier;
const desired = scenarioSets();
const entryCount = desired.reduce((n, s) => n + s.entries.length, 0);

beforeEach(() => {
  fake = new FakeIpset();
  applier = new IpsetApplier(fake, silentLogger());
});

describe('applyFull', () => {
  it('creates all 34 sets with their entries in one restore', async () => {
    const r = await applier.applyFull(desired);
    expect(r).toEqual({ subsystem: 'ipset', writes: 34 + entryCount, ops: { create: 34, add: entryCount }, repaired: 0, errors: [] });
    expect(fake.processes).toEqual({ save: 1, restore: 1, destroy: 0 });
    expect(fake.dump()).toBe(expectedSave(desired));
  });

  it('writes nothing and starts no restore when the kernel already matches', async () => {
    await applier.applyFull(desired);
    const mark = fake.writes.length;
    const r = await applier.applyFull(desired);
    expect(r).toEqual({ subsystem: 'ipset', writes: 0, ops: {}, repaired: 0, errors: [] });
    expect(fake.writes.length).toBe(mark);
    expect(fake.processes.restore).toBe(1);
  });

  it('repairs drift made by someone else and counts it', async () => {
    await applier.applyFull(desired);
    await fake.restore([
      'del KUBE-CLUSTER-IP 10.96.0.10,tcp:80', // removed: re-added (1)
      'add KUBE-CLUSTER-IP 10.1.1.1,tcp:1', // stray: deleted (1)
      'destroy KUBE-6-LOOP-BACK', // destroyed with 2 entries: re-created (1 + 2)
      'create other-set hash:ip family inet', 'add other-set 10.9.9.9', // not ours: left alone
    ]);
    const mark = fake.writes.length;
    const r = await applier.applyFull(desired);
    expect(r.repaired).toBe(5);
    expect(r.writes).toBe(5);
    expect(writesSince(fake, mark)).toEqual([
      'del KUBE-CLUSTER-IP 10.1.1.1,tcp:1',
      'add KUBE-CLUSTER-IP 10.96.0.10,tcp:80',
      'create KUBE-6-LOOP-BACK',
      'add KUBE-6-LOOP-BACK fd00:244::5,tcp:8080,fd00:244::5',
      'add KUBE-6-LOOP-BACK fd00:244::5,udp:5353,fd00:244::5',
    ]);
    // Sorted by name: upper-case KUBE-… before other-set.
    expect(fake.dump()).toBe(`${expectedSave(desired)}create other-set hash:ip family inet hashsize 1024 maxelem 65536\nadd other-set 10.9.9.9\n`);
  });

  it('remembers entries whose desired text is not the kernel form, so their drift is counted', async () => {
    const sets = desired.map((s) => (s.name === 'KUBE-LOAD-BALANCER-SOURCE-CIDR' ? { ...s, entries: [...s.entries, '203.0.113.9,tcp:80,10.9.9.9/32'] } : s));
    await applier.applyFull(sets);
    expect(fake.dump()).toContain('add KUBE-LOAD-BALANCER-SOURCE-CIDR 203.0.113.9,tcp:80,10.9.9.9\n');
    await fake.restore(['del KUBE-LOAD-BALANCER-SOURCE-CIDR 203.0.113.9,tcp:80,10.9.9.9', 'del KUBE-CLUSTER-IP 10.96.0.10,tcp:80']);
    const r = await applier.applyFull(sets);
    expect(r.repaired).toBe(2);
    expect(r.ops).toEqual({ add: 2 });
    expect((await applier.applyFull(sets)).writes).toBe(0);
  });

  it('does not count changes of the desired state as drift', async () => {
    await applier.applyFull(desired);
    const grown = scenarioSets(['10.244.0.9']);
    const r = await applier.applyFull(grown);
    expect(r.repaired).toBe(0);
    expect(r.ops).toEqual({ add: 2 });
    expect(fake.dump()).toBe(expectedSave(grown));
  });

  it('reports a set that exists with another type and syncs every other set', async () => {
    await fake.restore(['create KUBE-CLUSTER-IP hash:ip family inet', 'add KUBE-CLUSTER-IP 10.0.0.1']);
    const r = await applier.applyFull(desired);
    expect(r.errors.map((e) => e.name)).toEqual(['SetConflictError']);
    expect(r.errors[0]).toMatchObject({ code: 'EEXIST', object: 'KUBE-CLUSTER-IP', field: 'type' });
    const listed = await fake.list();
    expect(listed.find((s) => s.name === 'KUBE-CLUSTER-IP')).toMatchObject({ type: 'hash:ip', entries: ['10.0.0.1'] });
    expect(listed).toHaveLength(34);
  });

  it('refuses sets that are not ours', async () => {
    const r = await applier.applyFull([{ name: 'FOO', type: 'hash:ip', family: 'inet', entries: ['10.0.0.1'] }]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'EPERM', object: 'FOO' })]);
    expect(await fake.list()).toEqual([]);
  });

  it('rejects, writing nothing, when the kernel cannot be read', async () => {
    fake.failWith = new IpsetError('EPERM', 'ipset save', '', 'Operation not permitted');
    await expect(applier.applyFull(desired)).rejects.toMatchObject({ code: 'EPERM' });
    expect(fake.writes).toEqual([]);
  });
});

/** A client that refuses one line the way the kernel does: lines before it applied, none after. */
class RefusingIpset implements IpsetClient {
  readonly inner = new FakeIpset();
  refused: string;
  restores: number = 0;
  constructor(refused: string) {
    this.refused = refused;
  }
  list(): ReturnType<IpsetClient['list']> {
    return this.inner.list();
  }
  destroy(name: string): Promise<void> {
    return this.inner.destroy(name);
  }
  async restore(lines: readonly string[], options?: RestoreOptions): Promise<void> {
    this.restores++;
    const i = lines.indexOf(this.refused);
    if (i < 0) return this.inner.restore(lines, options);
    await this.inner.restore(lines.slice(0, i), options);
    throw new IpsetError('ENOSPC', 'ipset restore', 'KUBE-CLUSTER-IP', 'Hash is full, cannot add more elements', i + 1, lines[i]);
  }
}

describe('a refused line', () => {
  it('is reported, and every other line is still written by a second restore', async () => {
    const client = new RefusingIpset('add KUBE-CLUSTER-IP 10.96.0.10,udp:53');
    const a = new IpsetApplier(client, silentLogger());
    const r = await a.applyFull(desired);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'ENOSPC', line: 7, lineText: 'add KUBE-CLUSTER-IP 10.96.0.10,udp:53' })]);
    expect(client.restores).toBe(2);
    expect(r.writes).toBe(34 + entryCount - 1);
    const listed = await client.list();
    expect(listed.find((s) => s.name === 'KUBE-CLUSTER-IP')?.entries).toEqual(['10.96.0.10,tcp:80', '10.96.0.20,sctp:9']);
    expect(listed.find((s) => s.name === 'KUBE-6-NODE-PORT-UDP')?.entries).toEqual(['30053']);
  });

  it('gives up after maxRestores restores', async () => {
    const client = new RefusingIpset('add KUBE-CLUSTER-IP 10.96.0.10,udp:53');
    const a = new IpsetApplier(client, silentLogger(), { maxRestores: 1 });
    const r = await a.applyFull(desired);
    expect(client.restores).toBe(1);
    expect(r.errors).toHaveLength(1);
  });
});

describe('applyDelta', () => {
  beforeEach(async () => {
    await applier.applyFull(desired);
  });

  it('writes exactly the given entries, deletes first, in one restore', async () => {
    const mark = fake.writes.length;
    const restores = fake.processes.restore;
    const r = await applier.applyDelta(
      [{ set: 'KUBE-LOOP-BACK', entry: '10.244.0.9,tcp:8080,10.244.0.9' }, { set: 'KUBE-6-CLUSTER-IP', entry: 'FD00:96:0::11,tcp:80' }],
      [{ set: 'KUBE-LOOP-BACK', entry: '10.244.0.5,tcp:8080,10.244.0.5' }],
    );
    expect(r).toEqual({ subsystem: 'ipset', writes: 3, ops: { add: 2, del: 1 }, repaired: 0, errors: [] });
    expect(fake.processes.restore).toBe(restores + 1);
    expect(fake.processes.save).toBe(1);
    expect(writesSince(fake, mark)).toEqual([
      'del KUBE-LOOP-BACK 10.244.0.5,tcp:8080,10.244.0.5',
      'add KUBE-LOOP-BACK 10.244.0.9,tcp:8080,10.244.0.9',
      'add KUBE-6-CLUSTER-IP fd00:96::11,tcp:80',
    ]);
  });

  it('starts no process when there is nothing to write', async () => {
    const before = { ...fake.processes };
    expect(await applier.applyDelta([], [])).toEqual({ subsystem: 'ipset', writes: 0, ops: {}, repaired: 0, errors: [] });
    expect(fake.processes).toEqual(before);
  });

  it('leaves an entry that is both deleted and added present', async () => {
    const e = { set: 'KUBE-LOOP-BACK', entry: '10.244.0.5,tcp:8080,10.244.0.5' };
    await applier.applyDelta([e], [e]);
    expect((await fake.list()).find((s) => s.name === 'KUBE-LOOP-BACK')?.entries).toContain(e.entry);
  });

  it('refuses entries of sets that are not ours and skips invalid ones, writing the rest', async () => {
    const r = await applier.applyDelta(
      [{ set: 'other', entry: '10.0.0.1' }, { set: 'KUBE-IPVS-IPS', entry: 'fd00::1' }, { set: 'KUBE-IPVS-IPS', entry: '10.96.0.99' }],
      [],
    );
    expect(r.errors.map((e) => [e.name, (e as { code?: string }).code])).toEqual([['KernelError', 'EPERM'], ['InvalidEntryError', 'EINVAL']]);
    expect(r.writes).toBe(1);
    expect((await fake.list()).find((s) => s.name === 'KUBE-IPVS-IPS')?.entries).toContain('10.96.0.99');
  });

  it('keeps its record up to date, so drift of a delta-written entry is counted', async () => {
    await applier.applyDelta([{ set: 'KUBE-NODE-PORT-TCP', entry: '30099' }], []);
    await fake.restore(['del KUBE-NODE-PORT-TCP 30099', 'del KUBE-NODE-PORT-UDP 30053']);
    const withDelta = desired.map((s) => (s.name === 'KUBE-NODE-PORT-TCP' ? { ...s, entries: ['30080', '30099'] } : s));
    const r = await applier.applyFull(withDelta);
    expect({ repaired: r.repaired, ops: r.ops }).toEqual({ repaired: 2, ops: { add: 2 } });
  });

  it('reports a missing set, and the next full apply creates it', async () => {
    await fake.restore(['destroy KUBE-HEALTH-CHECK-NODE-PORT']);
    const r = await applier.applyDelta([{ set: 'KUBE-HEALTH-CHECK-NODE-PORT', entry: '32001' }], []);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'ENOENT', line: 1 })]);
    const full = await applier.applyFull(desired);
    expect(full.ops).toEqual({ create: 1, add: 1 });
    // After a failed write the applier no longer knows what it left, so nothing is counted as drift.
    expect(full.repaired).toBe(0);
  });
});

describe('cleanup', () => {
  it('destroys every set of ours and nothing else', async () => {
    await applier.applyFull(desired);
    await fake.restore(['create other-set hash:ip family inet']);
    const r = await applier.cleanup();
    expect(r).toEqual({ subsystem: 'ipset', writes: 34, ops: { destroy: 34 }, repaired: 0, errors: [] });
    expect((await fake.list()).map((s) => s.name)).toEqual(['other-set']);
    expect((await applier.cleanup()).writes).toBe(0);
  });

  it('reports a set still in use and destroys the others', async () => {
    fake.isReferenced = (name) => name === 'KUBE-CLUSTER-IP';
    await applier.applyFull(desired);
    const r = await applier.cleanup();
    expect(r.errors).toEqual([expect.objectContaining({ code: 'EBUSY', object: 'KUBE-CLUSTER-IP' })]);
    expect(r.writes).toBe(33);
    expect((await fake.list()).map((s) => s.name)).toEqual(['KUBE-CLUSTER-IP']);
  });
});
