// Zicsr semantics, the machine CSRs, trap entry and mret, interrupts (priority, vectored mode,
// WFI), the misaligned-access policy and the fatal-trap detection, under both engines.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CSR, MISA_RV32IMAC } from './csr.ts';
import { asm } from '../../../test/support/rv32/asm.ts';
import {
  DATA,
  ENGINES,
  RAM_BASE,
  makeHart,
  poke32,
  runProgram,
  type TestHartOptions,
} from '../../../test/support/rv32/test-hart.ts';
import { CAUSE, IRQ } from './trap.ts';
import { BRK_EXIT } from './brk.ts';
import type { EngineKind } from './hart.ts';

const HANDLER = RAM_BASE + 0x400;
const T0 = 5;
const S0 = 8; // mcause seen by the handler
const S1 = 9; // mtval seen by the handler
const A0 = 10;
const A1 = 11;

/** Handler: s0 = mcause, s1 = mtval, skip the trapping 4-byte instruction, mret. */
const SKIP_HANDLER = [
  asm.csrrs(S0, CSR.mcause, 0),
  asm.csrrs(S1, CSR.mtval, 0),
  asm.csrrs(T0, CSR.mepc, 0),
  asm.addi(T0, T0, 4),
  asm.csrrw(0, CSR.mepc, T0),
  asm.mret(),
];

function withHandler(
  engine: EngineKind,
  program: readonly number[],
  regs: Readonly<Record<number, number>> = {},
  options: TestHartOptions = {},
) {
  return runProgram(engine, [...asm.li(T0, HANDLER), asm.csrrw(0, CSR.mtvec, T0), ...program], regs, {
    ...options,
    data: [[HANDLER, SKIP_HANDLER], ...(options.data ?? [])],
  });
}

describe('Zicsr', () => {
  for (const engine of ENGINES) {
    it(`${engine}: csrrw/csrrs/csrrc and the immediate forms`, () => {
      const { hart } = runProgram(
        engine,
        [
          asm.csrrw(0, CSR.mscratch, A0), // mscratch = 0x00ff00f0
          asm.csrrs(12, CSR.mscratch, A1), // a2 = old, set 0x0f000000
          asm.csrrc(13, CSR.mscratch, 14), // a3 = old, clear 0xff
          asm.csrrwi(15, CSR.mscratch, 21), // a5 = old, = 21
          asm.csrrsi(16, CSR.mscratch, 10), // a6 = 21, = 31
          asm.csrrci(17, CSR.mscratch, 1), // a7 = 31, = 30
          asm.csrrs(18, CSR.mscratch, 0), // s2 = 30
        ],
        { [A0]: 0x00ff_00f0, [A1]: 0x0f00_0000, 14: 0xff },
      );
      assert.deepEqual(
        [12, 13, 15, 16, 17, 18].map((r) => hart.x[r]),
        [0x00ff_00f0, 0x0fff_00f0, 0x0fff_0000, 21, 31, 30],
      );
    });
    it(`${engine}: reading a read-only CSR with csrrs rs1 = x0 is legal; writing it is illegal`, () => {
      const { hart } = withHandler(engine, [
        asm.csrrs(A0, CSR.mhartid, 0),
        asm.csrrs(A1, CSR.misa, 0),
        asm.csrrw(0, CSR.mhartid, A0), // illegal: read-only
      ]);
      assert.equal(hart.x[A0], 0);
      assert.equal(hart.x[A1], MISA_RV32IMAC | 0);
      assert.equal(hart.x[S0], CAUSE.ILLEGAL_INSTRUCTION);
      assert.equal(hart.x[S1], asm.csrrw(0, CSR.mhartid, A0), 'mtval = the instruction');
    });
    it(`${engine}: csrrsi with uimm = 0 on a read-only CSR does not trap`, () => {
      const { hart } = withHandler(engine, [
        asm.csrrsi(A0, CSR.mvendorid, 0),
        asm.csrrci(A1, CSR.marchid, 0),
      ]);
      assert.equal(hart.x[S0], 0, 'no trap');
    });
    it(`${engine}: an unknown CSR is illegal`, () => {
      const { hart } = withHandler(engine, [asm.csrrs(A0, 0x7c0, 0)]);
      assert.equal(hart.x[S0], CAUSE.ILLEGAL_INSTRUCTION);
      assert.equal(hart.x[S1], asm.csrrs(A0, 0x7c0, 0));
    });
    it(`${engine}: instret counts retired instructions; minstret writes set what the next instruction reads`, () => {
      const { hart } = runProgram(
        engine,
        [
          asm.csrrs(A0, CSR.instret, 0), // 0 instructions before it
          asm.nop(),
          asm.csrrs(A1, CSR.minstret, 0), // 2 before it
          asm.csrrw(0, CSR.minstret, 14), // minstret = 1000 for the next one
          asm.csrrs(12, CSR.minstret, 0),
          asm.csrrs(13, CSR.minstreth, 0),
          asm.csrrs(15, CSR.cycle, 0),
        ],
        { 14: 1000 },
      );
      assert.deepEqual([hart.x[A0], hart.x[A1], hart.x[12], hart.x[13], hart.x[15]], [0, 2, 1000, 0, 6]);
    });
    it(`${engine}: mtvec legalises reserved modes, mepc drops bit 0, mip ignores writes`, () => {
      const { hart } = runProgram(
        engine,
        [
          asm.csrrw(0, CSR.mtvec, A0),
          asm.csrrs(12, CSR.mtvec, 0),
          asm.csrrw(0, CSR.mepc, A1),
          asm.csrrs(13, CSR.mepc, 0),
          asm.csrrw(0, CSR.mip, 14),
          asm.csrrs(15, CSR.mip, 0),
          asm.csrrs(16, CSR.mstatus, 0),
        ],
        { [A0]: (RAM_BASE + 0x103) | 0, [A1]: (RAM_BASE + 0x123) | 0, 14: -1 },
      );
      assert.equal(hart.x[12], (RAM_BASE + 0x100) | 0);
      assert.equal(hart.x[13], (RAM_BASE + 0x122) | 0);
      assert.equal(hart.x[15], 0);
      assert.equal(hart.x[16], 3 << 11, 'MPP reads M');
    });
  }
});

