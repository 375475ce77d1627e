// The translator's pacing (jit.ts, "Pacing"): with probation on, a slice (one Hart.run call)
// starts no more translations once it has spent TRANSLATE_MS translating, so the hart gets back to
// its caller between long translations; the blocks left hot are translated in a later slice.
// Without probation (deterministic runs) every hot block is translated at once. Either way the
// program computes what the interpreter computes.

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
function slowClock(): JitProbation {
  let now = 0;
  return { clock: () => (now += 5), warm: 1e9 };
}

describe('jit pacing', () => {
  const expected = runProgram('interpreter', twoLoops, regs).hart;

  it('a slice that has spent its translation time leaves the second hot loop to the interpreter', () => {
    const { hart, result } = runProgram('jit', twoLoops, regs, { jitProbation: slowClock() }, 100_000);
    assert.equal(result.reason, 'halt');
    const stats = hart.jitStats;
    assert.ok(stats !== undefined);
    assert.equal(stats.translations, 1);
    assert.ok(stats.interpretedInsns >= 3 * 1000, `interpreted ${stats.interpretedInsns}`);
    assert.deepEqual([...hart.x], [...expected.x]);
  });

  it('the next slice translates it', () => {
    const { hart, ram } = makeHart('jit', { jitProbation: slowClock() });
    poke32(ram, RAM_BASE, [...twoLoops, EBREAK]);
    Object.entries(regs).forEach(([r, v]) => (hart.x[Number(r)] = v));
    let slices = 0;
    while (!hart.isHalted && slices++ < 10_000) hart.run(100);
    assert.ok(hart.isHalted);
    const stats = hart.jitStats;
    assert.ok(stats !== undefined);
    assert.equal(stats.translations, 2);
    assert.ok(stats.translatedInsns > 2 * 1000, `translated ${stats.translatedInsns}`);
    assert.deepEqual([...hart.x], [...expected.x]);
  });

  it('without probation every hot block is translated in the slice it becomes hot in', () => {
    const { hart } = runProgram('jit', twoLoops, regs, { jitProbation: null }, 100_000);
    assert.equal(hart.jitStats?.translations, 2);
    assert.deepEqual([...hart.x], [...expected.x]);
  });
});
