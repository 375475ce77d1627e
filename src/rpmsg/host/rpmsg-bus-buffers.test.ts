// The host bus's buffers, each exactly (virtio_rpmsg_bus.c: rpmsg_probe's pool, get_a_tx_buf,
// rpmsg_send_offchannel_raw's sleepers and the TX-complete callback, rpmsg_recv_single's
// re-posting): how many RX buffers one endpoint's reader may hold, a TX ring with fewer
// descriptors than the pool, TX-complete interrupts asked for only while a sender waits, a
// buffer returned without an interrupt, held and re-posted RX buffers, a broken ring reported
// once, the tap's view of all this, and what removal leaves. A scripted remote
// (hostile-remote.ts) drives the rings by hand.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO, isRprocError } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY, RPMSG_NS_ADDR, RPMSG_NS_DESTROY, decodeNsMsg } from '../rpmsg-wire.ts';
import { createLoopback, type Loopback } from '../../testing/loopback.ts';
import { hostileCore, type HostileRemote } from '../../testing/hostile-remote.ts';
import type { RpmsgFirmwareOptions } from '../../testing/rpmsg-firmware.ts';
import type { RpmsgHostOptions } from './rpmsg-host.ts';
import type { RpmsgTap } from './rpmsg-tap.ts';
import type { VirtioRpmsgBus } from './virtio-rpmsg-bus.ts';

const VRING_AVAIL_F_NO_INTERRUPT = 1;
const VRING_USED_F_NO_NOTIFY = 1;

interface Bare {
  readonly lb: Loopback<HostileRemote>;
  readonly r: HostileRemote;
  readonly dev: VirtioRpmsgBus;
}

