import type { Command } from './command.ts';

/** Every subcommand of the binary, in the order `--help` lists them. */
export const commands: readonly Command[] = [];
