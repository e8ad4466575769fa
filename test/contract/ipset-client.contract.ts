// SPDX-License-Identifier: Apache-2.0
// One contract for every IpsetClient: FakeIpset on the host and the ipset tool
// on the real kernel in the sandbox. When the two disagree, this suite fails on
// one of them. Every set it makes is named with `contractPrefix`.
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { IpsetClient } from '../../src/ipset/client.ts';
import { createLine } from '../../src/ipset/codec.ts';
import { canonicalElement } from '../../src/ipset/element.ts';
import { IpsetError } from '../../src/ipset/errors.ts';
import type { IpSetFamily, IpSetType, ObservedSet } from '../../src/ipset/types.ts';

/** Every set the contract makes starts with this. */
export const contractPrefix = 'IPSC-';

export interface IpsetContractTarget {
  /** A client, with no set named `contractPrefix…` left and nothing referencing one. */
  fresh(): Promise<IpsetClient>;
  /** Makes a kernel component (an iptables rule) use the (IPv4 or bitmap) set. */
  reference(name: string): Promise<void>;
  /** Removes what `reference` made. */
  unreference(name: string): Promise<void>;
}

interface Failure {
  code: string;
  line: number | null;
  lineText: string | null;
}

async function failure(p: Promise<unknown>): Promise<Failure | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof IpsetError) return { code: err.code, line: err.line, lineText: err.lineText };
    throw err;
  }
}

const n = (s: string): string => `${contractPrefix}${s}`;

const kinds: { name: string; type: IpSetType; family: IpSetFamily }[] = [
  { name: 'hash:ip inet', type: 'hash:ip', family: 'inet' },
  { name: 'hash:ip inet6', type: 'hash:ip', family: 'inet6' },
  { name: 'hash:ip,port inet', type: 'hash:ip,port', family: 'inet' },
  { name: 'hash:ip,port inet6', type: 'hash:ip,port', family: 'inet6' },
  { name: 'hash:ip,port,ip inet', type: 'hash:ip,port,ip', family: 'inet' },
  { name: 'hash:ip,port,ip inet6', type: 'hash:ip,port,ip', family: 'inet6' },
  { name: 'hash:ip,port,net inet', type: 'hash:ip,port,net', family: 'inet' },
  { name: 'hash:ip,port,net inet6', type: 'hash:ip,port,net', family: 'inet6' },
  { name: 'bitmap:port', type: 'bitmap:port', family: 'inet' },
];

/** Entries as written, and as the kernel prints them. */
const entries: { name: string; type: IpSetType; family: IpSetFamily; input: string; printed: string }[] = [
  { name: 'hash:ip IPv4', type: 'hash:ip', family: 'inet', input: '10.96.0.1', printed: '10.96.0.1' },
  { name: 'hash:ip IPv6 upper case, uncompressed', type: 'hash:ip', family: 'inet6', input: 'FD00:0:0:0:0:0:0:1', printed: 'fd00::1' },
  { name: 'hash:ip,port tcp', type: 'hash:ip,port', family: 'inet', input: '10.96.0.1,tcp:443', printed: '10.96.0.1,tcp:443' },
  { name: 'hash:ip,port udp', type: 'hash:ip,port', family: 'inet', input: '10.96.0.10,udp:53', printed: '10.96.0.10,udp:53' },
  { name: 'hash:ip,port sctp', type: 'hash:ip,port', family: 'inet', input: '192.168.1.10,sctp:30001', printed: '192.168.1.10,sctp:30001' },
  { name: 'hash:ip,port without protocol is tcp', type: 'hash:ip,port', family: 'inet', input: '10.96.0.2,80', printed: '10.96.0.2,tcp:80' },
  { name: 'hash:ip,port IPv6', type: 'hash:ip,port', family: 'inet6', input: '2001:db8:0:0:0:0:0:1,tcp:443', printed: '2001:db8::1,tcp:443' },
  { name: 'hash:ip,port IPv4-mapped IPv6', type: 'hash:ip,port', family: 'inet6', input: '::ffff:1.2.3.4,tcp:443', printed: '::ffff:1.2.3.4,tcp:443' },
  { name: 'hash:ip,port,ip IPv4', type: 'hash:ip,port,ip', family: 'inet', input: '10.244.0.5,tcp:8080,10.244.0.5', printed: '10.244.0.5,tcp:8080,10.244.0.5' },
  { name: 'hash:ip,port,ip IPv6', type: 'hash:ip,port,ip', family: 'inet6', input: 'fd00:244::5,udp:53,fd00:244:0::5', printed: 'fd00:244::5,udp:53,fd00:244::5' },
  { name: 'hash:ip,port,net clears host bits', type: 'hash:ip,port,net', family: 'inet', input: '1.2.3.4,tcp:80,10.1.2.3/8', printed: '1.2.3.4,tcp:80,10.0.0.0/8' },
  { name: 'hash:ip,port,net /32 prints bare', type: 'hash:ip,port,net', family: 'inet', input: '1.2.3.4,tcp:80,10.1.2.3/32', printed: '1.2.3.4,tcp:80,10.1.2.3' },
  { name: 'hash:ip,port,net IPv6 /64', type: 'hash:ip,port,net', family: 'inet6', input: 'fd00::1,tcp:80,fd00:1:2::3/64', printed: 'fd00::1,tcp:80,fd00:1:2::/64' },
  { name: 'hash:ip,port,net IPv6 /128 prints bare', type: 'hash:ip,port,net', family: 'inet6', input: 'fd00::1,tcp:80,fd00::9/128', printed: 'fd00::1,tcp:80,fd00::9' },
  { name: 'bitmap:port', type: 'bitmap:port', family: 'inet', input: '30001', printed: '30001' },
  { name: 'bitmap:port tcp:', type: 'bitmap:port', family: 'inet', input: 'tcp:30002', printed: '30002' },
  { name: 'bitmap:port udp:', type: 'bitmap:port', family: 'inet', input: 'udp:53', printed: '53' },
];

