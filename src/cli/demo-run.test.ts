// `rproc demo` and `rproc run` end to end through the command's own entry point, with --json so
// that the event stream can be checked step by step.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.ts';
import { memoryIo } from './io.ts';
import { bundledJsFirmware } from '../cpu/js/bundled-firmware.ts';
import { readElf } from '../elf/elf-reader.ts';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { findTool } from '../../test/support/cross-tools.ts';

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

interface Ev {
  event: string;
  core?: string;
  [k: string]: unknown;
}

function events(stdout: string): Ev[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Ev);
}

describe('rproc demo', () => {
  it('boots, echoes, crashes, dumps, recovers and shuts down, as JSON events', async () => {
    const dir = tempDir('rproc-demo-test-');
    const io = memoryIo();
    const status = await main(['demo', '--json', '--coredump', dir], io);
    assert.equal(status, 0, io.stderr);
    const evs = events(io.stdout);
    const label = (e: Ev): string =>
      e.event === 'state'
        ? `state:${String(e['to'])}`
        : e.event === 'channel'
          ? `channel:${String(e['action'])}`
          : e.event === 'recovery'
            ? `recovery:${String(e['phase'])}`
            : e.event;
    const steps = evs.filter((e) => e.core === 'rproc0').map(label);
    // The story, in order: each step found after the previous one.
    let at = 0;
    for (const step of [
      'state:running',
      'channel:add',
      'echo',
      'state:crashed',
      'crash',
      'coredump',
      'recovery:done',
      'echo',
      'state:offline',
      'state:deleted',
    ]) {
      const i = steps.indexOf(step, at);
      assert.ok(i >= 0, `missing ${step} after position ${at} in ${steps.join(' ')}`);
      at = i + 1;
    }
    // The recovered firmware announces its channel again; that may come before 'recovery done'
    // (the core runs from rproc_start on, as in Linux, where the name service is asynchronous too).
    const crashAt = steps.indexOf('crash');
    assert.ok(
      steps.indexOf('channel:add', crashAt) > crashAt,
      `no channel after the crash: ${steps.join(' ')}`,
    );
    const dump = evs.find((e) => e.event === 'coredump');
    const path = String(dump?.['path']);
    assert.ok(existsSync(path));
    assert.equal(readElf(new Uint8Array(readFileSync(path))).image?.header.type, 4);
    // The crashed core is the rv32 one: the event says how to open the dump, and gdb, if here, can.
    assert.equal(dump?.['gdb'], `gdb-multiarch firmware/prebuilt/crash.elf ${path}`);
    const gdb = findTool('gdb-multiarch');
    if (gdb !== undefined) {
      const r = spawnSync(gdb, ['-nx', '-batch', '-ex', 'bt', 'firmware/prebuilt/crash.elf', path], {
        encoding: 'utf8',
      });
      assert.match(r.stdout, /^#0\s+0x[0-9a-f]+ in crash_store \(\)$/m, r.stdout + r.stderr);
    }
    const echo = evs.find((e) => e.event === 'echo' && e['count'] === 200);
    assert.ok(typeof echo?.['p50Ms'] === 'number');
  });
});

describe('rproc demo --deterministic', () => {
  it('tells the same story with the same virtual times on every run', async () => {
    const dir = tempDir('rproc-demo-det-');
    const runs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const io = memoryIo();
      assert.equal(await main(['demo', '--deterministic', '--json', '--coredump', dir], io), 0, io.stderr);
      runs.push(io.stdout);
    }
    assert.equal(runs[1], runs[0]);
    const evs = events(runs[0] ?? '');
    for (const step of ['crash', 'coredump', 'recovery'])
      assert.ok(
        evs.some((e) => e.event === step),
        step,
      );
    // Round trips on virtual time: the C echo firmware costs guest instructions, so > 0 ms.
    const rv32 = evs.find((e) => e.event === 'echo' && e.core === 'rproc0');
    assert.ok(typeof rv32?.['p50Ms'] === 'number' && rv32['p50Ms'] > 0);
    // Crash handling and recovery take no virtual time.
    const t = (ev: string): unknown => evs.find((e) => e.event === ev && e.core === 'rproc0')?.['t'];
    assert.equal(t('crash'), evs.find((e) => e.event === 'recovery' && e['phase'] === 'done')?.['t']);
  });
});

describe('rproc run', () => {
  it('--deterministic gives the same output on every run, on virtual time', async () => {
    const argv = [
      'run',
      'firmware/prebuilt/echo.elf',
      '--deterministic',
      '--send',
      'rpmsg-echo=hi',
      '--timeout',
      '5',
    ];
    const cwd = process.cwd();
    process.chdir(join(import.meta.dirname, '..', '..'));
    const outs: string[] = [];
    const t0 = performance.now();
    try {
      for (let i = 0; i < 2; i++) {
        const io = memoryIo();
        assert.equal(await main(argv, io), 0, io.stderr);
        outs.push(io.stdout);
      }
    } finally {
      process.chdir(cwd);
    }
    assert.equal(outs[1], outs[0]);
    assert.match(outs[0] ?? '', /rpmsg-echo ← "hi"/);
    // --timeout 5 is five virtual seconds, which an idle core skips through.
    assert.match(outs[0] ?? '', /\s5\.000\d+s rproc0 state running → offline/);
    assert.ok(performance.now() - t0 < 5000);
  });

  it('boots a js firmware file, sends to its channel and prints the reply', async () => {
    const dir = tempDir('rproc-run-test-');
    const file = join(dir, 'echo.elf');
    writeFileSync(file, bundledJsFirmware('rpmsg-echo'));
    const io = memoryIo();
    const status = await main(['run', file, '--json', '--send', 'rpmsg-echo=hello there'], io);
    assert.equal(status, 0, io.stderr);
    const evs = events(io.stdout);
    assert.ok(evs.some((e) => e.event === 'channel' && e['channel'] === 'rpmsg-echo'));
    assert.ok(evs.some((e) => e.event === 'rx' && e['text'] === 'hello there'));
    assert.ok(evs.some((e) => e.event === 'trace' && String(e['text']).includes('rpmsg-echo: ready')));
    assert.ok(evs.some((e) => e.event === 'state' && e['to'] === 'offline'));
  });

  const failures: [string, string[], RegExp, number][] = [
    [
      'a missing firmware file',
      ['run', 'no/such.elf'],
      /ENOENT: FIRMWARE no\/such.elf: firmware 'no\/such.elf' not found/,
      1,
    ],
    ['a file that is not ELF', ['run', 'README.md'], /bad magic/, 1],
    [
      'a missing board file',
      ['run', 'firmware/prebuilt/hello.elf', '--board', 'no/board.dtb'],
      /no\/board\.dtb/,
      1,
    ],
    ['a bad --send', ['run', 'x.elf', '--send', 'novalue'], /CHANNEL=TEXT/, 2],
    ['a bad --timeout', ['run', 'x.elf', '--timeout', 'soon'], /number of seconds/, 2],
  ];
  for (const [name, argv, pattern, code] of failures) {
    it(`fails with one clear line on ${name}`, async () => {
      const io = memoryIo();
      const cwd = process.cwd();
      process.chdir(join(import.meta.dirname, '..', '..'));
      try {
        assert.equal(await main(argv, io), code);
      } finally {
        process.chdir(cwd);
      }
      assert.match(io.stderr, pattern);
      assert.equal(io.stderr.trim().split('\n').length, 1, io.stderr);
    });
  }
});
