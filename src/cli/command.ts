// The shape of an `rproc` verb and the exit statuses every verb shares (docs/cli.md): 0 success,
// 1 the operation failed, 2 bad usage, 3 a core crashed, 4 a crash loop was stopped, 5 an --expect
// unmet, 6 a --fail-on line, a firmware's own test-finisher code, and 128 + the signal number after a signal (141 when stdout closed).

import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from './io.ts';
import type { Reporter } from './reporter.ts';

export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CRASHED: 3,
  CRASH_LOOP: 4,
  /** run --expect: an expectation was not met in time (docs/ci.md). */
  EXPECT_UNMET: 5,
  /** run --fail-on: a line matched. */
  FAIL_ON: 6,
} as const;
/** One of EXIT, a firmware's finisher code (1..255), or 128 + a signal number. */
export type ExitStatus = number;

/** How a verb ended: its status and, for the final JSON event, why in a few words. */
export interface CommandResult {
  readonly status: ExitStatus;
  readonly reason: string;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Values parsed for a verb: strings and booleans only (parseArgs' own result type). */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  readonly io: CliIo;
  readonly json: boolean;
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  /**
   * Aborted when the command must end early: a signal (SIGINT, SIGTERM, SIGHUP) or stdout closed
   * (SIGPIPE); the reason is the signal's name. A long-running verb shuts down in order and returns.
   */
  readonly abort: AbortSignal;
  /** performance.now() when the command started: host time 0 of its events. */
  readonly startedAt: number;
  /** Where the verb reports events (the `start` event is already out; main writes `end`). */
  readonly reporter: Reporter;
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
  /** What the verb does on a first signal, for the `signal` line (default: shutting every core down). */
  readonly onSignal?: string;
  run(ctx: CommandContext): Promise<ExitStatus | CommandResult>;
}

/** Bad usage detected by a verb after option parsing (exit status 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