describe('synchronous traps', () => {
  for (const engine of ENGINES) {
    it(`${engine}: ecall enters the handler with mepc = its pc, mtval = 0, MIE saved in MPIE`, () => {
      const { hart } = withHandler(engine, [
        asm.csrrsi(0, CSR.mstatus, 8),
        asm.ecall(),
        asm.csrrs(A0, CSR.mepc, 0),
      ]);
      assert.equal(hart.x[S0], CAUSE.ECALL_M);
      assert.equal(hart.x[S1], 0);
      assert.equal(hart.x[A0], (RAM_BASE + 20) | 0, 'the handler moved mepc past the ecall at +16');
      assert.equal(hart.csr.mie, 1, 'mret restored MIE from MPIE');
      assert.equal(hart.csr.mpie, 1);
    });
    it(`${engine}: ebreak is a breakpoint (cause 3, mtval 0 as on QEMU)`, () => {
      const { hart } = withHandler(
        engine,
        [asm.ebreak(), asm.addi(A0, S0, 0), asm.addi(A1, S1, 0)],
        {},
        { ebreakTraps: true },
      );
      assert.deepEqual([hart.x[A0], hart.x[A1]], [CAUSE.BREAKPOINT, 0]);
    });
    it(`${engine}: illegal instruction (mtval = bits) and access faults (mtval = address)`, () => {
      let r = withHandler(engine, [-1]);
      assert.deepEqual([r.hart.x[S0], r.hart.x[S1]], [CAUSE.ILLEGAL_INSTRUCTION, -1]);
      r = withHandler(engine, [asm.lw(A0, A1, 8)], { [A1]: 0x1000 });
      assert.deepEqual([r.hart.x[S0], r.hart.x[S1]], [CAUSE.LOAD_ACCESS_FAULT, 0x1008]);
      r = withHandler(engine, [asm.sb(A0, A1, -1)], { [A1]: RAM_BASE });
      assert.deepEqual([r.hart.x[S0], r.hart.x[S1]], [CAUSE.STORE_ACCESS_FAULT, (RAM_BASE - 1) | 0]);
      // a word straddling the end of RAM faults as a whole, writing nothing
      r = withHandler(engine, [asm.sw(A0, A1, 0)], { [A0]: -1, [A1]: RAM_BASE + 0x1_0000 - 2 });
      assert.equal(r.hart.x[S0], CAUSE.STORE_ACCESS_FAULT);
      assert.equal(r.ram[0xfffe], 0);
    });
    it(`${engine}: a faulting load does not write rd and does not retire`, () => {
      const { hart } = withHandler(engine, [asm.lw(A0, A1, 0)], { [A0]: 77, [A1]: 0x10 });
      assert.equal(hart.x[A0], 77);
      // lui, addi, csrrw, (lw trapped), 6 handler instructions, ebreak
      assert.equal(hart.instret, 3 + 6 + 1);
    });
    it(`${engine}: fetching outside RAM is an instruction access fault`, () => {
      const { hart } = runProgram(
        engine,
        [...asm.li(T0, HANDLER), asm.csrrw(0, CSR.mtvec, T0), asm.jalr(1, A1, 0)],
        { [A1]: 0x2000 },
        { data: [[HANDLER, SKIP_HANDLER]] },
        6, // up to the handler's second instruction
      );
      assert.equal(hart.x[S0], CAUSE.INSTRUCTION_ACCESS_FAULT);
      assert.equal(hart.x[S1], 0x2000);
    });
    it(`${engine}: misaligned: 'trap' policy raises 4/6 with mtval = address`, () => {
      let r = withHandler(engine, [asm.lw(A0, A1, 1)], { [A1]: DATA }, { misaligned: 'trap' });
      assert.deepEqual([r.hart.x[S0], r.hart.x[S1]], [CAUSE.LOAD_MISALIGNED, (DATA + 1) | 0]);
      r = withHandler(engine, [asm.sh(A0, A1, 1)], { [A1]: DATA }, { misaligned: 'trap' });
      assert.deepEqual([r.hart.x[S0], r.hart.x[S1]], [CAUSE.STORE_MISALIGNED, (DATA + 1) | 0]);
      r = withHandler(engine, [asm.lw(A0, A1, 4)], { [A1]: DATA }, { misaligned: 'trap' });
      assert.equal(r.hart.x[S0], 0, 'aligned accesses are unaffected');
    });
  }
});

