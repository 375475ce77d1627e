// Trap causes (mcause values) and interrupt bits of a machine-mode RV32 hart, from the RISC-V
// privileged spec, "Machine Cause Register (mcause)" table and "Machine Interrupt Registers".

/** Synchronous exception codes (mcause with the interrupt bit clear). */
export const CAUSE = {
  INSTRUCTION_MISALIGNED: 0,
  INSTRUCTION_ACCESS_FAULT: 1,
  ILLEGAL_INSTRUCTION: 2,
  BREAKPOINT: 3,
  LOAD_MISALIGNED: 4,
  LOAD_ACCESS_FAULT: 5,
  STORE_MISALIGNED: 6,
  STORE_ACCESS_FAULT: 7,
  ECALL_M: 11,
} as const;

/** Interrupt codes (mcause = 0x8000_0000 | code) and their bit numbers in mie/mip. */
export const IRQ = {
  MSI: 3,
  MTI: 7,
  MEI: 11,
} as const;

export type IrqLine = (typeof IRQ)[keyof typeof IRQ];

const MIP_MSIP = 1 << IRQ.MSI;
const MIP_MTIP = 1 << IRQ.MTI;
const MIP_MEIP = 1 << IRQ.MEI;
/** The interrupt bits this hart implements in mie and mip. */
export const MIP_MASK = MIP_MSIP | MIP_MTIP | MIP_MEIP;

export const INTERRUPT_BIT = 0x8000_0000;

const CAUSE_NAMES: Record<number, string> = {
  0: 'instruction address misaligned',
  1: 'instruction access fault',
  2: 'illegal instruction',
  3: 'breakpoint',
  4: 'load address misaligned',
  5: 'load access fault',
  6: 'store/AMO address misaligned',
  7: 'store/AMO access fault',
  11: 'environment call from M-mode',
};

const IRQ_NAMES: Record<number, string> = {
  3: 'machine software interrupt',
  7: 'machine timer interrupt',
  11: 'machine external interrupt',
};

/** Human name of an mcause value, for crash reports. */
export function causeName(mcause: number): string {
  const code = mcause & 0x7fff_ffff;
  const name = (mcause & INTERRUPT_BIT) !== 0 ? IRQ_NAMES[code] : CAUSE_NAMES[code];
  return name ?? `cause ${mcause >>> 0}`;
}

/**
 * The highest-priority pending-and-enabled interrupt in `bits` (mie & mip), or -1. The
 * privileged spec orders machine interrupts MEI > MSI > MTI.
 */
export function highestInterrupt(bits: number): number {
  if ((bits & MIP_MEIP) !== 0) return IRQ.MEI;
  if ((bits & MIP_MSIP) !== 0) return IRQ.MSI;
  if ((bits & MIP_MTIP) !== 0) return IRQ.MTI;
  return -1;
}
