// SPDX-License-Identifier: Apache-2.0
// The packaging shell scripts are shellcheck-clean (Debian package shellcheck:
// scripts/install.sh does not install it; apt-get install shellcheck).
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './render.ts';

const scripts = [
  { name: 'e2e/kind/run.sh', path: 'e2e/kind/run.sh' },
  { name: 'scripts/image.sh', path: 'scripts/image.sh' },
];

function shellcheck(path: string): { status: number; output: string } {
  try {
    return { status: 0, output: execFileSync('shellcheck', ['--shell=sh', '--severity=style', join(repoRoot, path)], { encoding: 'utf8', timeout: 60_000 }) };
  } catch (err) {
    const e = err as { code?: string; status?: number; stdout?: string };
    if (e.code === 'ENOENT') throw new Error('shellcheck is not installed: apt-get install shellcheck', { cause: err });
    return { status: e.status ?? -1, output: e.stdout ?? '' };
  }
}

describe('shellcheck', () => {
  it.each(scripts)('$name has no findings', ({ path }) => {
    expect(shellcheck(path)).toEqual({ status: 0, output: '' });
  }, 60_000);
});
