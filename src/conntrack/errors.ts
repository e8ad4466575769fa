import { KernelError } from '../netlink/errors.ts';
import type { Flow } from './types.ts';

/**
 * A conntrack dump ended early with EINTR (the table changed while it was read,
 * NLM_F_DUMP_INTR). `flows` holds what was read; kube-proxy cleans with such a
 * partial list rather than not at all, and so do we.
 */
export class PartialListError extends KernelError {
  readonly flows: readonly Flow[];
  constructor(op: string, object: string, flows: readonly Flow[], detail = '') {
    super('EINTR', op, object, detail);
    this.name = 'PartialListError';
    this.flows = flows;
  }
}

/** A delete failed after `deleted` flows were already gone; `code` says why it stopped. */
export class PartialDeleteError extends KernelError {
  readonly deleted: number;
  constructor(code: string, op: string, object: string, deleted: number, detail = '') {
    super(code, op, object, detail);
    this.name = 'PartialDeleteError';
    this.deleted = deleted;
  }
}
