// SPDX-License-Identifier: Apache-2.0
// ipset failures as KernelErrors with the errno of their kernel meaning, and
// the translation of the ipset tool's messages (it prints text, not errnos).
// The messages below are the ones ipset 7.17 printed in the sandbox.

import { KernelError } from '../netlink/errors.ts';

/**
 * An ipset command failed. `code` is the errno by kernel meaning: `EEXIST` (a
 * set exists with other parameters, or an element exists without `-exist`),
 * `ENOENT` (no such set, or no such element without `-exist`), `EINVAL` (bad
 * syntax, element of the wrong family, unknown type or option), `EBUSY` (set
 * in use by a kernel component such as an iptables rule), `ERANGE` (element
 * outside a bitmap set's range), `ENOSPC` (set full: maxelem reached),
 * `EPERM`, `EAFNOSUPPORT` (no ipset in the kernel or no ipset tool),
 * `ETIMEDOUT`, or `EIO` for anything unrecognised. `line` is the 1-based line
 * of the restore input that failed and `lineText` that line, both null when
 * the tool did not say (it omits the line for bad ports and unknown words).
 */
export class IpsetError extends KernelError {
  readonly line: number | null;
  readonly lineText: string | null;
  /** The tool's message without its `ipset vX.Y:` and `Error in line N:` prefixes. */
  readonly reason: string;
  constructor(code: string, op: string, object: string, reason: string, line: number | null = null, lineText: string | null = null) {
    super(code, op, object, `${reason}${line === null ? '' : ` at line ${line}: ${lineText ?? ''}`}`);
    this.name = 'IpsetError';
    this.reason = reason;
    this.line = line;
    this.lineText = lineText;
  }
}

/** Message fragments → errno, first match wins. */
const codeByMessage: readonly (readonly [RegExp, string])[] = [
  [/it's already added|set with the same name already exists/i, 'EEXIST'],
  [/it's not added|set with the given name does not exist/i, 'ENOENT'],
  [/in use by a kernel component/i, 'EBUSY'],
  [/out of the range of the set/i, 'ERANGE'],
  [/hash is full/i, 'ENOSPC'],
  [/operation not permitted|must be root|permission denied/i, 'EPERM'],
  [/cannot open session to kernel|kernel support protocol|protocol not supported|address family not supported/i, 'EAFNOSUPPORT'],
  [/syntax error|unknown argument|no command specified|is missing|invalid|cannot parse|cannot be used|unknown|out of range|not supported/i, 'EINVAL'],
];

/** The errno for an ipset tool message ('EIO' when unrecognised). */
export function codeForMessage(message: string): string {
  for (const [re, code] of codeByMessage) if (re.test(message)) return code;
  return 'EIO';
}

/** The set a restore line names (its second word), or ''. */
export function setOfLine(line: string | null): string {
  return line?.trim().split(/\s+/)[1] ?? '';
}

/**
 * Builds the error of a failed `ipset restore` from its stderr and the lines
 * that were sent. Reads `Error in line N:` when present; never throws.
 */
export function restoreError(stderr: string, lines: readonly string[]): IpsetError {
  const text = stderr.trim();
  const m = /Error in line (\d+): (.*)/.exec(text);
  const first = text.split('\n')[0] ?? '';
  const reason = (m ? m[2]! : first.replace(/^ipset v[0-9.]+: /, '')).trim() || 'ipset restore failed';
  const line = m ? Number(m[1]) : null;
  const lineText = line === null ? null : (lines[line - 1] ?? null);
  return new IpsetError(codeForMessage(text), 'ipset restore', setOfLine(lineText), reason, line, lineText);
}

/**
 * A set we own exists with another type, family or options than we would
 * create (code EEXIST, as `ipset create -exist` would say; except that the
 * kernel accepts some family changes silently, which is why we compare
 * ourselves). Found by the diff; the set is left alone and not synced.
 */
export class SetConflictError extends KernelError {
  /** What differs: `type`, `family` or a header option's name (`maxelem`, `range`, `timeout`, ...). */
  readonly field: string;
  readonly want: string;
  readonly have: string;
  constructor(set: string, field: string, want: string, have: string) {
    super('EEXIST', 'ipset diff', set, `exists with ${field} ${have || '(none)'}, want ${want || '(none)'}`);
    this.name = 'SetConflictError';
    this.field = field;
    this.want = want;
    this.have = have;
  }
}

/** A desired entry that is not a valid element of its set (code EINVAL); it is skipped, never written. */
export class InvalidEntryError extends KernelError {
  readonly entry: string;
  constructor(set: string, entry: string, reason: string) {
    super('EINVAL', 'ipset diff', set, `${entry}: ${reason}`);
    this.name = 'InvalidEntryError';
    this.entry = entry;
  }
}
