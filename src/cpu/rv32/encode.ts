// Encoders for the six RV32 base instruction formats (R/I/S/B/U/J), from the RISC-V unprivileged
// spec chapter "RV32I Base Integer Instruction Set", §2.2–2.3. The compressed-instruction
// expander builds its 32-bit equivalents with them, and the tests assemble programs with them.

/** R-type: funct7 | rs2 | rs1 | funct3 | rd | opcode. */
export function encR(opcode: number, rd: number, f3: number, rs1: number, rs2: number, f7: number): number {
  return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode | 0;
}

/** I-type: imm[11:0] | rs1 | funct3 | rd | opcode (imm is taken modulo 2^12). */
export function encI(opcode: number, rd: number, f3: number, rs1: number, imm: number): number {
  return ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode | 0;
}

/** S-type: imm[11:5] | rs2 | rs1 | funct3 | imm[4:0] | opcode. */
export function encS(opcode: number, f3: number, rs1: number, rs2: number, imm: number): number {
  return (
    (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | opcode | 0
  );
}

/** B-type: imm[12|10:5] | rs2 | rs1 | funct3 | imm[4:1|11] | opcode (imm is a byte offset). */
export function encB(opcode: number, f3: number, rs1: number, rs2: number, imm: number): number {
  return (
    (((imm >> 12) & 1) << 31) |
    (((imm >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) |
    (((imm >> 11) & 1) << 7) |
    opcode
  );
}

/** U-type: imm[31:12] | rd | opcode (imm is the full 32-bit value; its low 12 bits are dropped). */
export function encU(opcode: number, rd: number, imm: number): number {
  return (imm & 0xfffff000) | (rd << 7) | opcode | 0;
}

/** J-type: imm[20|10:1|11|19:12] | rd | opcode (imm is a byte offset). */
export function encJ(opcode: number, rd: number, imm: number): number {
  return (
    (((imm >> 20) & 1) << 31) |
    (((imm >> 1) & 0x3ff) << 21) |
    (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) |
    (rd << 7) |
    opcode
  );
}

/** Major opcodes (inst[6:0]) of RV32IMA + Zicsr + Zifencei. */
export const MAJOR = {
  LOAD: 0x03,
  MISC_MEM: 0x0f,
  OP_IMM: 0x13,
  AUIPC: 0x17,
  STORE: 0x23,
  AMO: 0x2f,
  OP: 0x33,
  LUI: 0x37,
  BRANCH: 0x63,
  JALR: 0x67,
  JAL: 0x6f,
  SYSTEM: 0x73,
} as const;
