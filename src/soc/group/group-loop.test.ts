// The group loop's preemption signal (group-loop.ts): while a member is served, preempted() says
// whether the group was rung since its serve began — false at the start of every serve, true once
// a doorbell moved the group's WAKE word — so that a long-running member can end its slice and let
// a rung group mate be served.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock } from '../core-block.ts';
import type { CoreWorkerData } from '../core-messages.ts';
import { GroupLoop } from './group-loop.ts';
import type { GroupMember } from './group-member.ts';
import { debugError } from '../debug/debug-protocol.ts';

function member(index: number, serve: (preempted: () => boolean) => number): GroupMember {
  return {
    index,
    shouldLeave: () => false,
    serve,
    deadlineMs: () => 1,
    beforeSleep: () => undefined,
    finish: () => undefined,
    fail: (e) => {
      throw e;
    },
    debug: () => debugError('ENODEV', 'no debugger here'),
  };
}

describe('GroupLoop preemption', () => {
  it('preempted() is false when a serve starts and true once the group is rung during it', async () => {
    const words = new Int32Array(new SharedArrayBuffer(CORE_BLOCK_WORDS * 4));
    const wake = new CoreBlock(words, 0);
    const seen: [boolean, boolean][] = [];
    let mateServed = 0;
    const busy = member(0, (preempted) => {
      const before = preempted();
      // A doorbell for a group mate arrives while this member runs.
      wake.ring();
      seen.push([before, preempted()]);
      return 1;
    });
    const mate = member(1, () => {
      mateServed++;
      return 0;
    });
    const loop = new GroupLoop(
      wake,
      0,
      () => undefined,
      (data) => Promise.resolve(data.coreIndex === 0 ? busy : mate),
    );
    const data = (coreIndex: number): CoreWorkerData => ({ coreIndex }) as unknown as CoreWorkerData;
    loop.control({ type: 'add-core', seq: 1, data: data(0) });
    loop.control({ type: 'add-core', seq: 2, data: data(1) });
    // As the host does after posting: the thread knows every message so far has come.
    wake.store(CORE_WORD.GROUP_CONTROL, 2);
    const running = loop.run();
    while (seen.length < 5 || mateServed < 5) await new Promise((r) => setImmediate(r));
    loop.control({ type: 'close', seq: 3 });
    await running;
    assert.ok(
      seen.every(([before, after]) => !before && after),
      JSON.stringify(seen.slice(0, 5)),
    );
  });
});
