// Cross-thread smoke test: the host drives two rings in a SharedArrayBuffer while a worker plays
// the device, both sides really concurrent, with EVENT_IDX and with flag-based suppression. Every
// payload is checked on both sides, so a publication that ran ahead of its data would show.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { VIRTIO_RING_F_EVENT_IDX } from './vring-constants.ts';
import { VirtqueueDriver } from './vring-driver.ts';
import { vringSize } from './vring-layout.ts';
import { BUF_SIZE, POOL_BASE } from '../../test/support/vring-fixtures.ts';

interface Result {
  handled: number;
  bad: number;
  error: string | null;
}

async function exchange(features: number, count: number): Promise<{ result: Result; badReplies: number }> {
  const num = 64;
  const txRing = new SharedArrayBuffer(vringSize(num, 16));
  const rxRing = new SharedArrayBuffer(vringSize(num, 16));
  const pool = new SharedArrayBuffer(2 * num * BUF_SIZE);
  const bells = new SharedArrayBuffer(8);
  const b = new Int32Array(bells);
  const poolBytes = new Uint8Array(pool);
  const notifyDevice = (): void => {
    Atomics.add(b, 0, 1);
    Atomics.notify(b, 0);
  };
  const opts = { num, align: 16, features, zero: true, notify: notifyDevice };
  const tx = new VirtqueueDriver<number>({ ...opts, memory: new Uint8Array(txRing), name: 'tx' });
  const rx = new VirtqueueDriver<number>({ ...opts, memory: new Uint8Array(rxRing), name: 'rx' });
  // buffers 0..num-1 are RX (posted once, recycled), num..2num-1 TX (free list of indices)
  for (let i = 0; i < num; i++) rx.addInbuf(POOL_BASE + BigInt(i * BUF_SIZE), BUF_SIZE, i);
  rx.kick();
  const txFree: number[] = Array.from({ length: num }, (_, i) => num + i);

  const worker = new Worker(new URL('../../test/support/vring-thread-worker.mjs', import.meta.url), {
    workerData: { txRing, rxRing, pool, bells, num, features, count },
  });
  const done = new Promise<Result>((resolve, reject) => {
    worker.once('message', (m: Result) => resolve(m));
    worker.once('error', reject);
  });

  let sent = 0;
  let received = 0;
  let badReplies = 0;
  const deadline = Date.now() + 20_000;
  while (received < count && Date.now() < deadline) {
    const seen = Atomics.load(b, 1);
    let progress = false;
    while (sent < count && txFree.length > 0) {
      const i = txFree.pop()!;
      const off = i * BUF_SIZE;
      const len = 16 + (sent % 400);
      poolBytes[off] = sent & 0xff;
      poolBytes[off + 1] = (sent >> 8) & 0xff;
      poolBytes[off + 2] = (sent >> 16) & 0xff;
      for (let k = 3; k < len; k++) poolBytes[off + k] = (sent + k) & 0xff;
      assert.equal(tx.addOutbuf(POOL_BASE + BigInt(off), len, i), 0);
      sent++;
      progress = true;
    }
    if (progress) tx.kick();
    for (let t = tx.takeUsed(); t !== undefined; t = tx.takeUsed()) txFree.push(t);
    let recycled = false;
    for (let u = rx.getBuf(); u !== undefined; u = rx.getBuf()) {
      const off = u.token * BUF_SIZE;
      const seq = poolBytes[off]! | (poolBytes[off + 1]! << 8) | (poolBytes[off + 2]! << 16);
      if (u.len !== 4 || seq !== received || poolBytes[off + 3] !== 0x5a) badReplies++;
      received++;
      rx.addInbuf(POOL_BASE + BigInt(off), BUF_SIZE, u.token);
      recycled = true;
      progress = true;
    }
    if (recycled) rx.kick();
    if (!progress && rx.enableCb() && tx.enableCb()) Atomics.wait(b, 1, seen, 5);
  }
  const result = await done;
  await worker.terminate();
  assert.equal(tx.broken, undefined);
  assert.equal(rx.broken, undefined);
  assert.equal(received, count);
  return { result, badReplies };
}

describe('vring across threads', { timeout: 60_000 }, () => {
  for (const [label, features] of [
    ['EVENT_IDX', 1 << VIRTIO_RING_F_EVENT_IDX],
    ['flags', 0],
  ] as const) {
    it(`host and worker device exchange 50k messages both ways (${label})`, async () => {
      const { result, badReplies } = await exchange(features, 50_000);
      assert.deepEqual(result, { handled: 50_000, bad: 0, error: null });
      assert.equal(badReplies, 0);
    });
  }
});
