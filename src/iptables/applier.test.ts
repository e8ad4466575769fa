import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '../observability/logger.ts';
import { service, slice } from '../model/builders.ts';
import { family, runScenario } from '../reconciler/testing.ts';
import type { FamilyState } from '../reconciler/types.ts';
import { IptablesApplier } from './applier.ts';
import { IptablesError } from './errors.ts';
import { FakeIptables } from './fake-client.ts';
import { parseSave } from './restore-text.ts';

// The applier against FakeIptables, fed with real reconciler output (so the
// fake also proves it accepts every rule kube-proxy's payload holds).

const lb = service('web', {
  type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00:96::10'], ipFamilies: ['IPv4', 'IPv6'],
  lbIPs: ['1.2.3.4', '2001:db8::4'], sourceRanges: ['5.6.7.0/24', '2001:db8:5::/64'], externalIPs: ['7.7.7.7'],
  etp: 'Local', healthCheckNodePort: 30999, ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
});
const eps = slice('web', { ports: [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }], endpoints: [{ ip: '10.244.0.5', node: 'test-node' }] });

/** An IPv4-only Service with an external IP: changes the IPv4 payload only (KUBE-EXTERNAL-IP becomes non-empty). */
const ext = service('ext', { clusterIP: '10.96.0.20', externalIPs: ['7.7.7.8'], ports: [{ port: 443 }] });
const plain = service('plain', { clusterIP: '10.96.0.30', clusterIPs: ['10.96.0.30', 'fd00:96::30'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ port: 80 }] });

function desired(variant: 'lb' | 'plain' | 'plain+ext' = 'lb'): FamilyState[] {
  const services = variant === 'lb' ? [lb] : variant === 'plain' ? [plain] : [plain, ext];
  const { state } = runScenario({ services, slices: [eps], nodeIPs: ['192.168.0.10', '2001:db8::10'], config: { clusterCIDRs: ['10.244.0.0/16'] } });
  return [family(state, 'IPv4'), family(state, 'IPv6')];
}

function setup(): { v4: FakeIptables; v6: FakeIptables; applier: IptablesApplier } {
  const v4 = new FakeIptables({ family: 'IPv4' });
  const v6 = new FakeIptables({ family: 'IPv6' });
  return { v4, v6, applier: new IptablesApplier([v4, v6], silentLogger()) };
}

const jumpCount = (state: FamilyState[]): number => state[0]!.jumpRules.length;

