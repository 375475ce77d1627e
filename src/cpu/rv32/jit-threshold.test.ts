// The translator's adaptive threshold (jit.ts, "Adaptive threshold"): a short program that no
// block of which reaches the starting threshold is translated all the same, with the same result
// as the interpreter; once translated code runs the threshold stops falling; a long program gets
// its early regions rebuilt at the starting threshold; threshold 1
// translates a block the second time control reaches it (the interpreter runs and counts the first).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { runProgram } from '../../../test/support/rv32/test-hart.ts';

/** x5 iterations of a 4-instruction loop, then EBREAK (appended by runProgram). 1024 is the default threshold. */
const loop = [
  asm.addi(6, 6, 3), // loop:
  asm.xor(7, 7, 6),
  asm.addi(5, 5, -1),
  asm.bne(5, 0, -12),
];

describe('jit threshold', () => {
  it('a 4,000-instruction program is translated with the default threshold and ends as interpreted', () => {
    const opts = { jitThreshold: 1024, jitProbation: null };
    const jit = runProgram('jit', loop, { 5: 1000 }, opts);
    const interp = runProgram('interpreter', loop, { 5: 1000 }, opts);
    const stats = jit.hart.jitStats;
    assert.ok(stats !== undefined);
    assert.equal(jit.hart.instret, 4001);
    assert.ok(stats.translations >= 1, `translations ${stats.translations}`);
    assert.ok(stats.threshold < 1024, `threshold still ${stats.threshold}`);
    assert.ok(stats.translatedInsns > 1000, `only ${stats.translatedInsns} instructions ran translated`);
    assert.deepEqual([...jit.hart.x], [...interp.hart.x]);
    assert.equal(jit.hart.pc, interp.hart.pc);
  });

  it('once its hot loop runs translated, a program keeps its threshold above the floor', () => {
    // 40,000 instructions: fewer than the early region may run before it is rebuilt
    const r = runProgram('jit', loop, { 5: 10_000 }, { jitThreshold: 1024, jitProbation: null }, 1_000_000);
    const stats = r.hart.jitStats;
    assert.ok(stats !== undefined);
    assert.equal(r.hart.instret, 40_001);
    // lowered to 256 before the loop was translated (1,536 interpreted instructions), then no more
    assert.equal(stats.threshold, 256);
    assert.equal(stats.translations, 1);
    assert.ok(stats.interpretedInsns < 2000, `interpreted ${stats.interpretedInsns}`);
  });

  it('once an early region has run 50,000 instructions it is rebuilt at the starting threshold', () => {
    const r = runProgram(
      'jit',
      loop,
      { 5: 1_000_000 },
      { jitThreshold: 1024, jitProbation: null },
      5_000_000,
    );
    const stats = r.hart.jitStats;
    assert.ok(stats !== undefined);
    assert.equal(r.hart.instret, 4_000_001);
    assert.equal(stats.retiers, 1);
    assert.equal(stats.threshold, 1024);
    // the early region, then the loop again from a full profile
    assert.equal(stats.translations, 2);
    assert.ok(stats.interpretedInsns < 8000, `interpreted ${stats.interpretedInsns}`);
  });

  it('threshold 1: the loop block is translated on its second entry', () => {
    const r = runProgram('jit', loop, { 5: 3 }, { jitThreshold: 1, jitProbation: null });
    const stats = r.hart.jitStats;
    assert.ok(stats !== undefined);
    // first pass interpreted (4), the branch back counts entry 1 and runs on (4 more), the
    // second branch back finds the count at 1: the rest runs translated.
    assert.equal(stats.interpretedInsns, 8);
    assert.equal(stats.translations, 1);
    assert.equal(r.hart.instret, 13);
  });
});
