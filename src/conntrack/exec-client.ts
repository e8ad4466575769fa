import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelError } from '../netlink/errors.ts';
import type { ConntrackClient } from './client.ts';
import { PartialDeleteError, PartialListError } from './errors.ts';
import { classifyStderr, deleteBatch, listArgs, parseFlowLine, parseFlowLines, summaryCount } from './text.ts';
import { type Family, type Flow, type FlowFilter, type FlowProtocol, filterKey } from './types.ts';

import { type RunResult, type Runner, execaRunner } from '../exec/runner.ts';

export { type RunResult, type Runner, execaRunner };

export interface ExecConntrackOptions {
  /** The tool (default `conntrack`, found on PATH). */
  readonly binary?: string;
  /** Kill a run after this long (default 30 s: a dump of a full table takes seconds). */
  readonly timeoutMs?: number;
  /** Where delete batches are written for `conntrack -R` (default the OS temp directory). */
  readonly tmpDir?: string;
  readonly run?: Runner;
}

// `conntrack -R FILE` reads one command per line from a file it opens by name.
// Stdin does not do: `-R -` opens /dev/stdin, which minimal roots (the sandbox,
// some containers) lack, and /proc/self/fd/0 cannot be opened when stdin is
// the socket Node gives a child. So the batch goes through a private temp file.

/**
 * ConntrackClient over the `conntrack` tool (conntrack-tools, which talks
 * ctnetlink to the kernel): one `conntrack -L` per list, one `conntrack -R`
 * batch of `-D` commands per delete, each with a timeout (`ETIMEDOUT`). A
 * missing tool rejects with `EOPNOTSUPP`; kernel errors keep their errno name
 * (see ConntrackClient).
 */
export class ExecConntrack implements ConntrackClient {
  private readonly binary: string;
  private readonly timeoutMs: number;
  private readonly run: Runner;
  private readonly tmpDir: string;

  constructor(opts: ExecConntrackOptions = {}) {
    this.binary = opts.binary ?? 'conntrack';
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.run = opts.run ?? execaRunner;
    this.tmpDir = opts.tmpDir ?? tmpdir();
  }

  async list(family: Family, protocol: FlowProtocol): Promise<Flow[]> {
    const object = `${family}/${protocol}`;
    const r = await this.exec(listArgs(family, protocol), 'list', object);
    if (r.exitCode !== 0) {
      const code = classifyStderr(r.stderr, r.exitCode) ?? 'EIO';
      if (code === 'EINTR') throw new PartialListError('list', object, readablePrefix(r.stdout), r.stderr.trim());
      throw new KernelError(code, 'list', object, r.stderr.trim());
    }
    const flows = parseFlowLines(r.stdout);
    // The summary counts what the tool printed; a mismatch means we misread its output.
    const shown = summaryCount(r.stderr, 'shown');
    if (shown !== null && shown !== flows.length) {
      throw new KernelError('EBADMSG', 'list', object, `the tool showed ${shown} flows, ${flows.length} were read`);
    }
    return flows.filter((f) => f.family === family && f.protocol === protocol);
  }

  async delete(filters: readonly FlowFilter[]): Promise<number> {
    const unique = [...new Map(filters.map((f) => [filterKey(f), f])).values()];
    if (unique.length === 0) return 0;
    const object = `${unique.length} filters`;
    const r = await this.withBatchFile(deleteBatch(unique), 'delete', object,
      (file) => this.exec(['-R', file], 'delete', object));
    // In batch mode the tool prints each deleted flow and no summary; a line that
    // deletes nothing is not a failure there (a single `-D` would exit 1).
    const deleted = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
    if (r.exitCode === 0) return deleted;
    const code = classifyStderr(r.stderr, r.exitCode) ?? 'EIO';
    throw new PartialDeleteError(code, 'delete', object, deleted, r.stderr.trim());
  }

  /** Writes `text` to a fresh private file, runs `fn` with its path, then removes it. */
  private async withBatchFile<T>(text: string, op: string, object: string, fn: (file: string) => Promise<T>): Promise<T> {
    let dir: string;
    try {
      dir = await mkdtemp(join(this.tmpDir, 'ipvs-proxy-conntrack-'));
      await writeFile(join(dir, 'batch'), text, { mode: 0o600 });
    } catch (err) {
      throw new KernelError('EIO', op, object, `cannot write the batch file: ${String(err)}`);
    }
    try {
      return await fn(join(dir, 'batch'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async exec(args: string[], op: string, object: string): Promise<RunResult> {
    const r = await this.run(this.binary, args, { timeoutMs: this.timeoutMs });
    if (r.timedOut) throw new KernelError('ETIMEDOUT', op, object, `${this.binary} killed after ${this.timeoutMs} ms`);
    if (r.spawnError !== null) throw new KernelError('EOPNOTSUPP', op, object, `cannot run ${this.binary}: ${r.spawnError}`);
    return r;
  }
}

/** The flows of the leading well-formed lines of `stdout` (a run cut short may end mid-line). */
function readablePrefix(stdout: string): Flow[] {
  const flows: Flow[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    try {
      flows.push(parseFlowLine(line));
    } catch {
      break;
    }
  }
  return flows;
}
