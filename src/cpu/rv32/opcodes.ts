// Dense operation ids of the decoded form shared by the decoder, the interpreter and the block
// translator. The interpreter's switch spells these as numeric literals (`case 19: // ADDI`),
// because V8 builds a jump table only for literal case labels (named-constant labels compile to a
// chain of comparisons); interpreter.test.ts checks that every literal label matches this table.

export const OP = {
  ILLEGAL: 0,
  LUI: 1,
  AUIPC: 2,
  JAL: 3,
  JALR: 4,
  BEQ: 5,
  BNE: 6,
  BLT: 7,
  BGE: 8,
  BLTU: 9,
  BGEU: 10,
  LB: 11,
  LH: 12,
  LW: 13,
  LBU: 14,
  LHU: 15,
  SB: 16,
  SH: 17,
  SW: 18,
  ADDI: 19,
  SLTI: 20,
  SLTIU: 21,
  XORI: 22,
  ORI: 23,
  ANDI: 24,
  SLLI: 25,
  SRLI: 26,
  SRAI: 27,
  ADD: 28,
  SUB: 29,
  SLL: 30,
  SLT: 31,
  SLTU: 32,
  XOR: 33,
  SRL: 34,
  SRA: 35,
  OR: 36,
  AND: 37,
  MUL: 38,
  MULH: 39,
  MULHSU: 40,
  MULHU: 41,
  DIV: 42,
  DIVU: 43,
  REM: 44,
  REMU: 45,
  FENCE: 46,
  // Everything from here on is a "system" operation: the hot loops leave it to Hart.execSystem,
  // because it reads or writes hart state beyond the integer registers (CSRs, counters,
  // reservation, trap state) or has to be atomic across cores.
  FENCE_I: 47,
  ECALL: 48,
  EBREAK: 49,
  MRET: 50,
  WFI: 51,
  CSRRW: 52,
  CSRRS: 53,
  CSRRC: 54,
  CSRRWI: 55,
  CSRRSI: 56,
  CSRRCI: 57,
  LR_W: 58,
  SC_W: 59,
  AMOSWAP_W: 60,
  AMOADD_W: 61,
  AMOXOR_W: 62,
  AMOAND_W: 63,
  AMOOR_W: 64,
  AMOMIN_W: 65,
  AMOMAX_W: 66,
  AMOMINU_W: 67,
  AMOMAXU_W: 68,
  /**
   * Not an instruction: what the decode cache holds at a pc where the hart must stop or trap
   * before the instruction runs (a debugger breakpoint, an execute trigger; debug-points.ts).
   */
  BREAKPOINT: 69,
} as const;

export type OpName = keyof typeof OP;

/** First system operation id: ops ≥ this (and ILLEGAL) end a translated block. */
const FIRST_SYSTEM_OP = OP.FENCE_I;

const NAMES: string[] = [];
for (const [name, id] of Object.entries(OP))
  NAMES[id] = name.toLowerCase().replace('_w', '.w').replace('_i', '.i');

/** Assembler mnemonic of an op id ('addi', 'lr.w', 'fence.i'), for messages and disassembly. */
export function opName(op: number): string {
  return NAMES[op] ?? `op${op}`;
}

/** True for ops that the hot loops hand to Hart.execSystem. */
export function isSystemOp(op: number): boolean {
  return op >= FIRST_SYSTEM_OP || op === OP.ILLEGAL;
}
