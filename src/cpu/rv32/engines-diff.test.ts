// Differential test of the two engines: random instruction streams (ALU, M, loads/stores of every
// width and alignment, forward and backward branches, jumps, compressed instructions, stores into
// the code itself) run on an interpreter hart and a translating hart (threshold 1: every block is
// translated on first sight) in random slices; after every slice the registers, pc, instret,
// memory and run status must be identical. Plus targeted self-modifying-code checks.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkProperty } from '../../../test/support/property.ts';
import { Bus } from './bus.ts';
import { decode } from './decode.ts';
import { Hart, type RunResult } from './hart.ts';
import type { JitProbation } from './jit.ts';
import { OP, opName } from './opcodes.ts';
import { asm } from '../../../test/support/rv32/asm.ts';
import {
  DATA,
  ENGINES,
  RAM_BASE,
  makeHart,
  peek32,
  poke16,
  poke32,
} from '../../../test/support/rv32/test-hart.ts';
import { WARMUP_RAM, warmUpProgram } from './warmup.ts';

const CODE_REG = 8; // s0 = RAM_BASE: stores through it modify the program
const DATA_REG = 9; // s1 = DATA
const regArb = fc.integer({ min: 1, max: 15 }).filter((r) => r !== CODE_REG && r !== DATA_REG);
const anyReg = fc.integer({ min: 0, max: 15 });
const imm12 = fc.integer({ min: -2048, max: 2047 });

type Gen = (index: number, length: number) => fc.Arbitrary<number[]> | undefined;

const rr = [
  asm.add,
  asm.sub,
  asm.sll,
  asm.slt,
  asm.sltu,
  asm.xor,
  asm.srl,
  asm.sra,
  asm.or,
  asm.and,
  asm.mul,
  asm.mulh,
  asm.mulhsu,
  asm.mulhu,
  asm.div,
  asm.divu,
  asm.rem,
  asm.remu,
];
const ri = [asm.addi, asm.slti, asm.sltiu, asm.xori, asm.ori, asm.andi];
const shifts = [asm.slli, asm.srli, asm.srai];
const loads = [asm.lb, asm.lh, asm.lw, asm.lbu, asm.lhu];
const stores = [asm.sb, asm.sh, asm.sw];
const branches = [asm.beq, asm.bne, asm.blt, asm.bge, asm.bltu, asm.bgeu];

const gens: Gen[] = [
  () => fc.tuple(fc.constantFrom(...rr), regArb, anyReg, anyReg).map(([op, d, a, b]) => [op(d, a, b)]),
  () => fc.tuple(fc.constantFrom(...ri), regArb, anyReg, imm12).map(([op, d, a, i]) => [op(d, a, i)]),
  () =>
    fc
      .tuple(fc.constantFrom(...shifts), regArb, anyReg, fc.integer({ min: 0, max: 31 }))
      .map(([op, d, a, s]) => [op(d, a, s)]),
  () => fc.tuple(regArb, fc.integer()).map(([d, v]) => [asm.lui(d, v), asm.auipc(d === 1 ? 2 : 1, v)]),
  () =>
    fc
      .tuple(fc.constantFrom(...loads), anyReg, fc.integer({ min: 0, max: 255 }))
      .map(([op, d, o]) => [op(d === CODE_REG || d === DATA_REG ? 0 : d, DATA_REG, o)]),
  () =>
    fc
      .tuple(fc.constantFrom(...stores), anyReg, fc.integer({ min: 0, max: 255 }))
      .map(([op, s, o]) => [op(s, DATA_REG, o)]),
  // a rare store into the program itself: the next execution of that code must see it
  (i, n) =>
    i % 7 === 3
      ? fc
          .tuple(fc.constantFrom(asm.sw, asm.sh), anyReg, fc.integer({ min: 0, max: n - 1 }))
          .map(([op, s, k]) => [op(s, CODE_REG, 4 * k)])
      : undefined,
  (i, n) =>
    fc
      .tuple(fc.constantFrom(...branches), anyReg, anyReg, fc.integer({ min: -Math.min(i, 6), max: n - i }))
      .map(([op, a, b, k]) => [op(a, b, 4 * (k === 0 ? 1 : k))]),
  (i, n) => fc.integer({ min: 1, max: Math.max(1, n - i) }).map((k) => [asm.jal(i % 2 === 0 ? 0 : 1, 4 * k)]),
  // compressed instructions in pairs, so that 32-bit instructions stay word-aligned
  () =>
    fc
      .tuple(regArb, fc.integer({ min: -32, max: 31 }), regArb)
      .map(([d, v, s]) => [
        ((0x4001 | (d << 7) | ((v & 31) << 2) | ((v & 32) << 7)) & 0xffff) |
          ((0x8002 | (s << 7) | (d << 2)) << 16),
      ]), // c.li d, v ; c.mv s, d
];