describe('fatal trap situations', () => {
  for (const engine of ENGINES) {
    it(`${engine}: a trap with mtvec outside RAM is fatal, pc stays at the fault`, () => {
      const { hart, result } = runProgram(engine, [asm.nop(), asm.lw(A0, 0, 0x10)]);
      assert.equal(result.reason, 'fatal');
      assert.deepEqual(result.fatal, {
        kind: 'no-handler',
        pc: RAM_BASE + 4,
        cause: CAUSE.LOAD_ACCESS_FAULT,
        tval: 0x10,
      });
      assert.equal(hart.pc, RAM_BASE + 4);
      assert.equal(hart.instret, 1);
      assert.equal(hart.run(10).reason, 'fatal', 'stays dead until reset');
    });
    it(`${engine}: a handler that faults on itself is a trap loop naming the first fault`, () => {
      const { result } = runProgram(
        engine,
        [...asm.li(T0, HANDLER), asm.csrrw(0, CSR.mtvec, T0), asm.sw(0, 0, 0x20)],
        {},
        { data: [[HANDLER, [asm.sw(0, 0, 0x40), asm.mret()]]] },
      );
      assert.equal(result.reason, 'fatal');
      assert.equal(result.fatal?.kind, 'trap-loop');
      assert.deepEqual(result.fatal.first, {
        pc: RAM_BASE + 12,
        cause: CAUSE.STORE_ACCESS_FAULT,
        tval: 0x20,
      });
      assert.equal(result.fatal.pc, HANDLER);
      assert.equal(result.fatal.tval, 0x40);
    });
  }
});

