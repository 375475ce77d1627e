// Temporary folders the CLI makes (the demo's coredump folder): every one is removed when the
// command ends, and any still there when the process exits — by a second signal, the last-resort
// error handler or a plain return — is removed synchronously from the 'exit' hook.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every temporary folder the CLI makes starts with this (the leak test counts them). */
const TEMP_PREFIX = 'rproc-';

const live = new Set<string>();

/** A new folder under os.tmpdir() named rproc-<what>-XXXXXX, removed by removeTempDir or at exit. */
export function makeTempDir(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}${what}-`));
  live.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  live.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Remove every folder still registered (synchronous: safe in an 'exit' handler). */
export function removeAllTempDirs(): void {
  for (const dir of [...live]) {
    try {
      removeTempDir(dir);
    } catch {
      // Best effort on the way out: nothing else can be done about it then.
    }
  }
}
