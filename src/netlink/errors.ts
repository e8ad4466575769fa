import { constants } from 'node:os';

// Errors typed by kernel meaning. Every kernel-facing client throws these, and
// every fake throws exactly the same codes, so callers branch on `code`.

/** errno names by number, from Node's table for this platform. */
const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, num]) => [num, name]),
);

/** The errno name for a (positive) errno number, e.g. 17 → "EEXIST". */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `ERRNO_${Math.abs(errno)}`;
}

/** The errno number for a name, e.g. "EEXIST" → 17 (0 if unknown). */
export function errnoNumber(code: string): number {
  return (constants.errno as Record<string, number>)[code] ?? 0;
}

/**
 * A kernel operation failed. `code` is the errno name the kernel returned
 * (`EEXIST`, `ESRCH`, `ENOENT`, `EINVAL`, `EPERM`, …), `ETIMEDOUT` when no answer
 * came in time, or `EAFNOSUPPORT` when the kernel lacks the subsystem (IPVS not
 * loaded). `op` names the operation, `object` the thing it was applied to.
 */
export class KernelError extends Error {
  readonly code: string;
  readonly op: string;
  readonly object: string;
  constructor(code: string, op: string, object = '', detail = '') {
    super(`${op}${object ? ` ${object}` : ''}: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'KernelError';
    this.code = code;
    this.op = op;
    this.object = object;
  }
}

/** True for "the object does not exist" in any of the kernel's spellings. */
export function isNotFound(err: unknown): boolean {
  return err instanceof KernelError && (err.code === 'ENOENT' || err.code === 'ESRCH');
}

/** True for "the object already exists". */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KernelError && err.code === 'EEXIST';
}

/**
 * How every fake kernel client answers a call: rejects with `failWith` when set
 * (to test failure handling), otherwise with what `fn` throws, else resolves to
 * its value.
 */
export function fakeCall<T>(failWith: Error | null, fn: () => T): Promise<T> {
  if (failWith) return Promise.reject(failWith);
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * A batch as the kernel handles one: every op is tried in order, a refusal
 * (KernelError) is that op's result and does not stop the others.
 */
export function applyEach<O>(ops: readonly O[], write: (op: O) => void): { op: O; error: KernelError | null }[] {
  return ops.map((op) => {
    try {
      write(op);
      return { op, error: null };
    } catch (err) {
      if (err instanceof KernelError) return { op, error: err };
      throw err;
    }
  });
}
