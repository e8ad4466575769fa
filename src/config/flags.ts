// A command-line splitter with spf13/pflag's syntax, as kube-proxy parses its
// flags: `--flag=value`, `--flag value`, booleans as `--flag` or `--flag=false`
// (never `--flag false`: pflag treats that `false` as an argument), one-letter
// shorthands (`-v 4`, `-v=4`, `-v4`), `--` ends the flags, and underscores in
// names count as dashes (kube-proxy's WordSepNormalizeFunc). Values stay raw
// strings here; kube-proxy-flags.ts converts them by kind.

import type { ConfigError } from './types.ts';

/** How a flag takes its value: booleans need none, everything else one. */
export interface FlagShape {
  readonly name: string;
  readonly bool: boolean;
  readonly shorthand?: string;
}

/** Every occurrence of one flag, raw values in command-line order. */
export type FlagValues = ReadonlyMap<string, readonly string[]>;

/** The split command line. */
export interface SplitArgs {
  readonly flags: FlagValues;
  readonly positional: readonly string[];
  /** Unknown flags, missing values: pflag's usage errors. */
  readonly errors: readonly ConfigError[];
}

function normalize(name: string): string {
  return name.replace(/_/g, '-');
}

/**
 * Splits `argv` into flag occurrences and positional arguments. Never throws:
 * unknown flags (`unknown flag: --x`, `unknown shorthand flag: 'x' in -x`) and
 * missing values (`flag needs an argument: --x`) are returned as errors, and
 * parsing goes on so every problem is reported at once.
 */
export function splitArgs(argv: readonly string[], shapes: readonly FlagShape[]): SplitArgs {
  const byName = new Map(shapes.map((s) => [s.name, s]));
  const byShort = new Map(shapes.filter((s) => s.shorthand).map((s) => [s.shorthand!, s]));
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  const errors: ConfigError[] = [];
  const add = (name: string, value: string): void => {
    const list = flags.get(name);
    if (list) list.push(value);
    else flags.set(name, [value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = normalize(eq < 0 ? arg.slice(2) : arg.slice(2, eq));
      const shape = byName.get(name);
      if (!shape) {
        errors.push({ field: `--${name}`, message: `unknown flag: --${name}` });
        continue;
      }
      if (eq >= 0) add(name, arg.slice(eq + 1));
      else if (shape.bool) add(name, 'true');
      else if (i + 1 < argv.length) add(name, argv[++i]!);
      else errors.push({ field: `--${name}`, message: `flag needs an argument: --${name}` });
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      const c = arg[1]!;
      const shape = byShort.get(c);
      if (!shape) {
        errors.push({ field: `-${c}`, message: `unknown shorthand flag: '${c}' in ${arg}` });
        continue;
      }
      if (arg[2] === '=') add(shape.name, arg.slice(3));
      else if (arg.length > 2 && !shape.bool) add(shape.name, arg.slice(2));
      else if (arg.length > 2) errors.push({ field: `-${c}`, message: `unknown shorthand flag: '${arg[2]!}' in ${arg}` });
      else if (shape.bool) add(shape.name, 'true');
      else if (i + 1 < argv.length) add(shape.name, argv[++i]!);
      else errors.push({ field: `-${c}`, message: `flag needs an argument: '${c}' in -${c}` });
      continue;
    }
    positional.push(arg);
  }
  return { flags, positional, errors };
}

/** Go's strconv.ParseBool; null when `s` is not a boolean. */
export function parseBool(s: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return null;
}

/** Go's strconv.ParseInt(s, 0, 32) for the forms people write; null when invalid or out of int32 range. */
export function parseInt32(s: string): number | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)$/.exec(s.trim());
  if (!m) return null;
  const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  return Number.isSafeInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 ? n : null;
}

/** pflag's StringSlice: comma-separated, first use replaces the default, later uses append. */
export function stringSlice(values: readonly string[]): string[] {
  return values.flatMap((v) => (v === '' ? [] : v.split(',').map((s) => s.trim())));
}
