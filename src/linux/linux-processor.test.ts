// The Linux backend's processor control against the simulated kernel (test/fake-kernel): it reads
// `state` before every write and writes only what takes the processor where it was asked, reports
// the kernel's refusals with the file and the value, never leaves a power reference or a changed
// firmware name behind, notices state changes and crashes by re-reading `state` on a bounded
// schedule, and explains what stands in the way (debugfs, root, udev rules).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRprocError, type ErrnoName } from '../util/errors.ts';
import { LinuxRemoteProcessors } from './linux-processors.ts';
import { fakeLinux, type FakeLinux } from '../../test/fake-kernel/fake-linux.ts';
import { memoryFirmwareFs, type FakeKernelOptions } from '../../test/fake-kernel/fake-kernel.ts';
import { fakeFirmwareImage } from '../../test/fake-kernel/fake-programs.ts';
import type { FakeKernelIoOptions } from '../../test/fake-kernel/fake-kernel-io.ts';
import type { LinuxOptions } from './linux-context.ts';
import type { ProcessorState } from '../platform/remote-processors.ts';

const STATE = '/sys/class/remoteproc/remoteproc0/state';

function board(
  options: Partial<FakeKernelOptions> = {},
  io: FakeKernelIoOptions = {},
  host: Omit<LinuxOptions, 'io'> = {},
): FakeLinux {
  return fakeLinux(
    {
      processors: [{ name: 'm4', firmware: 'rproc-m4-fw' }, { name: 'dsp' }],
      firmwareFs: memoryFirmwareFs({
        '/lib/firmware/crasher.elf': fakeFirmwareImage('crasher'),
        '/lib/firmware/echo.elf': fakeFirmwareImage('all-echo'),
      }),
      ...options,
    },
    io,
    host,
  );
}

