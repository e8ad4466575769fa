// One contract for every IptablesClient: FakeIptables on the host and
// iptables-legacy / ip6tables-legacy in the sandbox kernel. When the kernel and
// the fake disagree, this suite fails on one of the two. Every chain it makes
// is named IPTC-*, and every rule it puts in a built-in chain jumps to one, so
// `removeTestState` can undo everything.
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { IptablesClient } from '../../src/iptables/client.ts';
import { IptablesError } from '../../src/iptables/errors.ts';
import { joinWords, parseSave } from '../../src/iptables/restore-text.ts';
import type { IpFamily, Table } from '../../src/iptables/types.ts';
import { isBuiltinChain } from '../../src/iptables/types.ts';

export interface IptablesContractTarget {
  /** A client of the family, with no IPTC-* state left from earlier tests. */
  fresh(family: IpFamily): Promise<IptablesClient>;
  /** The name of an ipset of the family that exists for the whole suite. */
  readonly existingSet: (family: IpFamily) => string;
  /** Runs after the suite (remove sets etc.); IPTC-* chains are already gone. */
  done?(): Promise<void>;
}

const prefix = 'IPTC-';

/**
 * Removes every IPTC-* chain and every built-in-chain rule that jumps to one,
 * in nat and filter: one save and at most one restore (process starts are
 * slow in the sandbox).
 */
export async function removeTestState(c: IptablesClient): Promise<void> {
  const lines: string[] = [];
  const saved = parseSave(await c.save());
  for (const table of ['nat', 'filter'] as const) {
    const dump = saved.get(table);
    const ours = [...(dump?.keys() ?? [])].filter((n) => n.startsWith(prefix) && !isBuiltinChain(table, n));
    const jumps: string[] = [];
    for (const [chain, d] of dump ?? []) {
      if (chain.startsWith(prefix)) continue;
      for (const r of d.rules) if ((r[r.indexOf('-j') + 1] ?? '').startsWith(prefix)) jumps.push(`-D ${chain} ${joinWords(r)}`);
    }
    if (ours.length === 0 && jumps.length === 0) continue;
    // Declaring a chain flushes it, so nothing refers to it any more when -X runs.
    lines.push(`*${table}`, ...jumps, ...ours.map((n) => `:${n} - [0:0]`), ...ours.map((n) => `-X ${n}`), 'COMMIT');
  }
  if (lines.length > 0) await c.restore(`${lines.join('\n')}\n`, { noflush: true });
}

async function failure(p: Promise<unknown>): Promise<IptablesError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IptablesError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** The rules of one chain as words, from the client's save output. */
async function rulesOf(c: IptablesClient, table: Table, chain: string): Promise<string[][] | undefined> {
  const d = parseSave(await c.save(table)).get(table)?.get(chain);
  return d?.rules.map((r) => [...r]);
}

const net = (f: IpFamily): { cidr: string; ip: string; other: string } =>
  f === 'IPv4' ? { cidr: '10.96.0.0/12', ip: '10.96.0.10/32', other: 'fd00::/64' } : { cidr: 'fd00:96::/108', ip: 'fd00:96::10/128', other: '10.0.0.0/8' };

/** Process starts cost up to a second in the sandbox. */
const slow = 60_000;

const jump = ['-m', 'comment', '--comment', 'iptc contract portals', '-j', 'IPTC-SERVICES'];

