// Whether the compiled JavaScript in dist/ (npm run build; npm ci runs it) matches the sources:
// worker cores start far faster from compiled code than through tsx, but stale code must never
// run, so dist/ is used only while no file under src/ is newer than dist/.stamp.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(PROJECT_ROOT, 'src');
const STAMP = join(PROJECT_ROOT, 'dist', '.stamp');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let cached: boolean | undefined;

/** True when dist/ was built after every change under src/ (checked once per process). */
export function distIsFresh(): boolean {
  if (cached !== undefined) return cached;
  try {
    cached = statSync(STAMP).mtimeMs >= newestMtime(SRC);
  } catch {
    cached = false;
  }
  return cached;
}

/** The compiled counterpart of a file under src/ (e.g. 'soc/core-worker.js'). */
export function distUrl(relative: string): URL {
  return new URL(`../../dist/${relative}`, import.meta.url);
}
