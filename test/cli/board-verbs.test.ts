// The board verbs, spawned as a user runs them (bin/rproc.mjs): against the simulated kernel laid
// out on disk (--sysfs, --dev), a system without remoteproc, and the virtual SoC (--board). Each
// path ends in its documented exit status (docs/cli.md, "Board verbs") with one line naming the
// value on failure; Ctrl-C and SIGTERM end `state --watch` and `console` with 128 + n after they
// closed what they opened; every --json line validates against docs/cli-events.schema.json.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeTree } from '../fake-kernel/fake-tree.ts';
import { fakeFirmwareImage } from '../fake-kernel/fake-programs.ts';
import { validate, type Schema } from './json-schema.ts';
import {
  ROOT,
  RprocProcess,
  STACK_FRAME,
  eventsOf,
  removeScratch,
  rproc,
  scratchDir,
  type CliEvent,
  type CliResult,
} from './cli-process.ts';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'cli-events.schema.json'), 'utf8')) as Schema;
const scratch = scratchDir('board');
after(() => removeScratch(scratch));

/** The --json events of a finished run, each checked against the schema, `start` first, `end` last. */
function checkedEvents(r: CliResult, verb: string): CliEvent[] {
  const evs = eventsOf(r.stdout);
  const problems = evs.flatMap((e, i) => validate(schema, e).map((p) => `line ${i + 1} (${e.event}): ${p}`));
  assert.deepEqual(problems, []);
  const first = evs[0];
  assert.deepEqual([first?.event, first?.['command']], ['start', verb], r.stderr);
  assert.equal(evs.at(-1)?.event, 'end');
  assert.equal(evs.at(-1)?.['status'], r.status);
  return evs;
}

/** A failure: the exit status, and exactly one line on stderr matching `line`, no stack trace. */
function assertOneLine(r: CliResult, status: number, line: RegExp): void {
  assert.equal(r.status, status, r.stderr);
  assert.doesNotMatch(r.stderr, STACK_FRAME);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, line);
}

const T = String.raw`^ *\d+\.\d{3}s `;

