// SPDX-License-Identifier: Apache-2.0
import type { ObservedSet } from './types.ts';

/** Options of one restore. */
export interface RestoreOptions {
  /**
   * Run with `-exist` (default true, and what the applier always uses): creating
   * a set that exists with compatible parameters, adding an element that is
   * present, deleting one that is absent and destroying a missing set are not
   * errors. This makes every batch idempotent, so a batch can be re-sent after a
   * failure and a stale cache cannot abort it. kube-proxy passes `-exist` to
   * `create` and `add`, and runs each `del` in its own process.
   */
  readonly exist?: boolean;
}

/**
 * The kernel's ipsets, with the ipset tool's verbs. Every method rejects with
 * an `IpsetError` (a `KernelError`, see errors.ts for the codes).
 */
export interface IpsetClient {
  /** Every set on the host (`ipset save`): type, family, header options and entries, sorted by name. */
  list(): Promise<ObservedSet[]>;

  /**
   * Runs the lines (`create`, `add`, `del`, `flush`, `destroy`) as one `ipset
   * restore`. Resolves when every line was applied; an empty list starts no
   * process. NOT atomic: on failure it rejects with the failing line, the lines
   * before it stay applied, and the lines after it are not run, except that a
   * line the ipset tool itself refuses (bad syntax, a set that does not exist)
   * also drops the consecutive add or del lines to one set just before it, which
   * the tool was holding to send in one message (about 150 IPv4 entries at most).
   * After a failure, the caller must re-read the kernel (run a full sync).
   */
  restore(lines: readonly string[], options?: RestoreOptions): Promise<void>;

  /**
   * Destroys one set. Rejects with `ENOENT` if it does not exist and `EBUSY`
   * while a kernel component (an iptables rule) references it.
   */
  destroy(name: string): Promise<void>;
}
