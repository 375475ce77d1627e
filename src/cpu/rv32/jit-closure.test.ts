// Every translation gets a function text of its own (jit.ts, "One closure per function"): the same
// program translated by two harts — or by one hart twice — must not share V8's compiled function,
// whose region function would then have several closures and lose TurboFan's specialisation to
// its context; unless the harts share their code (HartOptions.jitSharedCode, a core group's), and
// then the texts are the same. Observed by standing in for the global Function constructor the
// translator calls.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { runProgram } from '../../../test/support/rv32/test-hart.ts';

const loop = [
  asm.addi(6, 6, 3), // loop:
  asm.xor(7, 7, 6),
  asm.addi(5, 5, -1),
  asm.bne(5, 0, -12),
];

/** The function bodies `new Function` was asked for while `run` ran. */
function bodiesDuring(run: () => void): string[] {
  const bodies: string[] = [];
  const real = globalThis.Function;
  globalThis.Function = new Proxy(real, {
    construct(target, args: string[]) {
      bodies.push(args[args.length - 1] ?? '');
      return Reflect.construct(target, args);
    },
  });
  try {
    run();
  } finally {
    globalThis.Function = real;
  }
  return bodies;
}

describe('jit: one closure per function', () => {
  it('two harts translating the same program get two different texts of the same code', () => {
    const opts = { jitThreshold: 16, jitProbation: null };
    const bodies = bodiesDuring(() => {
      runProgram('jit', loop, { 5: 1000 }, opts);
      runProgram('jit', loop, { 5: 1000 }, opts);
    });
    assert.ok(bodies.length >= 2, `${bodies.length} translations`);
    assert.equal(new Set(bodies).size, bodies.length, 'a text was used twice');
    // Only the serial differs: the code is the same.
    const code = (b: string): string => b.replace(/\n\/\/ translation \d+$/, '');
    const first = bodies[0] ?? '';
    const again = bodies.find((b, i) => i > 0 && code(b) === code(first));
    assert.ok(again !== undefined, 'the second hart translated the same region into the same code');
  });

  it('harts that share their code (a core group) translate the same program into the same texts', () => {
    const opts = { jitThreshold: 16, jitProbation: null, jitSharedCode: true };
    const bodies = bodiesDuring(() => {
      runProgram('jit', loop, { 5: 1000 }, opts);
      runProgram('jit', loop, { 5: 1000 }, opts);
    });
    assert.ok(bodies.length >= 2 && bodies.length % 2 === 0, `${bodies.length} translations`);
    const half = bodies.length / 2;
    assert.deepEqual(bodies.slice(half), bodies.slice(0, half));
  });
});
