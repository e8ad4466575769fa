// SPDX-License-Identifier: Apache-2.0
import { KernelError } from '../netlink/errors.ts';
import { type SysctlClient, checkSysctlPath } from './sysctl.ts';

/** One write the fake accepted. */
export interface FakeSysctlWrite {
  readonly path: string;
  readonly value: string;
}

/**
 * In-memory /proc/sys with the kernel's rules: only existing settings can be
 * read or written (ENOENT otherwise), an integer setting refuses a non-integer
 * value (EINVAL, as proc_dointvec does), malformed paths are EINVAL. Every
 * accepted write is logged in `writes`.
 */
export class FakeSysctl implements SysctlClient {
  private readonly values: Map<string, string>;
  private readonly log: FakeSysctlWrite[] = [];
  /** When set, every call rejects with this error (e.g. EROFS for a read-only /proc/sys). */
  failWith: KernelError | null = null;

  /** `initial`: the settings that exist, with their values. */
  constructor(initial: Readonly<Record<string, string>> = {}) {
    this.values = new Map(Object.entries(initial));
  }

  /** Every accepted write so far. */
  get writes(): readonly FakeSysctlWrite[] {
    return this.log;
  }

  /** Changes a value as someone else would (drift); no write is logged. */
  tamper(path: string, value: string): void {
    this.values.set(path, value);
  }

  read(path: string): Promise<string> {
    return this.guard(() => {
      checkSysctlPath(path, 'read sysctl');
      const v = this.values.get(path);
      if (v === undefined) throw new KernelError('ENOENT', 'read sysctl', path);
      return v;
    });
  }

  write(path: string, value: string): Promise<void> {
    return this.guard(() => {
      checkSysctlPath(path, 'write sysctl');
      const current = this.values.get(path);
      if (current === undefined) throw new KernelError('ENOENT', 'write sysctl', path);
      const integer = /^-?\d+$/;
      if (integer.test(current) && !integer.test(value.trim())) throw new KernelError('EINVAL', 'write sysctl', path, 'not an integer');
      this.values.set(path, value.trim());
      this.log.push({ path, value: value.trim() });
    });
  }

  private guard<T>(fn: () => T): Promise<T> {
    if (this.failWith) return Promise.reject(this.failWith);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
