// Where the dispatcher enters translated code (jit.ts): a block that control keeps reaching from
// outside its region, though the region's function cannot be entered there (not a root of its
// structure, jit-structure.ts), would be interpreted up to the next root every time. Once it has
// been reached that way `threshold` times it is translated as the root of a region of its own.
// Likewise the code after a system instruction, where the hart resumes: no control transfer of
// the interpreter's leads there, so the dispatcher counts it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { makeHart, poke32, RAM_BASE } from '../../../test/support/rv32/test-hart.ts';

const program = [
  asm.addi(6, 6, 1), // 0x00 a: the loop's head
  asm.bne(7, 0, 8), //  0x04    to c (x7 set), or on to b
  asm.addi(8, 8, 1), // 0x08 b: where the loop's region is rooted (its first hot block)
  asm.addi(5, 5, -1), // 0x0c c
  asm.bne(5, 0, -16), // 0x10    back to a
  asm.wfi(), //         0x14
];

describe('jit entries', () => {
  it('a non-root block entered from outside `threshold` times becomes the root of a region of its own', () => {
    const { hart, ram } = makeHart('jit', { jitThreshold: 4, jitProbation: null });
    poke32(ram, RAM_BASE, program);
    hart.x[5] = 100;
    assert.equal(hart.run(10_000).reason, 'wfi');
    assert.equal(hart.jitStats?.translations, 1, 'the loop');
    const translated = (): number => hart.jitStats?.translatedInsns ?? 0;
    /** Enter at a, as a return or a side exit of other code would, for one pass: a, c, wfi. */
    const enter = (times: number): void => {
      for (let i = 0; i < times; i++) {
        hart.pc = RAM_BASE;
        [hart.x[5], hart.x[7]] = [1, 1];
        assert.equal(hart.run(100).reason, 'wfi');
      }
    };
    const t0 = translated();
    enter(3);
    assert.equal(translated(), t0, 'a is not a root of the loop region: interpreted');
    enter(1);
    assert.equal(hart.jitStats.translations, 2, 'the 4th entry translates a region rooted at a');
    const t1 = translated();
    enter(10);
    assert.equal(translated() - t1, 10 * 4, 'a, its branch, c and its branch, translated');
    assert.deepEqual([hart.x[6], hart.x[8]], [100 + 14, 100]);
  });

  it('the code after a system instruction is translated, not interpreted on every pass', () => {
    const loop = [
      asm.addi(6, 6, 1), // loop
      asm.csrrs(7, 0xb00, 0), // mcycle: the hart runs it, and resumes at the next instruction
      asm.addi(8, 8, 1),
      asm.addi(5, 5, -1),
      asm.bne(5, 0, -16),
    ];
    const { hart, ram } = makeHart('jit', { jitThreshold: 4, jitProbation: null });
    poke32(ram, RAM_BASE, [...loop, asm.wfi()]);
    hart.x[5] = 1000;
    assert.equal(hart.run(100_000).reason, 'wfi');
    assert.deepEqual([hart.x[6], hart.x[8]], [1000, 1000]);
    const stats = hart.jitStats;
    assert.ok(stats !== undefined);
    // the first passes, until both halves of the loop are hot, and the final wfi
    assert.ok(stats.interpretedInsns < 60, `interpreted ${stats.interpretedInsns}`);
  });
});
