import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compareStrings } from '../model/compare.ts';
import { type Manifests, emptyManifests, parseManifests } from '../model/manifests.ts';
import type { Warning } from '../model/types.ts';

const manifestExtensions = ['.yaml', '.yml', '.json'];

/** Files under `path` in sorted order: the file itself, or manifests in a directory tree. Throws fs errors. */
export function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => compareStrings(a.name, b.name))
    .flatMap((e) => {
      const p = join(path, e.name);
      if (e.isDirectory()) return manifestFiles(p);
      return manifestExtensions.some((x) => e.name.endsWith(x)) ? [p] : [];
    });
}

/**
 * Reads Services, EndpointSlices and Nodes from files and directories
 * (multi-document YAML, JSON, List kinds). Problems inside objects become
 * warnings; throws `Error` naming the path when a file cannot be read.
 */
export function loadManifests(paths: readonly string[]): { manifests: Manifests; warnings: Warning[] } {
  const manifests = emptyManifests();
  const warnings: Warning[] = [];
  for (const path of paths) {
    try {
      for (const file of manifestFiles(path)) parseManifests(readFileSync(file, 'utf8'), file, manifests, warnings);
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return { manifests, warnings };
}
