// Messages both ways between the remote device and a hand-written Linux-like host: echo with peer
// learning, header bytes, unknown destinations, send errors, TX buffer exhaustion (trySend ENOMEM,
// send waiting, timing out, aborted, reset), zero-copy TX, held RX buffers, kicks and callbacks
// that throw.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO, isRprocError } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY } from '../rpmsg-wire.ts';
import type { RemoteTimers } from './remote-types.ts';
import type { RemoteEndpoint } from './remote-endpoint.ts';
import {
  TestHost,
  TestSoc,
  pump,
  pumpDoorbells,
  type HostMsg,
} from '../../../test/support/rpmsg-test-host.ts';
import type { RpmsgVirtioDevice } from './rpmsg-virtio-device.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const noop = (): void => undefined;

interface Rig {
  soc: TestSoc;
  host: TestHost;
  remote: RpmsgVirtioDevice;
  errors: string[];
}

/** A ready device with the announcement of `names` already consumed by the host. */
function rig(options: { postRx?: number; timers?: RemoteTimers } = {}): Rig {
  const soc = new TestSoc();
  const host = new TestHost(soc);
  const errors: string[] = [];
  const remote = soc.makeRemote(options.timers === undefined ? {} : { timers: options.timers }, errors);
  host.handshake(options.postRx === undefined ? {} : { postRx: options.postRx });
  remote.service();
  return { soc, host, remote, errors };
}

/** Manual timers for timeouts. */
class FakeTimers implements RemoteTimers {
  private readonly pending = new Map<number, { at: number; cb: () => void }>();
  private id = 0;
  now = 0;
  setTimeout(callback: () => void, ms: number): unknown {
    this.pending.set(++this.id, { at: this.now + ms, cb: callback });
    return this.id;
  }
  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.pending.delete(handle);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.pending]) {
      if (t.at > this.now) continue;
      this.pending.delete(id);
      t.cb();
    }
  }
  get size(): number {
    return this.pending.size;
  }
}

/** How a promise has settled so far: 'pending', 'resolved' or the RprocError code it rejected with. */
async function settled(p: Promise<unknown>): Promise<string> {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    (e: unknown) => (state = isRprocError(e) ? e.code : String(e)),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
}

