// The rpmsg tty driver over the deterministic loopback: a port per "rpmsg-tty" channel, bytes in
// and out, writes above the MTU cut into MTU-sized messages and empty messages from the remote
// dropped (TC-M18), and a hang-up (end of file after what was read) when the channel goes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLoopback, echoCore } from '../../testing/loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import { RPMSG_MTU } from '../rpmsg-wire.ts';
import { RPMSG_TTY_NAME, RpmsgTtyDriver, type RpmsgTtyPort } from './rpmsg-tty.ts';

function collect(port: RpmsgTtyPort): { bytes: () => Buffer; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  port.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => port.once('end', () => resolve()));
  return { bytes: () => Buffer.concat(chunks), ended };
}

describe('rpmsg tty', () => {
  it('TC-M18 a write above the MTU goes out as MTU-sized messages and comes back as the same bytes', async () => {
    const lb = await createLoopback({ core: echoCore(RPMSG_TTY_NAME) }, false);
    const tty = new RpmsgTtyDriver();
    lb.host.registerDriver(tty);
    await lb.boot();
    await lb.idle();
    const port = await tty.waitForPort(1000);
    assert.equal(port.path, 'ttyRPMSG0');
    const got = collect(port);
    const data = Buffer.alloc(2 * RPMSG_MTU + 8, 0).map((_, i) => (i * 7) & 0xff);
    await new Promise<void>((resolve, reject) => port.write(data, (e) => (e ? reject(e) : resolve())));
    await lb.idle();
    assert.deepEqual(got.bytes(), data);
    assert.equal(lb.c.errors.length, 0);
    await lb.close();
  });

  it('drops empty messages from the remote, counts them, and hangs up when the channel goes', async () => {
    const lb = await createLoopback({ core: hostileCore() }, false);
    const tty = new RpmsgTtyDriver();
    lb.host.registerDriver(tty);
    await lb.boot();
    const r = lb.c;
    r.announce(RPMSG_TTY_NAME, 0x400);
    await lb.idle();
    const port = await tty.waitForPort(1000);
    const got = collect(port);
    r.send(port.channel.ept?.addr ?? 0, new Uint8Array(0), { src: 0x400 });
    r.send(port.channel.ept?.addr ?? 0, new TextEncoder().encode('bye'), { src: 0x400 });
    await lb.idle();
    assert.equal(port.emptyMessages, 1);
    // Writes are cut at the MTU: 1000 bytes are three messages.
    await new Promise<void>((resolve, reject) =>
      port.write(Buffer.alloc(1000, 0x41), (e) => (e ? reject(e) : resolve())),
    );
    await lb.idle();
    assert.deepEqual(
      r.received.map((m) => m.payload.length),
      [RPMSG_MTU, RPMSG_MTU, 1000 - 2 * RPMSG_MTU],
    );
    const removed = tty.next('port', (e) => e.action === 'remove');
    await lb.rproc.shutdown();
    assert.equal((await removed).port, port);
    await got.ended;
    assert.equal(got.bytes().toString(), 'bye', 'what came before the hang-up is still read');
    assert.equal(tty.ports.length, 0);
    // A hung-up tty takes no more writes.
    const err = await new Promise<unknown>((resolve) => {
      port.on('error', () => undefined);
      port.write('late', resolve);
    });
    assert.ok(err instanceof Error, String(err));
    await lb.close();
  });
});
