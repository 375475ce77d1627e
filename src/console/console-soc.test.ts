// The console on the virtual SoC with a real worker core: the bundled console-echo firmware declares
// an rpmsg vdev and an rproc-serial vdev; both drivers bind, and the firmware echoes console input
// upper-cased while it serves rpmsg-echo at the same time. Stopping the core ends the port.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import { FirmwareStore } from '../remoteproc/firmware-store.ts';
import { addBundledJsFirmware } from '../cpu/js/bundled-firmware.ts';
import { CONSOLE_ECHO_BANNER, upperAscii } from '../cpu/js/programs/console-echo.ts';
import { parseRscTable } from '../rsc/rsc-parse.ts';
import type { RscVdev } from '../rsc/rsc-types.ts';
import { isRprocError } from '../util/errors.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import { VIRTIO_ID_RPROC_SERIAL } from './console-constants.ts';
import type { VirtioConsolePort } from './console-port.ts';
import '../cpu/core-kinds.ts';

/** Reads a port in the background; take(n) resolves with the next n bytes. */
function reader(port: VirtioConsolePort): (n: number, timeoutMs?: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  port.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  return async (n, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (buffered.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${buffered.length} of ${n} bytes arrived`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
}

async function rpmsgEcho(ch: RpmsgChannel, text: string, timeoutMs = 5000): Promise<string> {
  const ept = ch.open();
  const reply = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo of "${text}"`)), timeoutMs);
    ept.setCallback((data) => {
      clearTimeout(timer);
      resolve(new TextDecoder().decode(data));
    });
  });
  await ept.send(new TextEncoder().encode(text));
  return reply;
}

describe('virtio console on the virtual SoC (worker core)', () => {
  it('console-echo: rpmsg and rproc-serial vdevs each get their driver and work at the same time', async () => {
    const store = new FirmwareStore();
    addBundledJsFirmware(store);
    const soc = new VirtualSoc({
      firmwareStore: store,
      autoBoot: false,
      firmware: { rproc1: 'console-echo' },
    });
    const rproc = soc.rproc('rproc1');
    try {
      await soc.start();
      const portUp = soc.console.waitForPort('rproc1', 10_000);
      await rproc.boot();
      const port = await portUp;
      assert.equal(port.deviceId, VIRTIO_ID_RPROC_SERIAL);
      assert.equal(port.parentName, 'rproc1');
      const errors: unknown[] = [];
      port.on('error', (e) => errors.push(e));
      const take = reader(port);

      const table = rproc.resources.table;
      assert.ok(table !== undefined);
      const vdevs = parseRscTable(table).entries.filter((e): e is RscVdev => e.kind === 'vdev');
      assert.deepEqual(
        vdevs.map((v) => [v.id, v.status]),
        [
          [7, 7],
          [11, 7],
        ],
      );
      assert.deepEqual(
        vdevs.flatMap((v) => v.vrings.map((r) => r.notifyId)),
        [0, 1, 2, 3],
      );

      const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc, timeoutMs: 10_000 });
      assert.equal((await take(CONSOLE_ECHO_BANNER.length)).toString(), CONSOLE_ECHO_BANNER);

      // Both at once: a console line and rpmsg messages.
      port.write('hello, Console! 123\n');
      const [line, e1] = await Promise.all([take(20), rpmsgEcho(ch, 'ping over rpmsg')]);
      assert.equal(line.toString(), 'HELLO, CONSOLE! 123\n');
      assert.equal(e1, 'ping over rpmsg');

      // A larger stream, in uneven writes, interleaved with rpmsg traffic: byte-exact.
      const data = new Uint8Array(30_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 7)) & 0xff;
      const want = upperAscii(data);
      for (let off = 0, k = 1; off < data.length; k++) {
        const n = Math.min(data.length - off, (k * 977) % 3000 || 1);
        port.write(data.subarray(off, off + n));
        off += n;
      }
      // One echo at a time: the channel's endpoint has one callback.
      const echoes = (async () => [
        await rpmsgEcho(ch, 'during the stream'),
        await rpmsgEcho(ch, 'still during the stream'),
      ])();
      const [got, replies] = await Promise.all([take(data.length), echoes]);
      assert.deepEqual(new Uint8Array(got), want);
      assert.deepEqual(replies, ['during the stream', 'still during the stream']);
      assert.equal(port.stats.rxMalformed, 0);

      const removed = soc.console.next('port', (e) => e.action === 'remove' && e.port === port);
      await rproc.shutdown();
      await removed;
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(errors.length, 1);
      assert.ok(isRprocError(errors[0], 'EPIPE'));
      assert.equal(soc.console.ports.length, 0);
    } finally {
      await soc.close();
    }
  });
});
