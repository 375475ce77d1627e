// The package's version for `rproc --version` and the first JSON event, read from package.json,
// which sits two levels above this file both in a checkout (src/cli/) and installed (dist/cli/).

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
    cached = typeof v === 'string' ? v : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
