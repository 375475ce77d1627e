// The virtual SoC behind the platform interface, beyond the shared user-level suite: processors by
// rproc name or device name, channel lookups scoped to the processor whose vdev carries them, one
// opener per channel, state-checked refusals worded as on Linux, waits ended by close(), and the
// tty endpoint (a byte stream that ends with EPIPE on hang-up) over the deterministic loopback.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError, type ErrnoName } from '../util/errors.ts';
import { VirtualSoc } from './virtual-soc.ts';
import { VirtualSocProcessors } from './soc-processors.ts';
import { SocTtyEndpoint } from './soc-endpoints.ts';
import { FirmwareStore } from '../remoteproc/firmware-store.ts';
import { addBundledJsFirmware } from '../cpu/js/bundled-firmware.ts';
import '../cpu/core-kinds.ts';
import { createLoopback, echoCore } from '../testing/loopback.ts';
import { RPMSG_TTY_NAME, RpmsgTtyDriver } from '../rpmsg/host/rpmsg-tty.ts';
import { RPMSG_ADDR_ANY, type ChannelInfo } from '../platform/remote-processors.ts';

async function rejection(p: Promise<unknown>, code: ErrnoName, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRprocError(e), `not an RprocError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

async function soc(): Promise<{ host: VirtualSocProcessors; close(): Promise<void> }> {
  const firmwareStore = new FirmwareStore();
  addBundledJsFirmware(firmwareStore);
  const s = new VirtualSoc({ firmwareStore, autoBoot: false });
  await s.start();
  const host = new VirtualSocProcessors(s);
  return {
    host,
    close: async () => {
      await host.close();
      await s.close();
    },
  };
}

describe('VirtualSocProcessors', () => {
  it('lists the cores, finds them by name or device, and refuses what Linux refuses', async () => {
    const s = await soc();
    try {
      const infos = await s.host.list();
      assert.deepEqual(
        infos.map((i) => [i.name, i.device, i.state, i.recovery, i.coredump]),
        [
          ['rproc0', 'remoteproc0', 'offline', 'enabled', 'disabled'],
          ['rproc1', 'remoteproc1', 'offline', 'enabled', 'disabled'],
        ],
      );
      assert.equal(await s.host.get('remoteproc1'), await s.host.get('rproc1'));
      await rejection(
        s.host.get('gpu'),
        'ENODEV',
        /no remote processor "gpu" \(there are: remoteproc0 \(rproc0\), remoteproc1 \(rproc1\)\)/,
      );
      const p = await s.host.get('rproc1');
      await rejection(
        p.stop(),
        'EINVAL',
        /remoteproc1 \(rproc1\) is offline: only a running or attached processor/,
      );
      await rejection(p.recover(), 'EINVAL', /is offline, not crashed/);
      await rejection(p.trace(), 'ENOENT', /has no trace buffer trace0/);
      await p.start({ firmware: 'rpmsg-echo' });
      await rejection(p.start(), 'EBUSY', /is already running: not booting it again/);
      await p.waitForChannel('rpmsg-echo');
      assert.match(await p.trace(), /rpmsg-echo: ready/);
    } finally {
      await s.close();
    }
  });

  it('scopes channels to the processor that announced them and allows one opener', async () => {
    const s = await soc();
    try {
      await (await s.host.get('rproc1')).start({ firmware: 'rpmsg-echo' });
      const ch = await s.host.waitForChannel('rpmsg-echo', { processor: 'rproc1' });
      assert.equal(ch.processor, 'rproc1');
      assert.equal(ch.kind, 'other');
      assert.match(ch.id, /^virtio\d+\.rpmsg-echo\.-1\.\d+$/);
      assert.deepEqual(await s.host.channels({ processor: 'rproc0' }), []);
      await rejection(
        s.host.waitForChannel('rpmsg-echo', { processor: 'rproc0' }, { timeoutMs: 50 }),
        'ETIMEDOUT',
        /no channel "rpmsg-echo" announced by rproc0 within 50 ms/,
      );
      const ep = await s.host.open(ch);
      await rejection(s.host.open(ch), 'EBUSY', /is already open \(one opener at a time/);
      await ep.send('one');
      assert.equal(new TextDecoder().decode(await ep.receive({ timeoutMs: 2000 })), 'one');
      await ep.close();
      const again = await s.host.open(ch);
      await again.send('two');
      assert.equal(new TextDecoder().decode(await again.receive({ timeoutMs: 2000 })), 'two');
      // The channel's id stays the one it was announced with, opened or not.
      assert.deepEqual(
        (await s.host.channels({ processor: 'rproc1' })).map((c) => c.id),
        [ch.id],
      );
    } finally {
      await s.close();
    }
  });

  it('ends a pending wait when closed', async () => {
    const s = await soc();
    const waiting = s.host.waitForChannel('never', { anyProcessor: true }, { timeoutMs: 60_000 });
    await s.close();
    await rejection(waiting, 'ECANCELED', /stopped waiting for channel "never": closed/);
  });
});

describe('the tty endpoint', () => {
  it('streams bytes both ways and ends with EPIPE when the tty hangs up', async () => {
    const lb = await createLoopback({ core: echoCore(RPMSG_TTY_NAME) }, false);
    const tty = new RpmsgTtyDriver();
    lb.host.registerDriver(tty);
    await lb.boot();
    await lb.idle();
    const port = await tty.waitForPort(1000);
    const info: ChannelInfo = {
      id: 'virtio0.rpmsg-tty.-1.1024',
      name: RPMSG_TTY_NAME,
      processor: lb.rproc.name,
      src: RPMSG_ADDR_ANY,
      dst: port.channel.dst,
      announce: false,
      kind: 'tty',
      driver: 'rpmsg_tty',
    };
    let closed = 0;
    const ep = new SocTtyEndpoint(info, port, () => closed++);
    await ep.send('a'.repeat(600));
    await lb.idle();
    let got = '';
    while (got.length < 600) got += new TextDecoder().decode(await ep.receive({ timeoutMs: 1000 }));
    assert.equal(got, 'a'.repeat(600));
    const pending = ep.receive();
    await lb.rproc.shutdown();
    await rejection(pending, 'EPIPE', /hung up: the channel went away/);
    await ep.close();
    assert.equal(closed, 1);
    await lb.close();
  });
});
