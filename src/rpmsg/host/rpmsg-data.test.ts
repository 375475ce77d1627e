// The host's data path against the device-role library: echo both ways, many endpoints, the send
// family (send/sendTo/trySend/trySendTo), MTU and address errors, TX buffer exhaustion with
// blocking sends and timeouts, zero-copy TX, RX hold/release, endpoint streams, per-direction
// buffer sizes, order, and byte-exact payloads of every size (property test).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ERRNO, isRprocError } from '../../util/errors.ts';
import { checkAsyncProperty } from '../../../test/support/property.ts';
import { RPMSG_ADDR_ANY } from '../rpmsg-wire.ts';
import type { RemoteEndpoint } from '../remote/remote-endpoint.ts';
import {
  createLoopback,
  echoCore,
  echoEndpoint,
  rpmsgCore,
  type Loopback,
  type RpmsgCore,
} from '../../testing/loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import { endpointStream, endpointStreamStats } from './endpoint-stream.ts';
import type { RpmsgEndpoint } from './rpmsg-endpoint.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Open channel `name` and collect copies of what arrives on its endpoint. */
function openChannel(
  lb: Loopback<RpmsgCore>,
  name = 'rpmsg-echo',
): { ept: RpmsgEndpoint; got: Uint8Array[]; from: number[] } {
  const ch = lb.host.channels.find((c) => c.name === name);
  assert.ok(ch !== undefined, `channel ${name} announced`);
  const got: Uint8Array[] = [];
  const from: number[] = [];
  const ept = ch.open((data, src) => {
    got.push(data.slice());
    from.push(src);
  });
  return { ept, got, from };
}

/** A payload whose bytes depend on its index and size, so any mix-up shows. */
function pattern(i: number, size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, k) => (i * 131 + k * 7 + size) & 0xff);
}

