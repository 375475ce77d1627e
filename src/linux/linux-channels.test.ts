// The Linux backend's rpmsg side against the simulated kernel: channels read from
// /sys/bus/rpmsg/devices and scoped to the processor whose device holds them, waiting for an
// announcement, and endpoints over /dev/rpmsgN (rpmsg-raw, bound by rpmsg_char), /dev/ttyRPMSGn
// (rpmsg-tty) and any other channel bound to rpmsg_chrdev through driver_override + bind — which
// the backend undoes on close — with the kernel's errors (EBUSY, EMSGSIZE, EPIPE) explained.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError, type ErrnoName } from '../util/errors.ts';
import { RPMSG_ADDR_ANY } from '../platform/remote-processors.ts';
import { fakeLinux, type FakeLinux } from '../../test/fake-kernel/fake-linux.ts';
import { LINUX_5_15, memoryFirmwareFs, type FakeKernelOptions } from '../../test/fake-kernel/fake-kernel.ts';
import { fakeFirmwareImage } from '../../test/fake-kernel/fake-programs.ts';

function board(options: Partial<FakeKernelOptions> = {}): FakeLinux {
  return fakeLinux({
    processors: [
      { name: 'm4', firmware: 'all.elf' },
      { name: 'dsp', firmware: 'crasher.elf' },
    ],
    firmwareFs: memoryFirmwareFs({
      '/lib/firmware/all.elf': fakeFirmwareImage('all-echo'),
      '/lib/firmware/crasher.elf': fakeFirmwareImage('crasher'),
    }),
    ...options,
  });
}