const programArb = fc
  .integer({ min: 1, max: 40 })
  .chain((n) =>
    fc
      .tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.oneof(...gens.map((g) => g(i, n)).filter((a): a is fc.Arbitrary<number[]> => a !== undefined)),
        ),
      )
      .map((parts) => parts.flat()),
  );

/**
 * Translator probation driven by a fake clock (ms) stepping through `steps`: new regions are
 * timed as fast or slow, then run or left to the interpreter in a deterministic mix; or no
 * probation at all (null).
 */
const probationArb = fc.option(
  fc.record({
    steps: fc.array(fc.constantFrom(0, 0.00002, 0.001, 0.05, 3), { minLength: 1, maxLength: 8 }),
    warm: fc.integer({ min: 0, max: 100 }),
    window: fc.integer({ min: 1, max: 50 }),
  }),
  { nil: null },
);

function fakeProbation(p: ProbationParams | null): JitProbation | null {
  if (p === null) return null;
  let t = 0;
  let i = 0;
  return {
    clock: () => (t += p.steps[i++ % p.steps.length] ?? 0),
    warm: p.warm,
    window: p.window,
  };
}

interface ProbationParams {
  readonly steps: readonly number[];
  readonly warm: number;
  readonly window: number;
}

function state(h: ReturnType<typeof makeHart>, r: RunResult) {
  const mem: number[] = [];
  for (let a = DATA; a < DATA + 264; a += 4) mem.push(peek32(h.ram, a));
  for (let a = RAM_BASE; a < RAM_BASE + 0x200; a += 4) mem.push(peek32(h.ram, a));
  return {
    reason: r.reason,
    executed: r.executed,
    fatal: r.fatal,
    x: [...h.hart.x],
    pc: h.hart.pc,
    instret: h.hart.instret,
    mem,
  };
}