async function bare(firmware?: RpmsgFirmwareOptions, host?: RpmsgHostOptions): Promise<Bare> {
  const lb = await createLoopback({
    core: hostileCore(),
    ...(firmware === undefined ? {} : { firmware }),
    ...(host === undefined ? {} : { host }),
  });
  const dev = lb.device;
  assert.ok(dev !== undefined);
  return { lb, r: lb.c, dev };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('rpmsg bus: the pool', () => {
  // [what, firmware, host options, RX buffers, RX buffers one endpoint may hold, sizes warned]
  const POOLS: readonly (readonly [
    string,
    RpmsgFirmwareOptions,
    RpmsgHostOptions,
    number,
    number,
    boolean,
  ])[] = [
    ['Linux-sized rings', {}, {}, 256, 64, false],
    ['8-entry rings', { num: 8 }, {}, 8, 2, false],
    ['4-entry rings', { num: 4 }, {}, 4, 1, false],
    ['2-entry rings: at least one', { num: 2 }, {}, 2, 1, false],
    ['a limit asked for', {}, { rxHeldPerEndpoint: 10 }, 256, 10, false],
    ['a limit of 0', {}, { rxHeldPerEndpoint: 0 }, 256, 0, false],
    ['a limit above the pool: the pool', { num: 8 }, { rxHeldPerEndpoint: 300 }, 8, 8, false],
    ['rings of different sizes: sized from vring0', { rxNum: 16, txNum: 4 }, {}, 16, 4, true],
  ];
  for (const [what, firmware, host, rx, held, warned] of POOLS) {
    it(`${what}: ${rx} RX buffers, ${held} per endpoint${warned ? ', warned' : ''}`, async () => {
      const { lb, dev } = await bare(firmware, host);
      assert.equal(dev.rxBuffers, rx);
      assert.equal(dev.rxHeldPerEndpoint, held);
      assert.equal(dev.createEndpoint(undefined).rxHeldLimit, held);
      assert.equal(
        lb.logs.some((l) => l.includes('rpmsg vrings differ in size')),
        warned,
      );
      await lb.close();
    });
  }
});

describe('rpmsg bus: sending', () => {
  it('a TX ring smaller than the pool: -ENOMEM when its descriptors are out; one returned unannounced is reclaimed', async () => {
    const { lb, r, dev } = await bare({ rxNum: 16, txNum: 4 });
    r.autoReturn = false;
    for (let i = 0; i < 4; i++) assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([i])), 0);
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([4])), -ERRNO.ENOMEM);
    assert.equal(dev.stats.tx, 4);
    assert.deepEqual(dev.ringUse, { rx: 16, tx: 4 });
    const first = r.takeTx();
    assert.ok(first !== undefined);
    r.returnTx(first.head, 0, false);
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([5])), 0);
    assert.equal(dev.stats.tx, 5);
    await lb.close();
  });

  it('TX-complete interrupts are asked for only while a sender waits', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    const flags = (): number => r.ring(1).availFlags & VRING_AVAIL_F_NO_INTERRUPT;
    assert.equal(flags(), VRING_AVAIL_F_NO_INTERRUPT, 'none asked for at start');
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    assert.equal(flags(), VRING_AVAIL_F_NO_INTERRUPT, 'none asked for by a send that found a buffer');
    const waiting = dev.sendRaw(0x400, 0x401, new Uint8Array([2]), 5000);
    await tick();
    assert.equal(flags(), 0, 'asked for while the sender waits');
    const m = r.takeTx();
    assert.ok(m !== undefined);
    r.returnTx(m.head);
    await lb.idle();
    await waiting;
    assert.equal(flags(), VRING_AVAIL_F_NO_INTERRUPT, 'none asked for once it was served');
    const late = dev.sendRaw(0x400, 0x401, new Uint8Array([3]), 1);
    await assert.rejects(late, (e) => isRprocError(e, 'ETIMEDOUT'));
    assert.equal(flags(), VRING_AVAIL_F_NO_INTERRUPT, 'none asked for once it timed out');
    await lb.close();
  });

  it('a buffer the remote returned without an interrupt wakes the waiting sender when the next one comes', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    let done = false;
    const first = dev.sendRaw(0x400, 0x401, new Uint8Array([2]), 5000).then(() => (done = true));
    await tick();
    const m = r.takeTx();
    assert.ok(m !== undefined);
    r.returnTx(m.head, 0, false); // used, but no doorbell
    await tick();
    assert.equal(done, false, 'nothing told the host yet');
    // A second sender queues behind the first, and on its way finds the returned buffer.
    const second = dev.sendRaw(0x400, 0x401, new Uint8Array([3]), 50);
    await first;
    assert.deepEqual([...(r.takeTx()?.payload ?? [])], [2], 'the first sender got the buffer');
    await assert.rejects(second, (e) => isRprocError(e, 'ETIMEDOUT'));
    await lb.close();
  });

  it('senders blocked in turn go in the order they called, one per returned buffer', async () => {
    const { lb, r, dev } = await bare({ num: 2 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([0])), 0);
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    const order: number[] = [];
    const sends = [2, 3, 4, 5].map((i) =>
      dev.sendRaw(0x400, 0x401, new Uint8Array([i]), 5000).then(() => order.push(i)),
    );
    await tick();
    for (let round = 0; round < 2; round++) {
      for (let m = r.takeTx(); m !== undefined; m = r.takeTx()) r.returnTx(m.head, 0, false);
      r.notify(r.notifyId(1));
      await lb.idle();
    }
    await Promise.all(sends);
    assert.deepEqual(order, [2, 3, 4, 5]);
    await lb.close();
  });

  it('timeoutMs 0 with no buffer free expires at once: no interrupt is asked for, even for a moment', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    const send = dev.sendRaw(0x400, 0x401, new Uint8Array([2]), 0);
    // Synchronously, before anything settles: the sender never queued.
    assert.equal(r.ring(1).availFlags & VRING_AVAIL_F_NO_INTERRUPT, VRING_AVAIL_F_NO_INTERRUPT);
    await assert.rejects(send, (e) => isRprocError(e, 'ETIMEDOUT'));
    await lb.close();
  });

  it('a send that times out at once leaves the senders already waiting in the queue', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([0])), 0);
    const waiting = dev.sendRaw(0x400, 0x401, new Uint8Array([1]), 2000);
    await tick();
    await assert.rejects(dev.sendRaw(0x400, 0x401, new Uint8Array([2]), 0), (e) =>
      isRprocError(e, 'ETIMEDOUT'),
    );
    const m = r.takeTx();
    assert.ok(m !== undefined);
    r.returnTx(m.head);
    await lb.idle();
    await waiting;
    assert.deepEqual([...(r.takeTx()?.payload ?? [])], [1]);
    await lb.close();
  });

  it('a woken sender that finds its buffer taken waits again ahead of those that came after it', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([0])), 0);
    const order: number[] = [];
    const a = dev.sendRaw(0x400, 0x401, new Uint8Array([1]), 5000).then(() => order.push(1));
    const b = dev.sendRaw(0x400, 0x401, new Uint8Array([2]), 5000).then(() => order.push(2));
    await tick();
    const giveOne = (): void => {
      const m = r.takeTx();
      assert.ok(m !== undefined);
      r.returnTx(m.head, 0, false);
    };
    giveOne();
    lb.rproc.vqInterrupt(r.notifyId(1)); // wakes the first sender…
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([9])), 0, '…whose buffer a try-send takes');
    await tick();
    assert.deepEqual(order, []);
    giveOne();
    lb.rproc.vqInterrupt(r.notifyId(1));
    await tick();
    assert.deepEqual(order, [1], 'the first sender went next');
    giveOne();
    lb.rproc.vqInterrupt(r.notifyId(1));
    await Promise.all([a, b]);
    assert.deepEqual(order, [1, 2]);
    await lb.close();
  });

  it('a TX ring found broken while a send frees a descriptor: that send fails with -EIO', async () => {
    const { lb, r, dev } = await bare({ rxNum: 8, txNum: 4 });
    r.autoReturn = false;
    for (let i = 0; i < 4; i++) assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([i])), 0);
    r.bumpUsedIdx(1, 1000);
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([4])), -ERRNO.EIO);
    assert.ok(dev.broken !== undefined);
    await lb.close();
  });

  it('a send refused for its arguments is refused at once, even behind a waiting sender', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    const waiting = dev.sendRaw(0x400, 0x401, new Uint8Array([2]), 5000);
    await tick();
    const t0 = performance.now();
    await assert.rejects(dev.sendRaw(0x400, 0x401, new Uint8Array(497), 2000), (e) =>
      isRprocError(e, 'EMSGSIZE'),
    );
    await assert.rejects(dev.sendRaw(0x400, RPMSG_ADDR_ANY, new Uint8Array(1), 2000), (e) =>
      isRprocError(e, 'EINVAL'),
    );
    assert.ok(performance.now() - t0 < 1000, 'neither waited for a buffer');
    const m = r.takeTx();
    assert.ok(m !== undefined);
    r.returnTx(m.head);
    await lb.idle();
    await waiting;
    await lb.close();
  });

  it('a zero-copy buffer released wakes a sender waiting for one', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    const buf = dev.getTxBuffer();
    assert.ok(buf !== undefined);
    const waiting = dev.sendRaw(0x400, 0x401, new Uint8Array([9]), 5000);
    await tick();
    dev.releaseTxBuffer(buf);
    await waiting;
    assert.deepEqual([...(r.takeTx()?.payload ?? [])], [9]);
    await lb.close();
  });

  it('a remote that asks for no doorbells (VRING_USED_F_NO_NOTIFY) gets none, and none is counted', async () => {
    const { lb, r, dev } = await bare({ num: 8 });
    r.autoReturn = false;
    dev.createEndpoint(() => undefined, 0x600);
    r.ring(0).usedFlags = VRING_USED_F_NO_NOTIFY;
    r.ring(1).usedFlags = VRING_USED_F_NO_NOTIFY;
    const before = { kicks: r.kicks.length, rx: dev.stats.rxKicks, tx: dev.stats.txKicks };
    r.send(0x600, new Uint8Array(1));
    assert.equal(dev.trySendRaw(0x600, 0x400, new Uint8Array(1)), 0);
    await lb.idle();
    assert.equal(dev.stats.rx, 1);
    assert.equal(dev.stats.tx, 1);
    assert.deepEqual({ kicks: r.kicks.length, rx: dev.stats.rxKicks, tx: dev.stats.txKicks }, before);
    r.ring(0).usedFlags = 0;
    r.ring(1).usedFlags = 0;
    r.send(0x600, new Uint8Array(1));
    assert.equal(dev.trySendRaw(0x600, 0x400, new Uint8Array(1)), 0);
    await lb.idle();
    assert.deepEqual(
      { kicks: r.kicks.length, rx: dev.stats.rxKicks, tx: dev.stats.txKicks },
      { kicks: before.kicks + 2, rx: before.rx + 1, tx: before.tx + 1 },
    );
    await lb.close();
  });

  it('getTxBuffer: none from a bus that is gone or broken', async () => {
    const gone = await bare();
    gone.dev.remove('test');
    assert.equal(gone.dev.getTxBuffer(), undefined);
    await gone.lb.close();
    const broken = await bare();
    broken.r.bumpUsedIdx(0, 1000);
    broken.lb.rproc.vqInterrupt(broken.r.notifyId(0));
    assert.ok(broken.dev.broken !== undefined);
    assert.equal(broken.dev.getTxBuffer(), undefined);
    await broken.lb.close();
  });

  it('a host announcement is an NS message from the endpoint to 53: CREATE, or DESTROY when asked', async () => {
    const { lb, r, dev } = await bare();
    const ept = dev.createEndpoint(undefined, 0x600);
    assert.equal(dev.announce('svc', ept), 0);
    assert.equal(dev.announce('svc', ept, true), 0);
    await lb.idle();
    assert.deepEqual(
      r.received.map((m) => [m.hdr.src, m.hdr.dst, decodeNsMsg(m.payload)]),
      [
        [0x600, RPMSG_NS_ADDR, { name: 'svc', addr: 0x600, flags: 0 }],
        [0x600, RPMSG_NS_ADDR, { name: 'svc', addr: 0x600, flags: RPMSG_NS_DESTROY }],
      ],
    );
    await lb.close();
  });
});

