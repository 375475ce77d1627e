// The simulated kernel answers as Linux does (wave of facts from remoteproc_sysfs.c, remoteproc_core.c,
// remoteproc_cdev.c, rpmsg_core.c, rpmsg_char.c, drivers/base): these pin its refusals and quirks,
// written straight to its files, so that the backend tests built on it test against the kernel's
// behaviour and not against whatever the fake happened to do.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FakeKernel,
  LINUX_5_15,
  LINUX_6_6,
  memoryFirmwareFs,
  type FakeKernelOptions,
} from './fake-kernel.ts';
import { FakeKernelIo } from './fake-kernel-io.ts';
import { fakeFirmwareImage } from './fake-programs.ts';
import { errnoCode } from '../../src/linux/kernel-io.ts';

const STATE = '/sys/class/remoteproc/remoteproc0/state';
const FIRMWARE = '/sys/class/remoteproc/remoteproc0/firmware';

function kernel(options: Partial<FakeKernelOptions> = {}): { k: FakeKernel; io: FakeKernelIo } {
  const k = new FakeKernel({
    processors: [{ name: 'm4', firmware: 'echo.elf', cdev: true }],
    firmwareFs: memoryFirmwareFs({ '/lib/firmware/echo.elf': fakeFirmwareImage('all-echo') }),
    ...options,
  });
  return { k, io: new FakeKernelIo(k) };
}

async function errnoOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return errnoCode(e);
  }
}

const none = (): Promise<void> => Promise.resolve();

const text = async (io: FakeKernelIo, path: string): Promise<string> =>
  new TextDecoder().decode(await io.readFile(path));

