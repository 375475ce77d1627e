// Structured control flow of translated regions (jit-structure.ts): for a table of control-flow
// shapes (straight line, if/else, while, nested loops, a loop with two exits, an irreducible
// loop, a call), the units and the nested loops and blocks they become; and for the same shapes
// as guest programs, the region's function runs them exactly as the interpreter does, in one
// slice and in short slices that leave the function in the middle of its loops.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { makeHart, poke32, RAM_BASE } from '../../../test/support/rv32/test-hart.ts';
import type { EngineKind } from './hart.ts';
import { generateRegion } from './jit-codegen.ts';
import { discoverRegion } from './jit-region.ts';
import { planUnits, structureUnit, type Successors } from './jit-structure.ts';

/**
 * Every unit's code with block i shown as `i[edges]`, whitespace collapsed, and a round trip
 * through the switch to block j as `→j`.
 */
function render(succ: Successors, entries: readonly number[] = []): string {
  const units = planUnits(succ, entries);
  return [...units]
    .map(([r, unit]) => {
      const { code } = structureUnit(succ, r, unit, (i, edge) => {
        const s = succ[i] ?? [];
        return `${i}[${s.map((j, k) => edge(j, k === s.length - 1)).join(' ')}]`;
      });
      return `case ${r}: ${code}`;
    })
    .join(' | ')
    .replace(/\s+/g, ' ')
    .replace(/\{ b = (\d+); continue loop; \}/g, '→$1');
}

const SHAPES: readonly {
  readonly name: string;
  readonly succ: Successors;
  readonly entries?: readonly number[];
  readonly expect: string;
}[] = [
  { name: 'straight line', succ: [[1], [2], []], expect: 'case 0: 0[{ 1[{ 2[] }] }]' },
  {
    name: 'if/else: the join follows a labelled block both arms break',
    succ: [[1, 2], [3], [3], []],
    expect: 'case 0: B3: { 0[{ 1[break B3;] } { 2[break B3;] }] } 3[]',
  },
  {
    name: 'while: the header is a labelled loop, the body continues it',
    succ: [[1], [2, 3], [1], []],
    expect: 'case 0: 0[{ L1: while (true) { 1[{ 2[continue L1;] } { 3[] }] } }]',
  },
  {
    name: 'nested loops',
    succ: [[1], [2], [2, 3], [1, 4], []],
    expect:
      'case 0: 0[{ L1: while (true) { 1[{ L2: while (true) { 2[continue L2; { 3[continue L1; { 4[] }] }] } }] } }]',
  },
  {
    name: 'a loop with two exits joining after it',
    succ: [[1], [2, 3], [1, 4], [5], [5], []],
    expect:
      'case 0: 0[{ L1: while (true) { B5: { 1[{ 2[continue L1; { 4[break B5;] }] } { 3[break B5;] }] } 5[] } }]',
  },
  {
    name: 'a block looping on itself',
    succ: [[0, 1], []],
    expect: 'case 0: L0: while (true) { 0[continue L0; { 1[] }] }',
  },
  {
    name: 'irreducible: a cycle entered at two blocks goes round the switch',
    succ: [[1, 2], [2], [1, 3], []],
    expect: 'case 0: 0[→1 →2] | case 1: 1[→2] | case 2: 2[→1 →3] | case 3: 3[]',
  },
  {
    name: 'a further entry (say, a return site reached only by a JALR) is a root of its own',
    succ: [[1], [], [3], []],
    entries: [2],
    expect: 'case 0: 0[{ 1[] }] | case 2: 2[{ 3[] }]',
  },
];

describe('jit-structure: units and their structure', () => {
  for (const s of SHAPES) {
    it(s.name, () => {
      assert.equal(render(s.succ, s.entries), s.expect);
    });
  }

  it('partitions the blocks: each is in exactly one unit, and every edge out of a unit goes to a root', () => {
    for (const s of SHAPES) {
      const units = planUnits(s.succ, s.entries ?? []);
      const seen = new Map<number, number>();
      for (const [, unit] of units) for (const b of unit) seen.set(b, (seen.get(b) ?? 0) + 1);
      assert.deepEqual(
        [...seen].filter(([, n]) => n !== 1),
        [],
        s.name,
      );
      for (const [, unit] of units)
        for (const x of unit)
          for (const y of s.succ[x] ?? []) assert.ok(unit.has(y) || units.has(y), `${s.name}: ${x}→${y}`);
    }
  });

  it('falls into the next case instead of going round the switch from the last statement', () => {
    const succ: Successors = [[1], []];
    const units = new Map([
      [0, new Set([0])],
      [1, new Set([1])],
    ]);
    const emit = (i: number, edge: (j: number, last: boolean) => string): string =>
      `${i}[${(succ[i] ?? []).map((j) => edge(j, true)).join(' ')}]`;
    assert.deepEqual(structureUnit(succ, 0, units.get(0) ?? new Set(), emit, 1), { code: '0[]', tail: 1 });
    assert.deepEqual(structureUnit(succ, 0, units.get(0) ?? new Set(), emit), {
      code: '0[{ b = 1; continue loop; }]',
      tail: 1,
    });
  });
});

