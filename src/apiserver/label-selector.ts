// Label selectors as kube-apiserver parses them (apimachinery labels.Parse):
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`,
// comma = AND. Pure.

/** The operators of one requirement. */
export type LabelOperator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | '>' | '<';

/** One requirement of a label selector. */
export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOperator;
  readonly values: readonly string[];
}

/** A parsed label selector: every requirement must hold. Empty matches everything. */
export type LabelSelector = readonly LabelRequirement[];

/** Thrown for a selector kube-apiserver would reject (the server answers 400 with this message). */
export class SelectorError extends Error {
  readonly code = 'EINVALIDSELECTOR';
}

type Token = { kind: 'ident' | 'op' | 'end'; text: string };

const special = new Set([' ', '\t', '\n', ',', '(', ')', '=', '!', '<', '>']);

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n') { i += 1; continue; }
    const two = s.slice(i, i + 2);
    if (two === '==' || two === '!=') { out.push({ kind: 'op', text: two }); i += 2; continue; }
    if (special.has(c)) { out.push({ kind: 'op', text: c }); i += 1; continue; }
    let j = i;
    while (j < s.length && !special.has(s[j]!)) j += 1;
    out.push({ kind: 'ident', text: s.slice(i, j) });
    i = j;
  }
  out.push({ kind: 'end', text: '' });
  return out;
}

const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `key` is a valid label key (optional DNS-subdomain prefix, then a name of at most 63 characters). */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !dnsSubdomain.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && namePart.test(name);
}

/** Whether `v` is a valid label value (empty, or at most 63 name characters). */
export function isLabelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && namePart.test(v));
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) { this.tokens = tokens; }

  private peek(): Token { return this.tokens[this.pos]!; }
  private next(): Token { const t = this.tokens[this.pos]!; if (t.kind !== 'end') this.pos += 1; return t; }

  private fail(what: string): never {
    const t = this.peek();
    const found = t.kind === 'end' ? 'end of string' : `'${t.text}'`;
    throw new SelectorError(`unable to parse requirement: found ${found}, expected: ${what}`);
  }

  private key(): string {
    const t = this.next();
    if (t.kind !== 'ident') { this.pos -= t.kind === 'end' ? 0 : 1; this.fail('identifier'); }
    if (!isLabelKey(t.text)) throw new SelectorError(`unable to parse requirement: invalid label key "${t.text}"`);
    return t.text;
  }

  private value(): string {
    const t = this.peek();
    if (t.kind === 'ident') { this.next(); return t.text; }
    return ''; // `k=` selects the empty value, as apimachinery allows
  }

  private valueSet(): string[] {
    if (this.next().text !== '(') { this.pos -= 1; this.fail("'('"); }
    const values: string[] = [];
    for (let n = 0; n <= this.tokens.length; n += 1) {
      values.push(this.value());
      const t = this.next();
      if (t.kind === 'op' && t.text === ')') return values;
      if (!(t.kind === 'op' && t.text === ',')) { this.pos -= t.kind === 'end' ? 0 : 1; this.fail("',' or ')'"); }
    }
    return this.fail("')'");
  }

  private requirement(): LabelRequirement {
    const first = this.peek();
    if (first.kind === 'op' && first.text === '!') {
      this.next();
      return { key: this.key(), op: '!', values: [] };
    }
    const key = this.key();
    const t = this.peek();
    if (t.kind === 'end' || (t.kind === 'op' && t.text === ',')) return { key, op: 'exists', values: [] };
    this.next();
    if (t.kind === 'ident' && (t.text === 'in' || t.text === 'notin')) {
      const values = this.valueSet();
      return { key, op: t.text, values };
    }
    if (t.text === '=' || t.text === '==') return { key, op: '=', values: [this.value()] };
    if (t.text === '!=') return { key, op: '!=', values: [this.value()] };
    if (t.text === '>' || t.text === '<') {
      const v = this.value();
      if (!/^-?\d+$/.test(v)) throw new SelectorError(`unable to parse requirement: for '${t.text}' operator, the value must be an integer, got "${v}"`);
      return { key, op: t.text, values: [v] };
    }
    this.pos -= 1;
    return this.fail('=, ==, !=, in, notin, >, <');
  }

  parse(): LabelRequirement[] {
    const out: LabelRequirement[] = [];
    if (this.peek().kind === 'end') return out;
    for (let n = 0; n <= this.tokens.length; n += 1) {
      const req = this.requirement();
      for (const v of req.values) {
        if (!isLabelValue(v)) throw new SelectorError(`unable to parse requirement: invalid label value "${v}"`);
      }
      out.push(req);
      const t = this.next();
      if (t.kind === 'end') return out;
      if (!(t.kind === 'op' && t.text === ',')) { this.pos -= 1; this.fail("','"); }
    }
    return out;
  }
}

/**
 * Parses a label selector string. Throws SelectorError (the server answers 400)
 * for malformed selectors, invalid keys or values, and non-integer `>`/`<` values.
 */
export function parseLabelSelector(text: string): LabelSelector {
  return new Parser(tokenize(text)).parse();
}

/** Whether `labels` satisfy one requirement. `!=` and `notin` also match objects without the key. */
export function matchesRequirement(req: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const v = has ? labels[req.key]! : undefined;
  switch (req.op) {
    case 'exists': return has;
    case '!': return !has;
    case '=': case 'in': return v !== undefined && req.values.includes(v);
    case '!=': case 'notin': return v === undefined || !req.values.includes(v);
    case '>': case '<': {
      if (v === undefined || !/^-?\d+$/.test(v)) return false;
      const a = Number(v);
      const b = Number(req.values[0]);
      return req.op === '>' ? a > b : a < b;
    }
  }
}

/** Whether `labels` satisfy every requirement of `selector`. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => matchesRequirement(r, labels));
}