describe('simulated kernel: remoteproc sysfs', () => {
  it('prints every attribute with one trailing newline, as sprintf("%s\\n") does', async () => {
    const { io } = kernel();
    assert.equal(await text(io, STATE), 'offline\n');
    assert.equal(await text(io, FIRMWARE), 'echo.elf\n');
    assert.equal(await text(io, '/sys/class/remoteproc/remoteproc0/name'), 'm4\n');
    assert.equal(await text(io, '/sys/class/remoteproc/remoteproc0/recovery'), 'enabled\n');
    assert.equal(await text(io, '/sys/class/remoteproc/remoteproc0/coredump'), 'disabled\n');
  });

  it('on 6.x, start on a running processor succeeds by taking a power reference that one stop only gives back', async () => {
    const { k, io } = kernel({ flavour: LINUX_6_6 });
    await io.writeFile(STATE, 'start');
    await io.writeFile(STATE, 'start');
    assert.equal(k.processor('m4').power, 2);
    await io.writeFile(STATE, 'stop');
    assert.equal(await text(io, STATE), 'running\n');
    await io.writeFile(STATE, 'stop');
    assert.equal(await text(io, STATE), 'offline\n');
  });

  it('before 5.19, start on a running processor is EBUSY', async () => {
    const { k, io } = kernel({ flavour: LINUX_5_15 });
    await io.writeFile(STATE, 'start');
    assert.equal(await errnoOf(io.writeFile(STATE, 'start')), 'EBUSY');
    assert.equal(k.processor('m4').power, 1);
  });

  const refusals: readonly {
    title: string;
    setup: (io: FakeKernelIo, k: FakeKernel) => Promise<void>;
    path: string;
    value: string;
    errno: string;
  }[] = [
    {
      title: 'stop while offline',
      setup: none,
      path: STATE,
      value: 'stop',
      errno: 'EINVAL',
    },
    {
      title: 'stop while crashed',
      setup: async (io, k) => {
        k.processor('m4').recoveryDisabled = true;
        await io.writeFile(STATE, 'start');
        k.reportCrash(k.processor('m4'), 0);
        await new Promise((r) => setTimeout(r, 5));
      },
      path: STATE,
      value: 'stop',
      errno: 'EINVAL',
    },
    {
      title: 'detach while offline',
      setup: none,
      path: STATE,
      value: 'detach',
      errno: 'EINVAL',
    },
    { title: 'an unknown word', setup: none, path: STATE, value: 'boot', errno: 'EINVAL' },
    {
      title: 'start followed by two newlines',
      setup: none,
      path: STATE,
      value: 'start\n\n',
      errno: 'EINVAL',
    },
    {
      title: 'a firmware change while running',
      setup: (io) => io.writeFile(STATE, 'start'),
      path: FIRMWARE,
      value: 'other.elf',
      errno: 'EBUSY',
    },
    {
      title: 'an empty firmware name ("\\n")',
      setup: none,
      path: FIRMWARE,
      value: '\n',
      errno: 'EINVAL',
    },
    {
      title: 'start with a firmware the search path lacks',
      setup: (io) => io.writeFile(FIRMWARE, 'missing.elf'),
      path: STATE,
      value: 'start',
      errno: 'ENOENT',
    },
    {
      title: 'start with a file that is no firmware',
      setup: async (io, k) => {
        k.firmwareFs.write('/lib/firmware/junk.elf', new Uint8Array([1, 2, 3]));
        await io.writeFile(FIRMWARE, 'junk.elf');
      },
      path: STATE,
      value: 'start',
      errno: 'EINVAL',
    },
    {
      title: 'recovery "maybe"',
      setup: none,
      path: '/sys/class/remoteproc/remoteproc0/recovery',
      value: 'maybe',
      errno: 'EINVAL',
    },
    {
      title: 'coredump "default" (the ABI doc word the code never accepted)',
      setup: none,
      path: '/sys/class/remoteproc/remoteproc0/coredump',
      value: 'default',
      errno: 'EINVAL',
    },
    {
      title: 'writing name',
      setup: none,
      path: '/sys/class/remoteproc/remoteproc0/name',
      value: 'x',
      errno: 'EACCES',
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.title} with ${r.errno} and changes nothing`, async () => {
      const { k, io } = kernel();
      await r.setup(io, k);
      const before = {
        state: k.processor('m4').state,
        power: k.processor('m4').power,
        fw: k.processor('m4').firmware,
      };
      assert.equal(await errnoOf(io.writeFile(r.path, r.value)), r.errno);
      assert.deepEqual(
        { state: k.processor('m4').state, power: k.processor('m4').power, fw: k.processor('m4').firmware },
        before,
      );
      k.dispose();
    });
  }

  it('accepts one trailing newline (sysfs_streq) and cuts a firmware name at its first newline', async () => {
    const { k, io } = kernel();
    await io.writeFile(FIRMWARE, 'echo.elf\nignored');
    assert.equal(k.processor('m4').firmware, 'echo.elf');
    await io.writeFile(STATE, 'start\n');
    assert.equal(await text(io, STATE), 'running\n');
  });

  it('coredump cannot change while crashed (EBUSY)', async () => {
    const { k, io } = kernel();
    k.processor('m4').recoveryDisabled = true;
    await io.writeFile(STATE, 'start');
    k.reportCrash(k.processor('m4'), 1);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await text(io, STATE), 'crashed\n');
    assert.equal(
      await errnoOf(io.writeFile('/sys/class/remoteproc/remoteproc0/coredump', 'enabled')),
      'EBUSY',
    );
    await io.writeFile('/sys/class/remoteproc/remoteproc0/recovery', 'recover');
    assert.equal(await text(io, STATE), 'running\n');
    k.dispose();
  });

  it('a sysfs_read_only driver makes the attributes 0444: writing them is EACCES even for root', async () => {
    const { io } = kernel({ processors: [{ name: 'm4', sysfsReadOnly: true }] });
    assert.equal(await io.mode(STATE), 0o444);
    assert.equal(await errnoOf(io.writeFile(STATE, 'start')), 'EACCES');
  });
});

describe('simulated kernel: debugfs', () => {
  const dbg = '/sys/kernel/debug/remoteproc/remoteproc0';
  it('lays out name, recovery, crash and coredump, and trace0 while running', async () => {
    const { k, io } = kernel();
    assert.deepEqual(await io.readdir(dbg), ['coredump', 'crash', 'name', 'recovery']);
    await io.writeFile(STATE, 'start');
    assert.deepEqual(await io.readdir(dbg), ['coredump', 'crash', 'name', 'recovery', 'trace0']);
    assert.equal(await text(io, `${dbg}/trace0`), 'all-echo: ready\n');
    assert.equal(await io.mode(`${dbg}/crash`), 0o200);
    k.dispose();
  });

  it('takes recovery and coredump words by prefix over the written length, as remoteproc_debugfs.c does', async () => {
    const { k, io } = kernel();
    await io.writeFile(`${dbg}/recovery`, 'd');
    assert.equal(k.processor('m4').recoveryDisabled, true);
    await io.writeFile(`${dbg}/coredump`, 'inl\n');
    assert.equal(k.processor('m4').dumpConf, 'inline');
    assert.equal(await errnoOf(io.writeFile(`${dbg}/recovery`, 'x')), 'EINVAL');
    assert.equal(await errnoOf(io.writeFile(`${dbg}/recovery`, 'enabled!!!!')), 'EINVAL');
    assert.equal(await errnoOf(io.writeFile(`${dbg}/crash`, 'two')), 'EINVAL');
  });
});

describe('simulated kernel: /dev/remoteprocN', () => {
  const cdev = '/dev/remoteproc0';
  for (const [written, errno] of [
    ['start\n', 'EINVAL'],
    ['', 'EINVAL'],
    ['startstart!', 'EINVAL'],
    ['st', undefined],
    ['start', undefined],
  ] as const) {
    it(`write ${JSON.stringify(written)} → ${errno ?? 'start'}`, async () => {
      const { k, io } = kernel();
      const file = await io.openDevice(cdev);
      assert.equal(await errnoOf(file.write(new TextEncoder().encode(written))), errno);
      assert.equal(k.processor('m4').state, errno === undefined ? 'running' : 'offline');
      await file.close();
    });
  }

  it('"sto" stops (prefix match over the written length)', async () => {
    const { k, io } = kernel();
    await io.writeFile(STATE, 'start');
    const file = await io.openDevice(cdev);
    await file.write(new TextEncoder().encode('sto'));
    await file.close();
    assert.equal(k.processor('m4').state, 'offline');
  });
});

describe('simulated kernel: rpmsg', () => {
  it('names channel devices in decimal with ANY as -1 and prints src/dst in hex', async () => {
    const { io } = kernel();
    await io.writeFile(STATE, 'start');
    const ids = await io.readdir('/sys/bus/rpmsg/devices');
    assert.deepEqual(ids, [
      'virtio0.rpmsg-raw.-1.1024',
      'virtio0.rpmsg-tty.-1.1025',
      'virtio0.rpmsg_ctrl.0.0',
      'virtio0.rpmsg_ns.53.53',
      'virtio0.sensor.-1.1026',
    ]);
    // Bound by rpmsg_char (rpmsg-raw, v5.18+): src is the default endpoint's address now.
    assert.equal(await text(io, '/sys/bus/rpmsg/devices/virtio0.rpmsg-raw.-1.1024/src'), '0x400\n');
    assert.equal(await text(io, '/sys/bus/rpmsg/devices/virtio0.rpmsg-raw.-1.1024/dst'), '0x400\n');
    // Unbound: src is RPMSG_ADDR_ANY.
    assert.equal(await text(io, '/sys/bus/rpmsg/devices/virtio0.sensor.-1.1026/src'), '0xffffffff\n');
    assert.equal(await text(io, '/sys/bus/rpmsg/devices/virtio0.sensor.-1.1026/driver_override'), '(null)\n');
    assert.equal(await text(io, '/sys/class/rpmsg/rpmsg0/src'), '1024\n');
    assert.match(
      await io.realpath('/sys/bus/rpmsg/devices/virtio0.rpmsg-raw.-1.1024'),
      /^\/sys\/devices\/platform\/soc\/[^/]+\/remoteproc\/remoteproc0\/remoteproc0#vdev0buffer\/virtio0\//,
    );
  });

  it('bind without driver_override on a channel whose name does not match is ENODEV; with it, /dev/rpmsgN appears', async () => {
    const { io } = kernel();
    await io.writeFile(STATE, 'start');
    const id = 'virtio0.sensor.-1.1026';
    assert.equal(await errnoOf(io.writeFile('/sys/bus/rpmsg/drivers/rpmsg_chrdev/bind', id)), 'ENODEV');
    await io.writeFile(`/sys/bus/rpmsg/devices/${id}/driver_override`, 'rpmsg_chrdev');
    await io.writeFile('/sys/bus/rpmsg/drivers/rpmsg_chrdev/bind', id);
    assert.deepEqual(await io.readdir(`/sys/bus/rpmsg/devices/${id}/rpmsg`), ['rpmsg1']);
    assert.equal(await io.exists('/dev/rpmsg1'), true);
    assert.equal(
      await io.readlink(`/sys/bus/rpmsg/devices/${id}/driver`),
      '../../../../../../../../../bus/rpmsg/drivers/rpmsg_chrdev',
    );
    // A second bind of a bound device is refused; "\n" clears the override.
    assert.equal(await errnoOf(io.writeFile('/sys/bus/rpmsg/drivers/rpmsg_chrdev/bind', id)), 'EBUSY');
    await io.writeFile('/sys/bus/rpmsg/drivers/rpmsg_chrdev/unbind', id);
    await io.writeFile(`/sys/bus/rpmsg/devices/${id}/driver_override`, '\n');
    assert.equal(await text(io, `/sys/bus/rpmsg/devices/${id}/driver_override`), '(null)\n');
  });

  it('rpmsg_char: one opener, one message per read (the rest dropped), EMSGSIZE past 496, EPIPE when the remote stops', async () => {
    const { io } = kernel();
    await io.writeFile(STATE, 'start');
    const file = await io.openDevice('/dev/rpmsg0');
    assert.equal(await errnoOf(io.openDevice('/dev/rpmsg0')), 'EBUSY');
    assert.equal(await file.read(100), null);
    await file.write(new TextEncoder().encode('hello world'));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(new TextDecoder().decode((await file.read(5)) ?? new Uint8Array()), 'hello');
    assert.equal(await file.read(100), null);
    assert.equal(await errnoOf(file.write(new Uint8Array(497))), 'EMSGSIZE');
    await io.writeFile(STATE, 'stop');
    assert.equal(await errnoOf(file.read(100)), 'EPIPE');
    assert.equal(await errnoOf(file.write(new Uint8Array(1))), 'EPIPE');
    await file.close();
  });

  it('a 5.15 kernel has neither rpmsg_tty nor rpmsg_char auto-binding of rpmsg-raw', async () => {
    const { io } = kernel({ flavour: LINUX_5_15 });
    await io.writeFile(STATE, 'start');
    assert.equal(await io.exists('/sys/bus/rpmsg/devices/virtio0.rpmsg-raw.-1.1024/driver'), false);
    assert.equal(await io.exists('/sys/bus/rpmsg/drivers/rpmsg_tty'), false);
  });
});