describe('rproc board verbs on Linux (simulated kernel on disk)', () => {
  it('ls, start --firmware FILE, state, channels, send, trace, stop: the whole life of a processor', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4' }, { name: 'dsp' }] });
    const at = ['--sysfs', tree.sysfs, '--dev', tree.dev];
    try {
      const fw = join(scratch, 'echo.elf');
      writeFileSync(fw, fakeFirmwareImage('all-echo'));
      const ls = await rproc(['ls', ...at]);
      assert.equal(ls.status, 0, ls.stderr);
      assert.match(
        ls.stdout,
        /^DEVICE +NAME +STATE +FIRMWARE +RECOVERY +COREDUMP\nremoteproc0 +m4 +offline +rproc-m4-fw +enabled +disabled\n/,
      );
      const lsJson = await rproc(['ls', '--json', ...at]);
      assert.deepEqual(
        checkedEvents(lsJson, 'ls')
          .filter((e) => e.event === 'processor')
          .map((e) => [e.core, e['device'], e['state']]),
        [
          ['m4', 'remoteproc0', 'offline'],
          ['dsp', 'remoteproc1', 'offline'],
        ],
      );

      const start = await rproc(['start', 'm4', '--firmware', fw, ...at]);
      assert.equal(start.status, 0, start.stderr);
      assert.match(start.stdout, new RegExp(`${T}m4 remoteproc0: offline → running\\n$`));
      await tree.settled();
      assert.equal(tree.kernel.processor('m4').firmware, 'echo.elf');

      const again = await rproc(['start', 'm4', ...at]);
      assertOneLine(
        again,
        1,
        /^rproc start: EBUSY: remoteproc0 \(m4\) is already running: not writing "start"/,
      );
      assert.equal(tree.kernel.processor('m4').power, 1);

      // Read-only verbs, run side by side.
      const [state, channels, trace] = await Promise.all([
        rproc(['state', 'm4', '--json', ...at]),
        rproc(['channels', '--json', ...at]),
        rproc(['trace', 'm4', ...at]),
      ]);
      assert.equal(trace.stdout, 'all-echo: ready\n');
      assert.deepEqual(
        checkedEvents(state, 'state')
          .filter((e) => e.event === 'processor')
          .map((e) => [e.core, e['device'], e['state'], e['firmware']]),
        [['m4', 'remoteproc0', 'running', 'echo.elf']],
      );
      const listed = checkedEvents(channels, 'channels').filter((e) => e.event === 'rpmsg-device');
      assert.deepEqual(
        listed.map((c) => [c['id'], c.core, c['src'], c['dst'], c['kind'], c['driver'] ?? null]),
        [
          ['virtio0.rpmsg-raw.-1.1024', 'm4', '0x400', '0x400', 'raw', 'rpmsg_chrdev'],
          ['virtio0.rpmsg-tty.-1.1025', 'm4', '0x401', '0x401', 'tty', 'rpmsg_tty'],
          ['virtio0.sensor.-1.1026', 'm4', '0xffffffff', '0x402', 'other', null],
        ],
      );

      const send = await rproc(['send', 'sensor', 'hello there', ...at]);
      assert.equal(send.status, 0, send.stderr);
      assert.match(
        send.stdout,
        new RegExp(`${T}m4 sensor → "hello there"\\n *\\d+\\.\\d{3}s m4 sensor ← "hello there"\\n$`),
      );
      await tree.settled();
      // The binding made for the send was undone.
      assert.equal(tree.kernel.channel('sensor').driver, undefined);
      const sendJson = await rproc(['send', 'rpmsg-raw', 'again', '--json', ...at]);
      assert.deepEqual(
        checkedEvents(sendJson, 'send')
          .filter((e) => e.event === 'tx' || e.event === 'rx')
          .map((e) => [e.event, e.core, e['id'], e['text']]),
        [
          ['tx', 'm4', 'virtio0.rpmsg-raw.-1.1024', 'again'],
          ['rx', 'm4', 'virtio0.rpmsg-raw.-1.1024', 'again'],
        ],
      );

      const stop = await rproc(['stop', 'm4', ...at]);
      assert.equal(stop.status, 0, stop.stderr);
      assert.match(stop.stdout, new RegExp(`${T}m4 remoteproc0: running → offline\\n$`));
      await tree.settled();
      const stopAgain = await rproc(['stop', 'm4', ...at]);
      assertOneLine(stopAgain, 1, /^rproc stop: EINVAL: remoteproc0 \(m4\) is offline/);
    } finally {
      await tree.settled();
      tree.close();
    }
  });

  it('failures name the value: an unknown processor, a channel that never came, a bad --index', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4' }] });
    const at = ['--sysfs', tree.sysfs, '--dev', tree.dev];
    try {
      assertOneLine(await rproc(['start', 'm7', ...at]), 1, /^rproc start: ENODEV: .*"m7"/);
      const nope = await rproc(['send', 'nope', 'x', '--timeout', '0.2', '--json', ...at]);
      assertOneLine(nope, 1, /^rproc send: ETIMEDOUT: .*"nope"/);
      assert.equal(checkedEvents(nope, 'send').find((e) => e.event === 'error')?.['code'], 'ETIMEDOUT');
      assertOneLine(await rproc(['trace', 'm4', '--index=-1', ...at]), 2, /--index .*"-1"/);
      assertOneLine(await rproc(['state', 'm4', '--watch', '--timeout', 'soon', ...at]), 2, /"soon"/);
    } finally {
      tree.close();
    }
  });

  it('state --watch reports changes and crashes as they happen; a crash makes its status 3', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4', firmware: 'crasher.elf' }] });
    const at = ['--sysfs', tree.sysfs, '--dev', tree.dev];
    writeFileSync(join(tree.firmwareDir, 'crasher.elf'), fakeFirmwareImage('crasher'));
    const m4 = tree.kernel.processor('m4');
    m4.recoveryDisabled = true;
    try {
      const watch = new RprocProcess(['state', 'm4', '--watch', '--timeout', '3', '--json', ...at]);
      // The baseline is out: boot, then crash the processor.
      await watch.waitFor((e) => e.event === 'processor');
      tree.kernel.rprocBoot(m4, 'test');
      tree.kernel.onChange();
      setTimeout(() => tree.kernel.reportCrash(m4, 0), 300);
      const r = await watch.done;
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /^rproc state: m4 crashed 1 time\(s\) while watched \(exit status 3\)\n$/);
      const events = checkedEvents(r, 'state').map((e) => [e.event, e['state'] ?? e['to'] ?? null]);
      assert.deepEqual(events, [
        ['start', null],
        ['processor', 'offline'],
        ['state', 'running'],
        ['state', 'crashed'],
        ['crash', null],
        ['end', null],
      ]);
    } finally {
      tree.close();
    }
  });

  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`state --watch without --timeout ends at ${signal} with ${status}, leaving the processor as it was`, async () => {
      const tree = new FakeTree({ processors: [{ name: 'm4', firmware: 'tty.elf' }] });
      writeFileSync(join(tree.firmwareDir, 'tty.elf'), fakeFirmwareImage('tty-echo'));
      const m4 = tree.kernel.processor('m4');
      tree.kernel.rprocBoot(m4, 'test');
      tree.render();
      try {
        const watch = new RprocProcess([
          'state',
          'm4',
          '--watch',
          '--json',
          '--sysfs',
          tree.sysfs,
          '--dev',
          tree.dev,
        ]);
        await watch.waitFor((e) => e.event === 'processor');
        watch.child.kill(signal);
        const r = await watch.done;
        assert.equal(r.status, status, r.stderr);
        assert.equal(r.stderr, '');
        const evs = checkedEvents(r, 'state');
        assert.deepEqual(
          evs
            .filter((e) => e.event === 'signal' || e.event === 'end')
            .map((e) => [e.event, e['signal'] ?? e['reason']]),
          [
            ['signal', signal],
            ['end', `ended by ${signal}`],
          ],
        );
        assert.equal(m4.state, 'running');
        assert.equal(m4.power, 1);
      } finally {
        tree.close();
      }
    });
  }

  it('send waiting for a channel ends at Ctrl-C with 130 at once, not at its --timeout', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4' }] });
    try {
      const send = new RprocProcess(
        ['send', 'nope', 'x', '--timeout', '60', '--json', '--sysfs', tree.sysfs, '--dev', tree.dev],
        { timeoutMs: 30_000 },
      );
      await send.waitFor((e) => e.event === 'start');
      const sent = Date.now();
      send.child.kill('SIGINT');
      const r = await send.done;
      assert.equal(r.status, 130, r.stderr);
      assert.equal(r.stderr, '');
      assert.ok(Date.now() - sent < 20_000, `ended ${Date.now() - sent} ms after the signal`);
      assert.deepEqual(
        checkedEvents(r, 'send').map((e) => e.event),
        ['start', 'signal', 'end'],
      );
    } finally {
      tree.close();
    }
  });

  it('console: stdin to a tty channel, what comes back to stdout, status 0 at the end of input', async () => {
    // A tty channel: the pty standing in for /dev/ttyRPMSG0 may merge writes, as a tty does.
    const tree = new FakeTree({ processors: [{ name: 'm4', firmware: 'tty.elf' }] });
    writeFileSync(join(tree.firmwareDir, 'tty.elf'), fakeFirmwareImage('tty-echo'));
    tree.kernel.rprocBoot(tree.kernel.processor('m4'), 'test');
    tree.render();
    try {
      await tree.settled();
      const run = await rproc(['console', 'rpmsg-tty', '--sysfs', tree.sysfs, '--dev', tree.dev], {
        input: 'one\ntwo\n',
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'one\ntwo\n');
    } finally {
      tree.close();
    }
  });

  it('console ends at Ctrl-C with 130 and undoes the rpmsg_chrdev binding it made', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4', firmware: 'echo.elf' }] });
    writeFileSync(join(tree.firmwareDir, 'echo.elf'), fakeFirmwareImage('all-echo'));
    tree.kernel.rprocBoot(tree.kernel.processor('m4'), 'test');
    tree.render();
    try {
      await tree.settled();
      const con = new RprocProcess(
        ['console', 'sensor', '--json', '--sysfs', tree.sysfs, '--dev', tree.dev],
        {
          keepStdinOpen: true,
        },
      );
      con.child.stdin?.write('ping\n');
      await con.waitFor((e) => e.event === 'rx');
      assert.equal(tree.kernel.channel('sensor').driver, 'rpmsg_chrdev');
      con.child.kill('SIGINT');
      const r = await con.done;
      assert.equal(r.status, 130, r.stderr);
      const evs = checkedEvents(r, 'console');
      assert.deepEqual(
        evs
          .filter((e) => e.event === 'tx' || e.event === 'rx')
          .map((e) => [e.event, e['text'], e['src'] ?? null]),
        [
          ['tx', 'ping', null],
          ['rx', 'ping', '0x402'],
        ],
      );
      await tree.settled();
      assert.equal(tree.kernel.channel('sensor').driver, undefined);
    } finally {
      tree.close();
    }
  });

  it('console: the channel going away ends it with status 1 and one line', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4', firmware: 'echo.elf' }] });
    writeFileSync(join(tree.firmwareDir, 'echo.elf'), fakeFirmwareImage('all-echo'));
    const m4 = tree.kernel.processor('m4');
    tree.kernel.rprocBoot(m4, 'test');
    tree.render();
    try {
      await tree.settled();
      const con = new RprocProcess(
        ['console', 'rpmsg-raw', '--json', '--sysfs', tree.sysfs, '--dev', tree.dev],
        {
          keepStdinOpen: true,
        },
      );
      con.child.stdin?.write('ping\n');
      await con.waitFor((e) => e.event === 'rx');
      tree.kernel.rprocShutdown(m4, 'test');
      tree.kernel.onChange();
      const r = await con.done;
      assertOneLine(r, 1, /^rproc console: EPIPE: .*virtio0\.rpmsg-raw\.-1\.1024/);
      checkedEvents(r, 'console');
    } finally {
      tree.close();
    }
  });
});

