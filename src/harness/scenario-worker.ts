// Entry point of the worker thread one scenario runs in (scenario-pool.ts): read the file, run it on
// a SoC of its own, post the result back — or the reason the file cannot run, one line.

import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { RprocError } from '../util/errors.ts';
import { parseScenario } from './scenario-parse.ts';
import { runScenario, type ScenarioResult } from './scenario-run.ts';

export interface ScenarioWorkerData {
  readonly file: string;
  readonly artifactsDir?: string;
  readonly traceRpmsgFile?: string;
}

export type ScenarioWorkerReply =
  | { readonly kind: 'result'; readonly result: ScenarioResult }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string };

const data = workerData as ScenarioWorkerData;
let reply: ScenarioWorkerReply;
try {
  const scenario = parseScenario(data.file, await readFile(data.file, 'utf8'));
  const result = await runScenario(scenario, {
    ...(data.artifactsDir === undefined ? {} : { artifactsDir: data.artifactsDir }),
    ...(data.traceRpmsgFile === undefined ? {} : { traceRpmsgFile: data.traceRpmsgFile }),
  });
  reply = { kind: 'result', result };
} catch (e) {
  reply =
    e instanceof RprocError
      ? { kind: 'refused', code: e.code, message: e.message }
      : { kind: 'refused', code: 'EIO', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}
parentPort?.postMessage(reply);
