import { execFile, spawn } from 'node:child_process';

/** A command that exited non-zero; `stderr` holds what it printed. */
export class CommandError extends Error {
  readonly code = 'ECOMMAND';
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  /** What the command printed on stdout before failing. */
  readonly stdout: string;
  constructor(command: readonly string[], exitCode: number | null, stderr: string, stdout = '') {
    super(`${command.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim()}`);
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

/**
 * Runs a command and resolves to its stdout. Rejects with `CommandError` on a
 * non-zero exit, or after `timeoutMs` (default 30 s) with the process killed.
 */
export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === 'number' ? err.code : null;
          reject(new CommandError([cmd, ...args], code, `${stderr}${err.killed ? ' (timed out)' : ''}`, stdout));
        } else {
          resolve(stdout);
        }
      });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs `ip -batch -` with the given lines in one process (process starts are costly in the sandbox). */
export async function ipBatch(lines: readonly string[], netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  await run('ip', args, { input: `${lines.join('\n')}\n` });
}

/** A long-running child that prints `ready` when it can serve. */
export interface Daemon {
  readonly pid: number | undefined;
  /** Stops the process (SIGTERM, then SIGKILL after 2 s); resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a process and resolves once it prints a line `ready`. Rejects if it exits
 * first or prints nothing within `timeoutMs` (the process is then killed).
 */
export function startDaemon(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<Daemon> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const daemon: Daemon = {
      pid: child.pid,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(kill);
      },
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: not ready after ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve(daemon);
      }
    });
    child.stderr.on('data', (c: Buffer) => { err += c.toString('utf8'); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new CommandError([cmd, ...args], code, err));
    });
  });
}