async function rejection(p: Promise<unknown>, code: ErrnoName, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRprocError(e), `not an RprocError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('Linux backend: rpmsg channels', () => {
  it('lists channels with their processor, addresses (hex in sysfs), kind and driver, leaving out rpmsg_ns and rpmsg_ctrl', async () => {
    const f = board();
    try {
      await (await f.host.get('m4')).start();
      assert.deepEqual(await f.host.channels(), [
        {
          id: 'virtio0.rpmsg-raw.-1.1024',
          name: 'rpmsg-raw',
          processor: 'm4',
          src: 0x400,
          dst: 0x400,
          announce: false,
          kind: 'raw',
          driver: 'rpmsg_chrdev',
        },
        {
          id: 'virtio0.rpmsg-tty.-1.1025',
          name: 'rpmsg-tty',
          processor: 'm4',
          src: 0x401,
          dst: 0x401,
          announce: false,
          kind: 'tty',
          driver: 'rpmsg_tty',
        },
        {
          id: 'virtio0.sensor.-1.1026',
          name: 'sensor',
          processor: 'm4',
          src: RPMSG_ADDR_ANY,
          dst: 0x402,
          announce: false,
          kind: 'other',
          driver: undefined,
        },
      ]);
    } finally {
      await f.close();
    }
  });

  it('scopes channels by processor: the same name on two processors is two channels', async () => {
    const f = board({
      processors: [
        { name: 'm4', firmware: 'crasher.elf' },
        { name: 'dsp', firmware: 'crasher.elf' },
      ],
    });
    try {
      await (await f.host.get('dsp')).start();
      await (await f.host.get('m4')).start();
      const onDsp = await f.host.waitForChannel('crasher', { processor: 'dsp' });
      const onM4 = await (await f.host.get('m4')).waitForChannel('crasher');
      assert.equal(onDsp.processor, 'dsp');
      assert.equal(onM4.processor, 'm4');
      assert.notEqual(onDsp.id, onM4.id);
      assert.deepEqual(
        (await f.host.channels({ processor: 'dsp' })).map((c) => c.id),
        [onDsp.id],
      );
      const any = await f.host.waitForChannel('crasher', { anyProcessor: true });
      assert.ok([onDsp.id, onM4.id].includes(any.id));
    } finally {
      await f.close();
    }
  });

  it('waits for a channel to be announced, and times out naming the channel and the processor', async () => {
    const f = board();
    try {
      const dsp = await f.host.get('dsp');
      const waiting = dsp.waitForChannel('crasher', { timeoutMs: 2000 });
      await new Promise((r) => setTimeout(r, 30));
      await dsp.start();
      assert.equal((await waiting).name, 'crasher');
      await rejection(
        dsp.waitForChannel('nope', { timeoutMs: 50 }),
        'ETIMEDOUT',
        /no channel "nope" announced by dsp within 50 ms/,
      );
    } finally {
      await f.close();
    }
  });

  it('sends and receives through /dev/rpmsgN on an rpmsg-raw channel, one message per receive', async () => {
    const f = board();
    try {
      await (await f.host.get('m4')).start();
      const ch = await f.host.waitForChannel('rpmsg-raw', { processor: 'm4' });
      const ep = await f.host.open(ch);
      assert.equal(ep.path, '/dev/rpmsg0');
      await ep.send('one');
      await ep.send(new TextEncoder().encode('two'));
      assert.equal(text(await ep.receive({ timeoutMs: 1000 })), 'one');
      assert.equal(text(await ep.receive({ timeoutMs: 1000 })), 'two');
      await rejection(ep.receive({ timeoutMs: 30 }), 'ETIMEDOUT', /no message on \/dev\/rpmsg0 within 30 ms/);
      await rejection(
        ep.send(new Uint8Array(497)),
        'EMSGSIZE',
        /sending 497 bytes to \/dev\/rpmsg0: 497 bytes is more than one rpmsg message carries \(496 bytes on virtio/,
      );
      await rejection(
        f.host.open(ch),
        'EBUSY',
        /\/dev\/rpmsg0 is open in another program \(rpmsg_char allows one opener at a time\)/,
      );
      await ep.close();
      // Nothing to undo: rpmsg_char had bound the channel itself.
      assert.equal(f.kernel.channel('rpmsg-raw').driver, 'rpmsg_chrdev');
    } finally {
      await f.close();
    }
  });

  it('binds rpmsg_chrdev to any other channel through driver_override and bind, and undoes it on close', async () => {
    const f = board();
    try {
      await (await f.host.get('m4')).start();
      const ch = await f.host.waitForChannel('sensor', { processor: 'm4' });
      const before = f.kernel.writes.length;
      const ep = await f.host.open(ch);
      assert.match(ep.path, /^\/dev\/rpmsg\d+$/);
      await ep.send('ping');
      assert.equal(text(await ep.receive({ timeoutMs: 1000 })), 'ping');
      await ep.close();
      const id = 'virtio0.sensor.-1.1026';
      assert.deepEqual(
        f.kernel.writes
          .slice(before)
          .map((w) => [w.path.replace(/^.*\/(bus\/rpmsg\/|virtio0\/)/, ''), w.value, w.error]),
        [
          [`${id}/driver_override`, 'rpmsg_chrdev', undefined],
          ['drivers/rpmsg_chrdev/bind', id, undefined],
          ['drivers/rpmsg_chrdev/unbind', id, undefined],
          [`${id}/driver_override`, '\n', undefined],
        ],
      );
      assert.equal(f.kernel.channel('sensor').driver, undefined);
      assert.equal(f.kernel.channel('sensor').override, undefined);
    } finally {
      await f.close();
    }
  });

  it('takes a channel from another driver only when allowed to, and binds that driver back on close', async () => {
    const f = board();
    try {
      await (await f.host.get('m4')).start();
      const id = 'virtio0.sensor.-1.1026';
      await f.io.writeFile(`/sys/bus/rpmsg/devices/${id}/driver_override`, 'rpmsg_tty');
      await f.io.writeFile('/sys/bus/rpmsg/drivers/rpmsg_tty/bind', id);
      const ch = await f.host.waitForChannel('sensor', { processor: 'm4' });
      assert.equal(ch.driver, 'rpmsg_tty');
      await rejection(
        f.host.open(ch),
        'EBUSY',
        /is bound to rpmsg_tty: open it with takeOver to unbind rpmsg_tty/,
      );
      const ep = await f.host.open(ch, { takeOver: true });
      await ep.send('x');
      assert.equal(text(await ep.receive({ timeoutMs: 1000 })), 'x');
      await ep.close();
      assert.equal(f.kernel.channel('sensor').driver, 'rpmsg_tty');
    } finally {
      await f.close();
    }
  });

  it('streams through /dev/ttyRPMSGn on an rpmsg-tty channel', async () => {
    const f = board();
    try {
      await (await f.host.get('m4')).start();
      const ch = await f.host.waitForChannel('rpmsg-tty', { processor: 'm4' });
      const ep = await f.host.open(ch);
      assert.equal(ep.path, '/dev/ttyRPMSG0');
      // rpmsg_tty takes at most one MTU per write: 600 bytes go as 496 + 104.
      await ep.send('a'.repeat(600));
      let got = '';
      while (got.length < 600) got += text(await ep.receive({ timeoutMs: 1000 }));
      assert.equal(got, 'a'.repeat(600));
      await ep.close();
    } finally {
      await f.close();
    }
  });

  it('ends receives with EPIPE when the remote goes away, and the message iterator with it', async () => {
    const f = board();
    try {
      const m4 = await f.host.get('m4');
      await m4.start();
      const raw = await f.host.open(await f.host.waitForChannel('rpmsg-raw', { processor: 'm4' }));
      const tty = await f.host.open(await f.host.waitForChannel('rpmsg-tty', { processor: 'm4' }));
      const pending = raw.receive();
      const iterated: string[] = [];
      const done = (async () => {
        for await (const m of tty.messages()) iterated.push(text(m));
      })();
      await tty.send('last');
      await new Promise((r) => setTimeout(r, 30));
      await m4.stop();
      await rejection(
        pending,
        'EPIPE',
        /\/dev\/rpmsg0 \(channel virtio0\.rpmsg-raw\.-1\.1024\): the channel went away/,
      );
      await done;
      assert.deepEqual(iterated, ['last']);
      await rejection(raw.send('x'), 'EPIPE', /the channel went away/);
      await raw.close();
      await tty.close();
    } finally {
      await f.close();
    }
  });

  it('says what is missing: rpmsg_char not loaded, a channel that went away', async () => {
    const f = board({ rpmsgChar: false });
    try {
      await (await f.host.get('m4')).start();
      const ch = await f.host.waitForChannel('sensor', { processor: 'm4' });
      await rejection(
        f.host.open(ch),
        'ENODEV',
        /rpmsg_char is not loaded to make one \(CONFIG_RPMSG_CHAR; modprobe rpmsg_char\)/,
      );
      await (await f.host.get('m4')).stop();
      await rejection(f.host.open(ch), 'EPIPE', /channel virtio0\.sensor\.-1\.1026 is gone/);
    } finally {
      await f.close();
    }
  });

  it('on a 5.15 kernel binds rpmsg_chrdev to rpmsg-raw itself, and says rpmsg_tty is missing', async () => {
    const f = board({ flavour: LINUX_5_15 });
    try {
      await (await f.host.get('m4')).start();
      const raw = await f.host.waitForChannel('rpmsg-raw', { processor: 'm4' });
      assert.equal(raw.driver, undefined);
      const ep = await f.host.open(raw);
      await ep.send('old kernel');
      assert.equal(text(await ep.receive({ timeoutMs: 1000 })), 'old kernel');
      await ep.close();
      assert.equal(f.kernel.channel('rpmsg-raw').driver, undefined);
      const tty = await f.host.waitForChannel('rpmsg-tty', { processor: 'm4' });
      await rejection(
        f.host.open(tty),
        'ENODEV',
        /rpmsg_tty is not loaded \(CONFIG_RPMSG_TTY, Linux ≥ 5\.16/,
      );
    } finally {
      await f.close();
    }
  });

  it('close() of the host ends a wait for a channel at once', async () => {
    const f = board();
    const waiting = f.host.waitForChannel('never', { anyProcessor: true }, { timeoutMs: 60_000 });
    const started = Date.now();
    await f.close();
    await rejection(waiting, 'ECANCELED', /stopped waiting for channel "never": closed/);
    assert.ok(Date.now() - started < 1000);
  });

  it('close() of the host closes its endpoints and undoes their bindings', async () => {
    const f = board();
    await (await f.host.get('m4')).start();
    await f.host.open(await f.host.waitForChannel('sensor', { processor: 'm4' }));
    await f.close();
    assert.equal(f.kernel.channel('sensor').driver, undefined);
    assert.equal(f.kernel.channel('sensor').override, undefined);
  });
});
