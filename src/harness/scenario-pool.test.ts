// Scenarios in parallel worker threads: results in file order whatever order they finish in, the
// failing sample's artefacts folder (failure, console, UART, rpmsg trace, a gdb-readable coredump),
// an rpmsg trace per scenario, a scenario that outlives its time limit ended and failed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario } from './scenario-parse.ts';
import { runScenarioPool } from './scenario-pool.ts';
import { checkTraceFile } from '../util/trace-event-check.ts';

const example = (name: string): string => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const load = (file: string) => parseScenario(file, readFileSync(file, 'utf8'));

describe('scenario pool', () => {
  it('runs scenarios in parallel threads, reports in file order, keeps the failure artefacts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-pool-'));
    try {
      const files = [example('echo-fail.yaml'), example('echo-pass.yaml')];
      const started: number[] = [];
      const results = await runScenarioPool(files.map(load), {
        jobs: 2,
        artifactsDir: join(dir, 'artefacts'),
        traceDir: dir,
        onStart: (_s, i) => started.push(i),
      });
      assert.deepEqual(started.sort(), [0, 1]);
      assert.deepEqual(
        results.map((r) => [r.name, r.status]),
        [
          ['echo firmware shouts back (fails on purpose)', 'failed'],
          ['echo firmware answers, survives a lost kick and a crash', 'passed'],
        ],
      );
      const failed = results[0];
      assert.equal(failed?.failure?.kind, 'expect-timeout');
      assert.equal(failed.failure.line, 12);
      assert.equal(failed.failure.path, 'steps[2].expect');
      const folder = join(dir, 'artefacts', 'echo-firmware-shouts-back-fails-on-purpose');
      const files2 = readdirSync(folder).sort();
      assert.deepEqual(
        files2,
        [
          'console.txt',
          'failure.txt',
          'rpmsg-trace.json',
          'rproc0-at-failure.elf',
          'uart-rproc0.txt',
          'trace-rproc0.txt',
        ].sort(),
      );
      assert.match(
        readFileSync(join(folder, 'failure.txt'), 'utf8'),
        /^ETIMEDOUT: expected "rpmsg-echo:\^HELLO\$"/,
      );
      assert.match(readFileSync(join(folder, 'console.txt'), 'utf8'), /rproc0 channel rpmsg-echo: hello/);
      const dump = readFileSync(join(folder, 'rproc0-at-failure.elf'));
      assert.deepEqual([...dump.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
      assert.deepEqual(
        checkTraceFile(JSON.parse(readFileSync(join(folder, 'rpmsg-trace.json'), 'utf8'))),
        [],
      );
      // Every scenario's trace, pass or fail.
      for (const name of [
        'echo-firmware-shouts-back-fails-on-purpose.json',
        'echo-firmware-answers-survives-a-lost-kick-and-a-crash.json',
      ])
        assert.deepEqual(checkTraceFile(JSON.parse(readFileSync(join(dir, name), 'utf8'))), []);
      assert.equal(results[1]?.artifacts.length, 0, 'a passing scenario leaves no artefacts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends a scenario that outlives its time limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-pool-'));
    try {
      const file = join(dir, 'long.yaml');
      writeFileSync(file, 'mode: threads\nsteps:\n  - wait: 60s\n');
      const [r] = await runScenarioPool([load(file)], { scenarioTimeoutMs: 300 });
      assert.equal(r?.status, 'failed');
      assert.match(
        r.failure?.message ?? '',
        /^ETIMEDOUT: the scenario did not finish within 0 s \(host time\)$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
