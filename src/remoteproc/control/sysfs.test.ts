// The sysfs attributes against Linux's remoteproc_sysfs.c: exact texts, sysfs_streq parsing, errno
// codes, read-only mode, and the control-interface cases TC-C02, TC-C03 (our deviation), TC-C04,
// TC-C12 and TC-C13 of docs/malformed-input-cases.md, driven through the attributes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrnoName } from '../../util/errors.ts';
import { RPROC_WATCHDOG } from '../rproc-state.ts';
import { RprocSysfs, SYSFS_ATTRS } from './sysfs.ts';
import { attachBench, fixtureBench, settle, HELLO_ELF } from '../../../test/support/control-fixtures.ts';

function rejects(code: ErrnoName, message?: RegExp): { name: string; code: ErrnoName; message?: RegExp } {
  return message === undefined ? { name: 'RprocError', code } : { name: 'RprocError', code, message };
}

describe('sysfs attributes', () => {
  it('lists the attributes in Linux order under /sys/class/remoteproc/remoteproc0', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    assert.equal(sysfs.path, '/sys/class/remoteproc/remoteproc0');
    assert.deepEqual(sysfs.list(), ['coredump', 'recovery', 'firmware', 'state', 'name']);
    assert.deepEqual(
      SYSFS_ATTRS.map((a) => sysfs.mode(a)),
      [0o644, 0o644, 0o644, 0o644, 0o444],
    );
  });

  it('reads every attribute of a fresh processor with its trailing newline', async () => {
    const sysfs = new RprocSysfs((await fixtureBench()).rproc);
    const expected: readonly [string, string][] = [
      ['state', 'offline\n'],
      ['firmware', 'hello.elf\n'],
      ['recovery', 'enabled\n'],
      ['coredump', 'disabled\n'],
      ['name', 'm0\n'],
    ];
    for (const [attr, text] of expected) assert.equal(sysfs.read(attr), text, attr);
  });

  it('unknown attributes are ENOENT for read and write', async () => {
    const sysfs = new RprocSysfs((await fixtureBench()).rproc);
    assert.throws(() => sysfs.read('power'), rejects('ENOENT', /power does not exist/));
    await assert.rejects(sysfs.write('power', 'on'), rejects('ENOENT'));
  });

  it('name is read-only: writing it is EACCES, as in Linux', async () => {
    const sysfs = new RprocSysfs((await fixtureBench()).rproc);
    await assert.rejects(sysfs.write('name', 'other'), rejects('EACCES', /read-only \(mode 444\)/));
    assert.equal(sysfs.read('name'), 'm0\n');
  });
});

