// SPDX-License-Identifier: Apache-2.0
// Kernel settings under /proc/sys: a two-verb client (read, write) and the
// real one. Paths use slashes, as kube-proxy writes them
// (`net/ipv4/vs/conntrack`); values are the text the kernel prints, without
// the trailing newline.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KernelError } from '../netlink/errors.ts';

/**
 * Reads and writes kernel settings. Every method rejects with `KernelError`:
 * `ENOENT` when the kernel has no such setting (its module is not loaded:
 * `net/ipv4/vs/*` needs ip_vs, `net/bridge/*` needs br_netfilter), `EINVAL` for
 * a value the kernel refuses or a malformed path, `EACCES`/`EROFS`/`EPERM` when
 * /proc/sys is read-only to us (an unprivileged container).
 */
export interface SysctlClient {
  /** The current value, trimmed (`"1"`, `"32768\t60999"`). */
  read(path: string): Promise<string>;
  /** Writes a value; the setting must exist. */
  write(path: string, value: string): Promise<void>;
}

/** Throws KernelError EINVAL unless `path` is relative slash-separated segments without `.` or `..`. */
export function checkSysctlPath(path: string, op: string): void {
  const segments = path.split('/');
  const bad = path === '' || segments.some((s) => s === '' || s === '.' || s === '..' || /[\s\0]/.test(s));
  if (bad) throw new KernelError('EINVAL', op, path, 'not a sysctl path');
}

/** Same value as the kernel prints it? Whitespace runs compare equal (multi-value settings print tabs). */
export function sameSysctlValue(a: string, b: string): boolean {
  return a.trim().split(/\s+/).join(' ') === b.trim().split(/\s+/).join(' ');
}

function kernelError(err: unknown, op: string, path: string): KernelError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new KernelError(code, op, path, (err as Error).message);
}

/** The real sysctl client: files under /proc/sys (or another root, for tests). */
export class ProcSysctl implements SysctlClient {
  private readonly root: string;

  /** `root` defaults to /proc/sys. */
  constructor(root = '/proc/sys') {
    this.root = root;
  }

  async read(path: string): Promise<string> {
    checkSysctlPath(path, 'read sysctl');
    try {
      return (await readFile(join(this.root, path), 'utf8')).trim();
    } catch (err) {
      throw kernelError(err, 'read sysctl', path);
    }
  }

  async write(path: string, value: string): Promise<void> {
    checkSysctlPath(path, 'write sysctl');
    try {
      // Flag 'r+': never create a file; a missing setting is ENOENT, as in /proc/sys.
      await writeFile(join(this.root, path), `${value}\n`, { flag: 'r+' });
    } catch (err) {
      throw kernelError(err, 'write sysctl', path);
    }
  }
}
