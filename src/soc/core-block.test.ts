// The host's wait for a core's doorbell (CoreBlock.waitC2H) against the core's ring (ringC2H), on
// one block in shared memory: what ends a wait, what it leaves set, and that nothing but those
// ends it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock } from './core-block.ts';

function block(): CoreBlock {
  return new CoreBlock(new Int32Array(new SharedArrayBuffer(CORE_BLOCK_WORDS * 4)), 0);
}

/** Whether `p` has settled after `ms` (without waiting for it beyond that). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return done;
}

describe('CoreBlock.waitC2H', () => {
  it('returns at once when the core has rung since `seen`', async () => {
    const b = block();
    const seen = b.c2hSeq();
    b.ringC2H(3);
    assert.equal(await b.waitC2H(seen), seen + 1);
    assert.equal(b.load(CORE_WORD.HOST_WAITING), 0, 'HOST_WAITING cleared after the wait');
  });

  it('sleeps with HOST_WAITING set, and the core’s ring wakes it', async () => {
    const b = block();
    const seen = b.c2hSeq();
    const wait = b.waitC2H(seen);
    assert.equal(b.load(CORE_WORD.HOST_WAITING), 1, 'the core must know to notify');
    b.ringC2H(0);
    assert.equal(b.load(CORE_WORD.HOST_WAITING), 0, 'the ring took the flag: one notify per wait');
    assert.equal(await wait, seen + 1);
    assert.equal(b.takeC2H(), 1, 'the rung id is pending for the host');
  });

  it('does not end by itself: only a ring, interruptC2H or the interrupt promise end it', async () => {
    const b = block();
    const wait = b.waitC2H(b.c2hSeq());
    assert.equal(await settledWithin(wait, 100), false, 'still waiting after 100 ms of nothing');
    b.interruptC2H();
    assert.equal(await settledWithin(wait, 1000), true, 'interruptC2H ended it');
  });

  it('an interrupt ends the wait, and the waiter it leaves registered serves the next one', async () => {
    const b = block();
    const seen = b.c2hSeq();
    let rouse: (() => void) | undefined;
    const first = b.waitC2H(seen, new Promise<void>((resolve) => (rouse = resolve)));
    rouse?.();
    assert.equal(await first, seen, 'nothing rang');
    assert.equal(b.load(CORE_WORD.HOST_WAITING), 0);
    const second = b.waitC2H(seen);
    b.ringC2H(1);
    assert.equal(await second, seen + 1);
  });
});
