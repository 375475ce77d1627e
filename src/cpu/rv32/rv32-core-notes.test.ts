// The rv32 hart's crash notes: NT_PRSTATUS carries pc (the faulting instruction) in slot 0 and
// x1..x31 as they were at the fault, under both engines; the signal follows RISC-V Linux's mapping
// of exceptions; NT_RISCV_CSR holds the CSRs in the target description's order.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NT } from '../../elf/elf-constants.ts';
import { PRSTATUS32 } from '../../elf/elf-core-notes.ts';
import { asm } from '../../../test/support/rv32/asm.ts';
import { ENGINES, RAM_BASE, makeHart, poke32 } from '../../../test/support/rv32/test-hart.ts';
import { CORE_CSRS, rv32CoreNotes, rv32CoreTdesc, signalOf } from './rv32-core-notes.ts';
import { CAUSE, INTERRUPT_BIT } from './trap.ts';

const u32 = (b: Uint8Array, off: number): number =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);

describe('rv32 crash notes', () => {
  for (const engine of ENGINES) {
    it(`${engine}: pc of the faulting store in pr_reg[0], x1..x31 as at the fault`, () => {
      const { hart, ram } = makeHart(engine);
      // x1..x31 = 0x41 * n, then a store to address 0 (unmapped, no handler: mtvec = 0).
      const program: number[] = [];
      for (let r = 1; r < 32; r++) program.push(asm.addi(r, 0, 0x41 * r));
      program.push(asm.sw(5, 0, 0));
      poke32(ram, RAM_BASE, program);
      const result = hart.run(1000);
      assert.equal(result.reason, 'fatal');
      const fatal = result.fatal;
      assert.ok(fatal !== undefined);
      const faultPc = RAM_BASE + 31 * 4;
      assert.equal(fatal.pc, faultPc);
      const notes = rv32CoreNotes(hart, fatal);
      assert.deepEqual(
        notes.map((n) => [n.name, n.type]),
        [
          ['CORE', NT.NT_PRSTATUS],
          ['GDB', NT.NT_RISCV_CSR],
          ['GDB', NT.NT_GDB_TDESC],
        ],
      );
      const prstatus = notes[0]?.desc;
      assert.ok(prstatus !== undefined);
      assert.equal(prstatus.length, 204);
      assert.equal(u32(prstatus, PRSTATUS32.pr_pid), 1);
      assert.equal(u32(prstatus, PRSTATUS32.pr_info), 11); // SIGSEGV
      assert.equal(u32(prstatus, PRSTATUS32.pr_reg), faultPc);
      for (let r = 1; r < 32; r++) assert.equal(u32(prstatus, PRSTATUS32.pr_reg + 4 * r), 0x41 * r, `x${r}`);
      const csrs = notes[1]?.desc;
      assert.ok(csrs !== undefined);
      const at = (name: (typeof CORE_CSRS)[number]): number => u32(csrs, 4 * CORE_CSRS.indexOf(name));
      assert.equal(csrs.length, 4 * CORE_CSRS.length);
      assert.equal(at('mepc'), faultPc);
      assert.equal(at('mcause'), CAUSE.STORE_ACCESS_FAULT);
      assert.equal(at('mtval'), 0);
      assert.equal(at('misa'), 0x4000_1105);
      assert.equal(at('mstatus') & (3 << 11), 3 << 11);
    });
  }

  it('the target description names every CSR of the note, in the same order', () => {
    const xml = rv32CoreTdesc();
    const names = [...xml.matchAll(/<reg name="(\w+)"[^>]*group="system"/g)].map((m) => m[1]);
    assert.deepEqual(names, [...CORE_CSRS]);
    assert.match(xml, /<architecture>riscv:rv32<\/architecture>/);
    assert.match(xml, /<reg name="pc" bitsize="32"/);
  });

  const signals: readonly [string, number, number][] = [
    ['instruction misaligned', CAUSE.INSTRUCTION_MISALIGNED, 7],
    ['instruction access fault', CAUSE.INSTRUCTION_ACCESS_FAULT, 11],
    ['illegal instruction', CAUSE.ILLEGAL_INSTRUCTION, 4],
    ['breakpoint', CAUSE.BREAKPOINT, 5],
    ['load misaligned', CAUSE.LOAD_MISALIGNED, 7],
    ['load access fault', CAUSE.LOAD_ACCESS_FAULT, 11],
    ['store misaligned', CAUSE.STORE_MISALIGNED, 7],
    ['store access fault', CAUSE.STORE_ACCESS_FAULT, 11],
    ['ecall', CAUSE.ECALL_M, 5],
    ['an interrupt with no handler', (INTERRUPT_BIT | 7) >>> 0, 5],
  ];
  for (const [what, cause, signal] of signals) {
    it(`${what} (mcause ${cause.toString(16)}) is signal ${signal}, as RISC-V Linux sends it`, () =>
      assert.equal(signalOf(cause), signal));
  }
});
