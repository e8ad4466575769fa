// Go time.Duration text ("30s", "1m30s", "500ms", "1h0m0s", "0"), as
// metav1.Duration fields of KubeProxyConfiguration are written.

const units: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/**
 * Parses a Go duration into milliseconds. Returns null for malformed text
 * (Go's rules: a sequence of decimal numbers each with a unit, optional sign,
 * "0" alone allowed); never throws.
 */
export function parseDuration(text: string): number | null {
  if (typeof text !== 'string') return null;
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return null;
  const re = /([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m || m[1] === '' || m[1] === '.') return null;
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  return sign * total;
}
