import { parseArgs } from 'node:util';

/**
 * Splits ipvs-proxy's own options (string-valued, or boolean where `booleans`
 * names them) from the rest of a command line, which goes on unchanged to
 * kube-proxy's flag parser. Never throws for the rest; kube-proxy's parser
 * reports its own errors.
 */
export function splitOwnOptions(args: readonly string[], strings: readonly string[], booleans: readonly string[] = [], shorts: Readonly<Record<string, string>> = {}): {
  values: Record<string, string | string[] | boolean | undefined>;
  rest: string[];
} {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const s of strings) options[s] = { type: 'string', multiple: true, ...(shorts[s] ? { short: shorts[s] } : {}) };
  for (const b of booleans) options[b] = { type: 'boolean' };
  const { values, tokens } = parseArgs({ args: [...args], options, strict: false, tokens: true });
  const own = new Set([...strings, ...booleans, ...Object.values(shorts)]);
  const rest: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option' && own.has(t.name)) continue;
    if (t.kind === 'option') rest.push(t.rawName + (t.inlineValue && t.value !== undefined ? `=${String(t.value)}` : ''), ...(!t.inlineValue && typeof t.value === 'string' ? [t.value] : []));
    else if (t.kind === 'positional') rest.push(t.value);
  }
  return { values, rest };
}

/** The last value given for a repeatable string option. */
export function lastValue(v: string | string[] | boolean | undefined): string | undefined {
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === 'string' ? v : undefined;
}
