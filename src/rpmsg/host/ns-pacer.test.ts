// The name-service budget (ns-pacer.ts): refused messages' buffers go back at once up to the burst,
// the first one beyond is held, held buffers go back in order at the budget's rate; and on the
// loopback, a remote announcing past its device's channel limit runs short of RX buffers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NsPacer } from './ns-pacer.ts';
import { createLoopback } from '../../testing/loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import type { RxContext } from './rpmsg-endpoint.ts';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An RxContext that records which message's buffer went back, in order. */
function contexts(released: number[]): (i: number) => RxContext {
  return (i) => ({ hold: () => () => void released.push(i) });
}

describe('NsPacer', () => {
  for (const { perSecond, burst } of [
    { perSecond: 1000, burst: 100 },
    { perSecond: 5000, burst: 500 },
    { perSecond: 5, burst: 1 },
  ]) {
    it(`${perSecond}/s: the ${burst}th refused message goes back at once, the ${burst + 1}th is held`, () => {
      const now = 0;
      const pacer = new NsPacer(perSecond, () => now);
      const released: number[] = [];
      const ctx = contexts(released);
      for (let i = 0; i < burst; i++) assert.equal(pacer.refused(ctx(i)), false, `message ${i}`);
      assert.equal(pacer.refused(ctx(burst)), true);
      assert.equal(pacer.holding, 1);
      pacer.close();
      assert.deepEqual(released, [burst], 'close gives held buffers back');
      assert.equal(pacer.holding, 0);
    });
  }

  it('gives held buffers back in order, at the budget rate, and stops its timer when none is left', async () => {
    let now = 0;
    const pacer = new NsPacer(1000, () => now);
    const released: number[] = [];
    const ctx = contexts(released);
    for (let i = 0; i < 130; i++) pacer.refused(ctx(i));
    assert.equal(pacer.holding, 30);
    // 10 ms of budget: 10 buffers.
    now += 10;
    await sleep(25);
    assert.deepEqual(
      released,
      Array.from({ length: 10 }, (_, k) => 100 + k),
    );
    // A message refused meanwhile waits behind the held ones even with budget left.
    now += 1000;
    assert.equal(pacer.refused(ctx(130)), true);
    await sleep(25);
    assert.deepEqual(
      released,
      Array.from({ length: 31 }, (_, k) => 100 + k),
    );
    assert.equal(pacer.holding, 0);
    // Budget refilled to the burst, not beyond: 100 at once again, then held.
    now += 10_000;
    for (let i = 0; i < 100; i++) assert.equal(pacer.refused(ctx(200 + i)), false);
    assert.equal(pacer.refused(ctx(300)), true);
    pacer.close();
  });
});

describe('rpmsg name service: refused announcements are paced', () => {
  it('a remote announcing past the channel limit gets its buffers back at nsRefusedPerSecond only', async () => {
    const lb = await createLoopback({
      core: hostileCore(),
      host: { maxChannelsPerDevice: 2, nsRefusedPerSecond: 100 },
    });
    const dev = lb.device;
    assert.ok(dev !== undefined);
    const posted = dev.ringUse.rx;
    // 2 channels, 10 refused within the burst (a tenth of 100/s), 20 held.
    for (let i = 0; i < 32; i++) assert.notEqual(lb.c.announce(`svc${i}`, 0x400 + i), undefined);
    await lb.idle();
    assert.equal(dev.channelCount, 2);
    assert.equal(dev.stats.nsOverLimit, 30);
    assert.equal(dev.stats.nsPaced, 20);
    assert.equal(dev.ringUse.rx, posted - 20, 'the held buffers are off the ring');
    // At 100/s the 20 come back within about 200 ms.
    const until = performance.now() + 2000;
    while (dev.ringUse.rx < posted && performance.now() < until) await sleep(20);
    assert.equal(dev.ringUse.rx, posted);
    await lb.close();
  });

  it('refuses nsRefusedPerSecond that is not a count', async () => {
    await assert.rejects(
      createLoopback({ core: hostileCore(), host: { nsRefusedPerSecond: 0 } }),
      /nsRefusedPerSecond 0 is not a count/,
    );
  });
});