describe('interrupts', () => {
  const VECTOR_BASE = RAM_BASE + 0x800;
  /** A vectored table whose entry n shifts n into a log in s1 and returns. */
  function vectored(engine: EngineKind) {
    const { hart, ram } = makeHart(engine);
    // entry n: jump to a stub at VECTOR_BASE + 0x100 + 16 * n that appends n to a log in s1
    const table: number[] = [];
    for (let n = 0; n < 12; n++) table.push(asm.jal(0, 0x100 + 16 * n - 4 * n));
    poke32(ram, VECTOR_BASE, table);
    for (let n = 0; n < 12; n++) {
      poke32(ram, VECTOR_BASE + 0x100 + 16 * n, [
        asm.slli(S1, S1, 4),
        asm.ori(S1, S1, n),
        asm.mret(),
        asm.nop(),
      ]);
    }
    hart.csr.write(CSR.mtvec, VECTOR_BASE | 1);
    return { hart, ram };
  }

  it('a rising line asks the running code to leave for a re-check; a falling one does not', () => {
    const { hart } = makeHart('jit');
    hart.brk = 0;
    hart.setIrq(IRQ.MEI, false);
    assert.equal(hart.brk, 0, 'low stays low');
    hart.setIrq(IRQ.MEI, true);
    assert.equal(hart.brk, BRK_EXIT, 'rises');
    hart.brk = 0;
    hart.setIrq(IRQ.MEI, true);
    assert.equal(hart.brk, 0, 'high stays high');
    hart.setIrq(IRQ.MEI, false);
    assert.equal(hart.brk, 0, 'falls: nothing can have become takeable');
    assert.equal(hart.csr.mipBits, 0);
  });

  for (const engine of ENGINES) {
    it(`${engine}: vectored mode, priority MEI > MSI > MTI, taken only with mstatus.MIE`, () => {
      const { hart, ram } = vectored(engine);
      poke32(ram, RAM_BASE, [asm.nop(), asm.csrrsi(0, CSR.mstatus, 8), asm.nop(), asm.nop(), asm.ebreak()]);
      hart.csr.write(CSR.mie, 0x888);
      hart.setIrq(IRQ.MTI, true);
      hart.setIrq(IRQ.MSI, true);
      hart.setIrq(IRQ.MEI, true);
      assert.equal(hart.run(1).executed, 1, 'MIE off: the nop runs');
      assert.equal(hart.x[S1], 0);
      // After csrrsi enables MIE, the next instruction boundary takes MEI first.
      hart.run(4);
      assert.equal(hart.x[S1], 11, 'MEI first');
      assert.equal(hart.csr.mcause >>> 0, 0x8000_000b);
      assert.equal(hart.csr.mepc >>> 0, RAM_BASE + 8);
      // Each delivery: mret (of the previous handler), the vector's jal, slli, ori.
      hart.setIrq(IRQ.MEI, false);
      hart.run(4);
      assert.equal(hart.x[S1], (11 << 4) | 3, 'then MSI');
      hart.setIrq(IRQ.MSI, false);
      hart.run(4);
      assert.equal(hart.x[S1], (((11 << 4) | 3) << 4) | 7, 'then MTI');
    });
    it(`${engine}: exceptions use the base address even in vectored mode`, () => {
      const { hart, ram } = vectored(engine);
      poke32(ram, RAM_BASE, [asm.ecall()]);
      hart.run(1); // the ecall traps (not retired), then entry 0's jal runs
      assert.equal(hart.csr.mcause, CAUSE.ECALL_M);
      assert.equal(hart.pc, VECTOR_BASE + 0x100, 'entry 0 (the base) was used');
    });
    it(`${engine}: wfi returns 'wfi' without spinning, and wakes on a pending enabled interrupt even with MIE = 0`, () => {
      const { hart, ram } = makeHart(engine);
      poke32(ram, RAM_BASE, [asm.wfi(), asm.addi(A0, 0, 1), asm.wfi(), asm.addi(A0, 0, 2), asm.ebreak()]);
      hart.csr.write(CSR.mie, 1 << IRQ.MTI);
      let r = hart.run(100);
      assert.deepEqual([r.reason, r.executed, hart.pc], ['wfi', 1, RAM_BASE + 4]);
      hart.setIrq(IRQ.MTI, true); // pending and enabled in mie, but mstatus.MIE = 0: no trap
      r = hart.run(100);
      assert.equal(r.reason, 'halt');
      assert.equal(hart.x[A0], 2, 'the second wfi did not stop');
      assert.equal(hart.csr.mcause, 0, 'no interrupt was taken');
    });
    it(`${engine}: a device raising an interrupt from a store is seen at the next instruction`, () => {
      const ref: { hart?: { setIrq(l: 3, v: boolean): void } } = {};
      const { hart, ram } = makeHart(engine, {
        mmio: [
          {
            base: 0x0200_0000,
            size: 4,
            read: () => 0,
            write: (_o, _w, v) => ref.hart?.setIrq(IRQ.MSI, (v & 1) !== 0),
          },
        ],
      });
      ref.hart = hart;
      poke32(ram, RAM_BASE, [
        ...asm.li(T0, HANDLER),
        asm.csrrw(0, CSR.mtvec, T0),
        asm.csrrsi(0, CSR.mstatus, 8),
        asm.addi(A0, 0, 8),
        asm.csrrw(0, CSR.mie, A0),
        asm.lui(A1, 0x0200_0000),
        asm.addi(A0, 0, 1),
        asm.sw(A0, A1, 0), // msip = 1
        asm.addi(12, 0, 5), // must run after the handler
        asm.ebreak(),
      ]);
      poke32(ram, HANDLER, [
        asm.csrrs(S0, CSR.mepc, 0),
        asm.sw(0, A1, 0),
        asm.csrrs(13, CSR.mcause, 0),
        asm.mret(),
      ]);
      hart.run(100);
      assert.equal(hart.x[S0], (RAM_BASE + 36) | 0, 'mepc = the instruction after the store');
      assert.equal(hart.x[13], 0x8000_0003 | 0);
      assert.equal(hart.x[12], 5);
    });
  }
});