describe('interpreter and translator agree', () => {
  it('on random instruction streams, slice by slice', () => {
    checkProperty(
      'rv32-engines-diff',
      fc.property(
        programArb,
        fc.array(fc.integer(), { minLength: 16, maxLength: 16 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 20 }),
        // ≤ 15: regions hold every statically reachable block; from 16 on, only blocks seen at
        // least threshold / 16 times, the others are side exits back to the interpreter
        fc.constantFrom(1, 2, 3, 8, 16, 24, 32),
        probationArb,
        (program, regs, slices, threshold, probation) => {
          const pair = ENGINES.map((engine) => {
            const m = makeHart(engine, { jitThreshold: threshold, jitProbation: fakeProbation(probation) });
            poke32(m.ram, RAM_BASE, [...program, asm.ebreak()]);
            regs.forEach((v, i) => (m.hart.x[i] = i === 0 ? 0 : v));
            m.hart.x[CODE_REG] = RAM_BASE;
            m.hart.x[DATA_REG] = DATA;
            return m;
          });
          for (let s = 0; s < 200; s++) {
            const budget = slices[s % slices.length] ?? 10;
            const [a, b] = pair.map((m) => state(m, m.hart.run(budget)));
            assert.deepEqual(b, a, `slice ${s}`);
            if (a?.reason === 'halt' || a?.reason === 'fatal') break;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('self-modifying code', () => {
  for (const engine of ENGINES) {
    it(`${engine}: a store over a hot loop's next instruction is executed, not the stale translation`, () => {
      const { hart, ram } = makeHart(engine);
      // loop 20 times: a0 += 1; on the 10th pass overwrite the add with "addi a0, a0, 100"
      const patched = asm.addi(10, 10, 100);
      poke32(ram, RAM_BASE, [
        ...asm.li(12, patched), // 0, 4
        asm.addi(11, 0, 20), // 8
        asm.addi(10, 10, 1), // 12: patched
        asm.addi(11, 11, -1), // 16
        asm.addi(13, 0, 10), // 20
        asm.bne(11, 13, 8), // 24: skip the store unless a1 = 10
        asm.sw(12, 8, 12), // 28: *(s0 + 12) = patched
        asm.bne(11, 0, -20), // 32
        asm.ebreak(),
      ]);
      hart.x[8] = RAM_BASE;
      hart.run(10_000);
      assert.equal(hart.x[10], 10 + 10 * 100);
    });
    it(`${engine}: compressed code rewritten in place, then fence.i`, () => {
      const { hart, ram } = makeHart(engine);
      poke16(ram, RAM_BASE + 0x100, [0x4505, 0x8082]); // c.li a0, 1 ; c.jr ra
      poke32(ram, RAM_BASE, [
        ...asm.li(5, RAM_BASE + 0x100),
        asm.jalr(1, 5, 0),
        asm.jalr(1, 5, 0),
        asm.ebreak(),
      ]);
      hart.run(5); // li(2), jalr, c.li, c.jr: the function ran once
      assert.equal(hart.x[10], 1);
      poke16(ram, RAM_BASE + 0x100, [0x4509]); // host rewrites it: c.li a0, 2
      hart.flushCode();
      hart.run(100);
      assert.equal(hart.x[10], 2);
    });
  }
});

describe('translated regions, side exits and probation', () => {
  // A hot caller loop calls a hot function 20 times and, after the 11th call, patches an
  // instruction of the function's loop: every later call must run the new instruction, whatever
  // regions the translator formed (the function inside the caller's region, or a region of its
  // own entered through the dispatcher) and whether they were on probation.
  const patched = asm.addi(10, 10, 3);
  const program = (): number[] => {
    const F = 14; // word index of f
    const words = [
      ...asm.li(19, patched), // 0, 1: s3 = the new instruction
      asm.addi(18, 0, 20), // 2: s2 = 20
      asm.addi(10, 0, 0), // 3: a0 = 0
      asm.jal(1, (F - 4) * 4), // 4: outer: call f
      asm.addi(6, 0, 10), // 5
      asm.bne(18, 6, 8), // 6: skip the patch unless s2 = 10
      asm.sw(19, 8, (F + 1) * 4), // 7: *(s0 + f + 4) = s3
      asm.addi(18, 18, -1), // 8
      asm.bne(18, 0, (4 - 9) * 4), // 9: loop to outer
      asm.ebreak(), // 10
      asm.addi(0, 0, 0), // 11..13: padding
      asm.addi(0, 0, 0),
      asm.addi(0, 0, 0),
      asm.addi(5, 0, 50), // 14: f: t0 = 50
      asm.addi(10, 10, 1), // 15: floop: a0 += 1 (patched: a0 += 3)
      asm.addi(5, 5, -1), // 16
      asm.bne(5, 0, -8), // 17: loop to floop
      asm.jalr(0, 1, 0), // 18: ret
    ];
    return words;
  };
  const slowClock = (): JitProbation => {
    let t = 0;
    return { clock: () => (t += 1), warm: 10, window: 20 };
  };
  const probations: readonly [string, () => JitProbation | null][] = [
    ['no probation', () => null],
    ['timed probation', () => ({})],
    ['regions timed as slow', slowClock],
  ];
  for (const threshold of [1, 4, 16, 64, 256]) {
    for (const [name, probation] of probations) {
      it(`threshold ${threshold}, ${name}: both engines see the patched instruction`, () => {
        const results = ENGINES.map((engine) => {
          const { hart, ram } = makeHart(engine, { jitThreshold: threshold, jitProbation: probation() });
          poke32(ram, RAM_BASE, program());
          hart.x[8] = RAM_BASE;
          const r = hart.run(100_000);
          return {
            reason: r.reason,
            executed: r.executed,
            a0: hart.x[10],
            patched: peek32(ram, RAM_BASE + 15 * 4),
          };
        });
        assert.deepEqual(results[1], results[0]);
        assert.deepEqual(results[0], {
          reason: 'halt',
          executed: results[0]?.executed,
          a0: 11 * 50 + 9 * 150,
          patched,
        });
      });
    }
  }
});

describe('interpreter warm-up program', () => {
  it('uses every op the interpreter executes itself', () => {
    const ops = new Set(warmUpProgram().map((w) => decode(w & 0xffff, w >>> 16).op));
    for (let op: number = OP.LUI; op <= OP.FENCE; op++) assert.ok(ops.has(op), `op ${op} (${opName(op)})`);
  });
  it('runs the same on both engines, to its WFI', () => {
    const results = ENGINES.map((engine) => {
      const ram = new Uint8Array(WARMUP_RAM);
      const hart = new Hart({
        bus: new Bus({ ram: [{ base: 0, size: WARMUP_RAM, bytes: ram }] }),
        resetPc: 0,
        engine,
        jitThreshold: 2,
      });
      poke32Raw(ram, warmUpProgram());
      const r = hart.run(100_000);
      return { r, x: [...hart.x], pc: hart.pc, ram: [...ram] };
    });
    assert.equal(results[0]?.r.reason, 'wfi');
    assert.deepEqual(results[1], results[0]);
  });
});

function poke32Raw(ram: Uint8Array, words: readonly number[]): void {
  const dv = new DataView(ram.buffer, ram.byteOffset);
  words.forEach((w, i) => dv.setInt32(4 * i, w, true));
}