describe('IptablesApplier.apply', () => {
  it('programs both families on the first sync: one restore each, every jump rule first in its chain', async () => {
    const { v4, v6, applier } = setup();
    const want = desired();
    const r = await applier.apply(want, { full: false });
    expect(r).toMatchObject({ subsystem: 'iptables', errors: [], repaired: 0 });
    expect(r.ops).toEqual({ restore: 2, 'insert-rule': 2 * jumpCount(want) });
    expect(r.writes).toBe(2 + 2 * jumpCount(want));
    const nat = parseSave(await v4.save('nat')).get('nat')!;
    expect(nat.get('KUBE-SERVICES')!.rules.length).toBeGreaterThan(5);
    expect(nat.get('OUTPUT')!.rules[0]).toEqual(['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']);
    // Jumps are prepended in kube-proxy's order, so the last one ensured ends up first.
    expect(parseSave(await v4.save('filter')).get('filter')!.get('INPUT')!.rules.map((x) => x.at(-1)))
      .toEqual(['KUBE-IPVS-FILTER', 'KUBE-PROXY-FIREWALL', 'KUBE-NODE-PORT']);
    expect(parseSave(await v6.save('nat')).get('nat')!.get('KUBE-SERVICES')!.rules[0]).toEqual(['-s', '::1/128', '-j', 'RETURN']);
  });

  it('starts no process when the payload has not changed since the last success (partial sync)', async () => {
    const { v4, v6, applier } = setup();
    await applier.apply(desired(), { full: false });
    const [m4, m6] = [v4.writes.length, v6.writes.length];
    const r = await applier.apply(desired(), { full: false });
    expect(r).toMatchObject({ writes: 0, ops: {}, repaired: 0, errors: [] });
    expect([v4.writes.length, v6.writes.length]).toEqual([m4, m6]);
  });

  it('restores only the family whose payload changed', async () => {
    const { v4, v6, applier } = setup();
    await applier.apply(desired('plain'), { full: false });
    const [m4, m6] = [v4.writes.length, v6.writes.length];
    const r = await applier.apply(desired('plain+ext'), { full: false });
    expect(r).toMatchObject({ errors: [], writes: 1, ops: { restore: 1 } });
    expect(v6.writes.length).toBe(m6);
    expect(v4.writes.slice(m4)).toEqual([{ op: 'restore', object: 'nat' }, { op: 'restore', object: 'filter' }]);
    expect(await v4.save('nat')).toMatch(/--match-set KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ/);
  });

  it('restores on every full sync, but a restore that changes nothing is not a write', async () => {
    const { v4, v6, applier } = setup();
    await applier.apply(desired(), { full: false });
    const before = v4.dump() + v6.dump();
    const marks = [v4.writes.length, v6.writes.length];
    const r = await applier.apply(desired(), { full: true });
    expect(r).toMatchObject({ writes: 0, repaired: 0, errors: [] });
    expect([v4.writes.length - marks[0]!, v6.writes.length - marks[1]!]).toEqual([2, 2]);
    expect(v4.dump() + v6.dump()).toBe(before);
  });

  it('counts nothing on a first full sync of a new process when the kernel already holds the payload', async () => {
    const { v4, v6, applier } = setup();
    await applier.apply(desired(), { full: true });
    const fresh = new IptablesApplier([v4, v6], silentLogger());
    expect(await fresh.apply(desired(), { full: true })).toMatchObject({ writes: 0, repaired: 0, errors: [] });
    expect(await fresh.apply(desired('plain'), { full: true })).toMatchObject({ ops: { restore: 2 } });
  });

  it('repairs and counts drift on a full sync: a flushed chain, a foreign rule in our chain, a deleted jump', async () => {
    const { v4, v6, applier } = setup();
    const want = desired();
    await applier.apply(want, { full: false });
    const clean = v4.dump();
    await v4.flushChain('nat', 'KUBE-SERVICES');
    await v4.restore('*filter\n-A KUBE-FORWARD -j DROP\nCOMMIT\n', { noflush: true });
    const jump = want[0]!.jumpRules.find((j) => j.chain === 'POSTROUTING')!;
    await v4.deleteRule(jump.table, jump.chain, jump.args);
    expect(v4.dump()).not.toBe(clean);

    // A partial sync with an unchanged payload does not look.
    expect(await applier.apply(want, { full: false })).toMatchObject({ writes: 0, repaired: 0 });

    const r = await applier.apply(want, { full: true });
    // The IPv6 family did not drift: its restore changes nothing and is not a write.
    expect(r).toMatchObject({ repaired: 3, errors: [], ops: { restore: 1, 'insert-rule': 1 } });
    expect(v4.dump()).toBe(clean);
    expect(v6.writes.at(-1)).toEqual({ op: 'restore', object: 'filter' });
  });

  it('asks the kernel only about look-alike jump rules, and inserts ours next to a foreign one', async () => {
    const { v4, applier } = setup();
    const want = desired();
    await applier.apply(want, { full: false });
    const jump = want[0]!.jumpRules.find((j) => j.chain === 'OUTPUT')!;
    await v4.deleteRule(jump.table, jump.chain, jump.args);
    await v4.restore('*nat\n-A OUTPUT -m comment --comment "an older comment" -j KUBE-SERVICES\nCOMMIT\n', { noflush: true });
    const r = await applier.apply(want, { full: true });
    expect(r).toMatchObject({ repaired: 1, ops: { 'insert-rule': 1 }, errors: [] });
    expect(parseSave(await v4.save('nat')).get('nat')!.get('OUTPUT')!.rules.map((x) => x[3]))
      .toEqual(['kubernetes service portals', 'an older comment']);
  });

  it('does not count its own first sync as drift, even when it is a full one', async () => {
    const { applier } = setup();
    expect(await applier.apply(desired(), { full: true })).toMatchObject({ repaired: 0, errors: [] });
  });

  it('reports a failed restore without rejecting, and restores again on the next sync', async () => {
    const { v4, applier } = setup();
    await applier.apply(desired(), { full: false });
    v4.failWith = new IptablesError('ETIMEDOUT', 'restore', '', 'lock busy');
    const failed = await applier.apply(desired('plain'), { full: false });
    expect(failed.errors).toHaveLength(1);
    expect(failed.errors[0]).toMatchObject({ code: 'ETIMEDOUT' });
    v4.failWith = null;
    const mark = v4.writes.length;
    const again = await applier.apply(desired('plain'), { full: false });
    expect(again.errors).toEqual([]);
    expect(v4.writes.slice(mark).map((w) => w.op)).toEqual(['restore', 'restore']);
  });

  it('reports the kernel refusal of a missing set with its line; the next sync completes without duplicates', async () => {
    let setExists = false;
    const v4 = new FakeIptables({ family: 'IPv4', setExists: (n) => setExists || n !== 'KUBE-LOAD-BALANCER-FW' });
    const applier = new IptablesApplier([v4], silentLogger());
    const r = await applier.apply(desired(), { full: false });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ code: 'ENOENT' });
    expect((r.errors[0] as IptablesError).line).toBeGreaterThan(1);
    // Tables commit one by one: nat (chains and its jumps together) went in, filter did not.
    expect(parseSave(await v4.save('nat')).get('nat')!.get('OUTPUT')!.rules).toHaveLength(1);
    expect(parseSave(await v4.save('filter')).get('filter')!.has('KUBE-PROXY-FIREWALL')).toBe(false);
    setExists = true;
    expect(await applier.apply(desired(), { full: false })).toMatchObject({ errors: [], ops: { restore: 1, 'insert-rule': 6 } });
    expect(parseSave(await v4.save('nat')).get('nat')!.get('OUTPUT')!.rules).toHaveLength(1);
    expect(parseSave(await v4.save('filter')).get('filter')!.get('INPUT')!.rules).toHaveLength(3);
  });

  it('skips a family it has no client for', async () => {
    const v4 = new FakeIptables({ family: 'IPv4' });
    const applier = new IptablesApplier([v4], silentLogger());
    const r = await applier.apply(desired(), { full: false });
    expect(r.ops.restore).toBe(1);
  });
});

