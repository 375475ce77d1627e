// The options of `rproc run`, parsed and checked before anything starts (bad usage is exit status
// 2, one line naming the option and its value): firmware per core, sends, console, --timeout
// (positive, finite, at most MAX_TIMEOUT_S: the longest a Node timer waits), the crash policy.

import { UsageError, type OptionValues } from './command.ts';

/** The longest --timeout: 2^31 - 1 ms is the most a Node timer can wait (beyond, it fires at once). */
export const MAX_TIMEOUT_S = 2_147_483;
/** How many crashes in a row, each right after a recovery, stop a core (--crash-loop). */
export const DEFAULT_CRASH_LOOP = 3;
const MAX_CRASH_LOOP = 1000;

export interface SendSpec {
  readonly channel: string;
  readonly text: string;
}

export interface CoreFirmware {
  readonly core: string;
  readonly file: string;
  /** Which option gave it, for messages: "--core rproc0=x.elf" or "FIRMWARE x.elf". */
  readonly from: string;
}

export interface RunOptions {
  /** The positional FIRMWARE, with the core --core NAME chose for it (else picked by its machine). */
  readonly firmware: { readonly file: string; readonly core: string | undefined } | undefined;
  /** --core NAME=FILE, in order. */
  readonly cores: readonly CoreFirmware[];
  readonly sends: readonly SendSpec[];
  readonly console: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly board: string | undefined;
  readonly coredumpDir: string | undefined;
  readonly deterministic: boolean;
  readonly allowCrash: boolean;
  readonly crashLoop: number;
}

function list(raw: OptionValues[string]): string[] {
  return raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
}

function one(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function parseTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_S)
    throw new UsageError(
      `--timeout takes a number of seconds above 0 and at most ${MAX_TIMEOUT_S}, not "${raw}"`,
    );
  return n * 1000;
}

function parseCrashLoop(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_CRASH_LOOP;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > MAX_CRASH_LOOP)
    throw new UsageError(`--crash-loop takes a whole number from 1 to ${MAX_CRASH_LOOP}, not "${raw}"`);
  return n;
}

export function parseRunOptions(values: OptionValues, positionals: readonly string[]): RunOptions {
  const sends = list(values['send']).map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--send takes CHANNEL=TEXT, not "${text}"`);
    return { channel: text.slice(0, eq), text: text.slice(eq + 1) };
  });
  const positional = positionals[0];
  let positionalCore: string | undefined;
  const cores: CoreFirmware[] = [];
  for (const spec of list(values['core'])) {
    const eq = spec.indexOf('=');
    if (eq < 0) {
      if (spec === '') throw new UsageError('--core takes NAME=FILE (or NAME with FIRMWARE), not ""');
      if (positional === undefined)
        throw new UsageError(
          `--core ${spec} names a core for FIRMWARE, but none is given; use --core ${spec}=FILE`,
        );
      if (positionalCore !== undefined)
        throw new UsageError(`--core ${positionalCore} and --core ${spec} both claim FIRMWARE ${positional}`);
      positionalCore = spec;
      continue;
    }
    const core = spec.slice(0, eq);
    const file = spec.slice(eq + 1);
    if (core === '' || file === '') throw new UsageError(`--core takes NAME=FILE, not "${spec}"`);
    cores.push({ core, file, from: `--core ${spec}` });
  }
  const named = [...(positionalCore === undefined ? [] : [positionalCore]), ...cores.map((c) => c.core)];
  const twice = named.find((c, i) => named.indexOf(c) !== i);
  if (twice !== undefined) throw new UsageError(`--core gives core ${twice} two firmware images`);
  const consoleName = one(values, 'console');
  if (consoleName === '') throw new UsageError('--console takes a CHANNEL name, not ""');
  return {
    firmware: positional === undefined ? undefined : { file: positional, core: positionalCore },
    cores,
    sends,
    console: consoleName,
    timeoutMs: parseTimeout(one(values, 'timeout')),
    board: one(values, 'board'),
    coredumpDir: one(values, 'coredump'),
    deterministic: values['deterministic'] === true,
    allowCrash: values['allow-crash'] === true,
    crashLoop: parseCrashLoop(one(values, 'crash-loop')),
  };
}
