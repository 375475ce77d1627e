// Type-feedback warm-up for the interpreter. V8 optimises `interpret` (one big switch) once it is
// hot, and compiles every case that has not run yet as "deoptimise here" (no type feedback). The
// first time a program then uses such an op (a DIV in a later phase, a first misaligned load),
// the whole function deoptimises and is recompiled, which takes long, and meanwhile the
// interpreter runs unoptimised, many times slower. So before the first real run, each
// process runs this short program (~1,500 instructions) once through every path of the loop:
// each op, both outcomes of each branch, the fast, slow and watched paths of loads and stores,
// the heat-counting exits of the translator's mode, and the exit in front of a system op.

import { MAJOR, encB, encI, encJ, encR, encS, encU } from './encode.ts';
import { BRK_SYSTEM } from './brk.ts';
import type { Hart } from './hart.ts';
import { interpret } from './interpreter.ts';
import { execSystem } from './system.ts';

/** Code at 0, data at DATA, in a RAM of WARMUP_RAM bytes at address 0. */
export const WARMUP_RAM = 0x2000;
const DATA = 0x1000;
const ITERATIONS = 12;

const op = (f3: number, f7: number, rd: number, rs1: number, rs2: number) =>
  encR(MAJOR.OP, rd, f3, rs1, rs2, f7);
const opImm = (f3: number, rd: number, rs1: number, imm: number) => encI(MAJOR.OP_IMM, rd, f3, rs1, imm);
const load = (f3: number, rd: number, rs1: number, imm: number) => encI(MAJOR.LOAD, rd, f3, rs1, imm);
const store = (f3: number, rs2: number, rs1: number, imm: number) => encS(MAJOR.STORE, f3, rs1, rs2, imm);
const branch = (f3: number, rs1: number, rs2: number, off: number) => encB(MAJOR.BRANCH, f3, rs1, rs2, off);
const NOP = opImm(0, 0, 0, 0);

/** The program: a loop of ITERATIONS passes over every non-system op, then WFI. */
export function warmUpProgram(): number[] {
  const p: number[] = [];
  const CNT = 6; // loop counter, ITERATIONS down to 1
  const A = 8; // a varying 32-bit value
  const HALF = 12; // ITERATIONS / 2: branches on CNT vs HALF go both ways
  const PTR = 5; // DATA
  p.push(encU(MAJOR.LUI, PTR, DATA), opImm(0, CNT, 0, ITERATIONS), opImm(0, HALF, 0, ITERATIONS >> 1));
  const loop = p.length * 4;
  p.push(encU(MAJOR.AUIPC, 7, 0), encU(MAJOR.LUI, A, 0x8765_4000), op(0, 0, A, A, CNT)); // a = lui + cnt
  for (const f3 of [0, 2, 3, 4, 6, 7]) p.push(opImm(f3, 9, A, -77)); // addi slti sltiu xori ori andi
  p.push(opImm(1, 9, A, 3), opImm(5, 9, A, 3), opImm(5, 9, A, 0x400 | 3)); // slli srli srai
  for (const f3 of [0, 1, 2, 3, 4, 5, 6, 7]) p.push(op(f3, 0, 10, A, CNT)); // add sll slt sltu xor srl or and
  p.push(op(0, 0x20, 10, A, CNT), op(5, 0x20, 10, A, CNT)); // sub sra
  for (const f3 of [0, 1, 2, 3, 4, 5, 6, 7]) p.push(op(f3, 1, 10, A, CNT)); // mul .. remu
  for (const f3 of [4, 5, 6, 7]) p.push(op(f3, 1, 10, A, 0)); // division by zero
  p.push(store(2, A, PTR, 0), store(1, A, PTR, 4), store(0, A, PTR, 6)); // sw sh sb
  for (const f3 of [2, 1, 5, 0, 4]) p.push(load(f3, 11, PTR, 0)); // lw lh lhu lb lbu
  p.push(load(2, 11, PTR, 1), load(1, 11, PTR, 1), load(5, 11, PTR, 3)); // misaligned: slow path
  p.push(store(2, A, PTR, 9), store(1, A, PTR, 13)); // misaligned stores
  p.push(encI(MAJOR.MISC_MEM, 0, 0, 0, 0)); // fence
  for (const f3 of [0, 1, 4, 5, 6, 7]) p.push(branch(f3, CNT, HALF, 8), NOP); // both ways over the loop
  p.push(encJ(MAJOR.JAL, 1, 8), NOP); // jal over a nop; ra = the nop
  p.push(encI(MAJOR.JALR, 13, 0, 1, 8)); // jalr to ra + 8: the instruction after this one
  // Rewrite the jalr (decoded: ra + 4) with itself: a store into watched code, and a refill of
  // the decode cache on the next pass.
  p.push(load(2, 14, 1, 4), store(2, 14, 1, 4));
  p.push(opImm(0, CNT, CNT, -1), branch(1, CNT, 0, loop - (p.length + 1) * 4)); // addi; bne loop
  p.push(0x10500073); // wfi: a system op, where the loop leaves
  return p;
}

/**
 * Run the warm-up program on `h`, a fresh hart over WARMUP_RAM bytes of RAM at address 0 (given
 * as `ram`), in plain and in heat-counting mode. Touches nothing outside `h`.
 */
export function warmUpInterpreter(h: Hart, ram: Uint8Array): void {
  const words = warmUpProgram();
  const wfi = 4 * (words.length - 1);
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  words.forEach((w, i) => view.setInt32(4 * i, w, true));
  const heat = new Int32Array(64);
  for (const hot of [0, 3]) {
    h.reset(0);
    h.brk = 0;
    heat.fill(0);
    // As Hart.run does: the hart completes what the loop stopped in front of (the misaligned
    // accesses, the store into code), until the WFI at the end.
    for (let calls = 0; calls < 1000 && h.brk === 0; calls++) {
      interpret(h, 100_000, heat, hot);
      if ((h.brk & BRK_SYSTEM) !== 0 && h.pc !== wfi) {
        h.brk = 0;
        execSystem(h, h.pc);
      }
    }
  }
}
