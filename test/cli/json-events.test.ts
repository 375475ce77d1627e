// --json through the real process: every stdout line is one JSON event that validates against
// docs/cli-events.schema.json, the first is `start` with "schema": 1, the last `end` with the exit
// status, and `t` never goes back — for demo, run (sends, a crash, a finisher exit, the console,
// a failure) and inspect (a good and a broken image).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, type Schema } from './json-schema.ts';
import { ROOT, eventsOf, removeScratch, rproc, scratchDir } from './cli-process.ts';
import { failingFirmware } from '../support/tiny-firmware.ts';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'cli-events.schema.json'), 'utf8')) as Schema;
const dir = scratchDir('json');
after(() => removeScratch(dir));
const fail3 = join(dir, 'fail3.elf');
writeFileSync(fail3, failingFirmware(3));
const broken = join(dir, 'broken.elf');
const hello = new Uint8Array(readFileSync(join(ROOT, 'firmware', 'prebuilt', 'hello.elf')));
new DataView(hello.buffer).setUint32(0x1078 + 16, 0x1000, true);
writeFileSync(broken, hello);

const runs: [string, string[], number, string?][] = [
  ['demo', ['demo'], 0],
  ['demo --deterministic', ['demo', '--deterministic'], 0],
  ['run with --send', ['run', 'echo.elf', '--send', 'rpmsg-echo=hello'], 0],
  [
    'run with a crash and a coredump',
    ['run', 'crash.elf', '--send', 'crasher=illegal', '--coredump', dir],
    3,
  ],
  ['run of a firmware that FAILs', ['run', fail3, '--deterministic'], 3],
  ['run --console', ['run', 'echo.elf', '--console', 'rpmsg-echo'], 0, 'one\ntwo\n'],
  ['run that fails', ['run', 'echo.elf', '--send', 'nope=x', '--timeout', '1'], 1],
  ['inspect', ['inspect', 'hello.elf'], 0],
  ['inspect of a broken image', ['inspect', broken], 1],
  ['inspect of a missing file', ['inspect', 'no/such.elf'], 1],
];

describe('--json output validates against docs/cli-events.schema.json', () => {
  for (const [name, args, status, input] of runs) {
    it(name, async () => {
      const r = await rproc([...args, '--json'], input === undefined ? {} : { input });
      assert.equal(r.status, status, r.stderr);
      const evs = eventsOf(r.stdout);
      const problems = evs.flatMap((e, i) =>
        validate(schema, e).map((p) => `line ${i + 1} (${e.event}): ${p}`),
      );
      assert.deepEqual(problems, []);
      assert.deepEqual(evs[0], {
        event: 'start',
        t: 0,
        schema: 1,
        command: args[0],
        version: evs[0]?.['version'],
      });
      assert.equal(evs.at(-1)?.event, 'end');
      assert.equal(evs.at(-1)?.['status'], status);
      for (let i = 1; i < evs.length; i++)
        assert.ok((evs[i]?.t ?? 0) >= (evs[i - 1]?.t ?? 0), `t goes back at line ${i + 1}`);
      if (input !== undefined) {
        // Console traffic is events too, in both directions.
        assert.deepEqual(
          evs.filter((e) => e.event === 'rx').map((e) => e['text']),
          ['one', 'two'],
        );
        assert.deepEqual(
          evs.filter((e) => e.event === 'tx').map((e) => e['text']),
          ['one', 'two'],
        );
      }
    });
  }

  it('the schema refuses what the CLI must not print: a decimal address, an unknown event', () => {
    const channel = {
      event: 'channel',
      t: 1,
      core: 'rproc0',
      action: 'add',
      channel: 'x',
      dst: 1024,
      device: 'virtio0',
    };
    assert.notDeepEqual(validate(schema, channel), []);
    assert.notDeepEqual(validate(schema, { event: 'surprise', t: 0 }), []);
    assert.deepEqual(validate(schema, { ...channel, dst: '0x400' }), []);
  });
});
