// SPDX-License-Identifier: Apache-2.0
// One contract for every SysctlClient: FakeSysctl on the host, ProcSysctl on
// the sandbox kernel's /proc/sys. Writes only `writable`, and puts it back.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SysctlClient } from '../../src/netif/sysctl.ts';
import { codeOf } from './kernel-code.ts';

export interface SysctlContractTarget {
  /** A client where `net/ipv4/vs/expire_nodest_conn` (0 or 1) exists and may be written. */
  fresh(): Promise<SysctlClient>;
}

/** The one setting the suite writes: harmless while the test runs, restored after. */
export const writable = 'net/ipv4/vs/expire_nodest_conn';

export function describeSysctlContract(name: string, target: SysctlContractTarget): void {
  describe(`SysctlClient contract: ${name}`, () => {
    let c: SysctlClient;
    let original: string;
    beforeEach(async () => {
      c = await target.fresh();
      original = await c.read(writable);
    });
    afterEach(async () => {
      await c.write(writable, original);
    });

    it('reads a setting as the kernel prints it, without the newline', async () => {
      expect(await c.read('kernel/osrelease')).toMatch(/^\d+\.\d+\.\d+\S*$/);
      expect(['0', '1']).toContain(original);
    });

    it('writes a value and reads it back', async () => {
      const other = original === '1' ? '0' : '1';
      await c.write(writable, other);
      expect(await c.read(writable)).toBe(other);
    });

    it('answers ENOENT for a setting the kernel does not have, and creates nothing', async () => {
      const missing = 'net/ipv4/vs/no_such_setting';
      expect(await codeOf(c.read(missing))).toBe('ENOENT');
      expect(await codeOf(c.write(missing, '1'))).toBe('ENOENT');
      expect(await codeOf(c.read(missing))).toBe('ENOENT');
    });

    it('answers EINVAL to a non-integer for an integer setting, keeping the value', async () => {
      expect(await codeOf(c.write(writable, 'yes'))).toBe('EINVAL');
      expect(await c.read(writable)).toBe(original);
    });

    it.each([
      { name: 'absolute', path: '/net/ipv4/ip_forward' },
      { name: 'parent segment', path: 'net/../../etc/hostname' },
      { name: 'empty segment', path: 'net//ipv4/ip_forward' },
      { name: 'empty', path: '' },
    ])('answers EINVAL to a malformed path ($name) without touching a file', async ({ path }) => {
      expect(await codeOf(c.read(path))).toBe('EINVAL');
      expect(await codeOf(c.write(path, '1'))).toBe('EINVAL');
    });
  });
}
