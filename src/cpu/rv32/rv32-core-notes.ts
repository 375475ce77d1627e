// The rv32 hart's state at a crash as ELF core notes, for the remoteproc coredump: NT_PRSTATUS in
// the layout gdb reads from RV32 Linux core files (bfd/elfnn-riscv.c riscv_elf_grok_prstatus:
// descsz 204, pr_pid at 24, pr_reg at 72; gdb/riscv-linux-tdep.c and riscv-none-tdep.c
// riscv_gregmap: pc in slot 0, then x1..x31), and the machine-mode CSRs in NT_RISCV_CSR (owner
// "GDB", as gdb's gcore writes it) with the target description NT_GDB_TDESC that gdb needs to read
// them (gdb/riscv-none-tdep.c riscv_iterate_over_regset_sections, gdb/corelow.c). See
// docs/debugging.md "Coredumps".

import { NT } from '../../elf/elf-constants.ts';
import { prstatus32, type ElfNote } from '../../elf/elf-core-notes.ts';
import type { Hart, TrapRecord } from './hart.ts';
import { CAUSE, INTERRUPT_BIT } from './trap.ts';
import { CSR } from './csr.ts';

/** Linux signal numbers (include/uapi/asm-generic/signal.h) a trap maps to. */
const SIG = { SIGILL: 4, SIGTRAP: 5, SIGBUS: 7, SIGSEGV: 11 } as const;

/** The signal RISC-V Linux sends for an exception (arch/riscv/kernel/traps.c). */
export function signalOf(mcause: number): number {
  if ((mcause & INTERRUPT_BIT) !== 0) return SIG.SIGTRAP;
  switch (mcause) {
    case CAUSE.INSTRUCTION_ACCESS_FAULT:
    case CAUSE.LOAD_ACCESS_FAULT:
    case CAUSE.STORE_ACCESS_FAULT:
      return SIG.SIGSEGV;
    case CAUSE.INSTRUCTION_MISALIGNED:
    case CAUSE.LOAD_MISALIGNED:
    case CAUSE.STORE_MISALIGNED:
      return SIG.SIGBUS;
    case CAUSE.ILLEGAL_INSTRUCTION:
      return SIG.SIGILL;
    default:
      return SIG.SIGTRAP;
  }
}

/**
 * The CSRs of NT_RISCV_CSR, in this order, one 32-bit word each; the target description below
 * lists them in the same order (gdb maps the note's words to the tdesc's csr feature in order).
 */
export const CORE_CSRS = [
  'mstatus',
  'misa',
  'mie',
  'mtvec',
  'mscratch',
  'mepc',
  'mcause',
  'mtval',
  'mip',
  'mhartid',
] as const satisfies readonly (keyof typeof CSR)[];

/** CSRs that hold code addresses: gdb shows them with the symbol (mepc = <crash_store+10>). */
const CODE_CSRS: ReadonlySet<string> = new Set(['mtvec', 'mepc']);

/**
 * The target description gdb reads from NT_GDB_TDESC: RV32 integer registers and the CSRs above,
 * found by name (gdb/riscv-tdep.c checks the org.gnu.gdb.riscv.cpu and .csr features by name).
 */
export function rv32CoreTdesc(): string {
  const x = Array.from({ length: 32 }, (_, i) => {
    const type = i === 1 ? 'code_ptr' : i === 2 ? 'data_ptr' : 'int';
    return `<reg name="${i === 0 ? 'zero' : `x${i}`}" bitsize="32" type="${type}"/>`;
  });
  const csrs = CORE_CSRS.map(
    (name) =>
      `<reg name="${name}" bitsize="32" type="${CODE_CSRS.has(name) ? 'code_ptr' : 'uint32'}" group="system"/>`,
  );
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '<architecture>riscv:rv32</architecture>',
    '<feature name="org.gnu.gdb.riscv.cpu">',
    ...x,
    '<reg name="pc" bitsize="32" type="code_ptr"/>',
    '</feature>',
    '<feature name="org.gnu.gdb.riscv.csr">',
    ...csrs,
    '</feature>',
    '</target>',
    '',
  ].join('\n');
}

/**
 * The notes of a crashed hart. pc is the faulting instruction (the hart left it there: the trap
 * was not taken), x1..x31 as they were then. mepc/mcause/mtval in the CSR note describe the fatal
 * trap as the hart would have recorded it had it had a handler to enter; the other CSRs are live.
 */
export function rv32CoreNotes(hart: Hart, trap: TrapRecord): ElfNote[] {
  const csr = hart.csr;
  const pid = csr.mhartid + 1;
  const regs = Array.from(hart.x, (v) => v >>> 0);
  regs[0] = trap.pc >>> 0;
  const values: Record<(typeof CORE_CSRS)[number], number> = {
    mstatus: csr.mstatus,
    misa: csr.read(CSR.misa) ?? 0,
    mie: csr.mieBits,
    mtvec: csr.mtvec,
    mscratch: csr.mscratch,
    mepc: trap.pc,
    mcause: trap.cause,
    mtval: trap.tval,
    mip: csr.mipBits,
    mhartid: csr.mhartid,
  };
  const csrDesc = new Uint8Array(4 * CORE_CSRS.length);
  const dv = new DataView(csrDesc.buffer);
  CORE_CSRS.forEach((name, i) => dv.setUint32(4 * i, values[name] >>> 0, true));
  // No NT_PRPSINFO: gdb compares its program name with the executable's file name and warns when
  // they differ, and the core cannot know the name the user gives gdb.
  return [
    { name: 'CORE', type: NT.NT_PRSTATUS, desc: prstatus32({ signal: signalOf(trap.cause), pid, regs }) },
    { name: 'GDB', type: NT.NT_RISCV_CSR, desc: csrDesc },
    { name: 'GDB', type: NT.NT_GDB_TDESC, desc: new TextEncoder().encode(rv32CoreTdesc()) },
  ];
}
