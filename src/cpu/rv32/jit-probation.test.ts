// The translator's probation (jit.ts, "Probation"): a new region's calls are timed, and a window
// of calls that measures slow hands its code to the interpreter for a cooling time. A call is
// allowed the cost of a few instructions for entering and leaving the function, so a region whose
// calls run one instruction each ends probation once its calls are quick, and one whose calls are
// slow (V8 has not optimised it) cools. The clock here is a test's: every reading moves it by
// `step` ms, so a timed call measures `step`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { runProgram } from '../../../test/support/rv32/test-hart.ts';
import { clockCost } from './jit.ts';

const MCYCLE = 0xb00;

/** x5 iterations of a loop whose reading of mcycle ends every region call after one instruction. */
const shortCalls = [
  asm.addi(6, 6, 1), // loop: the region's one instruction
  asm.csrrs(7, MCYCLE, 0), // a counter: the hart runs it, outside the region
  asm.addi(5, 5, -1),
  asm.bne(5, 0, -12),
];

function run(step: number): { translated: number; interpreted: number } {
  let now = 0;
  const { hart, result } = runProgram(
    'jit',
    shortCalls,
    { 5: 2000 },
    { jitThreshold: 16, jitProbation: { clock: () => (now += step), warm: 0, window: 100 } },
    100_000,
  );
  assert.equal(result.reason, 'halt');
  assert.equal(hart.x[6], 2000);
  const stats = hart.jitStats;
  assert.ok(stats !== undefined);
  return { translated: stats.translatedInsns, interpreted: stats.interpretedInsns };
}

describe('jit probation', () => {
  it("the clock's own cost is the median of back-to-back readings", () => {
    let now = 0;
    let n = 0;
    // every 10th pair of readings is 1 ms apart (a preemption), the others 0.25 ms
    assert.equal(
      clockCost(() => (now += n++ % 20 === 19 ? 1 : 0.25)),
      0.25,
    );
  });

  it('one-instruction calls of 40 ns (150 MIPS counting the call) end probation', () => {
    const { translated } = run(0.00004);
    // every pass after the region's translation (in the first few dozen) runs its instruction there
    assert.ok(translated > 1900, `translated ${translated}`);
  });

  it('one-instruction calls of 1 µs make the region cool: the interpreter runs its code', () => {
    const { translated } = run(0.001);
    // a window of 100 instructions now and then, between cooling times
    assert.ok(translated <= 400, `translated ${translated}`);
  });
});