describe('sysfs state', () => {
  it('start and stop return the byte count and drive the processor', async () => {
    const { rproc, platform } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    assert.equal(await sysfs.write('state', 'start\n'), 6);
    assert.equal(sysfs.read('state'), 'running\n');
    assert.equal(rproc.power, 1);
    assert.equal(platform.running, true);
    assert.equal(await sysfs.write('state', 'stop'), 4);
    assert.equal(sysfs.read('state'), 'offline\n');
    assert.equal(rproc.power, 0);
  });

  it('TC-C02: "start" twice then "stop" once keeps it running (power 2 → 1); a second "stop" stops it', async () => {
    const { rproc, platform } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    assert.equal(await sysfs.write('state', 'start\n'), 6);
    assert.equal(await sysfs.write('state', 'start\n'), 6);
    assert.equal(rproc.power, 2);
    assert.equal(await sysfs.write('state', 'stop\n'), 5);
    assert.equal(sysfs.read('state'), 'running\n');
    assert.equal(rproc.power, 1);
    assert.equal(platform.calls.filter((c) => c === 'start').length, 1);
    assert.equal(await sysfs.write('state', 'stop\n'), 5);
    assert.equal(sysfs.read('state'), 'offline\n');
    assert.equal(rproc.power, 0);
    assert.equal(platform.running, false);
  });

  it('TC-C03 (deviation): "stop" while crashed with recovery disabled succeeds (Linux: EINVAL); "recover" then does nothing', async () => {
    const { rproc, platform } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await sysfs.write('recovery', 'disabled\n');
    await sysfs.write('state', 'start\n');
    const crashed = rproc.next('crash');
    rproc.reportCrash(RPROC_WATCHDOG);
    await crashed;
    assert.equal(sysfs.read('state'), 'crashed\n');
    // Linux's rproc_shutdown refuses CRASHED, leaving such a processor impossible to stop.
    assert.equal(await sysfs.write('state', 'stop\n'), 5);
    assert.equal(sysfs.read('state'), 'offline\n');
    assert.equal(rproc.power, 0);
    assert.equal(rproc.resources.idle, true);
    const calls = platform.calls.length;
    // The processor is offline now, so there is nothing to recover: the write succeeds and no op runs.
    assert.equal(await sysfs.write('recovery', 'recover\n'), 8);
    await settle();
    assert.equal(sysfs.read('state'), 'offline\n');
    assert.equal(platform.calls.length, calls);
    assert.equal(rproc.crash.count, 1);
  });

  const rejected: readonly [string, string][] = [
    ['start\n\n', 'two newlines'],
    ['Start', 'case differs'],
    ['st', 'a prefix (sysfs matches exactly)'],
    ['starting', 'a longer word'],
    [' start', 'a leading space'],
    ['bogus', 'an unknown word'],
    ['\n', 'only a newline'],
  ];
  for (const [input, why] of rejected) {
    it(`${JSON.stringify(input)} is EINVAL "Unrecognised option" (${why})`, async () => {
      const { rproc } = await fixtureBench();
      const sysfs = new RprocSysfs(rproc);
      await assert.rejects(sysfs.write('state', input), rejects('EINVAL', /Unrecognised option/));
      assert.equal(rproc.state, 'offline');
      assert.equal(rproc.power, 0);
    });
  }

  it('the message quotes the option as written, without its newline', async () => {
    const sysfs = new RprocSysfs((await fixtureBench()).rproc);
    await assert.rejects(
      sysfs.write('state', 'bogus\n'),
      rejects('EINVAL', /^EINVAL: Unrecognised option: bogus$/),
    );
  });

  it('bytes after a NUL are not seen ("start\\0junk" starts)', async () => {
    const { rproc } = await fixtureBench();
    assert.equal(await new RprocSysfs(rproc).write('state', 'start\0junk'), 10);
    assert.equal(rproc.state, 'running');
  });

  it('an empty write returns 0 and does nothing (sysfs_kf_write)', async () => {
    const { rproc, platform } = await fixtureBench();
    assert.equal(await new RprocSysfs(rproc).write('state', ''), 0);
    assert.equal(rproc.state, 'offline');
    assert.deepEqual(platform.calls, []);
  });

  it('a write longer than a page is E2BIG; a page exactly reaches the attribute', async () => {
    const sysfs = new RprocSysfs((await fixtureBench()).rproc);
    await assert.rejects(sysfs.write('state', 'x'.repeat(4097)), rejects('E2BIG'));
    await assert.rejects(sysfs.write('state', 'x'.repeat(4096)), rejects('EINVAL', /Unrecognised option/));
  });

  it('a failed start returns the boot error (missing firmware: ENOENT) and leaves power at 0', async () => {
    const { rproc } = await fixtureBench();
    rproc.firmwareStore.remove(HELLO_ELF);
    await assert.rejects(new RprocSysfs(rproc).write('state', 'start'), rejects('ENOENT'));
    assert.equal(rproc.power, 0);
    assert.equal(rproc.state, 'offline');
  });

  it('a platform op that throws a plain Error surfaces as EIO', async () => {
    const { rproc, platform } = await fixtureBench();
    // Replace the recorded start op with one that throws something other than an RprocError.
    Object.assign(rproc.ops, {
      start: () => {
        platform.calls.push('start');
        throw new TypeError('clock not found');
      },
    });
    await assert.rejects(new RprocSysfs(rproc).write('state', 'start'), rejects('EIO', /clock not found/));
  });

  it('"stop" while offline is EINVAL (rproc_shutdown refuses it)', async () => {
    const sysfs = new RprocSysfs((await fixtureBench()).rproc);
    await assert.rejects(sysfs.write('state', 'stop'), rejects('EINVAL'));
  });

  it('"detach" detaches an attached processor and leaves it running', async () => {
    const { rproc, platform } = await attachBench([{ kind: 'trace', da: 0x8000_2000, len: 0x100 }]);
    const sysfs = new RprocSysfs(rproc);
    assert.equal(sysfs.read('state'), 'detached\n');
    assert.equal(await sysfs.write('state', 'start\n'), 6);
    assert.equal(sysfs.read('state'), 'attached\n');
    assert.equal(await sysfs.write('state', 'detach\n'), 7);
    assert.equal(sysfs.read('state'), 'detached\n');
    assert.equal(platform.calls.includes('stop'), false);
    assert.equal(platform.calls.includes('detach'), true);
  });

  it('TC-C12: "detach" of a processor Linux booted (running) is EINVAL', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await sysfs.write('state', 'start');
    await assert.rejects(sysfs.write('state', 'detach'), rejects('EINVAL', /only an attached processor/));
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.power, 1);
  });

  it('TC-C13: "start" on a deleted processor is ENODEV', async () => {
    const { rproc } = await fixtureBench();
    await rproc.del();
    const sysfs = new RprocSysfs(rproc);
    assert.equal(sysfs.read('state'), 'deleted\n');
    await assert.rejects(sysfs.write('state', 'start'), rejects('ENODEV'));
  });
});

