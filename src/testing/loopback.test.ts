// The test harness itself: the loopback's scheduler is deterministic (the same scenario runs the
// same doorbells in the same order every time), and a board leaves nothing behind when closed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLoopback, echoCore } from './loopback.ts';

async function scenario(): Promise<{ trace: string[]; got: number[] }> {
  const lb = await createLoopback({ core: echoCore('a', 'b'), firmware: { num: 8 }, trace: true });
  const got: number[] = [];
  const epts = lb.host.channels.map((c) => c.open((d) => got.push(d.length)));
  const sends = epts.flatMap((e, k) => Array.from({ length: 30 }, (_, i) => e.send(new Uint8Array(i + k))));
  await lb.idle();
  await Promise.all(sends);
  await lb.idle();
  const recovered = lb.rproc.next('recovery', (e) => e.phase === 'done');
  lb.crash();
  await recovered;
  await lb.idle();
  await lb.close();
  return { trace: lb.trace, got };
}

describe('rpmsg loopback harness', () => {
  it('is deterministic: the same scenario runs the same doorbells in the same order', async () => {
    const first = await scenario();
    const second = await scenario();
    assert.ok(first.trace.length > 50);
    assert.deepEqual(second.trace, first.trace);
    assert.deepEqual(second.got, first.got);
    assert.equal(first.got.length, 60);
  });

  it('leaves no timer, immediate or buffer behind', async () => {
    const lb = await createLoopback({ core: echoCore() });
    const ept = lb.host.channels[0]?.open();
    await ept?.send(new Uint8Array(4));
    await lb.close();
    assert.equal(lb.platform.pool.outstanding, 0);
    assert.deepEqual(
      process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate'),
      [],
    );
  });
});
