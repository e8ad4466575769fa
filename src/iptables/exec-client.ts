import type { IptablesClient } from './client.ts';
import { diagnoseRestoreLine, tableOfLine } from './diagnose.ts';
import { IptablesError } from './errors.ts';
import { parseSave } from './restore-text.ts';
import { classifyFailure } from './stderr.ts';
import { type Backend, type Commands, type IpFamily, type Table, commandsFor, isTable } from './types.ts';

import { type RunResult, type Runner, execaRunner } from '../exec/runner.ts';

export { type RunResult, type Runner, execaRunner };

export interface ExecIptablesOptions {
  readonly family: IpFamily;
  readonly backend: Backend;
  /** Seconds to wait for the xtables lock (`-w N`); default 5, as kube-proxy. */
  readonly lockWaitSeconds?: number;
  /** Kill a command after this long; default 30 s. Must exceed the lock wait. */
  readonly timeoutMs?: number;
  /** Directory of the binaries (default: found on PATH). */
  readonly binDir?: string;
  readonly run?: Runner;
}

/**
 * IptablesClient over the iptables binaries of one family and backend
 * (`iptables-legacy`, `ip6tables-nft-restore`, ...), run with execa. Every
 * command that takes the xtables lock gets `-w N` (so it waits for kubelet or a
 * CNI plugin instead of failing at once); every run has a timeout (ETIMEDOUT).
 * A missing binary rejects with EOPNOTSUPP. See `IptablesClient` for the codes.
 */
export class ExecIptables implements IptablesClient {
  readonly family: IpFamily;
  readonly backend: Backend;
  private readonly cmds: Commands;
  private readonly lockWait: number;
  private readonly timeoutMs: number;
  private readonly run: Runner;

  constructor(opts: ExecIptablesOptions) {
    this.family = opts.family;
    this.backend = opts.backend;
    const c = commandsFor(opts.family, opts.backend);
    const at = (name: string): string => (opts.binDir ? `${opts.binDir}/${name}` : name);
    this.cmds = { iptables: at(c.iptables), save: at(c.save), restore: at(c.restore) };
    this.lockWait = opts.lockWaitSeconds ?? 5;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.run = opts.run ?? execaRunner;
  }

  async restore(payload: string, _opts: { readonly noflush: true }): Promise<void> {
    // No --counters: our payload carries no counters ([0:0] on user chains is ignored anyway).
    const r = await this.exec(this.cmds.restore, ['-w', String(this.lockWait), '--noflush'], 'restore', '', payload);
    if (r.ok) return;
    const { classified } = r;
    let code = classified.code;
    if (code === null && classified.line !== null) code = await this.diagnose(payload, classified.line);
    throw new IptablesError(code ?? 'EINVAL', 'restore', tableOfLine(payload, classified.line ?? 0) ?? '',
      classified.detail, classified.line, r.stderr);
  }

  async save(table?: Table): Promise<string> {
    const r = await this.exec(this.cmds.save, table ? ['-t', table] : [], 'save', table ?? '');
    if (!r.ok) throw this.error(r, 'save', table ?? '');
    return r.stdout;
  }

  async checkRule(table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    const r = await this.exec(this.cmds.iptables, this.lockArgs(table, ['-C', chain, ...args]), 'check-rule', `${table}/${chain}`);
    if (r.ok) return true;
    // -C answers exit 1 "Bad rule (does a matching rule exist in that chain?)" when the rule is not there.
    if (r.exitCode === 1 && /Bad rule|No chain\/target\/match/.test(r.stderr)) return false;
    throw this.error(r, 'check-rule', `${table}/${chain}`);
  }

  async insertRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    await this.write('insert-rule', table, chain, ['-I', chain, '1', ...args]);
  }

  async deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    await this.write('delete-rule', table, chain, ['-D', chain, ...args]);
  }

  async listChains(table: Table): Promise<string[]> {
    return [...(parseSave(await this.save(table)).get(table)?.keys() ?? [])];
  }

  async flushChain(table: Table, chain: string): Promise<void> {
    await this.write('flush-chain', table, chain, ['-F', chain]);
  }

  async deleteChain(table: Table, chain: string): Promise<void> {
    await this.write('delete-chain', table, chain, ['-X', chain]);
  }

  private async write(op: string, table: Table, chain: string, args: string[]): Promise<void> {
    const r = await this.exec(this.cmds.iptables, this.lockArgs(table, args), op, `${table}/${chain}`);
    if (!r.ok) throw this.error(r, op, `${table}/${chain}`);
  }

  private lockArgs(table: Table, args: readonly string[]): string[] {
    return ['-w', String(this.lockWait), '-t', table, ...args];
  }

  private async diagnose(payload: string, line: number): Promise<string | null> {
    const table = tableOfLine(payload, line);
    if (table === null || !isTable(table)) return null;
    try {
      return diagnoseRestoreLine(payload, line, await this.save(table), this.family);
    } catch {
      return null; // the diagnosis is best effort; the restore's own error is what matters
    }
  }

  private error(r: Failed, op: string, object: string): IptablesError {
    return new IptablesError(r.classified.code ?? 'EINVAL', op, object, r.classified.detail, r.classified.line, r.stderr);
  }

  private async exec(file: string, args: string[], op: string, object: string, input?: string): Promise<Ok | Failed> {
    const r = await this.run(file, args, { timeoutMs: this.timeoutMs, ...(input !== undefined ? { input } : {}) });
    if (r.timedOut) throw new IptablesError('ETIMEDOUT', op, object, `${file} killed after ${this.timeoutMs} ms`);
    if (r.spawnError) throw new IptablesError('EOPNOTSUPP', op, object, `cannot run ${file}: ${r.spawnError}`);
    if (r.exitCode === 0) return { ok: true, stdout: r.stdout };
    return { ok: false, exitCode: r.exitCode, stderr: r.stderr, classified: classifyFailure(r.stderr, r.exitCode) };
  }
}

interface Ok {
  readonly ok: true;
  readonly stdout: string;
}

interface Failed {
  readonly ok: false;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly classified: ReturnType<typeof classifyFailure>;
}
