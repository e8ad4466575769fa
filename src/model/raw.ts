// Defensive readers for Kubernetes objects. Objects from the API server match
// their TypeScript types, but `plan` reads hand-written YAML, so conversion
// never trusts a field's type: these helpers return undefined instead.

/** The value as a plain object, or undefined. */
export function record(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The value as an array, or undefined. */
export function list(v: unknown): readonly unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/** The value as a string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The value as a boolean, or undefined. */
export function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

/** The value as an integer, or undefined (also for non-integral numbers). */
export function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/** A string-to-string map (labels, annotations); non-string values are dropped. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const r = record(v);
  if (!r) return out;
  for (const [k, val] of Object.entries(r)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Whether `v` is a valid port number (1-65535). */
export function isPort(v: number | undefined): v is number {
  return v !== undefined && v >= 1 && v <= 65535;
}

/** JSON text of a value for messages, shortened. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
