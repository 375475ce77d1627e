// The board verbs, spawned as a user runs them: against the simulated kernel laid out on disk
// (--sysfs, --dev), against a system without remoteproc, and against the virtual SoC (--board).
// Each path ends in its documented exit status with one line naming the value on failure.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeTree } from '../../test/fake-kernel/fake-tree.ts';
import { fakeFirmwareImage } from '../../test/fake-kernel/fake-programs.ts';

const root = new URL('../../', import.meta.url).pathname;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function rproc(args: readonly string[], input?: string, during?: () => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/rproc.mjs', ...args], { cwd: root, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      during?.();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const jsonLines = (out: string): Record<string, unknown>[] =>
  out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('rproc board verbs on Linux (simulated kernel on disk)', () => {
  it('ls, start --firmware FILE, state, channels, send, trace, stop: the whole life of a processor', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4' }, { name: 'dsp' }] });
    const dir = mkdtempSync(join(tmpdir(), 'rproc-cli-'));
    const at = ['--sysfs', tree.sysfs, '--dev', tree.dev];
    try {
      const fw = join(dir, 'echo.elf');
      writeFileSync(fw, fakeFirmwareImage('all-echo'));
      const ls = await rproc(['ls', ...at]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(
        ls.stdout,
        /^DEVICE +NAME +STATE +FIRMWARE +RECOVERY +COREDUMP\nremoteproc0 +m4 +offline +rproc-m4-fw +enabled +disabled\n/,
      );

      const start = await rproc(['start', 'm4', '--firmware', fw, ...at]);
      assert.equal(start.code, 0, start.stderr);
      assert.equal(start.stdout, 'remoteproc0 (m4): offline → running\n');
      await tree.settled();
      assert.equal(tree.kernel.processor('m4').firmware, 'echo.elf');

      const again = await rproc(['start', 'm4', ...at]);
      assert.equal(again.code, 1);
      assert.match(
        again.stderr,
        /^rproc start: EBUSY: remoteproc0 \(m4\) is already running: not writing "start"/,
      );
      assert.equal(again.stderr.trim().split('\n').length, 1);
      assert.equal(tree.kernel.processor('m4').power, 1);

      // Read-only verbs, run side by side.
      const [state, channels, trace] = await Promise.all([
        rproc(['state', 'm4', '--json', ...at]),
        rproc(['channels', '--json', ...at]),
        rproc(['trace', 'm4', ...at]),
      ]);
      assert.equal(trace.stdout, 'all-echo: ready\n');
      assert.deepEqual(
        jsonLines(state.stdout).filter((e) => e['event'] === 'state'),
        [{ event: 'state', processor: 'm4', device: 'remoteproc0', state: 'running' }],
      );

      const listed = jsonLines(channels.stdout).filter((e) => e['event'] === 'channel');
      assert.deepEqual(
        listed.map((c) => [c['id'], c['processor'], c['src'], c['dst'], c['kind'], c['driver'] ?? null]),
        [
          ['virtio0.rpmsg-raw.-1.1024', 'm4', '0x400', '0x400', 'raw', 'rpmsg_chrdev'],
          ['virtio0.rpmsg-tty.-1.1025', 'm4', '0x401', '0x401', 'tty', 'rpmsg_tty'],
          ['virtio0.sensor.-1.1026', 'm4', '0xffffffff', '0x402', 'other', null],
        ],
      );

      const send = await rproc(['send', 'sensor', 'hello there', ...at]);
      assert.equal(send.code, 0, send.stderr);
      assert.equal(send.stdout, 'sensor → "hello there"\nsensor ← "hello there"\n');
      await tree.settled();
      // The binding made for the send was undone.
      assert.equal(tree.kernel.channel('sensor').driver, undefined);

      const stop = await rproc(['stop', 'm4', ...at]);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(stop.stdout, 'remoteproc0 (m4): running → offline\n');
      await tree.settled();
      const stopAgain = await rproc(['stop', 'm4', ...at]);
      assert.equal(stopAgain.code, 1);
      assert.match(stopAgain.stderr, /^rproc stop: EINVAL: remoteproc0 \(m4\) is offline/);
    } finally {
      await tree.settled();
      tree.close();
      rmSync(dir, { recursive: true });
    }
  });

  it('state --watch reports changes and crashes as they happen', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4', firmware: 'crasher.elf' }] });
    const at = ['--sysfs', tree.sysfs, '--dev', tree.dev];
    writeFileSync(join(tree.firmwareDir, 'crasher.elf'), fakeFirmwareImage('crasher'));
    const m4 = tree.kernel.processor('m4');
    m4.recoveryDisabled = true;
    try {
      let acted = false;
      const watch = await rproc(
        ['state', 'm4', '--watch', '--timeout', '3', '--json', ...at],
        undefined,
        () => {
          if (acted) return;
          acted = true;
          // The first line is out: the watch has its baseline. Boot, then crash the processor.
          tree.kernel.rprocBoot(m4, 'test');
          tree.kernel.onChange();
          setTimeout(() => tree.kernel.reportCrash(m4, 0), 300);
        },
      );
      assert.equal(watch.code, 0, watch.stderr);
      const events = jsonLines(watch.stdout).map((e) => [e['event'], e['state'] ?? e['to'] ?? null]);
      assert.deepEqual(events, [
        ['state', 'offline'],
        ['state', 'running'],
        ['state', 'crashed'],
        ['crash', null],
      ]);
    } finally {
      tree.close();
    }
  });

  it('console: stdin to a tty channel, what comes back to stdout', async () => {
    // A tty channel: the pty standing in for /dev/ttyRPMSG0 may merge writes, as a tty does.
    const tree = new FakeTree({ processors: [{ name: 'm4', firmware: 'tty.elf' }] });
    writeFileSync(join(tree.firmwareDir, 'tty.elf'), fakeFirmwareImage('tty-echo'));
    tree.kernel.rprocBoot(tree.kernel.processor('m4'), 'test');
    tree.render();
    try {
      await tree.settled();
      const run = await rproc(
        ['console', 'rpmsg-tty', '--sysfs', tree.sysfs, '--dev', tree.dev],
        'one\ntwo\n',
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'one\ntwo\n');
    } finally {
      tree.close();
    }
  });
});

describe('rproc board verbs elsewhere', () => {
  it('says in one line that a system has no remoteproc (exit status 1)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rproc-nosys-'));
    try {
      const run = await rproc(['ls', '--sysfs', empty]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.match(
        run.stderr,
        /^rproc ls: ENODEV: no remoteproc on this system: .*class\/remoteproc does not exist/,
      );
      assert.equal(run.stderr.trim().split('\n').length, 1);
      const json = await rproc(['ls', '--json', '--sysfs', empty]);
      assert.equal(json.code, 1);
      assert.ok(jsonLines(json.stdout).some((e) => JSON.stringify(e).includes('ENODEV')));
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('acts on the virtual SoC with --board, and refuses --board with --sysfs (exit status 2)', async () => {
    const ls = await rproc(['ls', '--board', 'default', '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    const names = jsonLines(ls.stdout)
      .filter((e) => e['event'] === 'processor')
      .map((e) => [e['device'], e['name']]);
    assert.deepEqual(names, [
      ['remoteproc0', 'rproc0'],
      ['remoteproc1', 'rproc1'],
    ]);
    const both = await rproc(['ls', '--board', 'default', '--sysfs', '/sys']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--board selects the virtual SoC; --sysfs and --dev select Linux/);
  });
});