describe('sysfs firmware', () => {
  it('TC-C04: changing the firmware while running, attached or detached is EBUSY', async () => {
    const running = await fixtureBench();
    const sysfs = new RprocSysfs(running.rproc);
    await sysfs.write('state', 'start');
    await assert.rejects(
      sysfs.write('firmware', 'other.elf\n'),
      rejects('EBUSY', /only change while offline/),
    );
    assert.equal(sysfs.read('firmware'), 'hello.elf\n');

    const bench = await attachBench([{ kind: 'trace', da: 0x8000_2000, len: 0x100 }]);
    const attachSysfs = new RprocSysfs(bench.rproc);
    assert.equal(bench.rproc.state, 'detached');
    await assert.rejects(attachSysfs.write('firmware', 'other.elf'), rejects('EBUSY'));
    await attachSysfs.write('state', 'start');
    assert.equal(bench.rproc.state, 'attached');
    await assert.rejects(attachSysfs.write('firmware', 'other.elf'), rejects('EBUSY'));
    // EBUSY comes first: even an empty name is refused as busy, as in rproc_set_firmware.
    await assert.rejects(attachSysfs.write('firmware', '\n'), rejects('EBUSY'));
  });

  it('TC-C04: an empty name is EINVAL ("\\n", "\\0"); a zero-length write never reaches the store', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await assert.rejects(sysfs.write('firmware', '\n'), rejects('EINVAL', /empty firmware name/));
    await assert.rejects(sysfs.write('firmware', '\0name'), rejects('EINVAL', /empty firmware name/));
    await assert.rejects(rproc.setFirmware(''), rejects('EINVAL', /empty firmware name/));
    // write(fd, "", 0): sysfs_kf_write returns 0 before rproc_set_firmware could say EINVAL.
    assert.equal(await sysfs.write('firmware', ''), 0);
    assert.equal(sysfs.read('firmware'), 'hello.elf\n');
  });

  it('TC-C04: "name\\nmore" sets "name"', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    assert.equal(await sysfs.write('firmware', 'name\nmore'), 9);
    assert.equal(sysfs.read('firmware'), 'name\n');
    assert.equal(rproc.firmware, 'name');
  });

  it('the new name is used by the next start', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await sysfs.write('firmware', 'missing.elf\n');
    await assert.rejects(sysfs.write('state', 'start'), rejects('ENOENT', /missing\.elf/));
    await sysfs.write('firmware', `${HELLO_ELF}\n`);
    await sysfs.write('state', 'start');
    assert.equal(rproc.state, 'running');
  });

  it('reads "unknown" while attached: the image was loaded by someone else', async () => {
    const { rproc } = await attachBench([{ kind: 'trace', da: 0x8000_2000, len: 0x100 }]);
    const sysfs = new RprocSysfs(rproc);
    assert.equal(sysfs.read('firmware'), 'rproc-a0-fw\n');
    await rproc.boot();
    assert.equal(sysfs.read('firmware'), 'unknown\n');
  });
});

