// The same host talking to the device-role library running in a worker thread over shared memory:
// 10 000 echoed messages of random sizes, checked byte for byte and in order, with the host's event
// loop free throughout (doorbells through Atomics.waitAsync), then a restart of the core.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VIRTIO_RING_F_EVENT_IDX } from '../../virtio/vring-constants.ts';
import { ThreadLoopback } from '../../../test/support/thread-loopback.ts';
import { NS_FEATURE } from '../../testing/rpmsg-firmware.ts';

/** Deterministic random sizes 0..496 (fast-check's generator under a fixed seed). */
function sizes(n: number, seed: number): number[] {
  return fc.sample(fc.integer({ min: 0, max: 496 }), { numRuns: n, seed });
}

function payload(i: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let k = 0; k < size; k++) out[k] = (i * 97 + k * 13 + (k >> 8)) & 0xff;
  return out;
}

async function echoRun(lb: ThreadLoopback, count: number, seed: number): Promise<void> {
  const ch = await lb.host.waitForChannel('rpmsg-echo', { anyDevice: true, timeoutMs: 10_000 });
  const lens = sizes(count, seed);
  let received = 0;
  let bad = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const ept = ch.open((data) => {
    const i = received++;
    const want = payload(i, lens[i] ?? -1);
    if (data.length !== want.length || !Buffer.from(data).equals(want)) bad++;
    if (received === count) resolveDone();
  });
  // Pipelined: a send only waits for a free TX buffer, not for its echo.
  for (let i = 0; i < count; i++) await ept.send(payload(i, lens[i] ?? 0), { timeoutMs: 10_000 });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${received} of ${count} echoes came back`)), 15_000);
    }),
  ]);
  clearTimeout(timer);
  assert.equal(received, count);
  assert.equal(bad, 0, 'every echo byte-exact and in order');
  ept.destroy();
}

describe('rpmsg host with the remote in a worker thread', () => {
  it('10 000 echoed messages of random sizes, byte-exact, then a restart of the core', async () => {
    const lb = new ThreadLoopback({ firmware: { num: 256 } });
    await lb.rproc.boot();
    await echoRun(lb, 10_000, 42);
    // Restart the core: a new worker, a new handshake, a new channel.
    await lb.rproc.shutdown();
    assert.equal(lb.host.channels.length, 0);
    assert.equal(lb.outstandingDma, 0);
    await lb.rproc.boot();
    await echoRun(lb, 500, 7);
    await lb.close();
    assert.equal(lb.results.length, 2);
    assert.deepEqual(
      lb.results.map((r) => [r.echoed, r.errors]),
      [
        [10_000, []],
        [500, []],
      ],
    );
  });

  it('with EVENT_IDX and small rings the same traffic goes through', async () => {
    const lb = new ThreadLoopback({
      firmware: { num: 16, dfeatures: NS_FEATURE | (1 << VIRTIO_RING_F_EVENT_IDX) },
    });
    await lb.rproc.boot();
    await echoRun(lb, 3000, 3);
    await lb.close();
    assert.deepEqual(
      lb.results.map((r) => r.errors),
      [[]],
    );
  });
});
