// Reads the results written by scripts/test.sh and prints the final line
// `N passed, N failed` (unit and kernel tests, plus typecheck, lint and the
// container image as one check each). Exits 1 if anything failed or a phase produced no results.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  numTotalTests: number;
}

const dir = process.argv[2] ?? '.sandbox/results';
let passed = 0;
let failed = 0;
const lines: string[] = [];

for (const check of ['typecheck', 'lint', 'image']) {
  const file = join(dir, check);
  const ok = existsSync(file) && readFileSync(file, 'utf8').trim() === 'ok';
  if (ok) passed++; else failed++;
  lines.push(`${check}: ${ok ? 'ok' : 'FAILED'}`);
}

for (const phase of ['unit', 'kernel']) {
  const file = join(dir, `${phase}.json`);
  if (!existsSync(file)) {
    failed++;
    lines.push(`${phase} tests: DID NOT RUN (no results)`);
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8')) as JestJson;
  passed += r.numPassedTests;
  failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  const broken = r.numRuntimeErrorTestSuites ? `, ${r.numRuntimeErrorTestSuites} suites failed to run` : '';
  lines.push(`${phase} tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${broken}`);
  if (r.numTotalTests === 0) {
    failed++;
    lines.push(`${phase} tests: none ran`);
  }
}

process.stdout.write(`\n${lines.join('\n')}\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
