// A blocking send that runs out of TX buffers: txPollMaxUs (how long it polls the used ring before
// it sleeps) is validated, and a send whose own look at the used ring finds the TX queue broken
// fails with EIO at once instead of waiting for buffers that cannot come. The polling itself needs
// a remote on another thread: src/soc/soc-tx-poll.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../../util/errors.ts';
import { createLoopback } from '../../testing/loopback.ts';
import { ThreadLoopback } from '../../../test/support/thread-loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import { RpmsgHost } from './rpmsg-host.ts';

/** A loopback whose remote keeps every buffer, with the host's pool already empty. */
async function exhausted(txPollMaxUs: number) {
  const lb = await createLoopback({ core: hostileCore(), firmware: { num: 8 }, host: { txPollMaxUs } });
  lb.c.autoReturn = false;
  lb.c.announce('svc', 0x400);
  await lb.idle();
  const ept = lb.host.channels[0]?.open();
  assert.ok(ept !== undefined);
  while (ept.trySend(new Uint8Array(1)) === 0);
  return { lb, ept };
}

describe('rpmsg host: a blocking send that runs out of TX buffers', () => {
  it('polls the used ring before it sleeps: a remote thread draining the ring hands buffers back meanwhile', async () => {
    const lb = new ThreadLoopback({
      firmware: { num: 16 },
      services: ['rpmsg-sink'],
      // Long enough to see the core thread wake up and drain even when it is slow to (a loaded CI).
      host: { txPollMaxUs: 5000 },
    });
    try {
      await lb.rproc.boot();
      const ch = await lb.host.waitForChannel('rpmsg-sink', { rproc: lb.rproc, timeoutMs: 10_000 });
      const ept = ch.open();
      const payload = new Uint8Array(100).fill(7);
      for (let i = 0; i < 5000; i++) await ept.send(payload, { timeoutMs: 10_000 });
      const dev = lb.host.devicesOf(lb.rproc)[0];
      assert.ok(dev !== undefined);
      assert.ok(
        dev.stats.txPollHits > 0,
        `polls that found a buffer: ${dev.stats.txPollHits} (sleeps ${dev.stats.txSleeps})`,
      );
    } finally {
      await lb.close();
    }
    // The core stops with at most one ring's worth (16) still on its way.
    const counted = lb.results[0];
    assert.ok(counted !== undefined);
    assert.deepEqual(counted.errors, []);
    assert.ok(counted.echoed > 5000 - 16 && counted.echoed <= 5000, `the sink counted ${counted.echoed}`);
  });

  it('a remote that returns nothing: the poll gives up and the send still ends at its timeout (ETIMEDOUT)', async () => {
    // The remote shares this thread: nothing can come back while the host polls, so each poll runs
    // its whole budget (2 ms here) and fails; the send must still sleep, and time out.
    const { lb, ept } = await exhausted(2000);
    for (let k = 0; k < 3; k++) {
      await assert.rejects(ept.send(new Uint8Array(1), { timeoutMs: 30 }), (e) =>
        isRprocError(e, 'ETIMEDOUT'),
      );
    }
    const dev = lb.device;
    assert.ok(dev !== undefined);
    assert.equal(dev.stats.txPollHits, 0);
    assert.equal(dev.stats.txSleeps, 3);
    await lb.close();
  });

  for (const bad of [-1, 1.5, Number.NaN]) {
    it(`refuses txPollMaxUs ${bad} with EINVAL naming it`, () => {
      assert.throws(
        () => new RpmsgHost({ txPollMaxUs: bad }),
        (e) => isRprocError(e, 'EINVAL') && e.message.includes(`txPollMaxUs ${bad} is not a count`),
      );
    });
  }

  it('a send with timeoutMs 0 does not poll at all: ETIMEDOUT at once, even with a 1 s poll budget', async () => {
    const { lb, ept } = await exhausted(1_000_000);
    const t0 = performance.now();
    await assert.rejects(ept.send(new Uint8Array(1), { timeoutMs: 0 }), (e) => isRprocError(e, 'ETIMEDOUT'));
    assert.ok(performance.now() - t0 < 500, `took ${(performance.now() - t0).toFixed(0)} ms`);
    await lb.close();
  });

  it("the poll stops at the send's deadline, and at its own budget: the event loop runs again meanwhile", async () => {
    // A 1 s budget against a 30 ms timeout: the send gives up at its deadline, not a second later.
    const a = await exhausted(1_000_000);
    let t0 = performance.now();
    await assert.rejects(a.ept.send(new Uint8Array(1), { timeoutMs: 30 }), (e) =>
      isRprocError(e, 'ETIMEDOUT'),
    );
    assert.ok(performance.now() - t0 < 500, `the 30 ms send took ${(performance.now() - t0).toFixed(0)} ms`);
    await a.lb.close();
    // A 20 ms budget against a 400 ms timeout: the thread is free again after the poll, long before the
    // send times out (a timer due in 5 ms fires within 200 ms).
    const b = await exhausted(20_000);
    t0 = performance.now();
    let timerAt = Number.POSITIVE_INFINITY;
    setTimeout(() => (timerAt = performance.now() - t0), 5);
    await assert.rejects(b.ept.send(new Uint8Array(1), { timeoutMs: 400 }), (e) =>
      isRprocError(e, 'ETIMEDOUT'),
    );
    assert.ok(timerAt < 200, `a 5 ms timer fired after ${timerAt.toFixed(0)} ms`);
    await b.lb.close();
  });

  it('a send whose own reclaim finds the TX queue broken fails with EIO at once, not at its timeout', async () => {
    const { lb, ept } = await exhausted(0);
    lb.rproc.crash.recoveryDisabled = true;
    // A used entry naming a descriptor the ring does not have, and no interrupt: the send's own
    // look at the used ring is what finds it.
    lb.c.pushUsed(1, 0x77, 0);
    const t0 = performance.now();
    await assert.rejects(
      ept.send(new Uint8Array(1), { timeoutMs: 5000 }),
      (e) => isRprocError(e, 'EIO') && /names descriptor 0x77/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 2500, 'failed before its timeout');
    await lb.close();
  });
});
