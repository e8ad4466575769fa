// SPDX-License-Identifier: Apache-2.0
// IpsetApplier on the real kernel (sandbox): a dual-stack node's 34 sets are
// programmed, a second apply writes nothing (so our kernel-form entries match
// what the kernel prints), tampering is repaired and counted, a delta writes
// only its entries, and cleanup refuses a set an iptables rule still uses.
// The kernel's state is compared with FakeIpset's after the same applies.
// Sets are renamed KUBE- → IPSA- (same length) so this test never meets
// another test's (or a real agent's) sets.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IpsetApplier } from '../../src/ipset/applier.ts';
import type { IpsetClient } from '../../src/ipset/client.ts';
import { FakeIpset } from '../../src/ipset/fake-client.ts';
import { RestoreIpsetClient } from '../../src/ipset/restore-client.ts';
import type { IpSet, ObservedSet } from '../../src/ipset/types.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { run } from '../../src/sandbox/exec.ts';
import { scenarioSets } from './ipset-scenario.ts';

const rename = (name: string): string => name.replace(/^KUBE-/, 'IPSA-');
const renamed = (sets: IpSet[]): IpSet[] => sets.map((s) => ({ ...s, name: rename(s.name) }));
const desired = renamed(scenarioSets());
const owned = desired.map((s) => s.name);
const entryCount = desired.reduce((n, s) => n + s.entries.length, 0);
const chain = 'IPSA-REF';

const real = new RestoreIpsetClient({ timeoutMs: 60_000 });
const fake = new FakeIpset();
const applier = new IpsetApplier(real, silentLogger(), { owned });
const fakeApplier = new IpsetApplier(fake, silentLogger(), { owned });
let chainMade = false;

/** Our sets on a client, without header options the kernel picks itself (bucketsize, initval). */
async function state(c: IpsetClient): Promise<Omit<ObservedSet, 'options'>[]> {
  return (await c.list()).filter((s) => owned.includes(s.name)).map(({ name, type, family, entries }) => ({ name, type, family, entries }));
}

async function dropChain(): Promise<void> {
  if (!chainMade) return;
  await run('iptables-legacy', ['-w', '-F', chain]);
  await run('iptables-legacy', ['-w', '-X', chain]);
  chainMade = false;
}

beforeAll(async () => {
  const left = (await real.list()).filter((s) => owned.includes(s.name));
  if (left.length > 0) throw new Error(`sets left by an earlier run: ${left.map((s) => s.name).join(' ')}`);
});

afterAll(async () => {
  await dropChain();
  await applier.cleanup();
});

describe('IpsetApplier on the real kernel', () => {
  it('programs 34 sets in one restore, exactly as the fake does', async () => {
    const r = await applier.applyFull(desired);
    expect(r).toEqual({ subsystem: 'ipset', writes: 34 + entryCount, ops: { create: 34, add: entryCount }, repaired: 0, errors: [] });
    await fakeApplier.applyFull(desired);
    expect(await state(real)).toEqual(await state(fake));
  });

  it('writes nothing on a second apply', async () => {
    expect(await applier.applyFull(desired)).toEqual({ subsystem: 'ipset', writes: 0, ops: {}, repaired: 0, errors: [] });
  });

  it('repairs and counts tampering: a removed entry, a stray entry, a destroyed set', async () => {
    const tamper = ['del IPSA-CLUSTER-IP 10.96.0.10,tcp:80', 'add IPSA-CLUSTER-IP 10.1.1.1,tcp:1', 'destroy IPSA-6-LOOP-BACK'];
    await run('ipset', ['restore'], { input: `${tamper.join('\n')}\n` });
    const r = await applier.applyFull(desired);
    expect({ repaired: r.repaired, writes: r.writes, ops: r.ops, errors: r.errors }).toEqual({
      repaired: 5, writes: 5, ops: { create: 1, add: 3, del: 1 }, errors: [],
    });
    expect(await state(real)).toEqual(await state(fake));
  });

  it('applies a delta of only the given entries', async () => {
    const adds = [{ set: 'IPSA-LOOP-BACK', entry: '10.244.0.9,tcp:8080,10.244.0.9' }, { set: 'IPSA-6-CLUSTER-IP', entry: 'fd00:96::11,tcp:80' }];
    const dels = [{ set: 'IPSA-LOOP-BACK', entry: '10.244.0.5,tcp:8080,10.244.0.5' }];
    expect(await applier.applyDelta(adds, dels)).toEqual({ subsystem: 'ipset', writes: 3, ops: { add: 2, del: 1 }, repaired: 0, errors: [] });
    await fakeApplier.applyDelta(adds, dels);
    expect(await state(real)).toEqual(await state(fake));
    // Back to the desired state: a full apply undoes exactly the delta.
    expect((await applier.applyFull(desired)).ops).toEqual({ add: 1, del: 2 });
  });

  it('cleanup refuses a set an iptables rule uses (EBUSY), destroys the rest, then that one once the rule is gone', async () => {
    await run('iptables-legacy', ['-w', '-N', chain]);
    chainMade = true;
    await run('iptables-legacy', ['-w', '-A', chain, '-m', 'set', '--match-set', 'IPSA-CLUSTER-IP', 'dst,dst', '-j', 'RETURN']);
    const r = await applier.cleanup();
    expect(r.errors).toEqual([expect.objectContaining({ code: 'EBUSY', object: 'IPSA-CLUSTER-IP' })]);
    expect(r.writes).toBe(33);
    expect((await state(real)).map((s) => s.name)).toEqual(['IPSA-CLUSTER-IP']);
    await dropChain();
    expect((await applier.cleanup()).writes).toBe(1);
    expect(await state(real)).toEqual([]);
  });
});