describe('rpmsg bus: receiving', () => {
  it('a held RX buffer goes back once, however often it is released', async () => {
    const { lb, r, dev } = await bare({ num: 8 });
    const releases: (() => void)[] = [];
    dev.createEndpoint((_d, _s, ctx) => releases.push(ctx.hold()), 0x600);
    r.send(0x600, new Uint8Array([1]));
    r.send(0x600, new Uint8Array([2]));
    await lb.idle();
    assert.equal(dev.ringUse.rx, 6);
    const kicks = dev.stats.rxKicks;
    releases[0]?.();
    assert.equal(dev.ringUse.rx, 7);
    assert.equal(dev.stats.rxKicks, kicks + 1, 'the release kicks the remote');
    releases[0]?.();
    assert.equal(dev.ringUse.rx, 7, 'a second release is ignored');
    assert.equal(dev.stats.rxKicks, kicks + 1);
    releases[1]?.();
    assert.equal(dev.ringUse.rx, 8);
    await lb.close();
  });

  it('a buffer held across removal is neither re-posted nor kicked when released', async () => {
    const { lb, r, dev } = await bare({ num: 8 });
    let release: (() => void) | undefined;
    dev.createEndpoint((_d, _s, ctx) => (release = ctx.hold()), 0x600);
    r.send(0x600, new Uint8Array([1]));
    await lb.idle();
    assert.ok(release !== undefined);
    const avail = r.ring(0).availIdx;
    const kicks = { rx: dev.stats.rxKicks, doorbells: r.kicks.length };
    dev.remove('test');
    const inFlight = dev.ringUse.rx;
    release();
    assert.equal(dev.ringUse.rx, inFlight, 'nothing posted');
    assert.equal(r.ring(0).availIdx, avail, 'nothing published');
    assert.deepEqual({ rx: dev.stats.rxKicks, doorbells: r.kicks.length }, kicks);
    await lb.close();
  });

  it('hold() after the callback returned is refused; the buffer went back already', async () => {
    const { lb, r, dev } = await bare({ num: 8 });
    let late: (() => unknown) | undefined;
    dev.createEndpoint((_d, _s, ctx) => (late = () => ctx.hold()), 0x600);
    r.send(0x600, new Uint8Array([1]));
    await lb.idle();
    assert.ok(late !== undefined);
    assert.throws(
      late,
      (e) => isRprocError(e, 'EINVAL') && e.message.includes('inside the receive callback'),
    );
    assert.equal(dev.ringUse.rx, 8);
    await lb.close();
  });

  it('a callback that throws: logged as an error, its buffer back, the next message delivered', async () => {
    const { lb, r, dev } = await bare({ num: 8 });
    const got: number[] = [];
    dev.createEndpoint((d) => {
      if (d[0] === 1) throw new Error('reader bug');
      got.push(d[0] ?? -1);
    }, 0x600);
    r.send(0x600, new Uint8Array([1]));
    r.send(0x600, new Uint8Array([2]));
    await lb.idle();
    assert.deepEqual(got, [2]);
    assert.ok(lb.logs.some((l) => /endpoint 1536 callback threw: reader bug/.test(l)));
    assert.equal(dev.ringUse.rx, 8);
    assert.equal(dev.stats.rx, 2);
    await lb.close();
  });

  it('a broken RX ring fails the waiting senders with EIO naming it', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    const waiting = dev.sendRaw(0x400, 0x401, new Uint8Array([2]), 5000);
    await tick();
    r.bumpUsedIdx(0, 1000);
    lb.rproc.vqInterrupt(r.notifyId(0));
    const why = dev.broken;
    assert.ok(why !== undefined);
    await assert.rejects(waiting, (e) => isRprocError(e, 'EIO') && e.cause === why);
    assert.deepEqual(lb.hostErrors, [why.detail]);
    await lb.close();
  });

  it('a bus is reported broken once: an RX ring breaking after the TX ring adds nothing', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    r.bumpUsedIdx(1, 1000);
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([2])), -ERRNO.ENOMEM);
    const why = dev.broken;
    assert.ok(why !== undefined);
    r.bumpUsedIdx(0, 1000);
    lb.rproc.vqInterrupt(r.notifyId(0));
    assert.equal(dev.broken, why);
    assert.deepEqual(lb.hostErrors, [why.detail]);
    await lb.close();
  });

  it('a broken TX ring is reported once, when a send finds it', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([1])), 0);
    r.bumpUsedIdx(1, 1000);
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([2])), -ERRNO.ENOMEM);
    const why = dev.broken;
    assert.ok(why !== undefined, 'the reclaim found the violation');
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array([3])), -ERRNO.EIO);
    dev.checkTxQueue();
    assert.deepEqual(lb.hostErrors, [why.detail]);
    await lb.close();
  });

  it('a reader that drops a message: counted and said', async () => {
    const { lb, dev } = await bare();
    const ept = dev.createEndpoint(undefined, 0x600);
    ept.noteDropped('the test queue', 3);
    assert.equal(dev.stats.rxDropped, 1);
    assert.ok(
      lb.logs.some((l) => /the test queue \(endpoint 1536\) is full: message dropped, 3 so far/.test(l)),
    );
    await lb.close();
  });
});

