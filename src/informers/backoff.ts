// Retry delays for informers: 1 s doubling to a 30 s cap, back to 1 s after a
// success (the policy client-node 2.x uses for watch reconnects). Pure.

/** Exponential backoff state. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private current = 0;

  constructor(initialMs = 1000, maxMs = 30_000) {
    this.initialMs = initialMs;
    this.maxMs = Math.max(initialMs, maxMs);
  }

  /** The delay before the next retry; each call doubles the following one, up to the cap. */
  next(): number {
    this.current = this.current === 0 ? this.initialMs : Math.min(this.current * 2, this.maxMs);
    return this.current;
  }

  /** Forgets past failures: the next delay is the initial one again. */
  reset(): void {
    this.current = 0;
  }
}
