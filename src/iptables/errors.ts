import { KernelError } from '../netlink/errors.ts';

/**
 * An iptables command failed. `code` is the kernel meaning (see `IptablesClient`);
 * `line` is the 1-based line of the restore input that failed (null for single
 * commands, or when the tool did not say); `stderr` is what the tool printed
 * (empty from the fake).
 */
export class IptablesError extends KernelError {
  readonly line: number | null;
  readonly stderr: string;
  constructor(code: string, op: string, object: string, detail: string, line: number | null = null, stderr = '') {
    super(code, op, object, line === null ? detail : `${detail ? `${detail}, ` : ''}line ${line}`);
    this.name = 'IptablesError';
    this.line = line;
    this.stderr = stderr;
  }
}
