// Zicsr inside translated regions (jit-csr.ts): for a table of CSRs and every form of the six
// instructions, a translated loop that reads and writes the CSR leaves the same registers and CSR
// file as the interpreter, and runs the CSR accesses translated (the counters still leave the
// region, and stay exact). A write that makes a pending interrupt takeable (mstatus.MIE, mie)
// inside a translated loop has it taken right after the write, at the same instruction as
// interpreted; one that leaves it masked does not.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { hartOnBus } from '../../../test/support/rv32/test-hart.ts';
import { Bus } from './bus.ts';
import { CSR } from './csr.ts';
import type { EngineKind, Hart } from './hart.ts';
import { IRQ } from './trap.ts';

const RAM_BASE = 0x8000_0000;
const ITERATIONS = 40;
const [N, V, ACC, T] = [10, 11, 12, 13];
const EBREAK = 0x00100073;

function hartWith(engine: EngineKind, words: readonly number[]): Hart {
  const ram = new Uint8Array(0x1_0000);
  const dv = new DataView(ram.buffer);
  words.forEach((w, i) => dv.setInt32(i * 4, w | 0, true));
  return hartOnBus(new Bus({ ram: [{ base: RAM_BASE, size: ram.length, bytes: ram }] }), engine);
}

function runToHalt(h: Hart): void {
  for (let i = 0; i < 1000 && h.run(100_000).reason === 'budget'; i++);
}

const CSRS = [
  ['mscratch', CSR.mscratch],
  ['mepc', CSR.mepc],
  ['mcause', CSR.mcause],
  ['mtval', CSR.mtval],
  ['mtvec', CSR.mtvec],
  ['mie', CSR.mie],
  ['mstatus', CSR.mstatus],
  ['mip (writes ignored)', CSR.mip],
  ['misa (writes ignored)', CSR.misa],
] as const;

type Form = 'csrrw' | 'csrrs' | 'csrrc' | 'csrrwi' | 'csrrsi' | 'csrrci';
const FORMS: readonly Form[] = ['csrrw', 'csrrs', 'csrrc', 'csrrwi', 'csrrsi', 'csrrci'];

/**
 * A loop of ITERATIONS passes: the CSR instruction, then its result folded into ACC. Its source is
 * V, a new value each pass (or a uimm), unless `source` says (0: x0, the form that never writes).
 */
function csrLoop(form: Form, csr: number, source = form.endsWith('i') ? 0b10101 : V): number[] {
  return [
    asm.addi(N, 0, ITERATIONS),
    asm.addi(V, V, 0x155), // loop: a new source value each pass
    asm[form](T, csr, source),
    asm.xor(ACC, ACC, T),
    asm.addi(ACC, ACC, 1),
    asm.addi(N, N, -1),
    asm.bne(N, 0, -20),
    EBREAK,
  ];
}

function state(h: Hart) {
  const c = h.csr;
  return {
    x: [...h.x],
    pc: h.pc,
    instret: h.instret,
    csrs: CSRS.map(([, n]) => c.read(n)),
  };
}

/** Run `words` on both engines, check they end alike, and return the instructions run translated. */
function translatedAlike(words: readonly number[]): number {
  const interp = hartWith('interpreter', words);
  const jit = hartWith('jit', words);
  runToHalt(interp);
  runToHalt(jit);
  assert.deepEqual(state(jit), state(interp));
  return jit.jitStats?.translatedInsns ?? 0;
}

/** Every pass after the first two (interpreted while the loop turned hot), CSR access included. */
const ALL_TRANSLATED = (ITERATIONS - 2) * 6;

describe('jit: CSR accesses inside translated regions', () => {
  for (const [name, csr] of CSRS) {
    for (const form of FORMS) {
      it(`${form} ${name}`, () => {
        const translated = translatedAlike(csrLoop(form, csr));
        // The CSR instruction no longer ends the region.
        assert.ok(translated >= ALL_TRANSLATED, `only ${translated} instructions ran translated`);
      });
    }
  }

  it('mhartid, a read-only CSR, is read inside the region (csrrs with x0)', () => {
    const translated = translatedAlike(csrLoop('csrrs', CSR.mhartid, 0));
    assert.ok(translated >= ALL_TRANSLATED, `only ${translated} instructions ran translated`);
  });

  it('minstret still leaves the region and reads the exact count', () => {
    const translated = translatedAlike(csrLoop('csrrs', CSR.minstret, 0));
    // The counter reads ran in the hart, not in translated code.
    assert.ok(translated <= (ITERATIONS - 1) * 5, `${translated} instructions ran translated`);
  });
});

/**
 * A loop that, on pass K, enables a pending machine timer interrupt with `enable`; the handler at
 * HANDLER records mepc and mcause in registers and halts.
 */
function irqProgram(enable: number[]): number[] {
  const HANDLER = 0x100;
  const body = [
    asm.addi(N, 0, ITERATIONS), // 0x00
    asm.addi(V, 0, 7), // 0x04: the pass that enables
    asm.addi(ACC, ACC, 3), // 0x08 loop:
    asm.bne(N, V, 4 + 4 * enable.length), // 0x0c: skip the enabling code but on that pass
    ...enable,
    asm.addi(ACC, ACC, 5),
    asm.addi(N, N, -1),
    asm.bne(N, 0, -(4 * (4 + enable.length))),
    EBREAK,
  ];
  const handler = [asm.csrrs(20, CSR.mepc, 0), asm.csrrs(21, CSR.mcause, 0), EBREAK];
  const words = [...body];
  while (words.length < HANDLER / 4) words.push(asm.addi(0, 0, 0));
  return [...words, ...handler];
}

function irqRun(engine: EngineKind, words: readonly number[], mstatusMie: boolean, mie: number) {
  const h = hartWith(engine, words);
  h.csr.write(CSR.mtvec, RAM_BASE + 0x100);
  h.csr.write(CSR.mstatus, mstatusMie ? 8 : 0);
  h.csr.write(CSR.mie, mie);
  h.setIrq(IRQ.MTI, true);
  runToHalt(h);
  return state(h);
}

describe('jit: a CSR write that makes a pending interrupt takeable, inside a translated loop', () => {
  const MTIE = 1 << IRQ.MTI;
  const cases = [
    { name: 'csrrsi mstatus, MIE', enable: [asm.csrrsi(0, CSR.mstatus, 8)], mstatusMie: false, mie: MTIE },
    {
      name: 'csrrw mie, MTIE',
      enable: [asm.addi(T, 0, MTIE), asm.csrrw(0, CSR.mie, T)],
      mstatusMie: true,
      mie: 0,
    },
    {
      name: 'csrrs mie with MIE clear (stays masked)',
      enable: [asm.addi(T, 0, MTIE), asm.csrrs(0, CSR.mie, T)],
      mstatusMie: false,
      mie: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const words = irqProgram(c.enable);
      const interp = irqRun('interpreter', words, c.mstatusMie, c.mie);
      const jit = irqRun('jit', words, c.mstatusMie, c.mie);
      assert.deepEqual(jit, interp);
      const taken = interp.x[21] === ((1 << 31) | IRQ.MTI);
      assert.equal(taken, c.mstatusMie || c.name.startsWith('csrrsi'), 'the interrupt taken or not');
      if (taken) {
        // Taken at the instruction after the enabling write (mepc), on the pass that enabled it.
        const after = RAM_BASE + 0x10 + 4 * c.enable.length;
        assert.equal(interp.x[20], after | 0);
      }
    });
  }
});
