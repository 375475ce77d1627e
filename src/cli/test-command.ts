// `rproc test FILE...`: run scenario files (docs/ci.md, docs/scenario.schema.json), each in a
// worker thread with a SoC of its own, at most --jobs at once (src/harness/scenario-pool.ts).
// Every file is read and checked first (format, patterns, board, cores, firmware): a bad one is
// one line naming the file, line and key, and then nothing runs (exit 2). Otherwise 0 when every
// scenario passed, 1 when one failed; --junit, --artifacts and --trace-rpmsg write the reports.

import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { classnameOf, junitXml, type JunitCase } from '../harness/junit.ts';
import { runScenarioPool } from '../harness/scenario-pool.ts';
import { parseScenario } from '../harness/scenario-parse.ts';
import { prepareScenario, type ScenarioResult } from '../harness/scenario-run.ts';
import type { Scenario } from '../harness/scenario-types.ts';
import { EXIT, UsageError, type Command, type CommandContext, type CommandResult } from './command.ts';
import { reportError, userErrorLine } from './main-errors.ts';
import { MAX_TIMEOUT_S } from './run-options.ts';

/** A scenario still running after this long (host time) is ended and failed, s. */
const DEFAULT_SCENARIO_TIMEOUT_S = 600;
const MAX_JOBS = 256;

export const testCommand: Command = {
  name: 'test',
  summary: 'Run scenario files (YAML or JSON, docs/ci.md) in parallel; JUnit report, artefacts on failure',
  usage: 'FILE...',
  help: [
    'Each scenario runs in a worker thread with a virtual board of its own.',
    '',
    'Options:',
    '  --jobs N               scenarios at once (default: the number of CPUs)',
    '  --junit FILE           JUnit XML: one test case per scenario, the unmet expectation as failure',
    "  --artifacts DIR        each failed scenario's artefacts (console, UART/trace lines, rpmsg trace,",
    '                         coredumps) in DIR/<scenario name>/',
    "  --trace-rpmsg DIR      every scenario's rpmsg trace as DIR/<scenario name>.json",
    `  --timeout SECONDS      a scenario still running after this long (host time) fails (default ${DEFAULT_SCENARIO_TIMEOUT_S})`,
    '  --json                 scenario-start and scenario-end events, one JSON object per line',
    '',
    'Exit status: 0 every scenario passed; 1 at least one failed; 2 bad usage or a scenario file',
    'that cannot run (one line each naming the file, line and key; nothing runs);',
    '128+signal after SIGINT/SIGTERM/SIGHUP.',
  ].join('\n'),
  options: {
    jobs: { type: 'string' },
    junit: { type: 'string' },
    artifacts: { type: 'string' },
    'trace-rpmsg': { type: 'string' },
    timeout: { type: 'string' },
  },
  positionals: [1, 10_000],
  run: runTests,
};

function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  if (typeof v !== 'string') return undefined;
  if (v === '') throw new UsageError(`--${name} takes a path, not ""`);
  return v;
}

function parseJobs(raw: string | undefined): number {
  if (raw === undefined) return availableParallelism();
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > MAX_JOBS)
    throw new UsageError(`--jobs takes a whole number from 1 to ${MAX_JOBS}, not "${raw}"`);
  return n;
}

function parseTimeoutS(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_SCENARIO_TIMEOUT_S;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_S)
    throw new UsageError(
      `--timeout takes a number of seconds above 0 and at most ${MAX_TIMEOUT_S}, not "${raw}"`,
    );
  return n;
}

/** Read, parse and check one file; a problem is its one line. */
async function load(file: string): Promise<Scenario> {
  const scenario = parseScenario(file, await readFile(file, 'utf8'));
  await prepareScenario(scenario);
  return scenario;
}

function junitCase(r: ScenarioResult): JunitCase {
  const f = r.failure;
  const where = f?.line === undefined ? r.file : `${r.file}:${f.line} ${f.path ?? ''}`.trimEnd();
  const problem =
    f === undefined
      ? undefined
      : {
          message: f.message,
          type: f.kind,
          text: [f.message, `at ${where}`, '', 'last lines:', ...f.lastLines].join('\n'),
        };
  return {
    name: r.name,
    classname: classnameOf(r.file),
    file: r.file,
    time: r.durationMs / 1000,
    ...(problem === undefined ? {} : f?.kind === 'error' ? { error: problem } : { failure: problem }),
    systemOut: r.console.join('\n'),
  };
}

async function runTests(ctx: CommandContext): Promise<CommandResult> {
  const { reporter } = ctx;
  const jobs = parseJobs(stringOption(ctx, 'jobs'));
  const junit = stringOption(ctx, 'junit');
  const artifactsDir = stringOption(ctx, 'artifacts');
  const traceDir = stringOption(ctx, 'trace-rpmsg');
  const timeoutS = parseTimeoutS(stringOption(ctx, 'timeout'));
  const scenarios: Scenario[] = [];
  let bad = 0;
  for (const file of ctx.positionals) {
    try {
      scenarios.push(await load(file));
    } catch (e) {
      const line = userErrorLine(e);
      if (line === undefined) throw e;
      reportError(reporter, 'test', e, line);
      bad++;
    }
  }
  if (bad > 0)
    return {
      status: EXIT.USAGE,
      reason: `${bad} of ${ctx.positionals.length} scenario file${ctx.positionals.length === 1 ? '' : 's'} cannot run; nothing ran`,
    };
  const results = await runScenarioPool(scenarios, {
    jobs,
    ...(artifactsDir === undefined ? {} : { artifactsDir }),
    ...(traceDir === undefined ? {} : { traceDir }),
    scenarioTimeoutMs: timeoutS * 1000,
    signal: ctx.abort,
    onStart: (s) =>
      reporter.say({ event: 'scenario-start', file: s.file, name: s.name }, `${s.name} (${s.file}) …`),
    onResult: (r) => {
      const f = r.failure;
      reporter.say(
        {
          event: 'scenario-end',
          file: r.file,
          name: r.name,
          status: r.status,
          durationMs: r.durationMs,
          clockMs: r.clockMs,
          virtual: r.virtual,
          steps: r.steps,
          ...(f === undefined ? {} : { failure: f }),
          ...(r.artifacts.length === 0 ? {} : { artifacts: [...r.artifacts] }),
        },
        f === undefined
          ? `PASS ${r.name} (${r.file}, ${(r.durationMs / 1000).toFixed(2)} s)`
          : [
              `FAIL ${r.name} (${r.file}${f.line === undefined ? '' : `:${f.line} ${f.path ?? ''}`.trimEnd()}): ${f.message}`,
              ...f.lastLines.slice(-5).map((l) => `    ${l}`),
              ...(r.artifacts.length === 0 ? [] : [`    artefacts: ${dirname(r.artifacts[0] ?? '')}`]),
            ].join('\n'),
      );
    },
  });
  if (junit !== undefined) {
    mkdirSync(dirname(junit), { recursive: true });
    writeFileSync(junit, junitXml([{ name: 'rproc test', cases: results.map(junitCase) }]));
  }
  const failed = results.filter((r) => r.status !== 'passed');
  const summary = `${results.length - failed.length} passed, ${failed.length} failed`;
  reporter.say(
    { event: 'test-summary', passed: results.length - failed.length, failed: failed.length },
    summary,
  );
  if (failed.length === 0) return { status: EXIT.OK, reason: summary };
  return { status: EXIT.FAILED, reason: `${summary}: ${failed.map((r) => r.file).join(', ')}` };
}