// Guest programs of the same shapes, each inside an outer loop of OUTER iterations (x10) so that
// it is translated (threshold 1) and then runs translated. `loops`: the while loops of the
// region from the outer loop's head (the irreducible loop's second entry is a root, which takes
// the outer loop apart into cases; the callee's return is an edge to the return site).
const OUTER = 20;
const X0 = 0;
const [T0, T1, T2] = [5, 6, 7];
const [A1, A2, A3] = [11, 12, 13];

function outerLoop(body: readonly number[], after: readonly number[] = []): number[] {
  return [
    asm.addi(10, X0, OUTER),
    ...body,
    asm.addi(10, 10, -1),
    asm.bne(10, X0, -(body.length + 1) * 4),
    ...after,
  ];
}

const PROGRAMS: readonly { readonly name: string; readonly words: number[]; readonly loops: number }[] = [
  {
    name: 'straight line',
    words: outerLoop([asm.addi(A1, A1, 3), asm.xori(A2, A1, 5), asm.add(A3, A3, A2)]),
    loops: 1,
  },
  {
    name: 'if/else',
    words: outerLoop([
      asm.andi(T0, 10, 1),
      asm.beq(T0, X0, 12),
      asm.addi(A1, A1, 7),
      asm.jal(X0, 8),
      asm.addi(A2, A2, 9),
      asm.add(A3, A1, A2),
    ]),
    loops: 1,
  },
  {
    name: 'while',
    words: outerLoop([
      asm.addi(T1, 10, 0),
      asm.beq(T1, X0, 16),
      asm.add(A1, A1, T1),
      asm.addi(T1, T1, -1),
      asm.jal(X0, -12),
    ]),
    loops: 2,
  },
  {
    name: 'nested loops',
    words: outerLoop([
      asm.addi(T1, X0, 3),
      asm.addi(T2, X0, 4),
      asm.add(A1, A1, T2),
      asm.addi(T2, T2, -1),
      asm.bne(T2, X0, -8),
      asm.addi(T1, T1, -1),
      asm.bne(T1, X0, -20),
    ]),
    loops: 3,
  },
  {
    name: 'a loop with two exits',
    words: outerLoop([
      asm.addi(T1, 10, 5),
      asm.andi(T0, T1, 3),
      asm.beq(T0, X0, 20),
      asm.addi(T1, T1, -1),
      asm.bne(T1, X0, -12),
      asm.addi(A2, A2, 1),
      asm.jal(X0, 8),
      asm.addi(A1, A1, 1),
    ]),
    loops: 2,
  },
  {
    name: 'irreducible loop',
    words: outerLoop([
      asm.andi(T0, 10, 1),
      asm.addi(T1, X0, 5),
      asm.bne(T0, X0, 12),
      asm.addi(A1, A1, 2),
      asm.addi(T1, T1, -1),
      asm.addi(A2, A2, 3),
      asm.blt(X0, T1, -12),
    ]),
    loops: 0,
  },
  {
    name: 'a call and its return',
    // The callee follows the loop, behind a jump over it to the final EBREAK.
    words: outerLoop(
      [asm.jal(1, 20), asm.addi(A3, A3, 1)],
      [asm.jal(X0, 12), asm.addi(A1, A1, 1), asm.jalr(X0, 1, 0)],
    ),
    loops: 1,
  },
];

function run(engine: EngineKind, words: readonly number[], slice: number) {
  const { hart, ram } = makeHart(engine, { jitThreshold: 1, jitProbation: null });
  poke32(ram, RAM_BASE, [...words, 0x00100073]);
  for (let i = 0; i < 100_000 && hart.run(slice).reason === 'budget'; i++);
  return {
    x: [...hart.x],
    pc: hart.pc,
    instret: hart.instret,
    translated: hart.jitStats?.translatedInsns ?? 0,
  };
}

describe('jit-structure: generated functions run as the interpreter', () => {
  for (const p of PROGRAMS) {
    it(p.name, () => {
      // The region from the outer loop's head: its loops are labelled while loops.
      const fetch = (a: number): number => {
        const i = (a - RAM_BASE) >>> 0;
        const w = [...p.words, 0x00100073][i >>> 2];
        return w === undefined ? -1 : (i & 2) === 0 ? w & 0xffff : w >>> 16;
      };
      const region = discoverRegion(fetch, RAM_BASE + 4);
      const { source } = generateRegion(region, { base: RAM_BASE | 0, size: 0x1_0000, shared: false });
      assert.equal(source.match(/while \(true\)/g)?.length ?? 0, p.loops, source);
      for (const slice of [1_000_000, 7, 3]) {
        const interp = run('interpreter', p.words, slice);
        const jit = run('jit', p.words, slice);
        // A slice shorter than a block never enters it: the interpreter runs it.
        if (slice > 100) assert.ok(jit.translated > 0, 'ran translated code');
        assert.deepEqual({ ...jit, translated: 0 }, { ...interp, translated: 0 }, `slice ${slice}`);
      }
    });
  }
});
