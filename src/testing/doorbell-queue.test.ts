// The test boards' event queue: order, no re-entry, tasks raised by tasks, limits that lose nothing,
// dropping a stopped core's doorbells, and the automatic run from setImmediate.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DoorbellQueue } from './doorbell-queue.ts';

describe('DoorbellQueue', () => {
  it('runs tasks in order, with tasks raised meanwhile in the same drain, never re-entered', () => {
    const ran: string[] = [];
    const q: DoorbellQueue<string> = new DoorbellQueue<string>((t) => {
      ran.push(t);
      if (t === 'kick') q.enqueue('irq');
      assert.equal(q.drain(), 0);
    }, false);
    q.enqueue('start');
    q.enqueue('kick');
    assert.deepEqual(ran, []);
    assert.equal(q.drain(), 3);
    assert.deepEqual(ran, ['start', 'kick', 'irq']);
  });

  it('a limit leaves the rest queued', () => {
    const ran: number[] = [];
    const q = new DoorbellQueue<number>((t) => ran.push(t), false);
    for (const t of [1, 2, 3]) q.enqueue(t);
    assert.equal(q.drain(2), 2);
    assert.equal(q.length, 1);
    assert.equal(q.drain(), 1);
    assert.deepEqual(ran, [1, 2, 3]);
  });

  it('remove() and clear() drop queued tasks', () => {
    const ran: number[] = [];
    const q = new DoorbellQueue<number>((t) => ran.push(t), false);
    for (const t of [1, 2, 3, 4]) q.enqueue(t);
    q.remove((t) => t % 2 === 0);
    assert.equal(q.drain(), 2);
    q.enqueue(5);
    q.clear();
    assert.equal(q.drain(), 0);
    assert.deepEqual(ran, [1, 3]);
  });

  it('runs on its own from setImmediate, and idle() waits until nothing is left', async () => {
    const ran: number[] = [];
    const q = new DoorbellQueue<number>((t) => {
      ran.push(t);
      if (t < 3) setImmediate(() => q.enqueue(t + 1));
    });
    q.enqueue(1);
    assert.deepEqual(ran, []);
    await q.idle();
    assert.deepEqual(ran, [1, 2, 3]);
  });

  it('clear() cancels a pending automatic run', async () => {
    const ran: number[] = [];
    const q = new DoorbellQueue<number>((t) => ran.push(t));
    q.enqueue(1);
    q.clear();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(ran, []);
  });
});
