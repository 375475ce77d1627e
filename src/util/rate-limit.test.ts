// RateLimiter: burst per interval per key, the count of what was held back reported with the first
// message of the next interval, keys independent, and a bounded key table.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter, withSuppressed } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('lets `burst` messages through per interval and reports how many it held back', () => {
    let t = 0;
    const rl = new RateLimiter({ burst: 3, intervalMs: 100, now: () => t });
    const got = Array.from({ length: 5 }, () => rl.allow('k'));
    assert.deepEqual(got, [true, true, true, false, false]);
    t = 99; // the last ms of the interval: still closed
    assert.equal(rl.allow('k'), false);
    t = 100; // the first ms of the next one: open, with the count
    assert.equal(rl.allow('k'), 3);
    assert.equal(rl.allow('k'), true);
    assert.equal(rl.suppressed, 3);
  });
  it('keys are independent: one noisy key does not silence another', () => {
    const rl = new RateLimiter({ burst: 1, intervalMs: 1000, now: () => 0 });
    assert.equal(rl.allow('noisy'), true);
    assert.equal(rl.allow('noisy'), false);
    assert.equal(rl.allow('quiet'), true);
  });
  it('holds at most 256 keys: made-up keys evict the oldest', () => {
    const rl = new RateLimiter({ burst: 1, intervalMs: 1000, now: () => 0 });
    assert.equal(rl.allow('first'), true);
    assert.equal(rl.allow('first'), false);
    for (let i = 0; i < 256; i++) rl.allow(`k${i}`);
    // "first" was evicted: it starts a fresh burst.
    assert.equal(rl.allow('first'), true);
  });
  it('withSuppressed appends the count only when there is one', () => {
    assert.equal(withSuppressed('m', true), 'm');
    assert.equal(withSuppressed('m', 4), 'm (4 similar messages suppressed)');
  });
});
