import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { KernelError } from '../netlink/errors.ts';
import { PartialDeleteError, PartialListError } from './errors.ts';
import { ExecConntrack, type RunResult, type Runner } from './exec-client.ts';
import type { FlowFilter } from './types.ts';

const line1 = 'ipv4     2 udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.244.0.11 dst=10.0.0.1 sport=8053 dport=40000 mark=0 use=1';
const line2 = 'ipv4     2 udp      17 58 src=10.0.0.2 dst=10.96.0.10 sport=40001 dport=53 src=10.244.0.12 dst=10.0.0.2 sport=8053 dport=40001 [ASSURED] mark=0 use=1';
const deleted = 'udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.244.0.11 dst=10.0.0.1 sport=8053 dport=40000 mark=0 use=1';
const summary = (n: number, verb: string): string => `conntrack v1.4.7 (conntrack-tools): ${n} flow entries have been ${verb}.\n`;

interface Call { file: string; args: readonly string[]; batch: string | null; timeoutMs: number }

/** A stand-in for the tool: records each call (and the batch file's text) and answers `result`. */
function standIn(result: Partial<RunResult>): { run: Runner; calls: Call[] } {
  const calls: Call[] = [];
  const run: Runner = async (file, args, opts) => {
    const r = args.indexOf('-R');
    const batch = r >= 0 ? await readFile(args[r + 1]!, 'utf8') : null;
    calls.push({ file, args, batch, timeoutMs: opts.timeoutMs });
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, spawnError: null, ...result };
  };
  return { run, calls };
}

async function rejection(p: Promise<unknown>): Promise<KernelError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KernelError) return err;
    throw err;
  }
  throw new Error('did not reject');
}

const stale: FlowFilter = { family: 'inet', protocol: 'udp', original: { dst: '10.96.0.10', dstPort: 53 }, reply: { src: '10.244.0.11', srcPort: 8053 } };

describe('ExecConntrack.list', () => {
  it('runs conntrack -L for the family and protocol and reads every flow', async () => {
    const { run, calls } = standIn({ stdout: `${line1}\n${line2}\n`, stderr: summary(2, 'shown') });
    const flows = await new ExecConntrack({ run, binary: '/usr/sbin/conntrack', timeoutMs: 1234 }).list('inet', 'udp');
    expect(calls).toEqual([{ file: '/usr/sbin/conntrack', args: ['-L', '-f', 'ipv4', '-p', 'udp', '-o', 'extended'], batch: null, timeoutMs: 1234 }]);
    expect(flows.map((f) => f.reply.src)).toEqual(['10.244.0.11', '10.244.0.12']);
  });

  it('fails with EBADMSG when the summary counts other flows than it read', async () => {
    const { run } = standIn({ stdout: `${line1}\n`, stderr: summary(2, 'shown') });
    expect(await rejection(new ExecConntrack({ run }).list('inet', 'udp'))).toMatchObject({ code: 'EBADMSG', op: 'list' });
  });

  it('hands over the flows read before an interrupted dump (EINTR)', async () => {
    const { run } = standIn({ exitCode: 1, stdout: `${line1}\n${line2.slice(0, 40)}`, stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Interrupted system call\n' });
    const err = await rejection(new ExecConntrack({ run }).list('inet', 'udp'));
    expect(err).toBeInstanceOf(PartialListError);
    expect((err as PartialListError).flows.map((f) => f.original.srcPort)).toEqual([40000]);
  });

  it.each([
    { name: 'no permission', result: { exitCode: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted' }, code: 'EPERM' },
    { name: 'a timeout', result: { exitCode: null, timedOut: true }, code: 'ETIMEDOUT' },
    { name: 'a missing tool', result: { exitCode: null, spawnError: 'ENOENT' }, code: 'EOPNOTSUPP' },
    { name: 'an unknown failure', result: { exitCode: 1, stderr: 'odd' }, code: 'EIO' },
  ])('rejects on $name with $code', async ({ result, code }) => {
    const { run } = standIn(result);
    expect(await rejection(new ExecConntrack({ run }).list('inet6', 'udp'))).toMatchObject({ code, op: 'list', object: 'inet6/udp' });
  });
});

describe('ExecConntrack.delete', () => {
  it('sends one conntrack -R batch of -D lines, once per distinct filter, and counts the flows printed', async () => {
    const { run, calls } = standIn({ stdout: `${deleted}\n${deleted.replace('40000', '40002')}\n` });
    const n = await new ExecConntrack({ run }).delete([stale, { ...stale }, { family: 'inet', protocol: 'udp', original: { dstPort: 30053 } }]);
    expect(n).toBe(2);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0]).toBe('-R');
    expect(calls[0]!.batch).toBe('-D -f ipv4 -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.0.11 --reply-port-src 8053\n'
      + '-D -f ipv4 -p udp --orig-port-dst 30053\n');
  });

  it('removes its batch file', async () => {
    const { run, calls } = standIn({});
    await new ExecConntrack({ run }).delete([stale]);
    await expect(readFile(calls[0]!.args[1]!, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does not run the tool for no filters', async () => {
    const { run, calls } = standIn({});
    expect(await new ExecConntrack({ run }).delete([])).toBe(0);
    expect(calls).toEqual([]);
  });

  it('reports how many flows went before a failure', async () => {
    const { run } = standIn({ exitCode: 1, stdout: `${deleted}\n`, stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted\n' });
    const err = await rejection(new ExecConntrack({ run }).delete([stale, { ...stale, reply: { src: '10.244.0.12' } }]));
    expect(err).toBeInstanceOf(PartialDeleteError);
    expect(err).toMatchObject({ code: 'EPERM', deleted: 1 });
  });

  it('maps a refused batch (exit 2) to EINVAL with nothing deleted', async () => {
    const { run } = standIn({ exitCode: 2, stderr: "conntrack v1.4.7 (conntrack-tools): Invalid IP address `300.1.1.1'\n" });
    expect(await rejection(new ExecConntrack({ run }).delete([stale]))).toMatchObject({ code: 'EINVAL', deleted: 0 });
  });
});
