// SPDX-License-Identifier: Apache-2.0
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelError } from '../netlink/errors.ts';
import { ProcSysctl, sameSysctlValue } from './sysctl.ts';

// ProcSysctl on a directory shaped like /proc/sys (the real one is tested in
// the sandbox by test/contract/netif-sysctl.kernel.test.ts).
describe('ProcSysctl on a stand-in directory', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ipvs-proxy-sysctl-'));
    await mkdir(join(root, 'net/ipv4'), { recursive: true });
    await writeFile(join(root, 'net/ipv4/ip_forward'), '0\n');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads without the newline and writes with one', async () => {
    const s = new ProcSysctl(root);
    expect(await s.read('net/ipv4/ip_forward')).toBe('0');
    await s.write('net/ipv4/ip_forward', '1');
    expect(await readFile(join(root, 'net/ipv4/ip_forward'), 'utf8')).toBe('1\n');
  });

  it('never creates a setting: writing a missing one is ENOENT', async () => {
    const s = new ProcSysctl(root);
    await expect(s.write('net/ipv4/vs/conntrack', '1')).rejects.toBeInstanceOf(KernelError);
    await expect(s.write('net/ipv4/vs/conntrack', '1')).rejects.toMatchObject({ code: 'ENOENT', op: 'write sysctl' });
    await expect(stat(join(root, 'net/ipv4/vs/conntrack'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('sameSysctlValue', () => {
  it.each([
    { name: 'equal', a: '1', b: '1', same: true },
    { name: 'newline', a: '1\n', b: '1', same: true },
    { name: 'tabs vs spaces', a: '32768\t60999', b: '32768 60999', same: true },
    { name: 'different', a: '0', b: '1', same: false },
  ])('$name', ({ a, b, same }) => {
    expect(sameSysctlValue(a, b)).toBe(same);
  });
});
