// The folder `--coredump DIR` names: made if missing, refused in one line if it is a file or
// cannot be made, and a free file name in it for each dump (an earlier run's dumps are kept).

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERRNO, RprocError, type ErrnoName } from '../util/errors.ts';

export function prepareCoredumpDir(dir: string, op: string): void {
  let isDir: boolean | undefined;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = undefined;
  }
  if (isDir === false)
    throw new RprocError('ENOTDIR', op, `--coredump ${dir}: exists and is not a directory`);
  if (isDir === true) return;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const name: ErrnoName = code !== undefined && code in ERRNO ? (code as ErrnoName) : 'EIO';
    throw new RprocError(name, op, `--coredump ${dir}: cannot make the directory (${code ?? String(e)})`, {
      cause: e,
    });
  }
}

/** `dir/<base>.elf`, or `dir/<base>-2.elf`, ... : the first name not taken. */
export function freeCoredumpPath(dir: string, base: string): string {
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? `${base}.elf` : `${base}-${n}.elf`);
    if (!existsSync(path)) return path;
  }
}

/** A firmware's path for the gdb command line: relative to the current folder when inside it. */
export function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}
