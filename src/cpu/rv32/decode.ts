// Decoder for RV32IMA + Zicsr + Zifencei + the machine-mode system instructions, into the compact
// form {op, rd, rs1, rs2, imm} that the interpreter caches and the block translator compiles.
// 16-bit (C extension) instructions are first expanded to their 32-bit equivalent (rvc.ts).
// Encodings: RISC-V unprivileged spec, "RV32/64G Instruction Set Listings"; privileged spec for
// MRET/WFI. Anything not listed there, or needing an extension we lack (F, D, S-mode), is ILLEGAL.

import { MAJOR } from './encode.ts';
import { OP } from './opcodes.ts';
import { expandCompressed } from './rvc.ts';

export interface Decoded {
  readonly op: number;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
  /**
   * Sign-extended immediate; for CSR ops the CSR number; for AMOs the aq/rl bits (bit 1 = aq,
   * bit 0 = rl); for ILLEGAL the raw instruction bits (16 or 32 of them), which become mtval.
   */
  readonly imm: number;
  /** Instruction length in bytes: 2 for a compressed instruction, else 4. */
  readonly len: 2 | 4;
}

function illegal(bits: number, len: 2 | 4): Decoded {
  return { op: OP.ILLEGAL, rd: 0, rs1: 0, rs2: 0, imm: bits >>> 0, len };
}

const LOADS = [OP.LB, OP.LH, OP.LW, -1, OP.LBU, OP.LHU, -1, -1];
const STORES = [OP.SB, OP.SH, OP.SW, -1, -1, -1, -1, -1];
const BRANCHES = [OP.BEQ, OP.BNE, -1, -1, OP.BLT, OP.BGE, OP.BLTU, OP.BGEU];
const OP_IMMS = [OP.ADDI, -1, OP.SLTI, OP.SLTIU, OP.XORI, -1, OP.ORI, OP.ANDI];
const OPS = [OP.ADD, OP.SLL, OP.SLT, OP.SLTU, OP.XOR, OP.SRL, OP.OR, OP.AND];
const MULDIV = [OP.MUL, OP.MULH, OP.MULHSU, OP.MULHU, OP.DIV, OP.DIVU, OP.REM, OP.REMU];
const CSR_OPS = [-1, OP.CSRRW, OP.CSRRS, OP.CSRRC, -1, OP.CSRRWI, OP.CSRRSI, OP.CSRRCI];
/** AMO funct5 (inst[31:27]) → op; LR.W needs rs2 = 0, checked separately. */
const AMOS = new Map<number, number>([
  [0b00010, OP.LR_W],
  [0b00011, OP.SC_W],
  [0b00001, OP.AMOSWAP_W],
  [0b00000, OP.AMOADD_W],
  [0b00100, OP.AMOXOR_W],
  [0b01100, OP.AMOAND_W],
  [0b01000, OP.AMOOR_W],
  [0b10000, OP.AMOMIN_W],
  [0b10100, OP.AMOMAX_W],
  [0b11000, OP.AMOMINU_W],
  [0b11100, OP.AMOMAXU_W],
]);

/** Exact encodings of the SYSTEM instructions without operands that machine mode has. */
const SYSTEM_EXACT = new Map<number, number>([
  [0x00000073, OP.ECALL],
  [0x00100073, OP.EBREAK],
  [0x30200073, OP.MRET],
  [0x10500073, OP.WFI],
]);

function immI(inst: number): number {
  return inst >> 20;
}
function immS(inst: number): number {
  return ((inst >> 25) << 5) | ((inst >>> 7) & 0x1f);
}
function immB(inst: number): number {
  return (
    ((inst >> 31) << 12) |
    (((inst >>> 7) & 1) << 11) |
    (((inst >>> 25) & 0x3f) << 5) |
    (((inst >>> 8) & 0xf) << 1)
  );
}
function immJ(inst: number): number {
  return (
    ((inst >> 31) << 20) |
    (((inst >>> 12) & 0xff) << 12) |
    (((inst >>> 20) & 1) << 11) |
    (((inst >>> 21) & 0x3ff) << 1)
  );
}

