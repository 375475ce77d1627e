// Running one scenario on a board session of its own: the board and firmware are checked first
// (an unknown core or a missing firmware is a ScenarioError naming the file, line and key), then the
// steps run in order until one fails; the result says which step, why, and shows the console tail.
// On failure the artefacts folder is written (artifacts.ts).

import { dirname, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { boardFromFdt } from '../soc/board.ts';
import { loadBoard } from '../soc/fdt/load-board.ts';
import type { Fdt } from '../soc/fdt/fdt-tree.ts';
import type { FirmwareStore } from '../remoteproc/firmware-store.ts';
import { RprocError } from '../util/errors.ts';
import { writeArtifacts } from './artifacts.ts';
import { BoardSession } from './board-session.ts';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { HarnessError, type FailureKind } from './harness-error.ts';
import { formatLine } from './line-pattern.ts';
import { ScenarioError } from './scenario-source.ts';
import type { Scenario, ScenarioStep } from './scenario-types.ts';

/** Console lines a result carries (JUnit system-out, --json). */
const RESULT_CONSOLE_LINES = 200;

export interface ScenarioFailure {
  readonly kind: FailureKind | 'error';
  readonly code: string;
  readonly message: string;
  /** The step that failed: its line in the file and its path (undefined: before any step). */
  readonly line?: number;
  readonly path?: string;
  readonly lastLines: readonly string[];
}

export interface ScenarioResult {
  readonly file: string;
  readonly name: string;
  readonly status: 'passed' | 'failed';
  readonly failure?: ScenarioFailure;
  /** Host time the scenario took, ms. */
  readonly durationMs: number;
  /** The run's clock at the end (virtual ms in deterministic mode). */
  readonly clockMs: number;
  readonly virtual: boolean;
  /** Steps carried out (a repeat's inner steps each count). */
  readonly steps: number;
  readonly console: readonly string[];
  /** Files written to the artefacts folder. */
  readonly artifacts: readonly string[];
}

export interface RunScenarioOptions {
  /** Where the artefacts of a failure go (a folder per scenario is made inside by the caller). */
  readonly artifactsDir?: string;
  /** Write the rpmsg trace here at the end, pass or fail. */
  readonly traceRpmsgFile?: string;
  readonly firmwareStore?: FirmwareStore;
}

export interface PreparedScenario {
  readonly board: Fdt | undefined;
  readonly store: FirmwareStore;
}

/** Load the board and check the scenario against it: core names, firmware that exists. */
export async function prepareScenario(s: Scenario, store?: FirmwareStore): Promise<PreparedScenario> {
  let board: Fdt | undefined;
  try {
    board = s.board === undefined ? undefined : await loadBoard(s.board);
  } catch (e) {
    if (e instanceof RprocError) throw new ScenarioError(s.file, s.boardLine, 'board', e.detail);
    throw e;
  }
  const cores = boardFromFdt(board ?? (await loadBoard())).cores.map((c) => c.name);
  for (const ref of s.coreRefs) {
    if (!cores.includes(ref.core))
      throw new ScenarioError(
        s.file,
        ref.line,
        ref.path,
        `no core "${ref.core}" on this board (cores: ${cores.join(', ')})`,
      );
  }
  const fwStore = store ?? defaultFirmwareStore([dirname(resolve(s.file))]);
  for (const c of s.cores) {
    try {
      await fwStore.request(c.firmware);
    } catch (e) {
      if (e instanceof RprocError) throw new ScenarioError(s.file, c.line, `cores.${c.name}`, e.detail);
      throw e;
    }
  }
  return { board, store: fwStore };
}

/** Run `s` (prepared): never throws for a failing scenario, only for a bad one (ScenarioError). */
export async function runScenario(s: Scenario, options: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const t0 = performance.now();
  const prepared = await prepareScenario(s, options.firmwareStore);
  let session: BoardSession;
  try {
    session = await BoardSession.open({
      ...(prepared.board === undefined ? {} : { board: prepared.board }),
      firmwareStore: prepared.store,
      firmware: Object.fromEntries(s.cores.map((c) => [c.name, c.firmware])),
      recovery: Object.fromEntries(s.cores.map((c) => [c.name, c.recovery])),
      deterministic: s.mode === 'deterministic',
      timeoutMs: s.timeoutMs,
      failOn: s.failOn,
      traceRpmsg: options.artifactsDir !== undefined || options.traceRpmsgFile !== undefined,
      keepCoredumps: options.artifactsDir !== undefined,
    });
  } catch (e) {
    // The board did not come up (a firmware the store cannot load, a board the SoC refuses).
    const message = e instanceof Error ? e.message : String(e);
    const code = e instanceof RprocError ? e.code : 'EIO';
    return {
      file: s.file,
      name: s.name,
      status: 'failed',
      failure: { kind: e instanceof RprocError ? 'step' : 'error', code, message, lastLines: [] },
      durationMs: performance.now() - t0,
      clockMs: 0,
      virtual: s.mode === 'deterministic',
      steps: 0,
      console: [],
      artifacts: [],
    };
  }
  let steps = 0;
  let current: ScenarioStep | undefined;
  let failure: ScenarioFailure | undefined;
  let artifacts: string[] = [];
  const exec = async (list: readonly ScenarioStep[]): Promise<void> => {
    for (const step of list) {
      current = step;
      steps++;
      await runStep(session, step, exec);
    }
  };
  try {
    try {
      await exec(s.steps);
    } catch (e) {
      failure = describeFailure(e, current, session);
    }
    if (failure !== undefined && options.artifactsDir !== undefined) {
      artifacts = await writeArtifacts(options.artifactsDir, session, {
        message: failure.message,
        where: failure.line === undefined ? s.file : `${s.file}:${failure.line} ${failure.path ?? ''}`,
        lastLines: session.lines.tail(20),
      });
    }
    if (options.traceRpmsgFile !== undefined) session.recorder?.write(options.traceRpmsgFile);
    return {
      file: s.file,
      name: s.name,
      status: failure === undefined ? 'passed' : 'failed',
      ...(failure === undefined ? {} : { failure }),
      durationMs: performance.now() - t0,
      clockMs: session.clock.now(),
      virtual: session.clock.virtual,
      steps,
      console: session.tail(RESULT_CONSOLE_LINES),
      artifacts,
    };
  } finally {
    await session.close();
  }
}

async function runStep(
  b: BoardSession,
  step: ScenarioStep,
  exec: (steps: readonly ScenarioStep[]) => Promise<void>,
): Promise<void> {
  const where = `${step.path} (line ${step.line})`;
  switch (step.kind) {
    case 'boot':
      return b.boot(step.core);
    case 'shutdown':
      return b.shutdown(step.core);
    case 'crash':
      return b.crash(step.core, step.crashType);
    case 'recover':
      return b.recover(step.core, step.timeoutMs);
    case 'send':
      return b.send(step.channel, step.data, {
        ...(step.core === undefined ? {} : { core: step.core }),
        ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      });
    case 'expect':
      await b.expect(step.patterns, {
        where,
        ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      });
      return;
    case 'wait':
      return b.wait(step.ms);
    case 'coredump': {
      const bytes = await b.coredump(step.core);
      if (step.file !== undefined) writeFileSync(resolve(step.file), bytes);
      return;
    }
    case 'fault':
      b.fault(step.fault, step.forMs);
      return;
    case 'heal':
      b.heal(step.core, step.fault);
      return;
    case 'repeat':
      for (let i = 0; i < step.times; i++) await exec(step.steps);
      return;
  }
}

function describeFailure(e: unknown, step: ScenarioStep | undefined, session: BoardSession): ScenarioFailure {
  const place = step === undefined ? {} : { line: step.line, path: step.path };
  if (e instanceof HarnessError) {
    return {
      kind: e.kind,
      code: e.code,
      message: e.message,
      ...place,
      lastLines: e.lastLines.map(formatLine),
    };
  }
  const lastLines = session.tail(10);
  if (e instanceof RprocError) return { kind: 'step', code: e.code, message: e.message, ...place, lastLines };
  // Not one of ours: a bug; reported as an error of the run, not a crash of the runner.
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { kind: 'error', code: 'EIO', message, ...place, lastLines };
}