/** Malformed or refused lines: the code, and whether the tool names the line. */
const refusals: { name: string; type: IpSetType; family: IpSetFamily; entry: string; code: string; named: boolean }[] = [
  { name: 'IPv6 address in an IPv4 set', type: 'hash:ip', family: 'inet', entry: 'fd00::1', code: 'EINVAL', named: true },
  { name: 'IPv4 address in an IPv6 set', type: 'hash:ip,port', family: 'inet6', entry: '10.0.0.1,tcp:80', code: 'EINVAL', named: true },
  { name: 'not an address', type: 'hash:ip', family: 'inet', entry: 'bogus', code: 'EINVAL', named: true },
  { name: 'missing port', type: 'hash:ip,port,ip', family: 'inet', entry: '10.0.0.1', code: 'EINVAL', named: true },
  { name: 'port out of range', type: 'hash:ip,port', family: 'inet', entry: '10.0.0.1,tcp:99999', code: 'EINVAL', named: false },
  { name: 'bitmap port out of range', type: 'bitmap:port', family: 'inet', entry: '70000', code: 'EINVAL', named: false },
  { name: 'sctp in a bitmap:port set', type: 'bitmap:port', family: 'inet', entry: 'sctp:3001', code: 'EINVAL', named: true },
  { name: 'prefix longer than the address', type: 'hash:ip,port,net', family: 'inet', entry: '1.2.3.4,tcp:80,10.0.0.0/33', code: 'EINVAL', named: true },
  { name: 'zero prefix (refused by the kernel)', type: 'hash:ip,port,net', family: 'inet', entry: '1.2.3.4,tcp:80,0.0.0.0/0', code: 'EINVAL', named: true },
];

function entriesOf(sets: ObservedSet[], name: string): readonly string[] | undefined {
  return sets.find((s) => s.name === name)?.entries;
}

