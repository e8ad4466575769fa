import type { Writable } from 'node:stream';

/** Where a command writes: injected so tests can capture output. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** One subcommand of the `ipvs-proxy` binary. */
export interface Command {
  /** Words that select the command, e.g. `['ipvs', 'list']`. */
  readonly name: readonly string[];
  /** One line for the command list in `--help`. */
  readonly summary: string;
  /** Full usage text printed by `<command> --help`. */
  readonly usage: string;
  /**
   * Runs the command with the arguments after its name.
   * Resolves to the process exit code; throws only on programming errors.
   */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Thrown for bad command-line input; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
}