/** Decode a 32-bit instruction word (inst[1:0] must be 0b11). */
export function decode32(inst: number, len: 2 | 4 = 4, raw: number = inst): Decoded {
  const rd = (inst >>> 7) & 31;
  const rs1 = (inst >>> 15) & 31;
  const rs2 = (inst >>> 20) & 31;
  const f3 = (inst >>> 12) & 7;
  const f7 = inst >>> 25;
  const d = (op: number, imm: number): Decoded =>
    op < 0 ? illegal(raw, len) : { op, rd, rs1, rs2, imm: imm | 0, len };
  if ((inst & 3) !== 3) return illegal(raw, len);
  switch (inst & 0x7f) {
    case MAJOR.LUI:
      return d(OP.LUI, inst & 0xfffff000);
    case MAJOR.AUIPC:
      return d(OP.AUIPC, inst & 0xfffff000);
    case MAJOR.JAL:
      return d(OP.JAL, immJ(inst));
    case MAJOR.JALR:
      return d(f3 === 0 ? OP.JALR : -1, immI(inst));
    case MAJOR.BRANCH:
      return d(BRANCHES[f3] ?? -1, immB(inst));
    case MAJOR.LOAD:
      return d(LOADS[f3] ?? -1, immI(inst));
    case MAJOR.STORE:
      return d(STORES[f3] ?? -1, immS(inst));
    case MAJOR.OP_IMM:
      // RV32 shifts: imm[11:5] selects SRLI (0) / SRAI (0x20); shamt[5] = 1 is reserved on RV32.
      if (f3 === 1) return d(f7 === 0 ? OP.SLLI : -1, rs2);
      if (f3 === 5) return d(f7 === 0 ? OP.SRLI : f7 === 0x20 ? OP.SRAI : -1, rs2);
      return d(OP_IMMS[f3] ?? -1, immI(inst));
    case MAJOR.OP:
      if (f7 === 0) return d(OPS[f3] ?? -1, 0);
      if (f7 === 1) return d(MULDIV[f3] ?? -1, 0);
      if (f7 === 0x20) return d(f3 === 0 ? OP.SUB : f3 === 5 ? OP.SRA : -1, 0);
      return illegal(raw, len);
    case MAJOR.MISC_MEM:
      // FENCE's fm/pred/succ and the reserved rd/rs1/imm fields of both are ignored, as the spec
      // asks of implementations, so that future fence variants run as the strongest fence.
      return d(f3 === 0 ? OP.FENCE : f3 === 1 ? OP.FENCE_I : -1, 0);
    case MAJOR.SYSTEM:
      if (f3 === 0) return d(SYSTEM_EXACT.get(inst) ?? -1, 0);
      return d(CSR_OPS[f3] ?? -1, inst >>> 20);
    case MAJOR.AMO: {
      const op = f3 === 2 ? (AMOS.get(inst >>> 27) ?? -1) : -1;
      if (op === OP.LR_W && rs2 !== 0) return illegal(raw, len);
      return d(op, (inst >>> 25) & 3);
    }
    default:
      return illegal(raw, len);
  }
}

/**
 * Decode the instruction whose first halfword is `lo` and, when lo[1:0] = 0b11, whose second
 * halfword is `hi`. Instructions longer than 32 bits (lo[4:2] = 0b111) are illegal here.
 */
export function decode(lo: number, hi: number): Decoded {
  lo &= 0xffff;
  if ((lo & 3) !== 3) {
    const expanded = expandCompressed(lo);
    return expanded === 0 ? illegal(lo, 2) : decode32(expanded, 2, lo);
  }
  const inst = lo | (hi << 16) | 0;
  if ((lo & 0x1c) === 0x1c) return illegal(inst, 4);
  return decode32(inst);
}
