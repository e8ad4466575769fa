import { applyCommand } from './apply.ts';
import { cleanupCommand } from './cleanup.ts';
import type { Command } from './command.ts';
import { demoCommand } from './demo.ts';
import { devApiserverCommand } from './dev-apiserver.ts';
import { explainCommand } from './explain.ts';
import { ipvsListCommand } from './ipvs-list.ts';
import { planCommand } from './plan.ts';
import { runCommand } from './run.ts';

/** Every subcommand of the binary, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  runCommand(),
  planCommand(),
  applyCommand(),
  cleanupCommand(),
  ipvsListCommand(),
  explainCommand(),
  devApiserverCommand(),
  demoCommand(),
];
