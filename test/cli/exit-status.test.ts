// `rproc run`'s exit status through the real process (docs/cli.md): a firmware's end through the
// test finisher (QEMU virt: PASS 0, FAIL code, RESET 0; the core goes offline with the reason), a
// crash whether or not it recovered (3, unless --allow-crash), a crash loop stopped (4, even with
// --allow-crash), in worker and deterministic mode.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventsOf, removeScratch, rproc, scratchDir, STACK_FRAME, type CliEvent } from './cli-process.ts';
import {
  failingFirmware,
  faultingFirmware,
  finisherFirmware,
  passingFirmware,
} from '../support/tiny-firmware.ts';

const dir = scratchDir('exit');
after(() => removeScratch(dir));
const fw = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const PASS = fw('pass.elf', passingFirmware());
const FAIL3 = fw('fail3.elf', failingFirmware(3));
const FAIL256 = fw('fail256.elf', failingFirmware(256));
const RESET = fw('reset.elf', finisherFirmware(0x7777));
const FAULT = fw('fault.elf', faultingFirmware());

const named = (evs: CliEvent[], event: string): CliEvent[] => evs.filter((e) => e.event === event);

for (const mode of ['worker', 'deterministic'] as const) {
  const det = mode === 'deterministic' ? ['--deterministic'] : [];

  describe(`a firmware that ends through the test finisher (${mode})`, () => {
    const cases: [string, string, number, string][] = [
      ['PASS', PASS, 0, 'pass'],
      ['FAIL with code 3', FAIL3, 3, 'fail'],
      ['FAIL with code 256 (low byte 0)', FAIL256, 1, 'fail'],
      ['RESET', RESET, 0, 'reset'],
    ];
    for (const [name, file, status, cause] of cases) {
      it(`${name}: exit status ${status}, the core offline with the reason`, async () => {
        const r = await rproc(['run', file, '--json', ...det]);
        assert.equal(r.status, status, r.stderr);
        const evs = eventsOf(r.stdout);
        const exit = named(evs, 'exit')[0];
        assert.equal(exit?.['cause'], cause);
        const offline = evs.find((e) => e.event === 'state' && e['to'] === 'offline' && e.core === 'rproc0');
        assert.equal(offline?.['reason'], exit['reason']);
        assert.match(String(evs.at(-1)?.['reason']), status === 0 ? /ended/ : /test finisher FAIL/);
        // No resource table in these images: booted with a warning.
        assert.ok(
          named(evs, 'log').some(
            (e) => e['level'] === 'warn' && /no resource table/.test(String(e['message'])),
          ),
        );
        if (status > 2)
          assert.match(r.stderr, /^rproc run: rproc0: test finisher FAIL, code 3 \(exit status 3\)\n$/);
        else if (status === 0) assert.equal(r.stderr, '');
      });
    }
  });

  describe(`crashes (${mode})`, () => {
    it('a crash that recovered still exits 3, saying so on stderr', async () => {
      const r = await rproc(['run', 'crash.elf', '--send', 'crasher=illegal', '--json', ...det]);
      assert.equal(r.status, 3, r.stderr);
      const evs = eventsOf(r.stdout);
      assert.equal(named(evs, 'crash').length, 1);
      assert.ok(named(evs, 'recovery').some((e) => e['phase'] === 'done'));
      assert.match(
        r.stderr,
        /^rproc run: rproc0 crashed once \(--allow-crash if that is expected\) \(exit status 3\)\n$/,
      );
      assert.doesNotMatch(r.stderr, STACK_FRAME);
    });

    it('--allow-crash makes the same run exit 0', async () => {
      const r = await rproc(['run', 'crash.elf', '--send', 'crasher=illegal', '--allow-crash', ...det]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /crash #1/);
    });

    it('a firmware that crashes again right after each recovery is stopped: exit 4, even with --allow-crash', async () => {
      const r = await rproc(['run', FAULT, '--crash-loop', '2', '--allow-crash', '--json', ...det]);
      assert.equal(r.status, 4, r.stderr);
      const evs = eventsOf(r.stdout);
      // The first crash, then two more right after their recoveries: stopped, not recovered again.
      assert.equal(named(evs, 'crash').length, 3);
      assert.equal(named(evs, 'recovery').filter((e) => e['phase'] === 'done').length, 2);
      const loop = named(evs, 'crash-loop')[0];
      assert.equal(loop?.core, 'rproc0');
      assert.equal(loop['count'], 2);
      const states = evs.filter((e) => e.event === 'state' && e.core === 'rproc0').map((e) => e['to']);
      assert.deepEqual(states.slice(-2), ['offline', 'deleted']);
      assert.match(
        r.stderr,
        /stopped after crashing again right after recovery 2 times in a row \(exit status 4\)/,
      );
    });
  });
}
