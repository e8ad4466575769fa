// Helpers that keep the model small at 10,000s of Services: one shared copy of
// repeated strings, flat strings instead of concatenation trees, and shared
// empty lists. Pure in effect: nothing here changes a value, only how (and how
// many times) it is stored, so no caller can observe the shared state.

/**
 * A property bag kept in V8's dictionary mode (one add and delete put it
 * there), so adding ever-new keys to it never creates hidden classes.
 */
const scratch: Record<string, number> = Object.create(null) as Record<string, number>;
scratch.x = 0;
delete scratch.x;

/**
 * The same string as the engine's one shared, flat copy. Never throws. Costs
 * about 1 µs for a string the engine has not seen, so use it for the few
 * strings an object keeps (keys, ids), not per endpoint.
 *
 * Why: strings built by concatenation (template literals, `a + b`) are trees of
 * parts in V8 (a key like `default/web:http/TCP` kept as built costs ~130 bytes
 * instead of ~40), and two holders of equal keys (a Service and its slice) each
 * keep their own copy. Using a string as a property key makes V8 internalize
 * it: flatten it and look it up in the engine's string table, so equal strings
 * share one copy. The table holds its entries weakly (a string nobody references
 * is dropped at the next full GC), so this needs no bound.
 */
export function intern(s: string): string {
  scratch[s] = 0;
  // The key the object now holds is the internalized copy (for an array-index
  // string like "80" V8 keeps a number and returns a fresh flat string: equal too).
  const internalized = Object.keys(scratch)[0] ?? s;
  delete scratch[internalized];
  return internalized;
}

/** Bound of the name pool: more distinct names than this start it afresh. */
export const namePoolLimit = 16384;

const pool = new Map<string, string>();

/**
 * The first-seen copy of a short, often repeated string (node and zone names):
 * each JSON-parsed endpoint brings its own copy of names over 10 characters.
 * Never throws. The pool is bounded (`namePoolLimit`), and cleared when full,
 * which only costs sharing, never correctness. Cheaper than `intern` (a Map
 * lookup), so it is the one to use per endpoint.
 */
export function sharedName(s: string): string {
  const held = pool.get(s);
  if (held !== undefined) return held;
  if (pool.size >= namePoolLimit) pool.clear();
  pool.set(s, s);
  return s;
}

/** Number of names the pool holds now (for tests of its bound). */
export function namePoolSize(): number {
  return pool.size;
}

/** One frozen empty list shared by every model object that has none (instead of one `[]` each). */
export const emptyList: readonly never[] = Object.freeze([]);

/** `values`, or the shared empty list when it is empty. */
export function compactList<T>(values: readonly T[]): readonly T[] {
  return values.length === 0 ? emptyList : values;
}
