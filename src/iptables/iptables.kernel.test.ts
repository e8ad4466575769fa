// The iptables subsystem against the sandbox kernel: backend detection, the
// xtables lock, and IptablesApplier writing the reconciler's real payload with
// iptables-legacy. Creates kube-proxy's ipsets (the payload matches them) and
// removes every chain, rule and set it made.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { renderIpsetSave } from '../ipset/types.ts';
import { service, slice } from '../model/builders.ts';
import { silentLogger } from '../observability/logger.ts';
import { family, runScenario } from '../reconciler/testing.ts';
import type { FamilyState } from '../reconciler/types.ts';
import { run } from '../sandbox/exec.ts';
import { IptablesApplier } from './applier.ts';
import { detectBackend } from './backend.ts';
import { driftedChains } from './drift.ts';
import { ExecIptables } from './exec-client.ts';
import { parseSave } from './restore-text.ts';

const slow = 60_000;

const lb = service('web', {
  type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00:96::10'], ipFamilies: ['IPv4', 'IPv6'],
  lbIPs: ['1.2.3.4', '2001:db8::4'], sourceRanges: ['5.6.7.0/24', '2001:db8:5::/64'], externalIPs: ['7.7.7.7'],
  etp: 'Local', healthCheckNodePort: 30999,
  ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
});
const eps = slice('web', { ports: [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }], endpoints: [{ ip: '10.244.0.5', node: 'test-node' }] });
const { state } = runScenario({ services: [lb], slices: [eps], nodeIPs: ['192.168.0.10', '2001:db8::10'], config: { clusterCIDRs: ['10.244.0.0/16'] } });
const desired: FamilyState[] = [family(state, 'IPv4'), family(state, 'IPv6')];
const sets = desired.flatMap((f) => f.ipsets);

const clients = [new ExecIptables({ family: 'IPv4', backend: 'legacy' }), new ExecIptables({ family: 'IPv6', backend: 'legacy' })];
const applier = new IptablesApplier(clients, silentLogger());

async function saveAll(): Promise<string> {
  return (await run('iptables-legacy-save', [])) + (await run('ip6tables-legacy-save', []));
}

const withoutComments = (s: string): string => s.split('\n').filter((l) => !l.startsWith('#')).join('\n');

beforeAll(async () => {
  await run('ipset', ['restore', '-exist'], { input: renderIpsetSave(sets) });
}, slow);

afterAll(async () => {
  await applier.cleanup();
  // Fails (EBUSY) if any rule still matched a set: the cleanup must have removed them all.
  await run('ipset', ['restore'], { input: sets.map((s) => `destroy ${s.name}`).join('\n') + '\n' });
}, slow);

describe('backend detection in the sandbox', () => {
  it('ends at legacy: no kubelet hint, no rules, and nft cannot write on this kernel', async () => {
    expect(await detectBackend()).toEqual({ backend: 'legacy', reason: 'nft-unusable' });
  }, slow);
});

describe('the xtables lock', () => {
  it('waits -w seconds for a held lock, then fails with ETIMEDOUT', async () => {
    const holder = spawn('flock', ['/run/xtables.lock', 'sleep', '4'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const impatient = new ExecIptables({ family: 'IPv4', backend: 'legacy', lockWaitSeconds: 1 });
      const started = Date.now();
      await expect(impatient.checkRule('filter', 'INPUT', ['-j', 'ACCEPT'])).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      holder.kill();
      await new Promise((r) => holder.once('exit', r));
    }
  }, slow);
});

describe('IptablesApplier on iptables-legacy', () => {
  it('programs the reconciler payload of both families with every jump rule', async () => {
    const r = await applier.apply(desired, { full: false });
    expect(r.errors).toEqual([]);
    expect(r.ops).toEqual({ restore: 2, 'insert-rule': 18 });
    for (const [i, c] of clients.entries()) {
      const observed = parseSave((await c.save('nat')) + (await c.save('filter')));
      expect(driftedChains(desired[i]!.iptables.nat + desired[i]!.iptables.filter, observed)).toEqual([]);
      for (const j of desired[i]!.jumpRules) expect(await c.checkRule(j.table, j.chain, j.args)).toBe(true);
    }
  }, slow);

  it('writes nothing on a partial sync with the same payload, restores without drift on a full one, which changes nothing and is no write', async () => {
    const before = withoutComments(await saveAll());
    expect(await applier.apply(desired, { full: false })).toMatchObject({ writes: 0, errors: [] });
    expect(await applier.apply(desired, { full: true })).toMatchObject({ writes: 0, repaired: 0, errors: [] });
    expect(withoutComments(await saveAll())).toBe(before);
  }, slow);

  it('repairs and counts drift made with iptables on a full sync', async () => {
    const before = withoutComments(await saveAll());
    await run('iptables-legacy', ['-w', '-t', 'nat', '-F', 'KUBE-SERVICES']);
    await run('ip6tables-legacy', ['-w', '-t', 'filter', '-A', 'KUBE-FORWARD', '-j', 'DROP']);
    await run('iptables-legacy', ['-w', '-t', 'nat', '-D', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']);
    const r = await applier.apply(desired, { full: true });
    expect(r).toMatchObject({ repaired: 3, errors: [], ops: { restore: 2, 'insert-rule': 1 } });
    expect(withoutComments(await saveAll())).toBe(before);
  }, slow);

  it('cleanup removes every chain and jump it made, leaving the tables empty', async () => {
    const r = await applier.cleanup();
    expect(r).toMatchObject({ errors: [], ops: { restore: 2 } });
    const after = await saveAll();
    expect(after).not.toMatch(/KUBE-/);
    expect(after).not.toMatch(/^-A /m);
  }, slow);
});
