#!/usr/bin/env node
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { type CliIo, type Command, UsageError } from './command.ts';
import { packageVersion } from './version.ts';
import { commands } from './commands.ts';

/** Finds the command whose name is the longest prefix of `args`. */
export function findCommand(list: readonly Command[], args: readonly string[]): Command | undefined {
  let best: Command | undefined;
  for (const c of list) {
    const matches = c.name.every((w, i) => args[i] === w);
    if (matches && (!best || c.name.length > best.name.length)) best = c;
  }
  return best;
}

/** The top-level help text listing every command. */
export function helpText(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.join(' ').length));
  const lines = list.map((c) => `  ${c.name.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'ipvs-proxy: a Kubernetes node agent that programs IPVS like kube-proxy --proxy-mode=ipvs',
    '',
    'Usage: ipvs-proxy <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  --help      show help (also after a command: ipvs-proxy <command> --help)',
    '  --version   print the version',
    '',
  ].join('\n');
}

/**
 * Runs the CLI with `argv` (without node and script) and resolves to the exit code:
 * 0 success, 1 failure reported by the command, 2 bad usage.
 */
export async function main(args: readonly string[], io: CliIo, list: readonly Command[] = commands): Promise<number> {
  let argv = args;
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(helpText(list));
    return 0;
  }
  if (first === '--version' || first === 'version') {
    io.stdout.write(`ipvs-proxy ${packageVersion()}\n`);
    return 0;
  }
  // kube-proxy's spelling: `--cleanup` is a flag of the binary.
  if (first === '--cleanup') argv = ['cleanup', ...argv.slice(1)];
  const cmd = findCommand(list, argv);
  if (!cmd) {
    io.stderr.write(`ipvs-proxy: unknown command "${argv.join(' ')}"\n\n${helpText(list)}`);
    return 2;
  }
  const rest = argv.slice(cmd.name.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`ipvs-proxy ${cmd.name.join(' ')}: ${err.message}\n\n${cmd.usage}`);
      return 2;
    }
    throw err;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`ipvs-proxy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
