// What the iptables binary checks in a rule before the kernel sees it, as far
// as the fake models it: known options and their arity, known match and target
// extensions, address family of -s/-d, and that --match-set names an existing
// set and -j/-g names a target or an existing chain. Pure.

import { parseCidr, parseIp } from '../model/ip.ts';
import type { IpFamily } from './types.ts';

/** Options the fake understands, with how many words each takes. Anything else is "unknown option" (EINVAL). */
const optionArity: ReadonlyMap<string, number> = new Map([
  ...['-p', '--protocol', '-s', '--source', '-d', '--destination', '-i', '--in-interface', '-o', '--out-interface',
    '-m', '--match', '-j', '--jump', '-g', '--goto', '--comment', '--mark', '--ctstate', '--state', '--dst-type',
    '--src-type', '--set-xmark', '--set-mark', '--or-mark', '--xor-mark', '--and-mark', '--to-ports', '--to-destination',
    '--to-source', '--reject-with', '--dport', '--sport', '--dports', '--sports', '--destination-port', '--source-port',
    '--vaddr', '--vproto', '--vport', '--vdir', '--vmethod', '--mode', '--probability', '--every', '--packet',
    '--log-prefix', '--limit', '--limit-burst'].map((o) => [o, 1] as const),
  ...['--physdev-is-in', '--physdev-is-out', '--physdev-is-bridged', '--random-fully', '--random', '--ipvs', '--syn',
    '--persistent'].map((o) => [o, 0] as const),
  ['--match-set', 2],
]);

/** Match extensions the fake knows (an unknown `-m` is ENOENT: "Couldn't load match"). */
const matches = new Set([
  'comment', 'set', 'mark', 'conntrack', 'state', 'addrtype', 'physdev', 'ipvs', 'tcp', 'udp', 'sctp', 'multiport',
  'statistic', 'limit', 'owner', 'iprange', 'connmark', 'recent',
]);

/** Target extensions the fake knows; any other `-j` name must be a chain of the table. */
const targets = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'MASQUERADE', 'MARK', 'SNAT', 'DNAT', 'LOG', 'QUEUE', 'NFQUEUE', 'CONNMARK',
  'REDIRECT', 'NOTRACK', 'CT', 'TPROXY',
]);

/** A refusal with the kernel meaning of what the tool would say. */
export interface RuleProblem {
  readonly code: 'EINVAL' | 'ENOENT';
  readonly detail: string;
}

/** What a rule needs from its surroundings. */
export interface RuleContext {
  readonly family: IpFamily;
  /** Whether a user chain of this table exists (targets of -j/-g). */
  readonly chainExists: (name: string) => boolean;
  /** Whether an ipset exists (for --match-set). */
  readonly setExists: (name: string) => boolean;
}

function addressOk(value: string, family: IpFamily): boolean {
  // iptables accepts comma lists and host or network forms.
  return value.split(',').every((v) => {
    const parsed = v.includes('/') ? parseCidr(v) : parseIp(v);
    return parsed !== null && parsed.family === family;
  });
}

/**
 * Checks a rule specification (the words after `-A CHAIN`). Returns null when
 * iptables would accept it, else the problem: EINVAL for syntax (unknown
 * option, stray word, missing value, wrong address family), ENOENT for a
 * missing match/target extension, chain or set. Never throws.
 */
export function checkRuleSpec(words: readonly string[], ctx: RuleContext): RuleProblem | null {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '!') continue;
    const arity = optionArity.get(w);
    if (arity === undefined) {
      return { code: 'EINVAL', detail: w.startsWith('-') ? `unknown option "${w}"` : `Bad argument \`${w}'` };
    }
    const values = words.slice(i + 1, i + 1 + arity);
    if (values.length < arity) return { code: 'EINVAL', detail: `option "${w}" requires an argument` };
    i += arity;
    const v = values[0] ?? '';
    switch (w) {
      case '-s': case '--source': case '-d': case '--destination':
        if (!addressOk(v, ctx.family)) return { code: 'EINVAL', detail: `host/network \`${v}' not found` };
        break;
      case '-m': case '--match':
        if (!matches.has(v)) return { code: 'ENOENT', detail: `Couldn't load match \`${v}'` };
        break;
      case '-j': case '--jump': case '-g': case '--goto':
        if (!targets.has(v) && !ctx.chainExists(v)) return { code: 'ENOENT', detail: `Couldn't load target \`${v}'` };
        break;
      case '--match-set':
        if (!ctx.setExists(v)) return { code: 'ENOENT', detail: `Set ${v} doesn't exist.` };
        break;
    }
  }
  return null;
}

/** The chain a rule jumps or goes to, if it is not a target extension. */
export function jumpTarget(words: readonly string[]): string | null {
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i];
    if (w === '-j' || w === '--jump' || w === '-g' || w === '--goto') {
      const t = words[i + 1]!;
      return targets.has(t) ? null : t;
    }
  }
  return null;
}

/** The sets a rule matches with --match-set. */
export function matchedSets(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length - 1; i++) if (words[i] === '--match-set') out.push(words[i + 1]!);
  return out;
}
