// The rpmsg tty driver over the deterministic loopback: a port per "rpmsg-tty" channel, bytes in
// and out, writes above the MTU cut into MTU-sized messages and empty messages from the remote
// dropped (TC-M18), and a hang-up (end of file after what was read) when the channel goes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLoopback, rpmsgCore } from '../../testing/loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import { RPMSG_MTU } from '../rpmsg-wire.ts';
import { RPMSG_TTY_MAX_PORTS, RPMSG_TTY_NAME, RpmsgTtyDriver, type RpmsgTtyPort } from './rpmsg-tty.ts';
import { RPMSG_NS_DESTROY } from '../rpmsg-wire.ts';

function collect(port: RpmsgTtyPort): { bytes: () => Buffer; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  port.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => port.once('end', () => resolve()));
  return { bytes: () => Buffer.concat(chunks), ended };
}

describe('rpmsg tty', () => {
  it('TC-M18 a write above the MTU goes out as MTU-sized messages and comes back as the same bytes', async () => {
    // The remote echoes every message and records its length.
    const lengths: number[] = [];
    const lb = await createLoopback(
      {
        core: rpmsgCore((core) =>
          core.device.createEndpoint({
            name: RPMSG_TTY_NAME,
            cb: (data, src, ept) => {
              lengths.push(data.length);
              ept.sendTo(src, data).catch((e: unknown) => core.errors.push(String(e)));
            },
          }),
        ),
      },
      false,
    );
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
    assert.deepEqual(lengths, [RPMSG_MTU, RPMSG_MTU, 8]);
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

  it('a flood nobody reads: the port buffers its high-water mark, holds its share of RX buffers, drops the rest (counted)', async () => {
    const lb = await createLoopback({ core: hostileCore(), firmware: { num: 64 } });
    const tty = new RpmsgTtyDriver({ highWaterMark: 1024 });
    lb.host.registerDriver(tty);
    await lb.idle();
    const r = lb.c;
    r.announce(RPMSG_TTY_NAME, 0x400);
    await lb.idle();
    const port = await tty.waitForPort(1000);
    const dst = port.channel.ept?.addr ?? 0;
    const msg = (i: number): Uint8Array => new TextEncoder().encode(`line ${String(i).padStart(4, '0')}\n`); // 10 bytes
    // 1024 bytes fit the stream's buffer (103 messages: push says "behind" after the 103rd), 16
    // more are held (a quarter of 64 RX buffers), the rest dropped.
    for (let i = 0; i < 300; i++) {
      assert.notEqual(r.send(dst, msg(i), { src: 0x400 }), undefined, `an RX buffer for message ${i}`);
      if (i % 16 === 15) await lb.idle();
    }
    await lb.idle();
    assert.equal(port.readableLength, 1030);
    assert.equal(port.held, 16);
    assert.equal(r.availCount(0), 64 - 16, 'held buffers stay off the ring: the remote runs short');
    assert.equal(port.dropped, 300 - 103 - 16);
    assert.equal(lb.device?.stats.rxDropped, port.dropped);
    assert.equal(lb.logs.filter((l) => /ttyRPMSG0 \(endpoint 1024\) is full/.test(l)).length, 10);
    // Reading: what was kept comes in order, and the held buffers go back.
    const text = await new Promise<string>((resolve) => {
      let got = '';
      port.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.length >= (103 + 16) * 10) resolve(got);
      });
    });
    const lines = text.trim().split('\n');
    assert.deepEqual(
      lines,
      Array.from({ length: 119 }, (_, i) => `line ${String(i).padStart(4, '0')}`),
    );
    await lb.idle();
    assert.equal(port.held, 0);
    assert.equal(r.availCount(0), 64);
    await lb.close();
  });

  it(`at most ${RPMSG_TTY_MAX_PORTS} ports (Linux's MAX_TTY_RPMSG): further channels get none, with a warning; a freed index is reused`, async () => {
    const lb = await createLoopback({ core: hostileCore() });
    const tty = new RpmsgTtyDriver();
    lb.host.registerDriver(tty);
    await lb.idle();
    const r = lb.c;
    for (let i = 0; i < RPMSG_TTY_MAX_PORTS + 3; i++) r.announce(RPMSG_TTY_NAME, 0x400 + i);
    await lb.idle();
    assert.equal(tty.ports.length, RPMSG_TTY_MAX_PORTS);
    assert.equal(tty.refused, 3);
    assert.deepEqual(
      tty.ports.map((p) => p.index),
      Array.from({ length: RPMSG_TTY_MAX_PORTS }, (_, i) => i),
    );
    assert.equal(lb.logs.filter((l) => /all 32 ttyRPMSG ports are in use/.test(l)).length, 3);
    // The refused channels stay, unbound (no endpoint).
    assert.equal(lb.host.channels.filter((c) => c.ept === undefined || c.ept.destroyed).length, 3);
    // ttyRPMSG5 goes; the next port takes index 5 again.
    r.announce(RPMSG_TTY_NAME, 0x405, RPMSG_NS_DESTROY);
    r.announce(RPMSG_TTY_NAME, 0x500);
    await lb.idle();
    assert.ok(tty.ports.some((p) => p.index === 5 && p.channel.dst === 0x500));
    await lb.close();
  });
});
