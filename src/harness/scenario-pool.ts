// Running many scenario files at once (`rproc test --jobs N`): each scenario gets a worker thread
// and a SoC of its own — a fresh thread per scenario, so nothing one leaves behind (a stuck core,
// module state, a leak) reaches the next — with at most `jobs` running together. A thread is
// cheaper to start than a process, shares nothing but the process, and can be ended at once if a
// scenario outlives its time limit. Results come back in the order of the files.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerScriptUrl } from '../soc/worker-script.ts';
import { slug } from './artifacts.ts';
import type { ScenarioResult } from './scenario-run.ts';
import type { Scenario } from './scenario-types.ts';
import type { ScenarioWorkerData, ScenarioWorkerReply } from './scenario-worker.ts';

export interface PoolOptions {
  /** Scenarios running at once; default os.availableParallelism(). */
  readonly jobs?: number;
  /** Failed scenarios' artefacts go to DIR/<scenario name>/. */
  readonly artifactsDir?: string;
  /** Each scenario's rpmsg trace goes to DIR/<scenario name>.json. */
  readonly traceDir?: string;
  /** A scenario still running after this long (host ms) is ended and failed; default 10 minutes. */
  readonly scenarioTimeoutMs?: number;
  /** Ends every running scenario (Ctrl-C); those not started are reported as not run. */
  readonly signal?: AbortSignal;
  readonly onStart?: (scenario: Scenario, index: number) => void;
  readonly onResult?: (result: ScenarioResult, index: number) => void;
}

const DEFAULT_SCENARIO_TIMEOUT_MS = 10 * 60 * 1000;

/** Unique folder names per scenario name (a second "echo" becomes "echo-2"). */
function uniqueSlugs(scenarios: readonly Scenario[]): string[] {
  const used = new Map<string, number>();
  return scenarios.map((s) => {
    const base = slug(s.name);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

/** Run `scenarios` (already parsed and checked: the workers read the files again) in parallel. */
export async function runScenarioPool(
  scenarios: readonly Scenario[],
  options: PoolOptions = {},
): Promise<ScenarioResult[]> {
  const jobs = Math.max(1, Math.floor(options.jobs ?? availableParallelism()));
  const slugs = uniqueSlugs(scenarios);
  const results: ScenarioResult[] = new Array<ScenarioResult>(scenarios.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      const scenario = scenarios[index];
      if (scenario === undefined) return;
      const name = slugs[index] ?? 'run';
      let result: ScenarioResult;
      if (options.signal?.aborted === true) {
        result = notRun(scenario, 'ECANCELED: not run: the run was interrupted');
      } else {
        options.onStart?.(scenario, index);
        result = await runInWorker(
          scenario,
          {
            file: scenario.file,
            ...(options.artifactsDir === undefined ? {} : { artifactsDir: join(options.artifactsDir, name) }),
            ...(options.traceDir === undefined
              ? {}
              : { traceRpmsgFile: join(options.traceDir, `${name}.json`) }),
          },
          options.scenarioTimeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS,
          options.signal,
        );
      }
      results[index] = result;
      options.onResult?.(result, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, scenarios.length) }, lane));
  return results;
}

function runInWorker(
  scenario: Scenario,
  data: ScenarioWorkerData,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ScenarioResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const worker = new Worker(workerScriptUrl('harness/scenario-worker'), { workerData: data });
    let settled = false;
    const finish = (result: ScenarioResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
      void worker.terminate();
    };
    const broken = (message: string): ScenarioResult => ({
      ...notRun(scenario, message),
      durationMs: performance.now() - t0,
    });
    const onAbort = (): void => finish(broken('ECANCELED: interrupted'));
    const timer = setTimeout(
      () =>
        finish(
          broken(
            `ETIMEDOUT: the scenario did not finish within ${Math.round(timeoutMs / 1000)} s (host time)`,
          ),
        ),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (reply: ScenarioWorkerReply) => {
      if (reply.kind === 'result') finish(reply.result);
      else finish(broken(reply.message));
    });
    worker.on('error', (e) => finish(broken(`EIO: the scenario's thread failed: ${e.message}`)));
    worker.on('exit', (code) =>
      finish(broken(`EIO: the scenario's thread ended (exit code ${code}) without a result`)),
    );
  });
}

/** A result for a scenario that could not run to the end (thread failure, time limit, interruption). */
function notRun(scenario: Scenario, message: string): ScenarioResult {
  const code = /^([A-Z]+):/.exec(message)?.[1] ?? 'EIO';
  return {
    file: scenario.file,
    name: scenario.name,
    status: 'failed',
    failure: { kind: 'error', code, message, lastLines: [] },
    durationMs: 0,
    clockMs: 0,
    virtual: scenario.mode === 'deterministic',
    steps: 0,
    console: [],
    artifacts: [],
  };
}