describe('rpmsg bus: the name service paces refused messages', () => {
  // After a refused message spent the burst (1 at 1 a second), each kind of message: a refused
  // kind has its buffer held (at least one of two, should a token come back meanwhile); an
  // accepted kind is never paced. The device starts with channels "old" and "keep", limit 4.
  const KINDS: readonly (readonly [string, (r: HostileRemote) => void, boolean])[] = [
    ['creating channels', (r) => ['new0', 'new1'].forEach((n) => r.announce(n, 0x600)), false],
    ['destroying a channel', (r) => r.announce('old', 0x500, RPMSG_NS_DESTROY), false],
    ['of the wrong length', (r) => [0, 1].forEach(() => r.announce('', 0x600, 0, new Uint8Array(39))), true],
    ['naming an impossible channel', (r) => [0, 1].forEach(() => r.announce('', 0x600)), true],
    [
      'destroying an unknown channel',
      (r) => [0, 1].forEach(() => r.announce('nope', 0x600, RPMSG_NS_DESTROY)),
      true,
    ],
    ['creating an existing channel', (r) => [0, 1].forEach(() => r.announce('keep', 0x501)), true],
    [
      'creating channels over the limit',
      (r) => {
        r.announce('x0', 0x600);
        r.announce('x1', 0x600);
        r.announce('x2', 0x600);
        r.announce('x3', 0x600);
      },
      true,
    ],
  ];
  for (const [what, send, held] of KINDS) {
    it(`messages ${what}: ${held ? 'held' : 'never paced'}`, async () => {
      const { lb, r, dev } = await bare({ num: 16 }, { nsRefusedPerSecond: 1, maxChannelsPerDevice: 4 });
      r.announce('old', 0x500);
      r.announce('keep', 0x501);
      r.announce('keep', 0x501); // refused: spends the burst
      await lb.idle();
      const before = dev.stats.nsPaced;
      send(r);
      await lb.idle();
      assert.equal(dev.stats.nsPaced > before, held);
      await lb.close();
    });
  }

  it('beyond the burst (1 at 1/s), a refused announcement is held and counted; accepted ones never are', async () => {
    const { lb, r, dev } = await bare({ num: 16 }, { nsRefusedPerSecond: 1 });
    for (const name of ['a', 'b', 'c']) r.announce(name, 0x500);
    await lb.idle();
    assert.equal(dev.channelCount, 3);
    assert.equal(dev.stats.nsPaced, 0);
    for (let i = 0; i < 4; i++) r.announce('a', 0x500); // duplicates: refused
    await lb.idle();
    assert.equal(dev.stats.nsRefused, 4);
    assert.equal(dev.stats.nsPaced, 3, 'the first went back within the burst');
    assert.equal(dev.ringUse.rx, 16 - 3);
    await lb.close();
  });
});