describe('rproc board verbs elsewhere', () => {
  it('says in one line that a system has no remoteproc (exit status 1)', async () => {
    const empty = scratchDir('nosys');
    try {
      const run = await rproc(['ls', '--sysfs', empty]);
      assert.equal(run.stdout, '');
      assertOneLine(
        run,
        1,
        /^rproc ls: ENODEV: no remoteproc on this system: .*class\/remoteproc does not exist/,
      );
      const json = await rproc(['ls', '--json', '--sysfs', empty]);
      assert.equal(json.status, 1);
      assert.equal(checkedEvents(json, 'ls').find((e) => e.event === 'error')?.['code'], 'ENODEV');
    } finally {
      removeScratch(empty);
    }
  });

  it('acts on the virtual SoC with --board, and refuses --board with --sysfs (exit status 2)', async () => {
    const ls = await rproc(['ls', '--board', 'default', '--json']);
    assert.equal(ls.status, 0, ls.stderr);
    assert.deepEqual(
      checkedEvents(ls, 'ls')
        .filter((e) => e.event === 'processor')
        .map((e) => [e['device'], e.core]),
      [
        ['remoteproc0', 'rproc0'],
        ['remoteproc1', 'rproc1'],
      ],
    );
    // The default board with its js core booting the echo program by itself, as a board file.
    const board = join(scratch, 'echo-board.dts');
    const dts = readFileSync(join(ROOT, 'src', 'soc', 'fdt', 'boards', 'default-board.dts'), 'utf8');
    writeFileSync(
      board,
      dts.replace('firmware-name = "rpmsg-echo";', 'firmware-name = "rpmsg-echo";\n\t\tauto-boot;'),
    );
    const send = await rproc(['send', 'rpmsg-echo', 'hi', '--board', board, '--json']);
    assert.deepEqual(
      checkedEvents(send, 'send')
        .filter((e) => e.event === 'rx')
        .map((e) => [e.core, e['text']]),
      [['rproc1', 'hi']],
    );
    const both = await rproc(['ls', '--board', 'default', '--sysfs', '/sys']);
    assertOneLine(both, 2, /--board selects the virtual SoC; --sysfs and --dev select Linux/);
  });
});
