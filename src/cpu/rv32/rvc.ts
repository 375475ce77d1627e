// Expansion of RV32C 16-bit instructions into the 32-bit instructions they stand for (RISC-V
// unprivileged spec, chapter "C" Standard Extension, tables "RVC opcode map" and the per-form
// expansions). Expanding once, at decode time, keeps a single execution path for both lengths.
// Returns 0 for an illegal or reserved encoding, and for the F/D forms (c.flw, c.fsd, ...): this
// hart has no floating point. HINT encodings (e.g. c.addi x0, c.li x0, c.slli64-style shamt 0)
// expand to instructions that write x0 or change nothing, which is how the spec asks HINTs to run.

import { MAJOR, encB, encI, encJ, encR, encS, encU } from './encode.ts';

const SP = 2;
const RA = 1;

/** Bit `from` of h moved to position `to`. */
function bit(h: number, from: number, to: number): number {
  return ((h >>> from) & 1) << to;
}
/** Bits [hiBit:loBit] of h moved to start at position `to`. */
function bits(h: number, hiBit: number, loBit: number, to: number): number {
  return ((h >>> loBit) & ((1 << (hiBit - loBit + 1)) - 1)) << to;
}
/** Sign-extend the low `n` bits of v. */
function sext(v: number, n: number): number {
  return (v << (32 - n)) >> (32 - n);
}
/** The 3-bit register fields rd'/rs1'/rs2' name x8..x15. */
function creg(h: number, lo: number): number {
  return ((h >>> lo) & 7) + 8;
}

/** CI-format 6-bit immediate imm[5] = h[12], imm[4:0] = h[6:2], sign-extended. */
function ciImm(h: number): number {
  return sext(bit(h, 12, 5) | bits(h, 6, 2, 0), 6);
}

/** CJ-format jump offset of c.j / c.jal: offset[11|4|9:8|10|6|7|3:1|5] = h[12:2]. */
function cjOffset(h: number): number {
  const v =
    bit(h, 12, 11) |
    bit(h, 11, 4) |
    bits(h, 10, 9, 8) |
    bit(h, 8, 10) |
    bit(h, 7, 6) |
    bit(h, 6, 7) |
    bits(h, 5, 3, 1) |
    bit(h, 2, 5);
  return sext(v, 12);
}

/** CB-format branch offset of c.beqz / c.bnez: offset[8|4:3] = h[12:10], [7:6|2:1|5] = h[6:2]. */
function cbOffset(h: number): number {
  const v = bit(h, 12, 8) | bits(h, 11, 10, 3) | bits(h, 6, 5, 6) | bits(h, 4, 3, 1) | bit(h, 2, 5);
  return sext(v, 9);
}

/** c.lw / c.sw offset: offset[5:3] = h[12:10], offset[2] = h[6], offset[6] = h[5]. */
function clwOffset(h: number): number {
  return bits(h, 12, 10, 3) | bit(h, 6, 2) | bit(h, 5, 6);
}

function quadrant0(h: number): number {
  const f3 = h >>> 13;
  switch (f3) {
    case 0: {
      // c.addi4spn: addi rd', sp, nzuimm; nzuimm[5:4|9:6|2|3] = h[12:5]; nzuimm = 0 is reserved
      // (and the all-zero halfword is the defined illegal instruction).
      const imm = bits(h, 12, 11, 4) | bits(h, 10, 7, 6) | bit(h, 6, 2) | bit(h, 5, 3);
      return imm === 0 ? 0 : encI(MAJOR.OP_IMM, creg(h, 2), 0, SP, imm);
    }
    case 2: // c.lw
      return encI(MAJOR.LOAD, creg(h, 2), 2, creg(h, 7), clwOffset(h));
    case 6: // c.sw
      return encS(MAJOR.STORE, 2, creg(h, 7), creg(h, 2), clwOffset(h));
    default: // c.fld, c.flw, c.fsd, c.fsw (no F/D) and the reserved f3 = 4
      return 0;
  }
}

