import { execa } from 'execa';

// The process seam of the clients that drive kernel tools (iptables, conntrack):
// one run of a command, never rejecting, so each client maps failures to
// KernelErrors by the tool's own exit codes and messages.

/** What one run produced. `exitCode` is null when the process did not exit by itself (timeout, spawn failure). */
export interface RunResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Set when the process could not start (e.g. `ENOENT`: the tool is not installed). */
  readonly spawnError: string | null;
}

/** Runs a command; never rejects (failures are in the result). The seam host tests replace. */
export type Runner = (file: string, args: readonly string[], opts: { input?: string; timeoutMs: number }) => Promise<RunResult>;

/** The real runner: execa, no shell, stdin from `input` (else none), killed after `timeoutMs`. */
export const execaRunner: Runner = async (file, args, opts) => {
  const r = await execa(file, [...args], {
    reject: false, timeout: opts.timeoutMs, stripFinalNewline: false, maxBuffer: 512 * 1024 * 1024,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    exitCode: r.exitCode ?? null, stdout: text(r.stdout), stderr: text(r.stderr), timedOut: r.timedOut,
    spawnError: r.exitCode === undefined && !r.timedOut ? (r.code ?? 'spawn failed') : null,
  };
};
