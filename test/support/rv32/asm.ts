// A tiny assembler for the rv32 tests: one function per instruction, returning the 32-bit word,
// built on encode.ts. Registers are numbers (x0..x31); branch and jump offsets are in bytes.

import { MAJOR, encB, encI, encJ, encR, encS, encU } from '../../../src/cpu/rv32/encode.ts';

const R = (f3: number, f7: number) => (rd: number, rs1: number, rs2: number) =>
  encR(MAJOR.OP, rd, f3, rs1, rs2, f7);
const I = (f3: number) => (rd: number, rs1: number, imm: number) => encI(MAJOR.OP_IMM, rd, f3, rs1, imm);
const L = (f3: number) => (rd: number, rs1: number, imm: number) => encI(MAJOR.LOAD, rd, f3, rs1, imm);
const S = (f3: number) => (rs2: number, rs1: number, imm: number) => encS(MAJOR.STORE, f3, rs1, rs2, imm);
const B = (f3: number) => (rs1: number, rs2: number, off: number) => encB(MAJOR.BRANCH, f3, rs1, rs2, off);
const AMO =
  (f5: number) =>
  (rd: number, rs2: number, rs1: number, aqrl = 0) =>
    encR(MAJOR.AMO, rd, 2, rs1, rs2, (f5 << 2) | aqrl);
const CSR = (f3: number) => (rd: number, csr: number, rs1OrUimm: number) =>
  encI(MAJOR.SYSTEM, rd, f3, rs1OrUimm, csr);

export const asm = {
  lui: (rd: number, imm: number) => encU(MAJOR.LUI, rd, imm),
  auipc: (rd: number, imm: number) => encU(MAJOR.AUIPC, rd, imm),
  jal: (rd: number, off: number) => encJ(MAJOR.JAL, rd, off),
  jalr: (rd: number, rs1: number, imm: number) => encI(MAJOR.JALR, rd, 0, rs1, imm),
  beq: B(0),
  bne: B(1),
  blt: B(4),
  bge: B(5),
  bltu: B(6),
  bgeu: B(7),
  lb: L(0),
  lh: L(1),
  lw: L(2),
  lbu: L(4),
  lhu: L(5),
  sb: S(0),
  sh: S(1),
  sw: S(2),
  addi: I(0),
  slti: I(2),
  sltiu: I(3),
  xori: I(4),
  ori: I(6),
  andi: I(7),
  slli: (rd: number, rs1: number, sh: number) => encI(MAJOR.OP_IMM, rd, 1, rs1, sh),
  srli: (rd: number, rs1: number, sh: number) => encI(MAJOR.OP_IMM, rd, 5, rs1, sh),
  srai: (rd: number, rs1: number, sh: number) => encI(MAJOR.OP_IMM, rd, 5, rs1, sh | 0x400),
  add: R(0, 0),
  sub: R(0, 0x20),
  sll: R(1, 0),
  slt: R(2, 0),
  sltu: R(3, 0),
  xor: R(4, 0),
  srl: R(5, 0),
  sra: R(5, 0x20),
  or: R(6, 0),
  and: R(7, 0),
  mul: R(0, 1),
  mulh: R(1, 1),
  mulhsu: R(2, 1),
  mulhu: R(3, 1),
  div: R(4, 1),
  divu: R(5, 1),
  rem: R(6, 1),
  remu: R(7, 1),
  lr: (rd: number, rs1: number, aqrl = 0) => encR(MAJOR.AMO, rd, 2, rs1, 0, (0b00010 << 2) | aqrl),
  sc: AMO(0b00011),
  amoswap: AMO(0b00001),
  amoadd: AMO(0b00000),
  amoxor: AMO(0b00100),
  amoand: AMO(0b01100),
  amoor: AMO(0b01000),
  amomin: AMO(0b10000),
  amomax: AMO(0b10100),
  amominu: AMO(0b11000),
  amomaxu: AMO(0b11100),
  csrrw: CSR(1),
  csrrs: CSR(2),
  csrrc: CSR(3),
  csrrwi: CSR(5),
  csrrsi: CSR(6),
  csrrci: CSR(7),
  fence: () => 0x0ff0000f,
  fenceI: () => 0x0000100f,
  ecall: () => 0x00000073,
  ebreak: () => 0x00100073,
  mret: () => 0x30200073,
  wfi: () => 0x10500073,
  nop: () => 0x00000013,
  /** Load a 32-bit constant: lui + addi, with the lui part rounded for addi's sign extension. */
  li: (rd: number, value: number): [number, number] => [
    encU(MAJOR.LUI, rd, (value + 0x800) & 0xfffff000),
    encI(MAJOR.OP_IMM, rd, 0, rd, (value << 20) >> 20),
  ],
} as const;