export function describeIptablesContract(name: string, target: IptablesContractTarget): void {
  describe(`IptablesClient contract: ${name}`, () => {
    afterAll(async () => {
      for (const f of ['IPv4', 'IPv6'] as const) await removeTestState(await target.fresh(f));
      await target.done?.();
    }, slow);

    describe.each([{ family: 'IPv4' as const }, { family: 'IPv6' as const }])('$family', ({ family }) => {
      let c: IptablesClient;
      const { cidr, ip, other } = net(family);
      const set = target.existingSet(family);
      const payload = [
        '*nat',
        ':IPTC-SERVICES - [0:0]',
        ':IPTC-MARK - [0:0]',
        `-A IPTC-SERVICES -s ${cidr} -j RETURN`,
        `-A IPTC-SERVICES -m comment --comment "iptc cluster ip" -m set --match-set ${set} dst,dst -j IPTC-MARK`,
        '-A IPTC-MARK -j MARK --set-xmark 0x4000/0x4000',
        'COMMIT',
        '*filter',
        ':IPTC-FORWARD - [0:0]',
        '-A IPTC-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT',
        'COMMIT',
        '',
      ].join('\n');

      beforeEach(async () => { c = await target.fresh(family); }, slow);

      it('restore --noflush creates the declared chains with their rules', async () => {
        await c.restore(payload, { noflush: true });
        expect(await rulesOf(c, 'nat', 'IPTC-SERVICES')).toEqual([
          ['-s', cidr, '-j', 'RETURN'],
          ['-m', 'comment', '--comment', 'iptc cluster ip', '-m', 'set', '--match-set', set, 'dst,dst', '-j', 'IPTC-MARK'],
        ]);
        expect(await rulesOf(c, 'nat', 'IPTC-MARK')).toEqual([['-j', 'MARK', '--set-xmark', '0x4000/0x4000']]);
        expect(await rulesOf(c, 'filter', 'IPTC-FORWARD')).toEqual([['-m', 'mark', '--mark', '0x4000/0x4000', '-j', 'ACCEPT']]);
        expect(await c.listChains('nat')).toEqual(expect.arrayContaining(['PREROUTING', 'OUTPUT', 'IPTC-SERVICES', 'IPTC-MARK']));
      }, slow);

      it('re-applying the same payload leaves the same rules, not duplicates', async () => {
        await c.restore(payload, { noflush: true });
        const once = await c.save('nat');
        await c.restore(payload, { noflush: true });
        await c.restore(payload, { noflush: true });
        expect(parseSave(await c.save('nat'))).toEqual(parseSave(once));
        expect(await rulesOf(c, 'nat', 'IPTC-SERVICES')).toHaveLength(2);
      }, slow);

      it('a failing line leaves its whole table as it was and names the line', async () => {
        await c.restore(payload, { noflush: true });
        const before = await c.save('nat');
        const bad = '*nat\n:IPTC-SERVICES - [0:0]\n:IPTC-NEW - [0:0]\n-A IPTC-SERVICES -j RETURN\n-A IPTC-SERVICES -j IPTC-MISSING\nCOMMIT\n';
        const err = await failure(c.restore(bad, { noflush: true }));
        expect(err).toMatchObject({ code: 'ENOENT', line: 5 });
        expect(parseSave(await c.save('nat'))).toEqual(parseSave(before));
      }, slow);

      it('accepts a --match-set of an existing set', async () => {
        await c.restore(`*filter\n:IPTC-X - [0:0]\n-A IPTC-X -m set --match-set ${set} dst -j ACCEPT\nCOMMIT\n`, { noflush: true });
        expect(await rulesOf(c, 'filter', 'IPTC-X')).toEqual([['-m', 'set', '--match-set', set, 'dst', '-j', 'ACCEPT']]);
      }, slow);

      it('checks, inserts first and deletes a jump rule from a built-in chain', async () => {
        await c.restore(payload, { noflush: true });
        await c.restore('*nat\n:IPTC-FOREIGN - [0:0]\n-A OUTPUT -j IPTC-FOREIGN\nCOMMIT\n', { noflush: true });
        expect(await c.checkRule('nat', 'OUTPUT', jump)).toBe(false);
        await c.insertRule('nat', 'OUTPUT', jump);
        expect(await c.checkRule('nat', 'OUTPUT', jump)).toBe(true);
        const output = (await rulesOf(c, 'nat', 'OUTPUT'))!;
        expect(output[0]).toEqual(jump);
        expect(output).toContainEqual(['-j', 'IPTC-FOREIGN']);
        // The kernel does not deduplicate: that is why callers check first.
        await c.insertRule('nat', 'OUTPUT', jump);
        expect((await rulesOf(c, 'nat', 'OUTPUT'))!.filter((r) => r.includes('IPTC-SERVICES'))).toHaveLength(2);
        await c.deleteRule('nat', 'OUTPUT', jump);
        await c.deleteRule('nat', 'OUTPUT', jump);
        expect(await c.checkRule('nat', 'OUTPUT', jump)).toBe(false);
        expect(await failure(c.deleteRule('nat', 'OUTPUT', jump))).toMatchObject({ code: 'ENOENT' });
      }, slow);

      it('keeps the families apart', async () => {
        await c.restore(`*filter\n:IPTC-ONLY - [0:0]\n-A IPTC-ONLY -d ${ip} -j ACCEPT\nCOMMIT\n`, { noflush: true });
        const otherClient = await target.fresh(family === 'IPv4' ? 'IPv6' : 'IPv4');
        expect(await otherClient.listChains('filter')).not.toContain('IPTC-ONLY');
        expect(await rulesOf(c, 'filter', 'IPTC-ONLY')).toEqual([['-d', ip, '-j', 'ACCEPT']]);
      }, slow);

      it('restore refuses an address of the other family at its line', async () => {
        const err = await failure(c.restore(`*nat\n:IPTC-X - [0:0]\n-A IPTC-X -s ${other} -j RETURN\nCOMMIT\n`, { noflush: true }));
        expect(err).toMatchObject({ code: 'EINVAL', line: 3 });
        expect(await rulesOf(c, 'nat', 'IPTC-X')).toBeUndefined();
      }, slow);

      // What follows is libiptc logic that does not depend on the family; the
      // kernel suite is slow (a process start costs up to a second), so it runs once.
      if (family === 'IPv4') {
        it('a declared chain is flushed and rewritten; undeclared chains and rules elsewhere stay', async () => {
          await c.restore('*nat\n:IPTC-FOREIGN - [0:0]\n-A IPTC-FOREIGN -j RETURN\n-A OUTPUT -j IPTC-FOREIGN\nCOMMIT\n', { noflush: true });
          await c.restore(payload, { noflush: true });
          await c.restore('*nat\n:IPTC-SERVICES - [0:0]\n-A IPTC-SERVICES -j RETURN\nCOMMIT\n', { noflush: true });
          expect(await rulesOf(c, 'nat', 'IPTC-SERVICES')).toEqual([['-j', 'RETURN']]);
          expect(await rulesOf(c, 'nat', 'IPTC-MARK')).toEqual([['-j', 'MARK', '--set-xmark', '0x4000/0x4000']]);
          expect(await rulesOf(c, 'nat', 'IPTC-FOREIGN')).toEqual([['-j', 'RETURN']]);
          expect(await rulesOf(c, 'nat', 'OUTPUT')).toContainEqual(['-j', 'IPTC-FOREIGN']);
        }, slow);

        it('tables commit one by one: a failing filter block keeps the nat block before it', async () => {
          const input = '*nat\n:IPTC-A - [0:0]\n-A IPTC-A -j RETURN\nCOMMIT\n*filter\n:IPTC-B - [0:0]\n-A IPTC-B -j IPTC-MISSING\nCOMMIT\n';
          const err = await failure(c.restore(input, { noflush: true }));
          expect(err).toMatchObject({ code: 'ENOENT', line: 7 });
          expect(await rulesOf(c, 'nat', 'IPTC-A')).toEqual([['-j', 'RETURN']]);
          expect(await rulesOf(c, 'filter', 'IPTC-B')).toBeUndefined();
        }, slow);

        it.each([
          { name: 'a set that does not exist', line: '-A IPTC-X -m set --match-set IPTC-NO-SUCH-SET dst -j RETURN', code: 'ENOENT' },
          { name: 'a chain that does not exist (append)', line: '-A IPTC-NOWHERE -j RETURN', code: 'ENOENT' },
          { name: 'an unknown option', line: '-A IPTC-X --no-such-option -j RETURN', code: 'EINVAL' },
          { name: 'deleting a rule that is not there', line: '-D IPTC-X -j ACCEPT', code: 'ENOENT' },
        ])('restore refuses $name at its line', async ({ line, code }) => {
          const err = await failure(c.restore(`*nat\n:IPTC-X - [0:0]\n${line}\nCOMMIT\n`, { noflush: true }));
          expect(err).toMatchObject({ code, line: 3 });
          expect(await rulesOf(c, 'nat', 'IPTC-X')).toBeUndefined();
        }, slow);

        it('restore refuses to delete a chain that a rule still jumps to (EBUSY)', async () => {
          await c.restore(payload, { noflush: true });
          const err = await failure(c.restore('*nat\n-F IPTC-MARK\n-X IPTC-MARK\nCOMMIT\n', { noflush: true }));
          expect(err).toMatchObject({ code: 'EBUSY', line: 3 });
          expect(await rulesOf(c, 'nat', 'IPTC-MARK')).toHaveLength(1);
        }, slow);

        it('restore refuses input without COMMIT and changes nothing', async () => {
          const err = await failure(c.restore('*nat\n:IPTC-X - [0:0]\n-A IPTC-X -j RETURN\n', { noflush: true }));
          expect(err).toMatchObject({ code: 'EINVAL', line: 4 });
          expect(await rulesOf(c, 'nat', 'IPTC-X')).toBeUndefined();
        }, slow);

        it('checkRule answers false in a missing chain, and refuses rules that cannot exist', async () => {
          expect(await c.checkRule('nat', 'IPTC-NOWHERE', ['-j', 'RETURN'])).toBe(false);
          expect(await failure(c.checkRule('nat', 'OUTPUT', ['-j', 'IPTC-MISSING']))).toMatchObject({ code: 'ENOENT' });
          expect(await failure(c.checkRule('nat', 'OUTPUT', ['-m', 'set', '--match-set', 'IPTC-NO-SUCH-SET', 'dst', '-j', 'RETURN'])))
            .toMatchObject({ code: 'ENOENT' });
          expect(await failure(c.checkRule('nat', 'OUTPUT', ['--no-such-option']))).toMatchObject({ code: 'EINVAL' });
        }, slow);

        it('insertRule refuses a missing chain or a jump to one (ENOENT)', async () => {
          expect(await failure(c.insertRule('nat', 'IPTC-NOWHERE', ['-j', 'RETURN']))).toMatchObject({ code: 'ENOENT' });
          expect(await failure(c.insertRule('nat', 'OUTPUT', ['-j', 'IPTC-MISSING']))).toMatchObject({ code: 'ENOENT' });
        }, slow);

        it('flushes and deletes chains with the kernel\'s refusals', async () => {
          await c.restore(payload, { noflush: true });
          expect(await failure(c.deleteChain('nat', 'IPTC-MARK'))).toMatchObject({ code: 'EBUSY' });
          expect(await failure(c.deleteChain('nat', 'IPTC-SERVICES'))).toMatchObject({ code: 'ENOTEMPTY' });
          expect(await failure(c.deleteChain('nat', 'IPTC-NOWHERE'))).toMatchObject({ code: 'ENOENT' });
          expect(await failure(c.deleteChain('nat', 'OUTPUT'))).toMatchObject({ code: 'EINVAL' });
          expect(await failure(c.flushChain('nat', 'IPTC-NOWHERE'))).toMatchObject({ code: 'ENOENT' });
          await c.flushChain('nat', 'IPTC-SERVICES');
          await c.flushChain('nat', 'IPTC-MARK');
          await c.deleteChain('nat', 'IPTC-SERVICES');
          await c.deleteChain('nat', 'IPTC-MARK');
          expect(await c.listChains('nat')).not.toContain('IPTC-SERVICES');
          expect(await c.listChains('nat')).not.toContain('IPTC-MARK');
        }, slow);
      }
    });
  });
}
