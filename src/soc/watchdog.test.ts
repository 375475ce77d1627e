// The per-core watchdog (watchdog.ts), driven on explicit time: it bites when a whole period of
// the firmware's passed without a kick — never before a period has passed since the firmware set
// it, however long before that the host last looked — and tells the SoC scheduler when to look.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock } from './core-block.ts';
import { Watchdog } from './watchdog.ts';

function rig() {
  const block = new CoreBlock(new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS)), 0);
  const bites: number[] = [];
  const dog = new Watchdog(block, (period) => bites.push(period));
  return {
    block,
    dog,
    bites,
    arm: (periodMs: number) => block.store(CORE_WORD.WDT_PERIOD_MS, periodMs),
    kick: () => block.store(CORE_WORD.WDT_KICKS, block.load(CORE_WORD.WDT_KICKS) + 1),
  };
}

describe('watchdog', () => {
  it('a period counts from the check that first sees it: no bite before a whole period since', () => {
    const t = rig();
    t.dog.start(0);
    t.dog.check(990); // disarmed: the host looked at 990
    t.arm(100); // the firmware arms it at ~1000
    t.dog.check(1040); // seen here: the period runs from 1040
    t.dog.check(1090); // 100 ms after the last disarmed look, 50 after the arming was seen
    t.dog.check(1139);
    assert.deepEqual(t.bites, [], 'bit before a whole period since the arming was seen');
    t.dog.check(1140);
    assert.deepEqual(t.bites, [100]);
    t.dog.check(2000);
    assert.deepEqual(t.bites, [100], 'bites once');
  });

  it('kicks keep it quiet; disarming stops it; re-arming counts again from when it is seen', () => {
    const t = rig();
    t.dog.start(0);
    t.arm(100);
    for (let now = 10; now <= 1000; now += 50) {
      t.kick();
      t.dog.check(now);
    }
    assert.deepEqual(t.bites, []);
    t.arm(0);
    t.dog.check(1050);
    t.dog.check(5000);
    assert.deepEqual(t.bites, [], 'disarmed by the firmware');
    t.arm(100);
    t.dog.check(5010);
    t.dog.check(5109);
    assert.deepEqual(t.bites, []);
    t.dog.check(5110);
    assert.deepEqual(t.bites, [100]);
  });

  it('deadline: none while disarmed, "now" for a period not yet seen, else the last kick plus the period', () => {
    const t = rig();
    t.dog.start(0);
    assert.equal(t.dog.deadline(), undefined);
    t.dog.check(40);
    t.arm(100);
    assert.equal(t.dog.deadline(), 40, 'look now: the period starts at the next check');
    t.dog.check(60);
    assert.equal(t.dog.deadline(), 160);
    t.kick();
    t.dog.check(90);
    assert.equal(t.dog.deadline(), 190);
    t.dog.pause();
    assert.equal(t.dog.deadline(), undefined, 'paused by a debugger');
  });
});