function quadrant1(h: number): number {
  const f3 = h >>> 13;
  const rd = (h >>> 7) & 31;
  switch (f3) {
    case 0: // c.nop / c.addi (nzimm = 0 and rd = 0 forms are HINTs: they run as addi, no effect)
      return encI(MAJOR.OP_IMM, rd, 0, rd, ciImm(h));
    case 1: // c.jal (RV32 only): jal ra, offset
      return encJ(MAJOR.JAL, RA, cjOffset(h));
    case 2: // c.li: addi rd, x0, imm (rd = 0 is a HINT)
      return encI(MAJOR.OP_IMM, rd, 0, 0, ciImm(h));
    case 3: {
      if (rd === SP) {
        // c.addi16sp: nzimm[9] = h[12], nzimm[4|6|8:7|5] = h[6:2]; nzimm = 0 is reserved.
        const v = bit(h, 12, 9) | bit(h, 6, 4) | bit(h, 5, 6) | bits(h, 4, 3, 7) | bit(h, 2, 5);
        return v === 0 ? 0 : encI(MAJOR.OP_IMM, SP, 0, SP, sext(v, 10));
      }
      // c.lui: nzimm[17] = h[12], nzimm[16:12] = h[6:2]; nzimm = 0 is reserved; rd = 0 is a HINT.
      const imm = ciImm(h);
      return imm === 0 ? 0 : encU(MAJOR.LUI, rd, imm << 12);
    }
    case 4:
      return quadrant1Alu(h);
    case 5: // c.j: jal x0, offset
      return encJ(MAJOR.JAL, 0, cjOffset(h));
    case 6: // c.beqz
      return encB(MAJOR.BRANCH, 0, creg(h, 7), 0, cbOffset(h));
    default: // 7: c.bnez
      return encB(MAJOR.BRANCH, 1, creg(h, 7), 0, cbOffset(h));
  }
}

/** Quadrant 1, funct3 = 100: c.srli, c.srai, c.andi and the register-register ALU forms. */
function quadrant1Alu(h: number): number {
  const rd = creg(h, 7);
  const f2 = (h >>> 10) & 3;
  if (f2 === 0 || f2 === 1) {
    // c.srli / c.srai: shamt[5] = h[12] must be 0 on RV32 (reserved, "NSE"); shamt = 0 is a HINT.
    if ((h >>> 12) & 1) return 0;
    return encI(MAJOR.OP_IMM, rd, 5, rd, bits(h, 6, 2, 0) | (f2 === 1 ? 0x400 : 0));
  }
  if (f2 === 2) return encI(MAJOR.OP_IMM, rd, 7, rd, ciImm(h)); // c.andi
  // h[12] = 1 selects c.subw/c.addw (RV64) or reserved encodings: illegal on RV32.
  if ((h >>> 12) & 1) return 0;
  const rs2 = creg(h, 2);
  switch ((h >>> 5) & 3) {
    case 0: // c.sub
      return encR(MAJOR.OP, rd, 0, rd, rs2, 0x20);
    case 1: // c.xor
      return encR(MAJOR.OP, rd, 4, rd, rs2, 0);
    case 2: // c.or
      return encR(MAJOR.OP, rd, 6, rd, rs2, 0);
    default: // c.and
      return encR(MAJOR.OP, rd, 7, rd, rs2, 0);
  }
}

function quadrant2(h: number): number {
  const f3 = h >>> 13;
  const rd = (h >>> 7) & 31;
  const rs2 = (h >>> 2) & 31;
  switch (f3) {
    case 0: // c.slli: shamt[5] = h[12] must be 0 on RV32; rd = 0 or shamt = 0 are HINTs.
      if ((h >>> 12) & 1) return 0;
      return encI(MAJOR.OP_IMM, rd, 1, rd, rs2);
    case 2: {
      // c.lwsp: offset[5] = h[12], offset[4:2|7:6] = h[6:2]; rd = 0 is reserved.
      const off = bit(h, 12, 5) | bits(h, 6, 4, 2) | bits(h, 3, 2, 6);
      return rd === 0 ? 0 : encI(MAJOR.LOAD, rd, 2, SP, off);
    }
    case 4:
      if (((h >>> 12) & 1) === 0) {
        if (rs2 === 0) return rd === 0 ? 0 : encI(MAJOR.JALR, 0, 0, rd, 0); // c.jr (rs1 = 0 reserved)
        return encR(MAJOR.OP, rd, 0, 0, rs2, 0); // c.mv: add rd, x0, rs2 (rd = 0 is a HINT)
      }
      if (rs2 === 0) {
        if (rd === 0) return 0x00100073; // c.ebreak
        return encI(MAJOR.JALR, RA, 0, rd, 0); // c.jalr
      }
      return encR(MAJOR.OP, rd, 0, rd, rs2, 0); // c.add (rd = 0 is a HINT)
    case 6: {
      // c.swsp: offset[5:2|7:6] = h[12:7]
      const off = bits(h, 12, 9, 2) | bits(h, 8, 7, 6);
      return encS(MAJOR.STORE, 2, SP, rs2, off);
    }
    default: // c.fldsp, c.flwsp, c.fsdsp, c.fswsp: no F/D
      return 0;
  }
}

/** The 32-bit equivalent of the compressed instruction h (h[1:0] ≠ 0b11), or 0 if illegal. */
export function expandCompressed(h: number): number {
  h &= 0xffff;
  switch (h & 3) {
    case 0:
      return quadrant0(h);
    case 1:
      return quadrant1(h);
    case 2:
      return quadrant2(h);
    default:
      return 0;
  }
}