describe('messages', () => {
  it('echo: the endpoint learns its peer from the first message and answers it', () => {
    const { host, remote, soc, errors } = rig();
    const seen: string[] = [];
    const ept = remote.createEndpoint({
      name: 'rpmsg-raw',
      cb: (data, src, e) => {
        seen.push(`${src}:${dec.decode(data)}`);
        assert.equal(e.trySend(data), 0);
      },
    });
    assert.equal(host.poll().length, 1, 'announcement');
    assert.equal(ept.ready, false);
    assert.equal(host.send(1024, ept.addr, enc.encode('ping')), 0);
    assert.deepEqual(soc.toRemote.slice(-1), [1], 'the host kicks vring1');
    soc.toHost.length = 0;
    const msgs = pumpDoorbells(remote, host);
    assert.deepEqual(seen, ['1024:ping']);
    assert.equal(ept.dst, 1024);
    assert.equal(ept.ready, true);
    assert.equal(msgs.length, 1);
    const m = msgs[0]!;
    assert.deepEqual(
      { src: m.src, dst: m.dst, len: m.len, flags: m.flags, reserved: m.reserved, usedLen: m.usedLen },
      { src: ept.addr, dst: 1024, len: 4, flags: 0, reserved: 0, usedLen: 20 },
    );
    assert.equal(dec.decode(m.payload), 'ping');
    assert.deepEqual(soc.toHost, [0], 'vring0 kicked once; the host suppressed vring1 interrupts');
    assert.ok(remote.stats.kicksSuppressed >= 1);
    assert.equal(host.txAvailable(), 16, 'the RX buffer went back to the host');
    // A later message from another address does not move the learned peer.
    host.send(2000, ept.addr, enc.encode('x'));
    pump(remote, host);
    assert.equal(ept.dst, 1024);
    assert.deepEqual(errors, []);
  });

  it('a fixed dst needs no learning; sendTo reaches any address', () => {
    const { host, remote } = rig();
    const ept = remote.createEndpoint({ dst: 0x500, cb: noop });
    assert.equal(ept.trySend(enc.encode('a')), 0);
    assert.equal(ept.trySendTo(0x600, enc.encode('b')), 0);
    const msgs = host.poll();
    assert.deepEqual(
      msgs.map((m) => [m.src, m.dst, dec.decode(m.payload)]),
      [
        [ept.addr, 0x500, 'a'],
        [ept.addr, 0x600, 'b'],
      ],
    );
  });

  it('a batch of messages is delivered in one service() and the replies cost one kick', () => {
    const { host, remote, soc } = rig();
    const ept = remote.createEndpoint({ cb: (data, _src, e) => assert.equal(e.trySend(data), 0) });
    for (let i = 0; i < 10; i++) host.send(1024, ept.addr, enc.encode(`m${i}`));
    soc.toHost.length = 0;
    remote.service();
    assert.deepEqual(soc.toHost, [0]);
    assert.deepEqual(
      host.poll().map((m) => dec.decode(m.payload)),
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
  });

  it('messages for an unknown address are dropped and counted, their buffers returned', () => {
    const { host, remote } = rig();
    const got: number[] = [];
    const ept = remote.createEndpoint({ cb: (d) => got.push(d.length) });
    host.send(1024, 0x999, enc.encode('nobody'));
    host.send(1024, ept.addr, enc.encode('me'));
    pump(remote, host);
    assert.deepEqual(got, [2]);
    assert.equal(remote.stats.rxUnknownDst, 1);
    assert.equal(remote.stats.rxMessages, 1);
    assert.equal(host.txAvailable(), 16);
  });

  it('send errors: ENOTCONN, EINVAL, EMSGSIZE, EPIPE, EAGAIN before DRIVER_OK', async () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const remote = soc.makeRemote();
    const ept = remote.createEndpoint({ name: 'svc', cb: noop });
    assert.equal(ept.trySendTo(1024, enc.encode('early')), -ERRNO.EAGAIN);
    host.handshake();
    pump(remote, host);
    assert.equal(ept.trySend(enc.encode('x')), -ERRNO.ENOTCONN);
    assert.equal(await settled(ept.send(enc.encode('x'))), 'ENOTCONN');
    assert.equal(ept.trySendTo(RPMSG_ADDR_ANY, enc.encode('x')), -ERRNO.EINVAL);
    assert.equal(ept.mtu, 496);
    assert.equal(ept.trySendTo(1024, new Uint8Array(497)), -ERRNO.EMSGSIZE);
    assert.equal(await settled(ept.sendTo(1024, new Uint8Array(497))), 'EMSGSIZE');
    assert.equal(ept.trySendTo(1024, new Uint8Array(496)), 0);
    assert.equal(host.poll()[0]?.len, 496);
    ept.destroy();
    assert.equal(ept.destroyed, true);
    assert.equal(ept.trySendTo(1024, enc.encode('x')), -ERRNO.EPIPE);
    assert.equal(await settled(ept.sendTo(1024, enc.encode('x'))), 'EPIPE');
    // Creating endpoints: addresses in use, the NS address, names too long.
    const a = remote.createEndpoint({ addr: 0x30, cb: noop });
    assert.equal(a.addr, 0x30);
    assert.throws(
      () => remote.createEndpoint({ addr: 0x30, cb: noop }),
      (e) => isRprocError(e, 'EBUSY'),
    );
    assert.throws(
      () => remote.createEndpoint({ addr: 53, cb: noop }),
      (e) => isRprocError(e, 'EBUSY'),
    );
    assert.throws(
      () => remote.createEndpoint({ name: 'x'.repeat(32), cb: noop }),
      (e) => isRprocError(e, 'EINVAL'),
    );
    assert.equal(remote.createEndpoint({ cb: noop }).addr, 0x400, 'the destroyed address is free again');
  });

  it('destroy sends NS DESTROY for an announced endpoint, nothing for one never announced', () => {
    const { host, remote } = rig({ postRx: 0 });
    const early = remote.createEndpoint({ name: 'early', cb: noop });
    assert.equal(remote.pendingAnnouncements, 1);
    early.destroy();
    assert.equal(remote.pendingAnnouncements, 0, 'the queued CREATE is withdrawn');
    host.postRx(16);
    host.kickRx();
    assert.deepEqual(pump(remote, host), []);
    const ept = remote.createEndpoint({ name: 'late', cb: noop });
    assert.equal(host.poll().length, 1);
    ept.destroy();
    ept.destroy();
    const [bye] = host.poll();
    assert.ok(bye);
    assert.equal(bye.dst, 53);
    assert.equal(bye.src, ept.addr);
    assert.equal(dec.decode(bye.payload.subarray(0, 4)), 'late');
    assert.deepEqual([...bye.payload.subarray(32)], [0, 4, 0, 0, 1, 0, 0, 0], 'addr 0x400, flags DESTROY');
    assert.equal(remote.endpoint(ept.addr), undefined);
  });

  it('no TX buffer: trySend ENOMEM, send waits, announcements first, then senders in order', async () => {
    const { host, remote, soc } = rig({ postRx: 0 });
    const ept = remote.createEndpoint({ name: 'svc', dst: 1024, cb: noop });
    assert.equal(remote.pendingAnnouncements, 1);
    assert.equal(ept.trySend(enc.encode('now')), -ERRNO.ENOMEM);
    assert.equal(remote.stats.txNoBuffer, 1);
    assert.equal(ept.getTxBuffer(), undefined);
    const p1 = ept.send(enc.encode('first'));
    const data = enc.encode('second');
    const p2 = ept.send(data);
    data.fill(0); // the waiting send copied it
    assert.equal(remote.pendingSends, 2);
    assert.equal(await settled(p1), 'pending');
    assert.equal(remote.service(), 0);
    assert.equal(soc.raw(0x8001_0000).usedFlags & 1, 0, 'vring0 kicks wanted while senders wait');
    // The host posts two buffers: the announcement and the first send go; the second waits.
    host.postRx(2);
    assert.equal(host.kickRx(), true);
    soc.toRemote.length = 0;
    remote.service();
    assert.equal(await settled(p1), 'resolved');
    assert.equal(await settled(p2), 'pending');
    assert.deepEqual(
      host.poll().map((m) => m.dst),
      [53, 1024],
    );
    // The host re-posted both and kicked (we asked for it): the second goes.
    assert.deepEqual(soc.toRemote, [0]);
    const rest = pumpDoorbells(remote, host);
    assert.equal(await settled(p2), 'resolved');
    assert.equal(remote.pendingSends, 0);
    assert.equal(soc.raw(0x8001_0000).usedFlags & 1, 1, 'no kicks wanted once nothing waits');
    assert.deepEqual(
      rest.map((m) => dec.decode(m.payload)),
      ['second'],
    );
    assert.equal(remote.stats.nsSent, 1);
  });

  it('a waiting send times out (ETIMEDOUT), is aborted (ECANCELED), or fails on reset (ECONNRESET)', async () => {
    const timers = new FakeTimers();
    const { host, remote } = rig({ postRx: 0, timers });
    const ept = remote.createEndpoint({ dst: 1024, cb: noop });
    const late = ept.send(enc.encode('t'), { timeoutMs: 100 });
    const ac = new AbortController();
    const aborted = ept.send(enc.encode('a'), { signal: ac.signal });
    const reset = ept.send(enc.encode('r'));
    timers.advance(99);
    assert.equal(await settled(late), 'pending');
    timers.advance(1);
    assert.equal(await settled(late), 'ETIMEDOUT');
    ac.abort();
    assert.equal(await settled(aborted), 'ECANCELED');
    assert.equal(remote.pendingSends, 1);
    assert.equal(await settled(ept.send(enc.encode('x'), { signal: ac.signal })), 'ECANCELED');
    host.reset();
    remote.service();
    assert.equal(await settled(reset), 'ECONNRESET');
    assert.equal(timers.size, 0);
    // A send started before the host is up waits for the handshake.
    const early = ept.send(enc.encode('early'));
    host.handshake();
    const msgs = pump(remote, host);
    assert.equal(await settled(early), 'resolved');
    assert.deepEqual(
      msgs.map((m) => dec.decode(m.payload)),
      ['early'],
    );
    remote.close();
    assert.equal(remote.state, 'closed');
    assert.equal(await settled(ept.send(enc.encode('x'))), 'ESHUTDOWN');
    assert.equal(ept.trySend(enc.encode('x')), -ERRNO.ESHUTDOWN);
    assert.equal(remote.service(), 0);
  });

  it('zero-copy TX: fill the lent buffer, send it or give it back', () => {
    const { host, remote } = rig({ postRx: 2 });
    const ept = remote.createEndpoint({ dst: 1024, cb: noop });
    const a = ept.getTxBuffer();
    const b = ept.getTxBuffer();
    assert.ok(a && b);
    assert.equal(a.payload.length, 496);
    assert.equal(ept.getTxBuffer(), undefined, 'two buffers posted, two lent');
    a.payload.set(enc.encode('zero-copy'));
    assert.equal(ept.sendNoCopy(a, 9), 0);
    assert.equal(ept.sendNoCopy(a, 9), -ERRNO.EINVAL, 'already sent');
    assert.equal(ept.sendNoCopy(b, 497), -ERRNO.EMSGSIZE);
    assert.equal(ept.releaseTxBuffer(b), 0);
    assert.equal(ept.releaseTxBuffer(b), -ERRNO.EINVAL);
    assert.equal(ept.trySend(enc.encode('reused')), 0, 'the released buffer is used next');
    assert.deepEqual(
      host.poll().map((m) => [m.dst, dec.decode(m.payload)]),
      [
        [1024, 'zero-copy'],
        [1024, 'reused'],
      ],
    );
    // Lent across a reset: the buffer is gone.
    const c = ept.getTxBuffer();
    assert.ok(c);
    host.reset();
    remote.service();
    assert.equal(ept.sendNoCopy(c, 1), -ERRNO.ESHUTDOWN);
    assert.equal(ept.releaseTxBuffer(c), -ERRNO.ESHUTDOWN);
  });

  it('a buffer gives the same payload view while its messages keep their length, a new one when it changes', () => {
    const { host, remote } = rig();
    const got: { view: Uint8Array; text: string }[] = [];
    const ept = remote.createEndpoint({ cb: (data) => got.push({ view: data, text: dec.decode(data) }) });
    host.poll();
    const sent: string[] = [];
    for (let i = 0; i < 48; i++) {
      // Runs of same-length messages, then lengths that change every message.
      const text = i < 32 ? `m${String(i).padStart(3, '0')}` : 'x'.repeat(5 + (i % 5));
      sent.push(text);
      assert.equal(host.send(1024, ept.addr, enc.encode(text)), 0);
      pump(remote, host);
    }
    assert.deepEqual(
      got.map((g) => g.text),
      sent,
      'every callback saw its own message, whole',
    );
    assert.deepEqual(
      got.map((g) => g.view.length),
      sent.map((t) => t.length),
    );
    const views = new Set(got.slice(0, 32).map((g) => g.view));
    assert.ok(
      views.size <= 16,
      `32 same-length messages through 16 buffers: ${views.size} views, at most one per buffer`,
    );
    const later = got.slice(32).filter((g) => views.has(g.view));
    assert.deepEqual(later, [], 'a message of another length never gets a kept view');
  });

  it('held RX buffers stay with the remote until released', () => {
    const { host, remote } = rig();
    const kept: Uint8Array[] = [];
    const ept: RemoteEndpoint = remote.createEndpoint({
      cb: (data, _src, e) => {
        if (data[0] === 0x68 /* h */) {
          assert.equal(e.holdRxBuffer(data), 0);
          kept.push(data);
        }
      },
    });
    assert.equal(remote.holdRxBuffer(new Uint8Array(1)), -ERRNO.EINVAL, 'outside a callback');
    host.send(1024, ept.addr, enc.encode('hold me'));
    host.send(1024, ept.addr, enc.encode('not me'));
    pump(remote, host);
    assert.equal(kept.length, 1);
    assert.equal(host.txAvailable(), 15, 'the held buffer is not back');
    assert.equal(dec.decode(kept[0]), 'hold me', 'still valid after the callback');
    assert.equal(ept.releaseRxBuffer(kept[0]!), 0);
    assert.equal(ept.releaseRxBuffer(kept[0]!), -ERRNO.EINVAL);
    assert.equal(host.txAvailable(), 16);
    // Held across a reset: gone.
    host.send(1024, ept.addr, enc.encode('h2'));
    pump(remote, host);
    host.reset();
    remote.service();
    assert.equal(ept.releaseRxBuffer(kept[1]!), -ERRNO.ESHUTDOWN);
  });

  it('a callback that throws is counted; its buffer still goes back and delivery goes on', () => {
    const { host, remote, errors } = rig();
    const got: string[] = [];
    const ept = remote.createEndpoint({
      cb: (data) => {
        const s = dec.decode(data);
        if (s === 'boom') throw new Error('callback bug');
        got.push(s);
      },
    });
    host.send(1024, ept.addr, enc.encode('boom'));
    host.send(1024, ept.addr, enc.encode('fine'));
    pump(remote, host);
    assert.deepEqual(got, ['fine']);
    assert.equal(remote.stats.callbackErrors, 1);
    assert.match(errors[0] ?? '', /callback threw: callback bug/);
    assert.equal(host.txAvailable(), 16);
  });

  it('callbacks may create and destroy endpoints and close the device', () => {
    const { host, remote } = rig();
    let child: RemoteEndpoint | undefined;
    const ept = remote.createEndpoint({
      cb: (data, _src, e) => {
        if (data[0] === 1) child = remote.createEndpoint({ name: 'child', cb: noop });
        if (data[0] === 2) e.destroy();
        if (data[0] === 3) remote.close();
      },
    });
    host.send(1024, ept.addr, Uint8Array.of(1));
    const ns: HostMsg[] = pump(remote, host);
    assert.equal(ns.length, 1);
    assert.equal(ns[0]?.src, child?.addr);
    host.send(1024, ept.addr, Uint8Array.of(2));
    host.send(1024, ept.addr, Uint8Array.of(3));
    pump(remote, host);
    assert.equal(remote.stats.rxUnknownDst, 1, 'the second message found the endpoint gone');
    const c = child!;
    host.send(1024, c.addr, Uint8Array.of(3));
    remote.service();
    assert.equal(remote.state, 'ready', 'child has no close in its callback');
    const closer = remote.createEndpoint({ cb: () => remote.close() });
    host.send(1024, closer.addr, Uint8Array.of(0));
    host.send(1024, closer.addr, Uint8Array.of(0));
    remote.service();
    assert.equal(remote.state, 'closed');
    assert.equal(remote.stats.rxMessages, 4);
  });
});