describe('rpmsg data path', () => {
  it('echo host → remote → host, and messages the remote starts', async () => {
    let sink: RemoteEndpoint | undefined;
    const received: string[] = [];
    const lb = await createLoopback({
      core: rpmsgCore((core) => {
        echoEndpoint(core, 'rpmsg-echo');
        sink = core.device.createEndpoint({
          name: 'sink',
          cb: (data) => received.push(dec.decode(data)),
        });
      }),
    });
    const { ept, got, from } = openChannel(lb);
    await ept.send(enc.encode('ping'));
    await lb.idle();
    assert.deepEqual(
      got.map((d) => dec.decode(d)),
      ['ping'],
    );
    assert.deepEqual(from, [0x400]);
    // Remote-initiated: to an endpoint the host created at a fixed address.
    const host = lb.device?.createEndpoint(
      (data, src) => received.push(`host got ${dec.decode(data)} from ${src}`),
      0x900,
    );
    assert.ok(host !== undefined && sink !== undefined);
    assert.equal(sink.trySendTo(0x900, enc.encode('unsolicited')), 0);
    await lb.idle();
    assert.deepEqual(received, [`host got unsolicited from ${sink.addr}`]);
    assert.equal(host.trySendTo(sink.addr, enc.encode('to sink')), 0);
    await lb.idle();
    assert.equal(received.at(-1), 'to sink');
    await lb.close();
  });

  it('many endpoints: every reply comes back to the endpoint that asked', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
    const lb = await createLoopback({ core: echoCore(...names) });
    const chans = names.map((n) => openChannel(lb, n));
    for (let round = 0; round < 20; round++) {
      for (const [i, c] of chans.entries()) assert.equal(c.ept.trySend(pattern(i, round + i)), 0);
      await lb.idle();
    }
    for (const [i, c] of chans.entries()) {
      assert.equal(c.got.length, 20);
      c.got.forEach((d, round) => assert.deepEqual(d, pattern(i, round + i)));
      assert.ok(c.from.every((src) => src === lb.host.channels[i]?.dst));
    }
    await lb.close();
  });

  it('sendTo/trySendTo address another remote endpoint; replies come to our address', async () => {
    const lb = await createLoopback({ core: echoCore('a', 'b') });
    const a = openChannel(lb, 'a');
    const bDst = lb.host.channels.find((c) => c.name === 'b')?.dst;
    assert.equal(bDst, 0x401);
    await a.ept.sendTo(0x401, enc.encode('via b'));
    assert.equal(a.ept.trySendTo(0x401, enc.encode('via b again')), 0);
    assert.equal(a.ept.trySend(enc.encode('via a')), 0);
    await lb.idle();
    assert.deepEqual(
      a.got.map((d) => dec.decode(d)),
      ['via b', 'via b again', 'via a'],
    );
    assert.deepEqual(a.from, [0x401, 0x401, 0x400]);
    await lb.close();
  });

  it('EMSGSIZE above the MTU (496), EINVAL for ANY addresses', async () => {
    const lb = await createLoopback({ core: echoCore() });
    const { ept, got } = openChannel(lb);
    assert.equal(ept.mtu, 496);
    assert.equal(ept.trySend(new Uint8Array(496)), 0);
    assert.equal(ept.trySend(new Uint8Array(497)), -ERRNO.EMSGSIZE);
    await assert.rejects(
      ept.send(new Uint8Array(497)),
      (e) => isRprocError(e, 'EMSGSIZE') && e.message.includes('497-byte message is larger than the MTU 496'),
    );
    assert.equal(ept.trySendTo(RPMSG_ADDR_ANY, new Uint8Array(1)), -ERRNO.EINVAL);
    await assert.rejects(
      ept.sendTo(RPMSG_ADDR_ANY, new Uint8Array(1)),
      (e) => isRprocError(e, 'EINVAL') && e.message.includes('dst 0xffffffff'),
    );
    // An endpoint without a channel has no default destination.
    const loose = lb.device?.createEndpoint(undefined);
    assert.ok(loose !== undefined);
    assert.equal(loose.dst, RPMSG_ADDR_ANY);
    await assert.rejects(loose.send(new Uint8Array(1)), (e) => isRprocError(e, 'EINVAL'));
    for (const bad of [-1, 2 ** 32, 1.5]) assert.equal(ept.trySendTo(bad, new Uint8Array(1)), -ERRNO.EINVAL);
    await lb.idle();
    assert.deepEqual(
      got.map((d) => d.length),
      [496],
    );
    await lb.close();
  });

  it('TX exhaustion: trySend -ENOMEM, send waits and completes when buffers return, timeoutMs → ETIMEDOUT', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { num: 8 } });
    const { ept, got } = openChannel(lb);
    lb.pause(); // the remote sits on every buffer we send
    for (let i = 0; i < 8; i++) assert.equal(ept.trySend(pattern(i, 8)), 0);
    assert.equal(ept.trySend(pattern(8, 8)), -ERRNO.ENOMEM);
    assert.equal(ept.trySendTo(0x400, pattern(8, 8)), -ERRNO.ENOMEM);
    assert.equal(ept.getTxBuffer(), undefined);
    const t0 = performance.now();
    await assert.rejects(
      ept.send(pattern(8, 8), { timeoutMs: 30 }),
      (e) => isRprocError(e, 'ETIMEDOUT') && e.message.includes('within 30 ms'),
    );
    assert.ok(performance.now() - t0 >= 25);
    const blocked = ept.send(pattern(8, 8), { timeoutMs: 5000 });
    await lb.idle();
    lb.resume();
    await blocked;
    await lb.idle();
    assert.equal(got.length, 9);
    got.forEach((d, i) => assert.deepEqual(d, pattern(i, 8)));
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'no timer left behind');
    // Waiting without a limit needs no timer at all.
    lb.pause();
    while (ept.trySend(new Uint8Array(1)) === 0);
    const forever = ept.send(pattern(9, 8), { timeoutMs: Number.POSITIVE_INFINITY });
    await lb.idle();
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'));
    lb.resume();
    await forever;
    await assert.rejects(ept.send(new Uint8Array(1), { timeoutMs: -1 }), (e) => isRprocError(e, 'EINVAL'));
    await lb.close();
  });

  it('every blocked sender completes when one interrupt returns several buffers', async () => {
    const lb = await createLoopback({ core: hostileCore(), firmware: { num: 8 } });
    const r = lb.c;
    r.autoReturn = false;
    r.announce('svc', 0x400);
    await lb.idle();
    const ept = lb.host.channels[0]?.open();
    assert.ok(ept !== undefined);
    for (let i = 0; i < 8; i++) assert.equal(ept.trySend(pattern(i, 4)), 0);
    const waiting = [8, 9, 10].map((i) => ept.send(pattern(i, 4), { timeoutMs: 2000 }));
    await lb.idle();
    // One batch back, one doorbell, and then the remote holds on to everything again.
    const heads: number[] = [];
    for (let m = r.takeTx(); m !== undefined; m = r.takeTx()) heads.push(m.head);
    assert.equal(heads.length, 8);
    for (const h of heads) r.pushUsed(1, h, 0);
    r.notify(r.notifyId(1));
    await lb.idle();
    await Promise.all(waiting);
    const later: number[] = [];
    for (let m = r.takeTx(); m !== undefined; m = r.takeTx()) later.push(m.payload[0] ?? -1);
    assert.deepEqual(
      later,
      [8, 9, 10].map((i) => pattern(i, 4)[0]),
    );
    await lb.close();
  });

  it('a TX vring smaller than the TX pool (vring sizes differ): sends keep flowing', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { rxNum: 16, txNum: 4 } });
    assert.ok(lb.logs.some((l) => l.includes('rpmsg vrings differ in size (vring0 16, vring1 4)')));
    const { ept, got } = openChannel(lb);
    for (let i = 0; i < 100; i++) await ept.send(pattern(i, i % 64), { timeoutMs: 1000 });
    await lb.idle();
    assert.equal(got.length, 100);
    got.forEach((d, i) => assert.deepEqual(d, pattern(i, i % 64)));
    await lb.close();
  });

  it('zero-copy: getTxBuffer, fill, sendNoCopy; release returns it; misuse is refused', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { num: 8 } });
    const { ept, got } = openChannel(lb);
    const buf = ept.getTxBuffer();
    assert.ok(buf !== undefined);
    assert.equal(buf.payload.length, 496);
    buf.payload.set(enc.encode('zero-copy'));
    assert.equal(ept.sendNoCopy(buf, 9), 0);
    assert.equal(ept.sendNoCopy(buf, 9), -ERRNO.EINVAL, 'a buffer is sent once');
    await lb.idle();
    assert.deepEqual(
      got.map((d) => dec.decode(d)),
      ['zero-copy'],
    );

    lb.pause();
    const lent = Array.from({ length: 8 }, () => ept.getTxBuffer());
    assert.ok(lent.every((b) => b !== undefined));
    assert.equal(ept.getTxBuffer(), undefined, 'all 8 lent');
    assert.equal(ept.trySend(new Uint8Array(1)), -ERRNO.ENOMEM);
    const [b0, b1, b2] = lent;
    assert.ok(b0 !== undefined && b1 !== undefined && b2 !== undefined);
    ept.releaseTxBuffer(b0);
    ept.releaseTxBuffer(b0); // ignored: the pool must not get it twice
    assert.equal(ept.trySend(enc.encode('after release')), 0);
    assert.equal(ept.trySend(new Uint8Array(1)), -ERRNO.ENOMEM, 'only one buffer came back');
    assert.equal(ept.sendNoCopy(b1, 497), -ERRNO.EMSGSIZE, 'too long: refused and released');
    assert.equal(ept.sendNoCopy(b1, 1), -ERRNO.EINVAL, 'already given back');
    assert.equal(ept.sendNoCopy(b2, -1), -ERRNO.EINVAL);
    for (const b of lent.slice(3)) ept.releaseTxBuffer(b);
    let free = 0;
    while (ept.trySend(new Uint8Array(0)) === 0) free++;
    assert.equal(free, 7, 'every refused or released buffer is back exactly once');
    lb.resume();
    await lb.idle();
    await lb.close();
  });

  it('RX hold/release: a held buffer stays valid and off the ring until released', async () => {
    let remote: RemoteEndpoint | undefined;
    const lb = await createLoopback({
      core: rpmsgCore((core) => {
        remote = core.device.createEndpoint({ name: 'src', cb: () => undefined });
      }),
      firmware: { num: 8 },
    });
    assert.ok(remote !== undefined);
    const held: { data: Uint8Array; release: () => void }[] = [];
    let late: (() => void) | undefined;
    const ept = lb.device?.createEndpoint((data, _src, ctx) => {
      if (held.length < 8) held.push({ data, release: ctx.hold() });
      else late = () => ctx.hold();
    }, 0xa00);
    assert.ok(ept !== undefined);
    const sent: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) sent.push(remote.sendTo(0xa00, pattern(i, 32)));
    await lb.idle();
    // 8 RX buffers, all held: the remote waits for a buffer for the rest.
    assert.equal(held.length, 8);
    assert.equal(remote.trySendTo(0xa00, new Uint8Array(1)), -ERRNO.ENOMEM);
    held.forEach((h, i) => assert.deepEqual(h.data, pattern(i, 32), 'held data stays intact'));
    held[0]?.release();
    held[0]?.release(); // idempotent
    await lb.idle();
    assert.ok(late !== undefined, 'one more message came in');
    assert.throws(late, (e) => isRprocError(e, 'EINVAL'), 'hold() after the callback returned');
    for (const h of held.slice(1)) h.release();
    await lb.idle();
    await Promise.all(sent);
    await lb.close();
  });

  it('endpoint streams: for-await reading, writes, one stream per endpoint', async () => {
    const lb = await createLoopback({ core: echoCore() });
    const ch = lb.host.channels[0];
    assert.ok(ch !== undefined);
    const stream = endpointStream(ch, { sendTimeoutMs: 1000 });
    assert.throws(
      () => endpointStream(ch),
      (e) => isRprocError(e, 'EBUSY'),
    );
    const msgs = ['one', 'two', '', 'three'];
    for (const m of msgs) stream.write(m);
    stream.write(enc.encode('bytes'));
    const got: string[] = [];
    for await (const chunk of stream) {
      assert.ok(Buffer.isBuffer(chunk));
      got.push(dec.decode(chunk));
      if (got.length === 5) break; // break destroys the stream
    }
    assert.deepEqual(got, [...msgs, 'bytes']);
    // Closed: the endpoint stays with the channel and a new stream may open it.
    const again = endpointStream(ch);
    again.write('again');
    const [first] = (await again.take(1).toArray()) as Buffer[];
    assert.equal(first?.toString(), 'again');
    const writeErr = new Promise<unknown>((resolve) => {
      const s = endpointStream(lb.device?.createEndpoint(undefined) ?? ch);
      s.on('error', resolve);
      s.write(new Uint8Array(497));
    });
    assert.ok(isRprocError(await writeErr, 'EINVAL'), 'no destination: EINVAL');
    await lb.close();
  });

  it('an endpoint stream nobody reads: its buffer, then held RX buffers, then counted drops', async () => {
    let talker: RemoteEndpoint | undefined;
    const lb = await createLoopback({
      core: rpmsgCore((core) => {
        talker = core.device.createEndpoint({ name: 'talker', cb: () => undefined });
      }),
    });
    const ch = lb.host.channels.find((c) => c.name === 'talker');
    assert.ok(ch !== undefined && talker !== undefined);
    const highWaterMark = 2;
    const stream = endpointStream(ch, { highWaterMark });
    const ept = ch.ept;
    assert.ok(ept !== undefined);
    const heldLimit = ept.rxHeldLimit;
    assert.ok(heldLimit > 0);
    // The stream's own buffer takes highWaterMark messages; the rest stay in their RX buffers up
    // to the endpoint's share, and beyond that they are dropped and counted.
    const sent = highWaterMark + heldLimit + 5;
    let accepted = 0;
    for (let i = 0; i < sent; i++) {
      if (talker.trySendTo(ept.addr, enc.encode(`m${i}`)) === 0) accepted++;
      await lb.idle();
    }
    assert.equal(accepted, sent, 'the remote always found an RX buffer');
    assert.deepEqual(endpointStreamStats(stream), { held: heldLimit, dropped: 5 });
    const got: string[] = [];
    for await (const chunk of stream) {
      got.push(String(chunk));
      if (got.length === highWaterMark + heldLimit) break;
    }
    assert.deepEqual(
      got,
      Array.from({ length: highWaterMark + heldLimit }, (_, i) => `m${i}`),
      'what was kept arrives in order; the drops are the newest',
    );
    await lb.close();
  });

  it('buffer sizes per direction: a 256-byte TX pool and 1040-byte RX buffers', async () => {
    let sink: RemoteEndpoint | undefined;
    const got: number[] = [];
    const lb = await createLoopback({
      core: rpmsgCore(
        (core) => {
          echoEndpoint(core, 'rpmsg-echo');
          sink = core.device.createEndpoint({ name: 'big', cb: () => undefined });
        },
        { bufSize: 1040 },
      ),
      host: { txBufSize: 256, rxBufSize: 1040 },
    });
    const { ept, got: echoed } = openChannel(lb);
    assert.equal(ept.mtu, 240);
    assert.equal(ept.trySend(new Uint8Array(241)), -ERRNO.EMSGSIZE);
    assert.equal(ept.trySend(pattern(1, 240)), 0);
    await lb.idle();
    assert.deepEqual(echoed, [pattern(1, 240)]);
    lb.device?.createEndpoint((d) => got.push(d.length), 0xb00);
    assert.ok(sink !== undefined);
    assert.equal(sink.trySendTo(0xb00, pattern(2, 1024)), 0, 'the remote may send up to 1024 bytes');
    await lb.idle();
    assert.deepEqual(got, [1024]);
    await lb.close();
  });

  it('order is preserved across thousands of echoed messages', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { num: 32 } });
    const { ept, got } = openChannel(lb);
    const n = 2000;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const m = new Uint8Array(4);
      new DataView(m.buffer).setUint32(0, i, true);
      sends.push(ept.send(m, { timeoutMs: 5000 }));
    }
    await lb.idle();
    await Promise.all(sends);
    await lb.idle();
    assert.equal(got.length, n);
    got.forEach((d, i) => assert.equal(new DataView(d.buffer).getUint32(0, true), i));
    await lb.close();
  });

  it('property: payloads of random sizes 0..496 arrive byte-exact both ways', async () => {
    let sink: RemoteEndpoint | undefined;
    const atRemote: Uint8Array[] = [];
    const lb = await createLoopback({
      core: rpmsgCore((core) => {
        sink = core.device.createEndpoint({ name: 'peer', cb: (d) => atRemote.push(d.slice()) });
      }),
      firmware: { num: 16 },
    });
    const atHost: Uint8Array[] = [];
    const ch = lb.host.channels[0];
    assert.ok(ch !== undefined && sink !== undefined);
    const ept = ch.open((d) => atHost.push(d.slice()));
    const peer = sink;
    const payload = fc.uint8Array({ minLength: 0, maxLength: 496, size: 'max' });
    let messages = 0;
    let runs = 0;
    await checkAsyncProperty(
      'rpmsg-host-payloads',
      fc.asyncProperty(
        fc.array(payload, { maxLength: 40 }),
        fc.array(payload, { maxLength: 40 }),
        async (down, up) => {
          atHost.length = 0;
          atRemote.length = 0;
          const sends = down.map((d) => ept.send(d, { timeoutMs: 2000 }));
          const ups = up.map((d) => peer.sendTo(ept.addr, d, { timeoutMs: 2000 }));
          await lb.idle();
          await Promise.all([...sends, ...ups]);
          await lb.idle();
          assert.deepEqual(atRemote, down);
          assert.deepEqual(atHost, up);
          messages += down.length + up.length;
          runs += 1;
        },
      ),
      { numRuns: 40 },
    );
    // More than 5 messages a run on average (over 200 in the normal 40 runs): the arrays were not
    // mostly empty. Relative to the runs made, since FC_RUNS changes their number.
    assert.ok(messages > 5 * runs, `${messages} messages checked in ${runs} runs`);
    await lb.close();
  });
});