describe('rpmsg bus: the tap sees what the bus does', () => {
  it('endpoints made and gone, messages each way (validated), starvation on demand', async () => {
    const { lb, r, dev } = await bare({ num: 4 });
    const seen: string[] = [];
    let starved = false;
    const tap: RpmsgTap = {
      tx: (_d, src, dst, len) => seen.push(`tx ${src}>${dst} ${len}`),
      rx: (_d, src, dst, len) => seen.push(`rx ${src}>${dst} ${len}`),
      endpoint: (_d, addr, action, ch) =>
        seen.push(`${action} ${addr}${ch === undefined ? '' : ` ${ch.name}`}`),
      txStarved: () => starved,
    };
    dev.tap = tap;
    const ept = dev.createEndpoint(undefined, 0x600);
    assert.equal(dev.trySendRaw(0x600, 0x400, new Uint8Array(3)), 0);
    r.send(0x600, new Uint8Array(5), { src: 0x400 });
    r.send(0x600, new Uint8Array(5), { src: 0x400, hdrLen: 100 }); // malformed: not seen
    r.send(0x700, new Uint8Array(2), { src: 0x400 }); // no recipient: seen
    await lb.idle();
    starved = true;
    assert.equal(dev.trySendRaw(0x600, 0x400, new Uint8Array(3)), -ERRNO.ENOMEM);
    assert.equal(dev.getTxBuffer(), undefined);
    starved = false;
    ept.destroy();
    r.announce('svc', 0x500);
    await lb.idle();
    const ch = dev.channel('svc');
    assert.ok(ch !== undefined);
    ch.open();
    dev.createEndpoint(undefined, 0x601);
    dev.remove('test');
    assert.deepEqual(seen, [
      'create 1536',
      'tx 1536>1024 3',
      'rx 1024>1536 5',
      'rx 1024>1792 2',
      'destroy 1536',
      'rx 1280>53 40',
      'create 1024 svc',
      'create 1537',
      'destroy 1024 svc',
      'destroy 1537',
    ]);
    await lb.close();
  });
});

