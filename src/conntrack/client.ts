import type { Family, Flow, FlowFilter, FlowProtocol } from './types.ts';

/**
 * The kernel's connection-tracking table, with its verbs: list the flows of a
 * family and protocol, delete the flows a filter selects. Every method rejects
 * with `KernelError` (src/netlink/errors.ts): `EPERM` without CAP_NET_ADMIN,
 * `EOPNOTSUPP` when conntrack (or the tool that reaches it) is unavailable,
 * `ETIMEDOUT` when the kernel does not answer in time, `EINVAL` for a request
 * the kernel or tool refuses, `EBADMSG` for an answer that cannot be read.
 * A list cut short by a table change mid-dump rejects with `PartialListError`
 * (`EINTR`), which carries the flows read so far; a delete that failed part
 * way rejects with `PartialDeleteError`, which carries the count deleted.
 */
export interface ConntrackClient {
  /** Every flow of `family` and `protocol`, in the kernel's order. */
  list(family: Family, protocol: FlowProtocol): Promise<Flow[]>;
  /**
   * Deletes every flow that at least one filter selects and resolves to how many
   * were deleted (a flow selected by several filters counts once). Selecting
   * nothing is not an error: it resolves to 0.
   */
  delete(filters: readonly FlowFilter[]): Promise<number>;
}
