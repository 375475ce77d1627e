// The scenario steps as a TypeScript API for node:test users (remoteproc-ts/testing): open a
// virtual board with your firmware, then boot, send, expect lines, inject faults and recover, each
// step awaited, each wait counted on the SoC's virtual clock by default; or run a scenario file as
// `rproc test` does. docs/ci.md shows both.

import { readFile } from 'node:fs/promises';
import { BoardSession, type BoardSessionOptions } from '../harness/board-session.ts';
import { parseScenario } from '../harness/scenario-parse.ts';
import { runScenario, type RunScenarioOptions, type ScenarioResult } from '../harness/scenario-run.ts';

/** Power on a virtual board for a test (deterministic unless `deterministic: false`); close() it when done. */
export function openBoard(options: BoardSessionOptions = {}): Promise<BoardSession> {
  return BoardSession.open(options);
}

/**
 * Run the scenario file at `file` in this thread, as `rproc test` runs it in a thread of its own.
 * A malformed file throws its ScenarioError (file:line: key: what is wrong); a failing one resolves
 * with status 'failed' and the failure.
 */
export async function runScenarioFile(
  file: string,
  options: RunScenarioOptions = {},
): Promise<ScenarioResult> {
  return runScenario(parseScenario(file, await readFile(file, 'utf8')), options);
}

export { BoardSession, type BoardSessionOptions, type KeptCoredump } from '../harness/board-session.ts';
export { HarnessError, type FailureKind } from '../harness/harness-error.ts';
export type { ArmedFault, CrashTypeName, Direction, FaultSpec } from '../harness/faults.ts';
export type { ExpectMatch } from '../harness/expect-lines.ts';
export { parseLinePattern, type LinePattern } from '../harness/line-pattern.ts';
export type { Line, LineSource } from '../harness/soc-lines.ts';
export { parseScenario } from '../harness/scenario-parse.ts';
export { ScenarioError } from '../harness/scenario-source.ts';
export type { Scenario, ScenarioStep } from '../harness/scenario-types.ts';
export type { RunScenarioOptions, ScenarioFailure, ScenarioResult } from '../harness/scenario-run.ts';
export { junitXml, type JunitCase, type JunitSuite } from '../harness/junit.ts';
export { checkTraceFile } from '../util/trace-event-check.ts';
