// rproc run's firmware-CI options (docs/ci.md): --expect PATTERN (repeatable, in order),
// --expect-timeout SECONDS, --fail-on PATTERN, --fault SPEC, and the reports --junit FILE,
// --artifacts DIR, --trace-rpmsg FILE. Parsed and checked before anything starts: a bad pattern or
// fault is bad usage (exit status 2), one line naming the option and its value.

import { parseLinePattern, type LinePattern } from '../harness/line-pattern.ts';
import { parseFaultArg } from '../harness/scenario-parse.ts';
import type { ScenarioStep } from '../harness/scenario-types.ts';
import { RprocError } from '../util/errors.ts';
import { UsageError, type OptionSpec, type OptionValues } from './command.ts';
import { MAX_TIMEOUT_S } from './run-options.ts';

/** Each --expect's own limit when --expect-timeout is not given, seconds. */
const DEFAULT_EXPECT_TIMEOUT_S = 10;

export const CHECK_RUN_OPTIONS: OptionSpec = {
  expect: { type: 'string', multiple: true },
  'expect-timeout': { type: 'string' },
  'fail-on': { type: 'string', multiple: true },
  fault: { type: 'string', multiple: true },
  junit: { type: 'string' },
  artifacts: { type: 'string' },
  'trace-rpmsg': { type: 'string' },
};

export const CHECK_RUN_HELP: readonly string[] = [
  '  --expect PATTERN       [CORE/]SOURCE:REGEX, SOURCE uart, trace, state or a channel name (replies to',
  '                         --send); a bare REGEX looks at every line. Repeatable: met in order, the run',
  '                         ends (0) once all are, or with status 5 when one is not met in time',
  `  --expect-timeout S     each --expect's own limit (default ${DEFAULT_EXPECT_TIMEOUT_S}; virtual seconds with --deterministic)`,
  '  --fail-on PATTERN      end the run with status 6 as soon as a line matches (repeatable)',
  '  --fault SPEC           inject a fault from the start: KIND:CORE[,key=value...] (docs/ci.md; repeatable)',
  '  --junit FILE           a JUnit XML report with one test case for the run',
  '  --artifacts DIR        on failure, keep the console, UART/trace lines, rpmsg trace and coredumps there',
  '  --trace-rpmsg FILE     write the rpmsg traffic as Chrome/Perfetto trace-event JSON',
];

export type FaultStep = Extract<ScenarioStep, { kind: 'fault' }>;

export interface RunCheckOptions {
  readonly expects: readonly LinePattern[];
  readonly expectTimeoutMs: number;
  readonly failOn: readonly LinePattern[];
  readonly faults: readonly { readonly text: string; readonly step: FaultStep }[];
  readonly junit: string | undefined;
  readonly artifacts: string | undefined;
  readonly traceRpmsg: string | undefined;
}

function list(raw: OptionValues[string]): string[] {
  return raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
}

function file(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined || typeof v !== 'string') return undefined;
  if (v === '') throw new UsageError(`--${name} takes a path, not ""`);
  return v;
}

/** A pattern or fault the harness refuses is bad usage: its one line, as is. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof RprocError) throw new UsageError(e.message);
    throw e;
  }
}

export function parseRunCheckOptions(values: OptionValues): RunCheckOptions {
  const expects = list(values['expect']).map((s) => usage(() => parseLinePattern(s, '--expect')));
  const failOn = list(values['fail-on']).map((s) => usage(() => parseLinePattern(s, '--fail-on')));
  const faults = list(values['fault']).map((text) => ({ text, step: usage(() => parseFaultArg(text)) }));
  const rawTimeout = values['expect-timeout'];
  let expectTimeoutMs = DEFAULT_EXPECT_TIMEOUT_S * 1000;
  if (typeof rawTimeout === 'string') {
    const n = rawTimeout.trim() === '' ? Number.NaN : Number(rawTimeout);
    if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_S)
      throw new UsageError(
        `--expect-timeout takes a number of seconds above 0 and at most ${MAX_TIMEOUT_S}, not "${rawTimeout}"`,
      );
    if (expects.length === 0) throw new UsageError('--expect-timeout needs --expect PATTERN');
    expectTimeoutMs = n * 1000;
  }
  return {
    expects,
    expectTimeoutMs,
    failOn,
    faults,
    junit: file(values, 'junit'),
    artifacts: file(values, 'artifacts'),
    traceRpmsg: file(values, 'trace-rpmsg'),
  };
}

/** Whether any of these options asks for the harness to watch the run. */
export function checksWanted(o: RunCheckOptions): boolean {
  return (
    o.expects.length > 0 ||
    o.failOn.length > 0 ||
    o.faults.length > 0 ||
    o.junit !== undefined ||
    o.artifacts !== undefined ||
    o.traceRpmsg !== undefined
  );
}

/** Every core a pattern or fault names, with the option that named it (checked against the board). */
export function coresNamed(o: RunCheckOptions): { core: string; from: string }[] {
  const out: { core: string; from: string }[] = [];
  for (const p of o.expects) if (p.core !== undefined) out.push({ core: p.core, from: `--expect ${p.spec}` });
  for (const p of o.failOn) if (p.core !== undefined) out.push({ core: p.core, from: `--fail-on ${p.spec}` });
  for (const f of o.faults) {
    const core = f.step.fault.core;
    if (core !== undefined) out.push({ core, from: `--fault ${f.text}` });
  }
  return out;
}
