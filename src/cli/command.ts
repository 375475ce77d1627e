// The shape of an `rproc` verb and the exit statuses every verb shares:
// 0 success, 1 the operation failed, 2 bad usage.

import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from './io.ts';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Values parsed for a verb: strings and booleans only (parseArgs' own result type). */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  readonly io: CliIo;
  readonly json: boolean;
  readonly values: OptionValues;
  readonly positionals: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line after `rproc NAME`, e.g. 'FILE'. */
  readonly usage: string;
  /** Longer help text (options described one per line). */
  readonly help: string;
  readonly options: OptionSpec;
  /** Positional argument count accepted: [min, max]. */
  readonly positionals: readonly [number, number];
  run(ctx: CommandContext): Promise<ExitStatus>;
}

/** Bad usage detected by a verb after option parsing (exit status 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
