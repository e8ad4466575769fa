import { readFileSync } from 'node:fs';

/**
 * The package version from package.json (found next to src/ or dist/).
 * Fails with the fs error if package.json cannot be read.
 */
export function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