async function rejection(p: Promise<unknown>, code: ErrnoName, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRprocError(e), `not an RprocError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** Writes of `value` to `path` (through any link to it) the kernel received. */
const writesOf = (f: FakeLinux, path: string, value?: string): number => {
  const real = f.kernel.tree().resolve(path);
  return f.kernel.writes.filter((w) => w.path === real && (value === undefined || w.value === value)).length;
};

describe('Linux backend: processors', () => {
  it('lists processors in index order with state, firmware, recovery and coredump as sysfs prints them', async () => {
    const f = board();
    try {
      assert.deepEqual(await f.host.list(), [
        {
          name: 'm4',
          device: 'remoteproc0',
          state: 'offline',
          firmware: 'rproc-m4-fw',
          recovery: 'enabled',
          coredump: 'disabled',
        },
        {
          name: 'dsp',
          device: 'remoteproc1',
          state: 'offline',
          firmware: 'rproc-dsp-fw',
          recovery: 'enabled',
          coredump: 'disabled',
        },
      ]);
      assert.equal((await f.host.get('remoteproc1')).name, 'dsp');
      assert.equal(await f.host.get('dsp'), await f.host.get('remoteproc1'));
      await rejection(
        f.host.get('gpu'),
        'ENODEV',
        /no remote processor "gpu" \(there are: remoteproc0 \(m4\), remoteproc1 \(dsp\)\)/,
      );
    } finally {
      await f.close();
    }
  });

  it('says in one line that a system has no remoteproc at all', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rproc-nosys-'));
    const host = new LinuxRemoteProcessors({ sysfs: root, dev: root });
    try {
      await rejection(
        host.list(),
        'ENODEV',
        /no remoteproc on this system: .*class\/remoteproc does not exist \(a kernel without CONFIG_REMOTEPROC/,
      );
    } finally {
      await host.close();
      rmSync(root, { recursive: true });
    }
  });

  it('starts with a firmware by name: sets `firmware`, writes "start" once, and reports running', async () => {
    const f = board();
    try {
      const m4 = await f.host.get('m4');
      const running = m4.next('state');
      await m4.start({ firmware: 'crasher.elf' });
      assert.deepEqual(await running, { processor: 'm4', from: 'offline', to: 'running' });
      assert.equal(await m4.state(), 'running');
      assert.equal(f.kernel.processor('m4').firmware, 'crasher.elf');
      assert.equal(writesOf(f, STATE, 'start'), 1);
    } finally {
      await f.close();
    }
  });

  it('refuses start on a running processor without writing "start" (no extra power reference)', async () => {
    const f = board();
    try {
      const m4 = await f.host.get('m4');
      await m4.start({ firmware: 'echo.elf' });
      await rejection(
        m4.start(),
        'EBUSY',
        /remoteproc0 \(m4\) is already running: not writing "start", which would only take another power reference/,
      );
      assert.equal(writesOf(f, STATE, 'start'), 1);
      assert.equal(f.kernel.processor('m4').power, 1);
      await m4.stop();
      assert.equal(await m4.state(), 'offline');
      assert.equal(f.kernel.processor('m4').power, 0);
    } finally {
      await f.close();
    }
  });

  it('reports a missing firmware with the directories searched, restores the old name and does not retry', async () => {
    const f = board({ firmwarePath: '/opt/fw' });
    try {
      const m4 = await f.host.get('m4');
      await rejection(
        m4.start({ firmware: 'nope.elf' }),
        'ENOENT',
        /remoteproc0 \(m4\): the kernel found no firmware "nope.elf" \(it looked in \/opt\/fw, \/lib\/firmware\/updates\/6\.6\.0-fake, \/lib\/firmware\/updates, \/lib\/firmware\/6\.6\.0-fake, \/lib\/firmware\)/,
      );
      assert.equal(writesOf(f, STATE, 'start'), 1);
      assert.equal(f.kernel.processor('m4').firmware, 'rproc-m4-fw');
      assert.equal(f.kernel.processor('m4').state, 'offline');
      assert.equal(f.kernel.processor('m4').power, 0);
    } finally {
      await f.close();
    }
  });

  it('installs firmware bytes into firmware_class.path when it is set, else /lib/firmware, then boots them', async () => {
    for (const [path, dir] of [
      ['/srv/rproc', '/srv/rproc'],
      ['', '/lib/firmware'],
    ] as const) {
      const f = board({ firmwarePath: path });
      try {
        const m4 = await f.host.get('m4');
        await m4.start({ firmware: { name: 'new.elf', bytes: fakeFirmwareImage('crasher') } });
        assert.ok(f.kernel.firmwareFs.read(`${dir}/new.elf`) !== undefined, `installed in ${dir}`);
        assert.equal(await m4.state(), 'running');
        assert.equal(await m4.trace(), 'crasher: ready\n');
      } finally {
        await f.close();
      }
    }
  });

  it('refuses a firmware_class.path written with echo (trailing newline) and names with newlines', async () => {
    const f = board();
    try {
      const m4 = await f.host.get('m4');
      await f.io.writeFile('/sys/module/firmware_class/parameters/path', '/srv/fw\n');
      await rejection(
        m4.start({ firmware: { name: 'x.elf', bytes: fakeFirmwareImage('crasher') } }),
        'EINVAL',
        /firmware_class\/parameters\/path ends in a newline \(it was written with echo, not echo -n\)/,
      );
      await rejection(m4.start({ firmware: 'a\nb' }), 'EINVAL', /firmware name "a\\nb" contains a newline/);
      assert.equal(writesOf(f, STATE), 0);
    } finally {
      await f.close();
    }
  });

  it('stop on an offline processor is EINVAL, as Linux says, without writing', async () => {
    const f = board();
    try {
      await rejection(
        (await f.host.get('m4')).stop(),
        'EINVAL',
        /remoteproc0 \(m4\) is offline: only a running or attached processor can be stopped/,
      );
      assert.equal(writesOf(f, STATE), 0);
    } finally {
      await f.close();
    }
  });

  it('stop tells the user when another power reference keeps the processor running', async () => {
    const f = board();
    try {
      await f.io.writeFile('/sys/class/remoteproc/remoteproc0/firmware', 'echo.elf');
      await f.io.writeFile(STATE, 'start');
      await f.io.writeFile(STATE, 'start'); // someone else's start: power 2
      const m4 = await f.host.get('m4');
      await rejection(
        m4.stop(),
        'EBUSY',
        /is still running after "stop": the kernel holds another power reference/,
      );
      await m4.stop();
      assert.equal(await m4.state(), 'offline');
    } finally {
      await f.close();
    }
  });

  it('notices a crash by re-reading state, then recovers on request', async () => {
    const f = board();
    try {
      const m4 = await f.host.get('m4');
      await m4.setRecovery('disabled');
      await m4.start({ firmware: 'crasher.elf' });
      const crash = m4.next('crash');
      await m4.crash(1);
      assert.deepEqual(await crash, { processor: 'm4', type: undefined });
      assert.equal(await m4.state(), 'crashed');
      await rejection(
        m4.setCoredump('enabled'),
        'EBUSY',
        /writing "enabled" to \/sys\/class\/remoteproc\/remoteproc0\/coredump: remoteproc0 \(m4\) is crashed/,
      );
      await rejection(m4.start(), 'EBUSY', /has crashed: recover it/);
      const back = m4.next('state', (e) => e.to === 'running');
      await m4.recover();
      await back;
      await rejection(m4.recover(), 'EINVAL', /is running, not crashed: nothing to recover/);
    } finally {
      await f.close();
    }
  });

  it('sees the crashed state of a processor that recovers on its own', async () => {
    const f = board({ recoveryDelayMs: 60 });
    try {
      const m4 = await f.host.get('m4');
      await m4.start({ firmware: 'crasher.elf' });
      const states: ProcessorState[] = [];
      m4.on('state', (e) => states.push(e.to));
      const crash = m4.next('crash');
      const recovered = m4.next(
        'state',
        (e) => e.from === 'crashed' || (e.to === 'running' && states.includes('crashed')),
      );
      await m4.crash(2);
      await crash;
      await recovered;
      assert.equal(await m4.state(), 'running');
      assert.equal(f.kernel.processor('m4').crashCount, 1);
    } finally {
      await f.close();
    }
  });

  it('attaches to and detaches from a processor the boot loader started', async () => {
    const f = board({
      processors: [
        { name: 'm4', earlyBoot: 'crasher', attached: true },
        { name: 'r5', earlyBoot: 'crasher', attached: true, canDetach: false },
      ],
    });
    try {
      const m4 = await f.host.get('m4');
      assert.equal((await m4.info()).firmware, 'unknown');
      await rejection(m4.start(), 'EBUSY', /already attached/);
      await rejection(m4.attach(), 'EINVAL', /is attached: only a detached processor/);
      await m4.detach();
      assert.equal(await m4.state(), 'detached');
      await rejection(
        m4.start(),
        'EBUSY',
        /is detached \(running firmware it did not load\): attach to it instead/,
      );
      await m4.attach();
      assert.equal(await m4.state(), 'attached');
      await rejection(
        (await f.host.get('r5')).detach(),
        'EINVAL',
        /the remoteproc1 \(r5\) driver cannot detach \(it has no ops->detach\)/,
      );
    } finally {
      await f.close();
    }
  });

  it('reads trace0 from debugfs, and says why when it cannot', async () => {
    const f = board();
    try {
      const m4 = await f.host.get('m4');
      await rejection(m4.trace(), 'ENOENT', /has no trace buffer trace0: .* or it is not running/);
      await m4.start({ firmware: 'crasher.elf' });
      assert.equal(await m4.trace(), 'crasher: ready\n');
      await rejection(m4.trace(1), 'ENOENT', /no trace buffer trace1/);
    } finally {
      await f.close();
    }
    const unmounted = board({ debugfs: false });
    try {
      await rejection(
        (await unmounted.host.get('m4')).trace(),
        'ENODEV',
        /debugfs is not mounted at \/sys\/kernel\/debug \(mount -t debugfs debugfs \/sys\/kernel\/debug/,
      );
    } finally {
      await unmounted.close();
    }
    const user = board({}, { root: false });
    try {
      await rejection(
        (await user.host.get('m4')).trace(),
        'EACCES',
        /reading \/sys\/kernel\/debug\/remoteproc\/remoteproc0\/trace0: needs root \(debugfs is mounted mode 0700\)/,
      );
    } finally {
      await user.close();
    }
  });

  it('names the file, the value and the udev rule when a non-root user may not write', async () => {
    const f = board({}, { root: false });
    try {
      await rejection(
        (await f.host.get('m4')).start(),
        'EACCES',
        /EACCES: writing "start" to \/sys\/class\/remoteproc\/remoteproc0\/state: permission denied; .*udev rule such as SUBSYSTEM=="remoteproc"/,
      );
    } finally {
      await f.close();
    }
  });

  it('says when the driver made sysfs read-only, and that /dev/remoteprocN can be used instead', async () => {
    const f = board({ processors: [{ name: 'm4', firmware: 'echo.elf', sysfsReadOnly: true, cdev: true }] });
    try {
      await rejection(
        (await f.host.get('m4')).start(),
        'EACCES',
        /made its sysfs control read-only \(sysfs_read_only, mode 0444\); \/dev\/remoteproc0 exists: the cdev option writes "start" there instead/,
      );
    } finally {
      await f.close();
    }
  });

  it('drives a sysfs_read_only processor through /dev/remoteprocN when asked to (no newline written)', async () => {
    const f = board(
      { processors: [{ name: 'm4', firmware: 'echo.elf', sysfsReadOnly: true, cdev: true }] },
      {},
      { cdev: true },
    );
    try {
      const m4 = await f.host.get('m4');
      await m4.start();
      assert.equal(await m4.state(), 'running');
      assert.deepEqual(
        f.kernel.writes.map((w) => [w.path, w.value]),
        [['/dev/remoteproc0', 'start']],
      );
      await m4.stop();
      assert.equal(await m4.state(), 'offline');
    } finally {
      await f.close();
    }
  });

  it('re-reads state on a bounded schedule that backs off while idle, and not at all without listeners', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const f = board({}, {}, { statePoll: { minMs: 5, maxMs: 40 } });
    let now = 0;
    const readsAt: number[] = [];
    const read = f.io.readFile.bind(f.io);
    f.io.readFile = (path: string) => {
      if (path === STATE) readsAt.push(now);
      return read(path);
    };
    const advance = async (ms: number): Promise<void> => {
      for (let i = 0; i < ms; i++) {
        t.mock.timers.tick(1);
        now++;
        // Let the read the timer started finish (it resolves through promises only).
        await new Promise((r) => setImmediate(r));
      }
    };
    try {
      const m4 = await f.host.get('m4');
      const listener = (): void => undefined;
      m4.on('state', listener);
      await advance(0);
      t.mock.timers.tick(0);
      await advance(500);
      m4.off('state', listener);
      // At once, then 5, 10, 20 ms apart, then every 40 ms: a busy loop would read thousands of times.
      const expected = [0, 5, 15, 35];
      for (let at = 75; at <= 500; at += 40) expected.push(at);
      assert.deepEqual(readsAt, expected);
      await advance(500);
      assert.equal(readsAt.length, expected.length, 'no read after the last listener left');
    } finally {
      await f.close();
    }
  });
});