describe('IptablesApplier.cleanup', () => {
  it('removes our jumps and chains, leaves foreign chains and rules, and is idempotent', async () => {
    const { v4, v6, applier } = setup();
    await v4.restore('*nat\n:CNI-X - [0:0]\n-A CNI-X -j RETURN\n-A POSTROUTING -j CNI-X\nCOMMIT\n', { noflush: true });
    const foreign = await v4.save('nat');
    await applier.apply(desired(), { full: false });
    const r = await applier.cleanup();
    expect(r).toMatchObject({ errors: [], ops: { restore: 2 } });
    expect(await v4.save('nat')).toBe(foreign);
    expect(v4.dump()).not.toMatch(/KUBE-/);
    expect(v6.dump()).not.toMatch(/KUBE-/);
    expect(await applier.cleanup()).toMatchObject({ writes: 0, errors: [] });
  });

  it('removes what it can one by one when a foreign rule still uses one of our chains', async () => {
    const { v4, applier } = setup();
    await applier.apply(desired(), { full: false });
    await v4.restore('*nat\n:CNI-X - [0:0]\n-A CNI-X -j KUBE-MARK-MASQ\nCOMMIT\n', { noflush: true });
    const r = await applier.cleanup();
    expect(r.errors.map((e) => (e as IptablesError).code)).toEqual(['EBUSY']);
    expect((await v4.listChains('nat')).filter((c) => c.startsWith('KUBE-'))).toEqual(['KUBE-MARK-MASQ']);
    expect(await v4.listChains('filter')).toEqual(['INPUT', 'FORWARD', 'OUTPUT']);
    expect(parseSave(await v4.save('nat')).get('nat')!.get('OUTPUT')!.rules).toEqual([]);
  });

  it('makes the next apply restore everything again', async () => {
    const { v4, applier } = setup();
    await applier.apply(desired(), { full: false });
    const programmed = v4.dump();
    await applier.cleanup();
    await applier.apply(desired(), { full: false });
    expect(v4.dump()).toBe(programmed);
  });
});