describe('rpmsg bus: senders starved by the tap', () => {
  it('when the starvation ends, one returned buffer wakes as many waiting senders as there are free buffers', async () => {
    const { lb, r, dev } = await bare({ num: 8 });
    r.autoReturn = false;
    let starved = false;
    dev.tap = {
      tx: () => undefined,
      rx: () => undefined,
      endpoint: () => undefined,
      txStarved: () => starved,
    };
    const lent = dev.getTxBuffer();
    assert.ok(lent !== undefined);
    starved = true;
    const done: number[] = [];
    const sends = [1, 2, 3].map((i) =>
      dev.sendRaw(0x400, 0x401, new Uint8Array([i]), 1000).then(() => done.push(i)),
    );
    await tick();
    assert.deepEqual(done, []);
    starved = false;
    // No interrupt will come (the remote keeps what it gets): this release is the only wake-up.
    dev.releaseTxBuffer(lent);
    await Promise.all(sends);
    assert.deepEqual(done, [1, 2, 3]);
    await lb.close();
  });
});

describe('rpmsg bus: a tap without fault injection', () => {
  it('txStarved is optional: sends go on', async () => {
    const { lb, r, dev } = await bare();
    const tx: number[] = [];
    dev.tap = { tx: (_d, _s, _t, len) => tx.push(len), rx: () => undefined, endpoint: () => undefined };
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array(3)), 0);
    assert.ok(dev.getTxBuffer() !== undefined);
    await lb.idle();
    assert.deepEqual(tx, [3]);
    assert.equal(r.received.length, 1);
    await lb.close();
  });
});

