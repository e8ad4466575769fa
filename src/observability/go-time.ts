// Go's time.Time JSON form (RFC 3339 with nanoseconds, trailing zeros of the
// fraction dropped), which kube-proxy's /healthz and /livez bodies use.

/** The zero time.Time as Go marshals it (a family that never synced). */
export const goZeroTime = '0001-01-01T00:00:00Z';

/**
 * Formats a time in ms since the epoch as Go's json.Marshal does in UTC:
 * `2024-05-01T10:00:00Z`, `2024-05-01T10:00:00.25Z`; null gives the zero time.
 * Pure; never throws for finite input.
 */
export function formatGoTime(ms: number | null): string {
  if (ms === null) return goZeroTime;
  const iso = new Date(Math.floor(ms)).toISOString();
  const [base, frac = ''] = iso.slice(0, -1).split('.');
  const sub = `${frac}${String(Math.round((ms - Math.floor(ms)) * 1e6)).padStart(6, '0')}`.replace(/0+$/, '');
  return `${base}${sub ? `.${sub}` : ''}Z`;
}
