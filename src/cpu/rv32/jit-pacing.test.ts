// The translator's pacing (jit.ts, "Pacing"): with JitProbation.pace, a slice (one Hart.run call)
// that has spent TRANSLATE_MS translating ends right after that translation, as if its budget had
// run out, so that the caller looks at its interrupt lines between long translations; the next
// slice goes on, translating what is hot. Without pace (deterministic runs, the tests' harts) a
// slice runs its whole budget. Either way the program computes what the interpreter computes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { makeHart, poke32, RAM_BASE, runProgram } from '../../../test/support/rv32/test-hart.ts';
import type { JitProbation } from './jit.ts';

/** Two loops one after the other (x5 and x8 iterations), then EBREAK (appended). */
const twoLoops = [
  asm.addi(6, 6, 3), // a:
  asm.addi(5, 5, -1),
  asm.bne(5, 0, -8),
  asm.xor(7, 7, 6), // b:
  asm.addi(8, 8, -1),
  asm.bne(8, 0, -8),
];
const regs = { 5: 20, 8: 1000 };
const EBREAK = 0x00100073;

/** A clock that moves 5 ms every time it is read: every translation takes longer than the cap. */
function slowClock(pace: boolean): JitProbation {
  let now = 0;
  return { clock: () => (now += 5), warm: 1e9, pace };
}

describe('jit pacing', () => {
  const expected = runProgram('interpreter', twoLoops, regs).hart;

  it('a slice ends right after a translation that took the slice its translation time', () => {
    const { hart, ram } = makeHart('jit', { jitProbation: slowClock(true) });
    poke32(ram, RAM_BASE, [...twoLoops, EBREAK]);
    Object.entries(regs).forEach(([r, v]) => (hart.x[Number(r)] = v));
    const first = hart.run(100_000);
    assert.equal(first.reason, 'budget');
    assert.ok(first.executed < 100, `the first slice ran ${first.executed} instructions`);
    const stats = (): { translations: number; translatedInsns: number } => {
      const st = hart.jitStats;
      assert.ok(st !== undefined);
      return st;
    };
    assert.equal(stats().translations, 1, "a's loop");
    const second = hart.run(100_000);
    assert.equal(second.reason, 'budget');
    assert.ok(second.executed < 100, `the second slice ran ${second.executed} instructions`);
    assert.equal(stats().translations, 2, "b's loop, in the next slice");
    let slices = 0;
    while (!hart.isHalted && slices++ < 10) hart.run(100_000);
    assert.ok(hart.isHalted);
    assert.ok(stats().translatedInsns > 3 * 990, `translated ${stats().translatedInsns}`);
    assert.deepEqual([...hart.x], [...expected.x]);
  });

  it('without pace a slice runs its whole budget, translating as it goes', () => {
    const { hart, result } = runProgram('jit', twoLoops, regs, { jitProbation: slowClock(false) }, 100_000);
    assert.equal(result.reason, 'halt');
    assert.equal(hart.jitStats?.translations, 2);
    assert.deepEqual([...hart.x], [...expected.x]);
  });

  it('deterministic (no probation): the same', () => {
    const { hart, result } = runProgram('jit', twoLoops, regs, { jitProbation: null }, 100_000);
    assert.equal(result.reason, 'halt');
    assert.equal(hart.jitStats?.translations, 2);
    assert.deepEqual([...hart.x], [...expected.x]);
  });
});