describe('sysfs recovery', () => {
  it('"disabled" and "enabled" set the flag, with or without the newline', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    assert.equal(await sysfs.write('recovery', 'disabled'), 8);
    assert.equal(rproc.crash.recoveryDisabled, true);
    assert.equal(sysfs.read('recovery'), 'disabled\n');
    assert.equal(await sysfs.write('recovery', 'enabled\n'), 8);
    assert.equal(rproc.crash.recoveryDisabled, false);
    assert.equal(sysfs.read('recovery'), 'enabled\n');
  });

  for (const input of ['en', 'enable', 'recovery', 'yes', 'recover\n\n']) {
    it(`${JSON.stringify(input)} is EINVAL`, async () => {
      const { rproc } = await fixtureBench();
      await assert.rejects(new RprocSysfs(rproc).write('recovery', input), rejects('EINVAL'));
      assert.equal(rproc.crash.recoveryDisabled, false);
    });
  }

  it('"enabled" on a crashed processor clears the flag and recovers it before returning', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await sysfs.write('recovery', 'disabled');
    await sysfs.write('state', 'start');
    const crashed = rproc.next('crash');
    rproc.reportCrash(RPROC_WATCHDOG);
    await crashed;
    assert.equal(rproc.state, 'crashed');
    assert.equal(await sysfs.write('recovery', 'enabled\n'), 8);
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.crash.recoveryDisabled, false);
    assert.equal(rproc.power, 1);
  });

  it('"recover" recovers a crashed processor and keeps recovery disabled', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await sysfs.write('recovery', 'disabled');
    await sysfs.write('state', 'start');
    const crashed = rproc.next('crash');
    rproc.reportCrash(RPROC_WATCHDOG);
    await crashed;
    assert.equal(await sysfs.write('recovery', 'recover'), 7);
    assert.equal(rproc.state, 'running');
    assert.equal(sysfs.read('recovery'), 'disabled\n');
  });

  it('a failed recovery still returns the byte count (Linux ignores it) and is reported as an event', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await sysfs.write('recovery', 'disabled');
    await sysfs.write('state', 'start');
    const crashed = rproc.next('crash');
    rproc.reportCrash(RPROC_WATCHDOG);
    await crashed;
    rproc.firmwareStore.remove(HELLO_ELF);
    const failed = rproc.next('recovery', (e) => e.phase === 'failed');
    assert.equal(await sysfs.write('recovery', 'recover'), 7);
    assert.equal((await failed).error?.code, 'ENOENT');
    assert.equal(rproc.state, 'offline');
  });
});

describe('sysfs coredump', () => {
  for (const word of ['disabled', 'enabled', 'inline'] as const) {
    it(`"${word}" and "${word}\\n" select ${word}`, async () => {
      const { rproc } = await fixtureBench();
      const sysfs = new RprocSysfs(rproc);
      if (word === 'disabled') rproc.coredump.mode = 'inline';
      assert.equal(await sysfs.write('coredump', word), word.length);
      assert.equal(rproc.coredump.mode, word);
      rproc.coredump.mode = word === 'enabled' ? 'inline' : 'enabled';
      assert.equal(await sysfs.write('coredump', `${word}\n`), word.length + 1);
      assert.equal(sysfs.read('coredump'), `${word}\n`);
    });
  }

  for (const input of ['default', 'disable', 'e', 'INLINE']) {
    it(`${JSON.stringify(input)} is EINVAL "Invalid coredump configuration"`, async () => {
      const { rproc } = await fixtureBench();
      await assert.rejects(
        new RprocSysfs(rproc).write('coredump', input),
        rejects('EINVAL', /Invalid coredump configuration/),
      );
      assert.equal(rproc.coredump.mode, 'disabled');
    });
  }

  it('is EBUSY while crashed, checked before the word (even a bad one)', async () => {
    const { rproc } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc);
    await sysfs.write('recovery', 'disabled');
    await sysfs.write('state', 'start');
    const crashed = rproc.next('crash');
    rproc.reportCrash(RPROC_WATCHDOG);
    await crashed;
    await assert.rejects(sysfs.write('coredump', 'enabled'), rejects('EBUSY'));
    await assert.rejects(sysfs.write('coredump', 'bogus'), rejects('EBUSY'));
    assert.equal(sysfs.read('coredump'), 'disabled\n');
  });
});

describe('sysfs read-only mode (sysfs_read_only)', () => {
  it('state, firmware, recovery and coredump become 0444 and refuse writes with EACCES; reads still work', async () => {
    const { rproc, platform } = await fixtureBench();
    const sysfs = new RprocSysfs(rproc, { readOnly: true });
    assert.equal(sysfs.readOnly, true);
    const writes: readonly [string, string][] = [
      ['state', 'start\n'],
      ['firmware', 'other.elf\n'],
      ['recovery', 'disabled\n'],
      ['coredump', 'enabled\n'],
      ['name', 'x'],
    ];
    for (const [attr, text] of writes) {
      assert.equal(sysfs.mode(attr), 0o444, attr);
      await assert.rejects(sysfs.write(attr, text), rejects('EACCES', /read-only/), attr);
    }
    // The permission check comes before the size rules.
    await assert.rejects(sysfs.write('state', ''), rejects('EACCES'));
    assert.equal(sysfs.read('state'), 'offline\n');
    assert.equal(sysfs.read('firmware'), 'hello.elf\n');
    assert.equal(sysfs.read('recovery'), 'enabled\n');
    assert.equal(sysfs.read('coredump'), 'disabled\n');
    assert.deepEqual(platform.calls, []);
  });
});
