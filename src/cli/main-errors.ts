// How the CLI turns a failure into output: one line on stderr naming the value and where it came
// from (RprocError's message, or a file-system error's code, call and path), plus an `error` event
// with --json. Anything else is a bug, said as such in one line, never as a stack trace.

import { RprocError } from '../util/errors.ts';
import type { Reporter } from './reporter.ts';

export const BUG_HINT = 'this is a bug in rproc: please report it with the command line that caused it';

/** One line for an error a user's input can cause; undefined for anything else (a bug). */
export function userErrorLine(e: unknown): string | undefined {
  if (e instanceof RprocError) return e.message;
  // A file-system error that escaped a check: name the code, the call and the path.
  const x = e as NodeJS.ErrnoException;
  if (x instanceof Error && typeof x.code === 'string' && /^E[A-Z0-9]+$/.test(x.code))
    return `${x.code}: ${x.syscall ?? 'file system'}${x.path === undefined ? '' : ` ${x.path}`}`;
  return undefined;
}

/** A failure: an `error` event with --json, and always one line on stderr. */
export function reportError(reporter: Reporter, verb: string, e: unknown, line: string): void {
  const error =
    e instanceof RprocError
      ? { code: e.code, errno: e.errno, op: e.op, message: e.message }
      : { code: 'EIO', errno: 5, op: verb, message: line };
  reporter.say({ event: 'error', ...error }, undefined);
  reporter.io.err(`rproc ${verb}: ${line}\n`);
}
