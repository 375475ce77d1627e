// `rproc run` through the real process: the board's auto-boot cores boot along with the firmware
// given, several firmware at once with --core NAME=FILE, run and inspect name segments alike, the
// console keeps stdout for the channel's data, --coredump keeps every dump; --version and --help.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventsOf, removeScratch, rproc, scratchDir, type CliEvent } from './cli-process.ts';

const dir = scratchDir('run');
after(() => removeScratch(dir));
const named = (evs: CliEvent[], event: string): CliEvent[] => evs.filter((e) => e.event === event);

describe('what run boots', () => {
  it("a js FIRMWARE goes to the js core, and the board's auto-boot rv32 core boots its own firmware too", async () => {
    const r = await rproc(['run', 'rpmsg-echo', '--send', 'rpmsg-echo=hi', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const evs = eventsOf(r.stdout);
    assert.deepEqual(named(evs, 'ready')[0]?.['cores'], ['rproc0', 'rproc1']);
    assert.deepEqual(
      named(evs, 'firmware').map((e) => [e.core, e['firmware']]),
      [
        ['rproc0', 'hello.elf'],
        ['rproc1', 'rpmsg-echo'],
      ],
    );
    assert.ok(evs.some((e) => e.event === 'rx' && e.core === 'rproc1' && e['text'] === 'hi'));
  });

  it('--core NAME=FILE boots several firmware, each on its core, and talks to both', async () => {
    const r = await rproc([
      'run',
      '--core',
      'rproc0=echo.elf',
      '--core',
      'rproc1=crasher',
      '--send',
      'rpmsg-echo=to rv32',
      '--send',
      'crasher=to js',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    // Two cores answer on their own threads: which reply comes first is up to the scheduler.
    const rx = named(eventsOf(r.stdout), 'rx').map((e) => [e.core, e['channel'], e['text']]);
    assert.deepEqual(
      rx.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [
        ['rproc0', 'rpmsg-echo', 'to rv32'],
        ['rproc1', 'crasher', 'to js'],
      ],
    );
  });

  it('run and inspect name the segments of an image the same way', async () => {
    const run = await rproc(['run', 'echo.elf', '--deterministic', '--timeout', '0.001', '--json']);
    const inspect = await rproc(['inspect', 'echo.elf', '--json']);
    const fw = named(eventsOf(run.stdout), 'firmware')[0];
    const report = named(eventsOf(inspect.stdout), 'inspect')[0];
    const pick = (s: Record<string, unknown>): unknown[] => [
      s['index'],
      s['da'],
      s['filesz'],
      s['memsz'],
      s['flags'],
    ];
    assert.ok(fw !== undefined && report !== undefined);
    assert.deepEqual(
      (fw['segments'] as Record<string, unknown>[]).map(pick),
      (report['segments'] as Record<string, unknown>[]).map(pick),
    );
    assert.equal((fw['resourceTable'] as { da: string }).da, (report['resourceTable'] as { da: string }).da);
  });
});

describe('--console in text mode', () => {
  it("keeps stdout for the channel's data: the replies, one per line, and nothing else", async () => {
    const r = await rproc(['run', 'echo.elf', '--console', 'rpmsg-echo'], { input: 'hello\nworld\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hello\nworld\n');
    assert.match(r.stderr, /channel rpmsg-echo announced/);
  });
});

describe('--coredump DIR', () => {
  it('keeps a dump per crash, never overwriting one from an earlier run', async () => {
    const dumps = join(dir, 'dumps');
    for (let i = 0; i < 2; i++) {
      const r = await rproc([
        'run',
        'crash.elf',
        '--send',
        'crasher=illegal',
        '--allow-crash',
        '--coredump',
        dumps,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /coredump: \d+ bytes written to .*rproc0-core-1(-2)?\.elf/);
    }
    assert.deepEqual(readdirSync(dumps).sort(), ['rproc0-core-1-2.elf', 'rproc0-core-1.elf']);
  });
});

describe('--version and --help', () => {
  it('--version prints the package version', async () => {
    const r = await rproc(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^rproc \d+\.\d+\.\d+\n$/);
  });

  it('--help summarises the exit statuses and the limits', async () => {
    const r = await rproc(['--help']);
    assert.equal(r.status, 0);
    for (const line of [
      /^ {2}0 {8}success$/m,
      /^ {2}3 {8}run: a core crashed/m,
      /^ {2}128\+sig {2}ended by SIGINT \(130\)/m,
      /at most 2147483/,
    ])
      assert.match(r.stdout, line);
  });

  it('run --help names every option', async () => {
    const r = await rproc(['run', '--help']);
    assert.equal(r.status, 0);
    for (const option of [
      '--core NAME=FILE',
      '--board',
      '--send',
      '--console',
      '--timeout',
      '--coredump',
      '--allow-crash',
      '--crash-loop',
      '--deterministic',
      '--json',
    ])
      assert.ok(r.stdout.includes(option), option);
  });
});