export function describeIpsetContract(name: string, target: IpsetContractTarget): void {
  describe(`IpsetClient contract: ${name}`, () => {
    let c: IpsetClient;
    beforeEach(async () => { c = await target.fresh(); });

    const ours = async (): Promise<ObservedSet[]> => (await c.list()).filter((s) => s.name.startsWith(contractPrefix));

    describe('sets', () => {
      it('creates every kube-proxy set type in both families in one restore, and lists them sorted with their options', async () => {
        const made = kinds.map((k) => ({ ...k, set: n(`${k.type.replace(/[:,]/g, '-')}-${k.family}`) }));
        await c.restore(made.map((k) => createLine({ name: k.set, type: k.type, family: k.family })));
        const listed = await ours();
        expect(listed.map((s) => s.name)).toEqual(made.map((k) => k.set).sort());
        for (const k of made) {
          const bitmap = k.type === 'bitmap:port';
          expect(listed.find((s) => s.name === k.set)).toEqual({
            name: k.set, type: k.type, family: bitmap ? null : k.family, entries: [],
            options: bitmap ? { range: '0-65535' } : expect.objectContaining({ hashsize: '1024', maxelem: '65536' }),
          });
        }
      });

      it('refuses a name longer than 31 characters', async () => {
        const line = `create ${n('X'.repeat(40))} hash:ip family inet`;
        expect(await failure(c.restore([line]))).toMatchObject({ code: 'EINVAL' });
        expect(await ours()).toEqual([]);
      });

      it('refuses bitmap:port without a range, naming no line', async () => {
        expect(await failure(c.restore([`create ${n('P')} bitmap:port`]))).toEqual({ code: 'EINVAL', line: null, lineText: null });
      });

      it('refuses an unknown command, naming no line', async () => {
        const lines = [`create ${n('A')} hash:ip family inet`, `frobnicate ${n('A')} 10.0.0.1`];
        expect(await failure(c.restore(lines))).toEqual({ code: 'EINVAL', line: null, lineText: null });
        expect(await ours()).toHaveLength(1);
      });
    });

    describe('entries', () => {
      it('stores every entry form of every set type as the kernel prints it, as the codec predicts', async () => {
        // One set per entry, all in one restore (process starts are slow in the sandbox).
        const lines = entries.flatMap((e, i) => [createLine({ name: n(`E${i}`), type: e.type, family: e.family }), `add ${n(`E${i}`)} ${e.input}`]);
        await c.restore(lines);
        const listed = await c.list();
        const got = Object.fromEntries(entries.map((e, i) => [e.name, entriesOf(listed, n(`E${i}`))]));
        expect(got).toEqual(Object.fromEntries(entries.map((e) => [e.name, [e.printed]])));
        // The pure codec predicts the kernel's text, so desired and observed compare as strings.
        const predicted = Object.fromEntries(entries.map((e) => [e.name, canonicalElement(e, e.input)]));
        expect(predicted).toEqual(Object.fromEntries(entries.map((e) => [e.name, expect.objectContaining({ ok: true, element: e.printed })])));
      });

      it('adds and deletes in one restore, and a repeated batch changes nothing (-exist)', async () => {
        const set = n('CIP');
        const batch = [
          createLine({ name: set, type: 'hash:ip,port', family: 'inet' }),
          `add ${set} 10.96.0.1,tcp:443`, `add ${set} 10.96.0.10,udp:53`, `add ${set} 10.96.0.10,tcp:53`,
          `del ${set} 10.96.0.10,tcp:53`, `del ${set} 10.96.0.99,tcp:1`,
        ];
        await c.restore(batch);
        await c.restore(batch);
        expect(entriesOf(await c.list(), set)).toEqual(['10.96.0.1,tcp:443', '10.96.0.10,udp:53']);
      });

      it('flushes a set in a restore', async () => {
        const set = n('F');
        await c.restore([createLine({ name: set, type: 'hash:ip', family: 'inet' }), `add ${set} 10.0.0.1`, `flush ${set}`, `add ${set} 10.0.0.2`]);
        expect(entriesOf(await c.list(), set)).toEqual(['10.0.0.2']);
      });

      it('lists an entry comment-free when its set has comments', async () => {
        const set = n('C');
        await c.restore([`create ${set} hash:ip family inet comment`, `add ${set} 10.0.0.1 comment "two words"`]);
        expect(await ours()).toEqual([expect.objectContaining({ entries: ['10.0.0.1'], options: expect.objectContaining({ comment: '' }) })]);
      });

      it('refuses a comment for a set without comment support', async () => {
        const set = n('C');
        const lines = [`create ${set} hash:ip family inet`, `add ${set} 10.0.0.1 comment "x"`];
        expect(await failure(c.restore(lines))).toEqual({ code: 'EINVAL', line: 2, lineText: lines[1] });
      });

      it.each(refusals)('refuses $name with $code', async ({ type, family, entry, code, named }) => {
        const set = n('R');
        const lines = [createLine({ name: set, type, family }), `add ${set} ${entry}`];
        expect(await failure(c.restore(lines))).toEqual({ code, line: named ? 2 : null, lineText: named ? lines[1] : null });
        expect(entriesOf(await c.list(), set)).toEqual([]);
      });

      it('refuses a port outside a bitmap set range with ERANGE', async () => {
        const set = n('P');
        const lines = [`create ${set} bitmap:port range 1000-2000`, `add ${set} 1500`, `add ${set} 80`];
        expect(await failure(c.restore(lines))).toEqual({ code: 'ERANGE', line: 3, lineText: lines[2] });
        expect(entriesOf(await c.list(), set)).toEqual(['1500']);
      });

      it('refuses an entry beyond maxelem with ENOSPC', async () => {
        const set = n('M');
        const lines = [`create ${set} hash:ip family inet maxelem 2`, `add ${set} 10.0.0.1`, `add ${set} 10.0.0.2`, `add ${set} 10.0.0.3`];
        expect(await failure(c.restore(lines))).toEqual({ code: 'ENOSPC', line: 4, lineText: lines[3] });
        expect(entriesOf(await c.list(), set)).toEqual(['10.0.0.1', '10.0.0.2']);
      });

      it('refuses an entry for a missing set with ENOENT', async () => {
        const line = `add ${n('NOPE')} 10.0.0.1`;
        expect(await failure(c.restore([line]))).toEqual({ code: 'ENOENT', line: 1, lineText: line });
      });
    });

    describe('without -exist', () => {
      it('refuses adding a present entry with EEXIST and deleting an absent one with ENOENT', async () => {
        const set = n('X');
        await c.restore([createLine({ name: set, type: 'hash:ip', family: 'inet' }), `add ${set} 10.0.0.1`]);
        expect(await failure(c.restore([`add ${set} 10.0.0.1`], { exist: false }))).toEqual({ code: 'EEXIST', line: 1, lineText: `add ${set} 10.0.0.1` });
        expect(await failure(c.restore([`del ${set} 10.0.0.2`], { exist: false }))).toEqual({ code: 'ENOENT', line: 1, lineText: `del ${set} 10.0.0.2` });
      });

      it('refuses creating an existing set even with the same parameters', async () => {
        const line = createLine({ name: n('X'), type: 'hash:ip', family: 'inet' });
        await c.restore([line]);
        expect(await failure(c.restore([line], { exist: false }))).toEqual({ code: 'EEXIST', line: 1, lineText: line });
      });
    });

    describe('create -exist over an existing set', () => {
      const cases: { name: string; first: string; second: string; result: 'ok' | 'EEXIST'; family?: IpSetFamily }[] = [
        { name: 'same parameters', first: 'hash:ip,port family inet hashsize 1024 maxelem 65536', second: 'hash:ip,port family inet hashsize 1024 maxelem 65536', result: 'ok' },
        { name: 'another hash size (the kernel resizes)', first: 'hash:ip family inet', second: 'hash:ip family inet hashsize 4096', result: 'ok' },
        { name: 'another type', first: 'hash:ip family inet', second: 'hash:ip,port family inet', result: 'EEXIST' },
        { name: 'another maxelem', first: 'hash:ip family inet', second: 'hash:ip family inet maxelem 10', result: 'EEXIST' },
        { name: 'hash:ip of the other family', first: 'hash:ip family inet', second: 'hash:ip family inet6', result: 'EEXIST' },
        { name: 'hash:ip,port of the other family (accepted; the set stays inet)', first: 'hash:ip,port family inet', second: 'hash:ip,port family inet6', result: 'ok', family: 'inet' },
        { name: 'bitmap:port with another range', first: 'bitmap:port range 0-65535', second: 'bitmap:port range 1-65535', result: 'EEXIST' },
      ];
      it.each(cases)('$name: $result', async ({ first, second, result, family }) => {
        const set = n('X');
        await c.restore([`create ${set} ${first}`, `add ${set} ${first.startsWith('bitmap') ? '80' : first.startsWith('hash:ip,port') ? '10.0.0.1,tcp:80' : '10.0.0.1'}`]);
        const line = `create ${set} ${second}`;
        const got = await failure(c.restore([line]));
        expect(got).toEqual(result === 'ok' ? 'ok' : { code: result, line: 1, lineText: line });
        const [listed] = await ours();
        expect(listed?.entries).toHaveLength(1);
        if (family) expect(listed?.family).toBe(family);
      });
    });

    describe('restore is not atomic', () => {
      it('keeps the lines before a line the kernel refuses and runs none after it', async () => {
        const set = n('A');
        const lines = [createLine({ name: set, type: 'hash:ip', family: 'inet' }), `add ${set} 10.0.0.1`, `add ${set} 10.0.0.2`, `add ${set} 10.0.0.1`, `add ${set} 10.0.0.3`];
        expect(await failure(c.restore(lines, { exist: false }))).toEqual({ code: 'EEXIST', line: 4, lineText: lines[3] });
        expect(entriesOf(await c.list(), set)).toEqual(['10.0.0.1', '10.0.0.2']);
      });

      it('drops the run of adds to one set held before a line the tool refuses', async () => {
        const a = n('A');
        const b = n('B');
        const lines = [
          createLine({ name: a, type: 'hash:ip', family: 'inet' }), createLine({ name: b, type: 'hash:ip', family: 'inet' }),
          `add ${a} 10.0.0.1`, `add ${b} 10.0.0.2`, `add ${a} 10.0.0.5`, `add ${a} 10.0.0.6`, `add ${a} bogus`, `add ${a} 10.0.0.3`,
        ];
        expect(await failure(c.restore(lines))).toEqual({ code: 'EINVAL', line: 7, lineText: lines[6] });
        const listed = await c.list();
        expect(entriesOf(listed, a)).toEqual(['10.0.0.1']);
        expect(entriesOf(listed, b)).toEqual(['10.0.0.2']);
      });

      it('drops the held run when a later line names a missing set', async () => {
        const a = n('A');
        const lines = [createLine({ name: a, type: 'hash:ip', family: 'inet' }), `add ${a} 10.0.0.1`, `add ${n('NOPE')} 10.0.0.2`];
        expect(await failure(c.restore(lines))).toEqual({ code: 'ENOENT', line: 3, lineText: lines[2] });
        expect(entriesOf(await c.list(), a)).toEqual([]);
      });
    });

    describe('destroy', () => {
      it('destroys a set, then refuses to destroy it again with ENOENT', async () => {
        const set = n('D');
        await c.restore([createLine({ name: set, type: 'hash:ip', family: 'inet' })]);
        await c.destroy(set);
        expect(await ours()).toEqual([]);
        expect(await failure(c.destroy(set))).toMatchObject({ code: 'ENOENT' });
      });

      it('ignores destroying a missing set in a restore with -exist', async () => {
        const set = n('D');
        await c.restore([createLine({ name: set, type: 'hash:ip', family: 'inet' }), `destroy ${n('NOPE')}`, `add ${set} 10.0.0.1`]);
        expect(entriesOf(await c.list(), set)).toEqual(['10.0.0.1']);
      });

      it('refuses to destroy a set an iptables rule uses with EBUSY, and destroys it once the rule is gone', async () => {
        const set = n('USED');
        await c.restore([createLine({ name: set, type: 'hash:ip,port', family: 'inet' }), `add ${set} 10.96.0.1,tcp:80`]);
        await target.reference(set);
        try {
          expect(await failure(c.destroy(set))).toMatchObject({ code: 'EBUSY' });
          const lines = [createLine({ name: n('OTHER'), type: 'hash:ip', family: 'inet' }), `destroy ${set}`, `add ${n('OTHER')} 10.0.0.1`];
          expect(await failure(c.restore(lines))).toEqual({ code: 'EBUSY', line: 2, lineText: lines[1] });
          expect(entriesOf(await c.list(), set)).toEqual(['10.96.0.1,tcp:80']);
          expect(entriesOf(await c.list(), n('OTHER'))).toEqual([]);
        } finally {
          await target.unreference(set);
        }
        await c.destroy(set);
        expect((await ours()).map((s) => s.name)).toEqual([n('OTHER')]);
      });
    });

    it('resolves an empty restore', async () => {
      await c.restore([]);
      expect(await ours()).toEqual([]);
    });
  });
}
