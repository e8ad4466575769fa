// Network-programming latency starts at the time the EndpointSlice controller
// saw the change that triggered a slice update: the annotation
// `endpoints.kubernetes.io/last-change-trigger-time` (RFC 3339, often with
// nanoseconds). Pure.

/** The annotation the EndpointSlice controller sets. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

const rfc3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Milliseconds since the epoch of an RFC 3339 time, or null when it is not one. Sub-millisecond digits are dropped. */
export function parseRfc3339(text: string): number | null {
  const m = rfc3339.exec(text.trim());
  if (!m) return null;
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  const ms = Date.parse(`${m[1]!}${frac}${m[3]!.toUpperCase()}`);
  return Number.isNaN(ms) ? null : ms;
}

/** The trigger time of a slice (ms since the epoch), or null when absent or invalid. */
export function triggerTimeOf(slice: { metadata?: { annotations?: Record<string, string> | undefined } | undefined } | null): number | null {
  const v = slice?.metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME];
  return typeof v === 'string' ? parseRfc3339(v) : null;
}
