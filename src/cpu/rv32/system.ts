// The instructions the hot loops do not execute themselves: Zicsr, ECALL/EBREAK, MRET, WFI,
// FENCE.I, the A extension and illegal encodings, and (from the interpreter) FENCE when the main
// RAM is shared memory. They touch state beyond the integer registers,
// so the engines stop in front of them (BRK_SYSTEM) and the hart runs exactly one here, with
// instret up to date, then re-checks interrupts before resuming: a CSR write that enables a
// pending interrupt takes effect before the next instruction, as the privileged spec requires.

import { execAtomic } from './atomic.ts';
import { isReadOnlyCsr, type CsrFile } from './csr.ts';
import { ENTRY } from './decode-cache.ts';
import { OP, isSystemOp } from './opcodes.ts';
import { CAUSE } from './trap.ts';
import type { Hart } from './hart.ts';

/** Execute the system instruction at pc; returns 1 if it retired, 0 if it trapped. */
export function execSystem(h: Hart, pc: number): number {
  const dc = h.dcache;
  const i = ENTRY * ((pc >>> 1) & dc.mask);
  if (dc.e[i] !== pc) {
    const faultAt = h.fill(pc);
    if (faultAt >= 0) {
      h.trap(CAUSE.INSTRUCTION_ACCESS_FAULT, faultAt, pc);
      return 0;
    }
  }
  const info = dc.e[i + 1] ?? 0;
  const imm = dc.e[i + 2] ?? 0;
  const op = info & 0xff;
  const rd = (info >>> 8) & 31;
  const rs1 = (info >>> 14) & 31;
  const rs2 = (info >>> 19) & 31;
  const next = (pc + 2 + ((info >>> 23) & 2)) >>> 0;
  switch (op) {
    case 47: // FENCE_I: make this hart's instruction fetches see all earlier stores
      h.flushCode();
      h.pc = next;
      return 1;
    case 48: // ECALL
    case 49: {
      // EBREAK. mtval = 0 for both, as QEMU's virt machine reports them (for a breakpoint the
      // spec also allows the pc, which mepc holds anyway).
      const cause = op === 48 ? CAUSE.ECALL_M : CAUSE.BREAKPOINT;
      h.pc = next;
      if (h.envCall(cause)) return 1;
      h.trap(cause, 0, pc);
      return 0;
    }
    case 50: // MRET
      h.mret();
      return 1;
    case 51: {
      // WFI: retires at once; the hart only reports 'wfi' when no enabled interrupt is pending
      // (mie & mip, whatever mstatus.MIE says), so the caller can sleep without losing a wake-up.
      h.pc = next;
      if ((h.csr.mieBits & h.csr.mipBits) === 0) h.enterWait();
      return 1;
    }
    case 52: // CSRRW
    case 53: // CSRRS
    case 54: // CSRRC
    case 55: // CSRRWI
    case 56: // CSRRSI
    case 57: // CSRRCI
      return csrOp(h, pc, next, op, rd, rs1, imm);
    case 46: // FENCE on shared memory: a sequentially consistent RMW orders the plain accesses
      if (h.sharedMain) Atomics.add(h.main.i32, 0, 0);
      h.pc = next;
      return 1;
    case 0: // ILLEGAL: mtval = the instruction bits
      h.trap(CAUSE.ILLEGAL_INSTRUCTION, imm, pc);
      return 0;
    case 69: // BREAKPOINT pseudo-op: a debugger breakpoint or an execute trigger at pc
      return h.breakAt(pc);
    default:
      // An ordinary instruction can only get here through a translated block that ended in front
      // of a stop point since removed: run it as the interpreter would.
      if (!isSystemOp(op)) return h.execOne();
      if (!execAtomic(h, op, rd, rs1, rs2, pc)) return 0;
      h.pc = next;
      return 1;
  }
}

/**
 * Zicsr: whether the instruction writes its CSR. CSRRS/CSRRC (and the immediate forms) never write
 * when the source is x0 / uimm 0, which also makes them legal on read-only CSRs.
 */
export function csrWrites(op: number, rs1: number): boolean {
  return op === OP.CSRRW || op === OP.CSRRWI || rs1 !== 0;
}

/**
 * Zicsr's read-modify-write of `csr` by instruction `op` with its operand (the register's value,
 * or the uimm): the old value, or undefined when the CSR does not exist (nothing written). A
 * write to a read-only CSR is the caller's to refuse first. Shared by the hart (csrOp) and the
 * translated code (jit-csr.ts), so both combine and write alike.
 */
export function csrReadModifyWrite(
  file: CsrFile,
  op: number,
  csr: number,
  operand: number,
  writes: boolean,
): number | undefined {
  const old = file.read(csr);
  if (old === undefined || !writes) return old;
  const kind = op >= OP.CSRRWI ? op - (OP.CSRRWI - OP.CSRRW) : op;
  file.write(csr, kind === OP.CSRRW ? operand : kind === OP.CSRRS ? old | operand : old & ~operand);
  return old;
}

/** Zicsr in the hart: CSRRW never reads when rd = x0 (reads have no side effect here anyway). */
function csrOp(
  h: Hart,
  pc: number,
  next: number,
  op: number,
  rd: number,
  rs1: number,
  csrNum: number,
): number {
  const operand = op >= OP.CSRRWI ? rs1 : (h.x[rs1] ?? 0);
  const writes = csrWrites(op, rs1);
  const old =
    writes && isReadOnlyCsr(csrNum) ? undefined : csrReadModifyWrite(h.csr, op, csrNum, operand, writes);
  if (old === undefined) {
    h.trap(CAUSE.ILLEGAL_INSTRUCTION, illegalBits(h, pc), pc);
    return 0;
  }
  if (rd !== 0) h.x[rd] = old;
  h.pc = next;
  return 1;
}

/** The raw bits of the instruction at pc, for mtval (CSR instructions are always 32-bit). */
function illegalBits(h: Hart, pc: number): number {
  const lo = h.fetch16(pc);
  const hi = h.fetch16(pc + 2);
  return lo | (hi << 16) | 0;
}
