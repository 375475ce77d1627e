// The per-turn batching of worker cores' doorbells (doorbell-turn.ts), on real core blocks in
// shared memory with no worker: which rings notify at once, which are owed until the turn ends,
// which are left to a woken core (WAKE_REQUESTED), and that every rung core hears of its turn.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock } from './core-block.ts';
import { ringDoorbell, type DoorbellCore } from './doorbell-turn.ts';

interface FakeCore extends DoorbellCore {
  readonly wakeBlock: CoreBlock;
  notifies: number;
  rungs: number;
}

/** `n` cores of one SoC, each sleeping (CORE_SLEEPING set) or awake, with notifies counted. */
function cores(n: number, opts: { sleeping: boolean; pollAllowed: boolean }): FakeCore[] {
  const words = new Int32Array(new SharedArrayBuffer(n * CORE_BLOCK_WORDS * 4));
  return Array.from({ length: n }, (_, i) => {
    const wakeBlock = new CoreBlock(words, i);
    if (opts.sleeping) wakeBlock.store(CORE_WORD.CORE_SLEEPING, 1);
    const core: FakeCore = {
      wakeBlock,
      pollAllowed: opts.pollAllowed,
      turnQueued: false,
      notifies: 0,
      rungs: 0,
      rung() {
        core.rungs++;
      },
    };
    // Count the futex wakes this block is sent (the notify itself still happens: nobody waits).
    const notify = wakeBlock.notifyWake.bind(wakeBlock);
    wakeBlock.notifyWake = () => {
      core.notifies++;
      notify();
    };
    return core;
  });
}

/** Let the microtask that ends the current turn run. */
const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('doorbell turns', () => {
  it('a sleeping core whose thread has a CPU is notified at once, once per sleep', async () => {
    const [core] = cores(1, { sleeping: true, pollAllowed: true });
    assert.ok(core);
    ringDoorbell(core);
    assert.equal(core.notifies, 1, 'notified inside the ring');
    ringDoorbell(core);
    ringDoorbell(core);
    assert.equal(core.notifies, 1, 'rings while it wakes up cost no second notify');
    assert.equal(core.wakeBlock.load(CORE_WORD.WAKE), 3, 'every ring moves WAKE');
    assert.equal(core.wakeBlock.load(CORE_WORD.CORE_SLEEPING), 0);
    await turnEnd();
    assert.equal(core.notifies, 1);
    assert.equal(core.rungs, 1, 'one rung() per turn, however many rings');
  });

  it('when the threads share CPUs, the notify waits for the end of the turn', async () => {
    const [core] = cores(1, { sleeping: true, pollAllowed: false });
    assert.ok(core);
    for (let i = 0; i < 100; i++) ringDoorbell(core);
    assert.equal(core.notifies, 0, 'no wake-up while the host is still producing work');
    assert.equal(core.wakeBlock.load(CORE_WORD.WAKE), 100);
    await turnEnd();
    assert.equal(core.notifies, 1, 'one wake-up for the whole turn');
    assert.equal(core.rungs, 1);
  });

  it('an awake core is never notified', async () => {
    for (const pollAllowed of [true, false]) {
      const [core] = cores(1, { sleeping: false, pollAllowed });
      assert.ok(core);
      ringDoorbell(core);
      await turnEnd();
      assert.equal(core.notifies, 0, `pollAllowed ${pollAllowed}`);
      assert.equal(core.rungs, 1);
    }
  });

  it('a turn that rings many sleeping cores notifies two and leaves the rest to them', async () => {
    const soc = cores(6, { sleeping: true, pollAllowed: true });
    for (const core of soc) ringDoorbell(core);
    assert.deepEqual(
      soc.map((c) => c.notifies),
      [1, 0, 0, 0, 0, 0],
      'the first at once',
    );
    await turnEnd();
    assert.deepEqual(
      soc.map((c) => c.notifies),
      [1, 1, 0, 0, 0, 0],
      'one owed notify at the end',
    );
    assert.deepEqual(
      soc.map((c) => c.wakeBlock.load(CORE_WORD.WAKE_REQUESTED)),
      [0, 0, 1, 1, 1, 1],
      'the others are requested of the woken cores',
    );
    assert.deepEqual(
      soc.map((c) => c.rungs),
      [1, 1, 1, 1, 1, 1],
    );
  });

  it('a ring from inside rung() starts the next turn; each turn calls rung() once per core', async () => {
    const [core] = cores(1, { sleeping: false, pollAllowed: true });
    assert.ok(core);
    let again = 2;
    const rung = core.rung.bind(core);
    core.rung = () => {
      rung();
      if (again-- > 0) ringDoorbell(core);
    };
    ringDoorbell(core);
    ringDoorbell(core);
    await turnEnd();
    assert.equal(core.rungs, 3, 'the first turn, then the two turns rung from inside rung()');
    assert.equal(core.turnQueued, false);
  });

  it('sharing CPUs, the same burst costs the host one notify, at the end', async () => {
    const soc = cores(6, { sleeping: true, pollAllowed: false });
    for (const core of soc) ringDoorbell(core);
    assert.equal(
      soc.reduce((n, c) => n + c.notifies, 0),
      0,
    );
    await turnEnd();
    assert.deepEqual(
      soc.map((c) => c.notifies),
      [1, 0, 0, 0, 0, 0],
    );
    assert.deepEqual(
      soc.map((c) => c.wakeBlock.load(CORE_WORD.WAKE_REQUESTED)),
      [0, 1, 1, 1, 1, 1],
    );
  });
});
