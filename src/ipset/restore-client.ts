// SPDX-License-Identifier: Apache-2.0
// The real IpsetClient: the ipset tool, one process per call (`ipset save`,
// `ipset restore`, `ipset destroy`). One restore carries a whole sync's writes,
// where kube-proxy starts one `ipset add`/`del` process per entry.

import { execa } from 'execa';
import type { IpsetClient, RestoreOptions } from './client.ts';
import { parseSave } from './codec.ts';
import { IpsetError, codeForMessage, restoreError } from './errors.ts';
import type { ObservedSet } from './types.ts';

/** Options of the real client. */
export interface RestoreIpsetClientOptions {
  /** The ipset binary (default `ipset`, found on PATH). */
  readonly command?: string;
  /**
   * Time limit of one process in ms (default 120 s); the process is then killed
   * and the call rejects with `ETIMEDOUT`. Measured in the user-mode Linux
   * sandbox, which makes the tool very slow: 100,000 adds in one restore take
   * about 28 s and `ipset save` of them 19 s (10,000: a tenth of that).
   * The kill reaches the ipset process itself (it does not fork); a wrapper
   * script in its place should `exec` it, or its children keep the call waiting.
   */
  readonly timeoutMs?: number;
}

interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly failed: boolean;
  readonly timedOut: boolean;
  readonly spawnCode: string | undefined;
}

/** Real ipset client over the ipset tool, via execa. */
export class RestoreIpsetClient implements IpsetClient {
  private readonly command: string;
  private readonly timeoutMs: number;

  constructor(options: RestoreIpsetClientOptions = {}) {
    this.command = options.command ?? 'ipset';
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  private async run(args: readonly string[], input?: string): Promise<Outcome> {
    const r = await execa(this.command, args, {
      input, timeout: this.timeoutMs, reject: false, maxBuffer: 1024 * 1024 * 1024, stripFinalNewline: false,
    });
    return { stdout: r.stdout, stderr: r.stderr, failed: r.failed, timedOut: r.timedOut, spawnCode: r.code };
  }

  /** The error of a process that failed to start or timed out; null otherwise. */
  private processError(o: Outcome, op: string, object: string): IpsetError | null {
    if (o.timedOut) return new IpsetError('ETIMEDOUT', op, object, `no answer within ${this.timeoutMs} ms`);
    if (o.spawnCode === 'ENOENT') return new IpsetError('EAFNOSUPPORT', op, object, `${this.command} not found`);
    if (o.spawnCode === 'EACCES') return new IpsetError('EPERM', op, object, `${this.command} not executable`);
    return null;
  }

  /** `ipset save`, parsed. Rejects with IpsetError (EPERM, EAFNOSUPPORT, ETIMEDOUT, EIO). */
  async list(): Promise<ObservedSet[]> {
    const o = await this.run(['save']);
    if (!o.failed) return parseSave(o.stdout);
    const message = o.stderr.trim();
    throw this.processError(o, 'ipset save', '') ?? new IpsetError(codeForMessage(message), 'ipset save', '', message);
  }

  /** One `ipset restore [-exist]` of the lines; see IpsetClient.restore. */
  async restore(lines: readonly string[], options: RestoreOptions = {}): Promise<void> {
    if (lines.length === 0) return;
    const args = options.exist === false ? ['restore'] : ['restore', '-exist'];
    const o = await this.run(args, `${lines.join('\n')}\n`);
    if (!o.failed) return;
    throw this.processError(o, 'ipset restore', '') ?? restoreError(o.stderr, lines);
  }

  /** `ipset destroy NAME`; ENOENT if missing, EBUSY if referenced. */
  async destroy(name: string): Promise<void> {
    const o = await this.run(['destroy', name]);
    if (!o.failed) return;
    const message = o.stderr.trim().replace(/^ipset v[0-9.]+: /, '');
    throw this.processError(o, 'ipset destroy', name) ?? new IpsetError(codeForMessage(message), 'ipset destroy', name, message);
  }
}
