// SPDX-License-Identifier: Apache-2.0
// The real client's process handling, on the host, with stand-ins for the
// ipset tool (shell scripts). What the real tool does is in the kernel
// contract test (test/contract/ipset-restore.kernel.test.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestoreIpsetClient } from './restore-client.ts';

let dir = '';

async function stub(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

async function codeOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    const e = err as { code?: string; line?: number | null };
    return { code: e.code, line: e.line };
  }
}

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ipset-stub-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('RestoreIpsetClient', () => {
  it('sends the lines to `ipset restore -exist` on stdin, newline-terminated', async () => {
    const out = join(dir, 'args');
    const c = new RestoreIpsetClient({ command: await stub('record', `echo "$@" > ${out}.argv; cat > ${out}.stdin`) });
    await c.restore(['create A hash:ip family inet', 'add A 10.0.0.1']);
    expect(await readFile(`${out}.argv`, 'utf8')).toBe('restore -exist\n');
    expect(await readFile(`${out}.stdin`, 'utf8')).toBe('create A hash:ip family inet\nadd A 10.0.0.1\n');
  });

  it('starts no process for an empty restore', async () => {
    const c = new RestoreIpsetClient({ command: join(dir, 'does-not-exist') });
    await expect(c.restore([])).resolves.toBeUndefined();
  });

  it('reads `ipset save` output', async () => {
    const c = new RestoreIpsetClient({ command: await stub('save', "printf 'create B bitmap:port range 0-65535\\nadd B 30002\\nadd B 30001\\n'") });
    expect(await c.list()).toEqual([{ name: 'B', type: 'bitmap:port', family: null, options: { range: '0-65535' }, entries: ['30001', '30002'] }]);
  });

  it('turns the tool\'s message into the errno and the failing line', async () => {
    const c = new RestoreIpsetClient({ command: await stub('fail', "cat > /dev/null; echo \"ipset v7.17: Error in line 2: Element cannot be deleted from the set: it's not added\" >&2; exit 1") });
    expect(await codeOf(c.restore(['create A hash:ip', 'del A 10.0.0.1'], { exist: false }))).toEqual({ code: 'ENOENT', line: 2 });
  });

  it('reports a destroy of a set in use as EBUSY', async () => {
    const c = new RestoreIpsetClient({ command: await stub('busy', 'echo "ipset v7.17: Set cannot be destroyed: it is in use by a kernel component" >&2; exit 1') });
    expect(await codeOf(c.destroy('A'))).toEqual({ code: 'EBUSY', line: null });
  });

  it('reports a missing tool as EAFNOSUPPORT', async () => {
    const c = new RestoreIpsetClient({ command: join(dir, 'no-such-ipset') });
    expect(await codeOf(c.list())).toEqual({ code: 'EAFNOSUPPORT', line: null });
  });

  it('kills a tool that does not answer in time and reports ETIMEDOUT', async () => {
    const c = new RestoreIpsetClient({ command: await stub('slow', 'exec sleep 10'), timeoutMs: 200 });
    const started = Date.now();
    expect(await codeOf(c.restore(['add A 10.0.0.1']))).toEqual({ code: 'ETIMEDOUT', line: null });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