describe('rpmsg bus: removal', () => {
  it('channels removed and said, endpoints and senders failed with EPIPE, once', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    r.announce('svc', 0x500);
    await lb.idle();
    const removed: string[] = [];
    lb.host.on('channel', (e) => {
      if (e.action === 'remove') removed.push(e.channel.name);
    });
    const ch = dev.channel('svc');
    assert.ok(ch !== undefined);
    const ept = ch.open();
    const loose = dev.createEndpoint(undefined, 0x600);
    const reasons: string[] = [];
    loose.onDestroy((e) => reasons.push(e.message));
    assert.equal(dev.trySendRaw(0x600, 0x401, new Uint8Array(1)), 0);
    const waiting = dev.sendRaw(0x600, 0x401, new Uint8Array(1), 5000);
    await tick();
    dev.remove('going away');
    dev.remove('again');
    await assert.rejects(waiting, (e) => isRprocError(e, 'EPIPE') && e.message.includes('going away'));
    assert.deepEqual(removed, ['svc']);
    assert.equal(ch.removed, true);
    assert.equal(ept.destroyed, true);
    assert.deepEqual(reasons, [`EPIPE: ${lb.vdev?.name ?? ''}: going away`]);
    assert.equal(dev.removed, true);
    assert.equal(dev.channelCount, 0);
    assert.equal(dev.channel('svc'), undefined);
    await lb.close();
  });
});
