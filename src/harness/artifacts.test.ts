// The artefacts of a failed scenario in which the firmware crashed (firmware/prebuilt/crash.elf
// storing to an unmapped address): the crash's coredump, opened by the real gdb, shows the faulting
// function; the failure, console, UART and trace files say what happened; a passing run leaves none.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runScenarioFile } from '../testing/scenario.ts';
import { needTools } from '../../test/support/cross-tools.ts';

const CRASH_ELF = join(import.meta.dirname, '..', '..', 'firmware', 'prebuilt', 'crash.elf');
const gdb = needTools({ gdb: ['gdb-multiarch'] });

const SCENARIO = `name: crash then wait for what never comes
cores: { rproc0: crash.elf }
timeout: 200ms
steps:
  - boot: rproc0
  - send: { channel: crasher, text: store }
  - expect: "rproc0/state:^crashed$"
  - expect: "uart:never printed"
`;

describe('artefacts of a failed scenario', () => {
  it('hold the failure, the console and a crash coredump gdb opens at the faulting function', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-artefacts-'));
    try {
      const file = join(dir, 'crash.yaml');
      writeFileSync(file, SCENARIO);
      const out = join(dir, 'out');
      const r = await runScenarioFile(file, { artifactsDir: out });
      assert.equal(r.status, 'failed');
      assert.equal(r.failure?.path, 'steps[3].expect');
      assert.deepEqual(readdirSync(out).sort(), [
        'console.txt',
        'failure.txt',
        'rpmsg-trace.json',
        'rproc0-at-failure.elf',
        'rproc0-crash-1.elf',
        'trace-rproc0.txt',
        'uart-rproc0.txt',
      ]);
      const failure = readFileSync(join(out, 'failure.txt'), 'utf8');
      assert.match(
        failure,
        /^ETIMEDOUT: expected "uart:never printed" \(UART of any core\) within 200 ms \(virtual time\)/,
      );
      assert.match(failure, /\nat .*crash\.yaml:8 steps\[3\]\.expect\n/);
      assert.match(readFileSync(join(out, 'console.txt'), 'utf8'), /rproc0 state: crashed/);
      if (gdb.skip !== false) {
        t.skip(`files checked; opening the dump: ${gdb.skip}`);
        return;
      }
      const g = spawnSync(
        gdb.get('gdb'),
        ['-nx', '-batch', '-ex', 'bt 1', CRASH_ELF, join(out, 'rproc0-crash-1.elf')],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(g.status, 0, g.stderr);
      assert.match(g.stdout + g.stderr, /^#0\s+0x8[0-9a-f]{7} in crash_store \(\)$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are not written when the scenario passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-artefacts-'));
    try {
      const file = join(dir, 'ok.yaml');
      writeFileSync(
        file,
        'cores: { rproc0: echo.elf }\nsteps:\n  - boot: rproc0\n  - expect: "uart:firmware up"\n',
      );
      const r = await runScenarioFile(file, { artifactsDir: join(dir, 'out') });
      assert.equal(r.status, 'passed', r.failure?.message);
      assert.equal(existsSync(join(dir, 'out')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
