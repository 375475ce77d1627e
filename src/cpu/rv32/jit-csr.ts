// Zicsr inside a translated region (jit-region.ts, jit-codegen.ts). Interrupt-driven firmware
// touches a CSR every few instructions (mcause in the handler, mstatus around each critical
// section, mepc), and a region that ends at each of them leaves the hart running its handler as a
// string of short region calls, interpreter stretches and system-instruction exits. So the CSRs
// that are plain machine state — reading them has no effect, writing them changes nothing but the
// CSR file — are accessed from the region through the hart's own CSR file and read-modify-write
// (csr.ts, system.ts: the values, the WARL rules and the set/clear forms are the same); the
// counters (whose value depends on instret, which a region only brings up to date when it
// leaves), the time, and an extension's CSRs (the debug triggers) still end the block, as does
// anything that would trap (a write to a read-only CSR).
//
// Privileged spec: a CSR write takes effect before the next instruction, so one that made an
// interrupt takeable (a write of mstatus or mie leaving MIE set and an enabled interrupt pending)
// sets BRK_EXIT and the region leaves after it, for the hart to take the interrupt as it would
// after execSystem.

import { BRK_EXIT } from './brk.ts';
import { CSR, isReadOnlyCsr } from './csr.ts';
import type { Decoded } from './decode.ts';
import type { Hart } from './hart.ts';
import { OP } from './opcodes.ts';
import { csrReadModifyWrite, csrWrites } from './system.ts';

/** The CSRs a region accesses itself. */
const INLINE_CSRS: ReadonlySet<number> = new Set([
  CSR.mstatus,
  CSR.misa,
  CSR.mie,
  CSR.mip,
  CSR.mtvec,
  CSR.mscratch,
  CSR.mepc,
  CSR.mcause,
  CSR.mtval,
  CSR.mhartid,
]);

/** Whether the instruction is a Zicsr access a region can do itself (see the header). */
export function isInlineCsr(d: Decoded): boolean {
  if (d.op < OP.CSRRW || d.op > OP.CSRRCI || !INLINE_CSRS.has(d.imm)) return false;
  return !(csrWrites(d.op, d.rs1) && isReadOnlyCsr(d.imm));
}

/** Whether writing the CSR may make an interrupt takeable (the region then leaves after it). */
export function csrMayEnableIrq(csr: number): boolean {
  return csr === CSR.mstatus || csr === CSR.mie;
}

/**
 * The helper a region calls for an inline CSR access (isInlineCsr) by instruction `op`: the
 * hart's own read-modify-write (system.ts), then BRK_EXIT if the write made an interrupt
 * takeable. Returns the CSR's old value.
 */
export function csrAccess(h: Hart): (op: number, csr: number, operand: number, writes: boolean) => number {
  return (op, csr, operand, writes) => {
    const file = h.csr;
    // Every inline CSR exists, and none written is read-only (isInlineCsr): never undefined.
    const old = csrReadModifyWrite(file, op, csr, operand, writes) ?? 0;
    // Takeable as Hart.run decides before each engine run.
    if (writes && csrMayEnableIrq(csr) && file.interruptTakeable()) {
      h.brk |= BRK_EXIT;
    }
    return old;
  };
}
