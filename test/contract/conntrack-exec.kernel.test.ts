import { afterAll } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecConntrack, execaRunner } from '../../src/conntrack/exec-client.ts';
import { classifyStderr } from '../../src/conntrack/text.ts';
import type { Flow } from '../../src/conntrack/types.ts';
import { KernelError } from '../../src/netlink/errors.ts';
import { contractCleanupFilters, describeConntrackContract } from './conntrack-client.contract.ts';

const client = new ExecConntrack({ timeoutMs: 20_000 });

/** `conntrack -I` arguments creating `f` as traffic would have (NATed reply tuple included). */
function insertLine(f: Flow): string {
  return ['-I', '-p', f.protocol, '-s', f.original.src, '-d', f.original.dst,
    '--sport', String(f.original.srcPort), '--dport', String(f.original.dstPort),
    '-r', f.reply.src, '-q', f.reply.dst, '--reply-port-src', String(f.reply.srcPort), '--reply-port-dst', String(f.reply.dstPort),
    '-t', String(f.timeout), ...(f.protocol === 'tcp' ? ['--state', 'ESTABLISHED'] : [])].join(' ');
}

/** Creates flows in the kernel with one `conntrack -R` batch. */
async function insert(flows: readonly Flow[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ct-contract-'));
  const file = join(dir, 'insert');
  await writeFile(file, flows.map((f) => `${insertLine(f)}\n`).join(''));
  const r = await execaRunner('conntrack', ['-R', file], { timeoutMs: 20_000 }).finally(() => rm(dir, { recursive: true }));
  if (r.exitCode !== 0) throw new KernelError(classifyStderr(r.stderr, r.exitCode) ?? 'EIO', 'insert', `${flows.length} flows`, r.stderr.trim());
}

describeConntrackContract('conntrack tool on the real kernel', { client: () => Promise.resolve(client), insert });

afterAll(async () => {
  await client.delete(contractCleanupFilters());
});
