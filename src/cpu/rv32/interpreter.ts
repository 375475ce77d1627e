// The interpreter: runs decoded instructions from the decode cache in one tight loop over a
// switch with numeric-literal case labels (a V8 jump table, see opcodes.ts), with registers in
// an Int32Array and the main RAM reached inline through typed-array views. Anything else leaves
// the loop or calls into the hart: loads/stores outside the main RAM or misaligned ones (Hart.load
// / store), stores into watched granules (Hart.watchedStore), system instructions and FENCE on
// shared memory (BRK_SYSTEM, run by Hart.execSystem). It is also the translator's fallback for
// code not yet hot, where it counts block executions at each control transfer and stops when it
// reaches hot or translated code.
//
// What keeps V8's code for the loop fast (each worth a few % on the rv32 bench, bench/README.md):
//   - the decode cache is one Int32Array of 4-int entries (tag, info, imm), indexed with literal
//     arithmetic: an imported constant would be re-read and checked on every instruction;
//   - writes to x0 go to a 33rd register (the decode cache gives them rd 32), so no instruction
//     has to clear x0 again;
//   - decoding (Hart.fill, which V8 would inline: decode, RVC expansion) runs outside the inner
//     loop, and the M ops are spelt out here rather than calling alu.ts;
//   - warmup.ts gives every case type feedback before V8 optimises the loop, which would
//     otherwise be deoptimised and recompiled (a long pause each time) whenever a program first uses an
//     op, or a slow path, after that.

import { BRK_SYSTEM, BRK_TRAP } from './brk.ts';
import type { Hart } from './hart.ts';
import { CAUSE } from './trap.ts';

/**
 * Run up to `budget` instructions from h.pc; returns how many retired and leaves h.pc at the next
 * instruction. Exits early when h.brk becomes non-zero (a trap, a system instruction, an exit
 * request from a device or a code invalidation). With `hot` > 0 (the translator's fallback), every
 * control transfer (jump, or branch taken or not) counts an execution of the block it leads to in
 * `heat` (indexed by (pc / 2) mod its power-of-two length) and leaves the loop, after the
 * transfer, when that counter has reached `hot`: the block is hot, or already translated (the
 * translator keeps its blocks' counters at `hot`). `hot` = 0: plain interpretation.
 */
export function interpret(h: Hart, budget: number, heat: Int32Array, hot: number): number {
  const hmask = heat.length - 1;
  const x = h.xw;
  const dc = h.dcache;
  const dce = dc.e;
  const mask = dc.mask;
  const main = h.main;
  const base = main.base | 0;
  const size = main.size;
  const m8 = main.u8;
  const m16 = main.u16;
  const m32 = main.i32;
  const watch = h.mainWatch;
  let pc = h.pc | 0;
  let npc = pc;
  let left = budget | 0;
  // No call on a path back to the top of the inner loop: a call makes V8 forget, at the top, what
  // it knew about the typed arrays (map, data pointer, length) and check them all again on every
  // instruction. So decoding happens out here, and the M ops are spelt out.
  for (;;) {
    let miss = false;
    loop: while (left > 0) {
      left--;
      // ENTRY * slot, with literals: V8 re-reads an imported binding on every use
      const slot = ((pc >>> 1) & mask) << 2;
      if (dce[slot] !== pc) {
        miss = true;
        break;
      }
      const info = dce[slot + 1] as number;
      const imm = dce[slot + 2] as number;
      const rd = (info >>> 8) & 63; // 32 for x0: a write there is lost
      const rs1 = (info >>> 14) & 31;
      const rs2 = (info >>> 19) & 31;
      npc = (pc + 2 + ((info >>> 23) & 2)) | 0;
      switch (info & 0xff) {
        case 1: // LUI
          x[rd] = imm;
          break;
        case 2: // AUIPC
          x[rd] = pc + imm;
          break;
        case 3: // JAL
          x[rd] = npc;
          npc = (pc + imm) | 0;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        case 4: {
          // JALR: target computed before rd is written (rd may equal rs1); bit 0 cleared
          const t = ((x[rs1] as number) + imm) & ~1;
          x[rd] = npc;
          npc = t;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        }
        case 5: // BEQ
          if (x[rs1] === x[rs2]) npc = (pc + imm) | 0;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        case 6: // BNE
          if (x[rs1] !== x[rs2]) npc = (pc + imm) | 0;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        case 7: // BLT
          if ((x[rs1] as number) < (x[rs2] as number)) npc = (pc + imm) | 0;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        case 8: // BGE
          if ((x[rs1] as number) >= (x[rs2] as number)) npc = (pc + imm) | 0;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        case 9: // BLTU
          if ((x[rs1] as number) >>> 0 < (x[rs2] as number) >>> 0) npc = (pc + imm) | 0;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        case 10: // BGEU
          if ((x[rs1] as number) >>> 0 >= (x[rs2] as number) >>> 0) npc = (pc + imm) | 0;
          if (hot > 0) {
            const s = (npc >>> 1) & hmask;
            const c = heat[s] as number;
            if (c >= hot) {
              pc = npc;
              break loop;
            }
            heat[s] = c + 1;
          }
          break;
        case 11: {
          // LB
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if (o < size) x[rd] = ((m8[o] as number) << 24) >> 24;
          else {
            h.loadInto(rd, a, 1, true, pc);
            if (h.brk !== 0) break loop;
          }
          break;
        }
        case 12: {
          // LH
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if ((o & 1) === 0 && o < size) x[rd] = ((m16[o >>> 1] as number) << 16) >> 16;
          else {
            h.loadInto(rd, a, 2, true, pc);
            if (h.brk !== 0) break loop;
          }
          break;
        }
        case 13: {
          // LW
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if ((o & 3) === 0 && o < size) x[rd] = m32[o >>> 2] as number;
          else {
            h.loadInto(rd, a, 4, true, pc);
            if (h.brk !== 0) break loop;
          }
          break;
        }
        case 14: {
          // LBU
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if (o < size) x[rd] = m8[o] as number;
          else {
            h.loadInto(rd, a, 1, false, pc);
            if (h.brk !== 0) break loop;
          }
          break;
        }
        case 15: {
          // LHU
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if ((o & 1) === 0 && o < size) x[rd] = m16[o >>> 1] as number;
          else {
            h.loadInto(rd, a, 2, false, pc);
            if (h.brk !== 0) break loop;
          }
          break;
        }
        case 16: {
          // SB
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if (o < size) {
            m8[o] = x[rs2] as number;
            if (watch[o >>> 8] !== 0) h.watchedStore(a, 1);
          } else h.store(a, 1, x[rs2] as number, pc);
          if (h.brk !== 0) break loop;
          break;
        }
        case 17: {
          // SH
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if ((o & 1) === 0 && o < size) {
            m16[o >>> 1] = x[rs2] as number;
            if (watch[o >>> 8] !== 0) h.watchedStore(a, 2);
          } else h.store(a, 2, x[rs2] as number, pc);
          if (h.brk !== 0) break loop;
          break;
        }
        case 18: {
          // SW
          const a = ((x[rs1] as number) + imm) | 0;
          const o = (a - base) >>> 0;
          if ((o & 3) === 0 && o < size) {
            m32[o >>> 2] = x[rs2] as number;
            if (watch[o >>> 8] !== 0) h.watchedStore(a, 4);
          } else h.store(a, 4, x[rs2] as number, pc);
          if (h.brk !== 0) break loop;
          break;
        }
        case 19: // ADDI
          x[rd] = (x[rs1] as number) + imm;
          break;
        case 20: // SLTI
          x[rd] = (x[rs1] as number) < imm ? 1 : 0;
          break;
        case 21: // SLTIU
          x[rd] = (x[rs1] as number) >>> 0 < imm >>> 0 ? 1 : 0;
          break;
        case 22: // XORI
          x[rd] = (x[rs1] as number) ^ imm;
          break;
        case 23: // ORI
          x[rd] = (x[rs1] as number) | imm;
          break;
        case 24: // ANDI
          x[rd] = (x[rs1] as number) & imm;
          break;
        case 25: // SLLI
          x[rd] = (x[rs1] as number) << imm;
          break;
        case 26: // SRLI
          x[rd] = (x[rs1] as number) >>> imm;
          break;
        case 27: // SRAI
          x[rd] = (x[rs1] as number) >> imm;
          break;
        case 28: // ADD
          x[rd] = (x[rs1] as number) + (x[rs2] as number);
          break;
        case 29: // SUB
          x[rd] = (x[rs1] as number) - (x[rs2] as number);
          break;
        case 30: // SLL (JavaScript shifts use the low 5 bits of the count, as RV32 does)
          x[rd] = (x[rs1] as number) << (x[rs2] as number);
          break;
        case 31: // SLT
          x[rd] = (x[rs1] as number) < (x[rs2] as number) ? 1 : 0;
          break;
        case 32: // SLTU
          x[rd] = (x[rs1] as number) >>> 0 < (x[rs2] as number) >>> 0 ? 1 : 0;
          break;
        case 33: // XOR
          x[rd] = (x[rs1] as number) ^ (x[rs2] as number);
          break;
        case 34: // SRL
          x[rd] = (x[rs1] as number) >>> (x[rs2] as number);
          break;
        case 35: // SRA
          x[rd] = (x[rs1] as number) >> (x[rs2] as number);
          break;
        case 36: // OR
          x[rd] = (x[rs1] as number) | (x[rs2] as number);
          break;
        case 37: // AND
          x[rd] = (x[rs1] as number) & (x[rs2] as number);
          break;
        case 38: // MUL
          x[rd] = Math.imul(x[rs1] as number, x[rs2] as number);
          break;
        case 39: // MULH
        case 40: // MULHSU
        case 41: {
          // MULHU. As alu.ts computes them: the high word of the unsigned product from 16-bit
          // halves (each partial product exact in a double), then corrected for signed operands.
          const a = x[rs1] as number;
          const b = x[rs2] as number;
          const al = a & 0xffff;
          const ah = a >>> 16;
          const bl = b & 0xffff;
          const bh = b >>> 16;
          const lh = al * bh;
          const hl = ah * bl;
          const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
          let hi = (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
          const op = info & 0xff;
          if (op !== 41 && a < 0) hi = (hi - b) | 0;
          if (op === 39 && b < 0) hi = (hi - a) | 0;
          x[rd] = hi;
          break;
        }
        case 42: {
          // DIV (alu.ts): x / 0 = -1; -2^31 / -1 = -2^31
          const a = x[rs1] as number;
          const b = x[rs2] as number;
          x[rd] = b === 0 ? -1 : a === -2147483648 && b === -1 ? a : (a / b) | 0;
          break;
        }
        case 43: {
          // DIVU
          const b = x[rs2] as number;
          x[rd] = b === 0 ? -1 : (((x[rs1] as number) >>> 0) / (b >>> 0)) | 0;
          break;
        }
        case 44: {
          // REM: x % 0 = x; -2^31 % -1 = 0
          const a = x[rs1] as number;
          const b = x[rs2] as number;
          x[rd] = b === 0 ? a : a === -2147483648 && b === -1 ? 0 : (a % b) | 0;
          break;
        }
        case 45: {
          // REMU
          const a = x[rs1] as number;
          const b = x[rs2] as number;
          x[rd] = b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
          break;
        }
        case 46: // FENCE: on shared memory the hart issues the barrier (Hart.execSystem)
          if (h.sharedMain) {
            npc = pc;
            h.brk |= BRK_SYSTEM;
            break loop;
          }
          break;
        default:
          // ILLEGAL and the system ops: the hart runs them (not retired here).
          npc = pc;
          h.brk |= BRK_SYSTEM;
          break loop;
      }
      pc = npc;
    }
    if (!miss) break;
    // Not decoded yet: decode, and run it in the loop (which had counted it).
    const faultAt = h.fill(pc);
    if (faultAt >= 0) {
      h.trap(CAUSE.INSTRUCTION_ACCESS_FAULT, faultAt, pc);
      break;
    }
    left++;
  }
  if (h.brk !== 0) {
    // Left the loop from inside an instruction. A trap: it did not retire, and pc is already
    // the handler's. Otherwise it completed (or is a system op that has not started): go on at npc.
    left++;
    if ((h.brk & BRK_TRAP) !== 0) {
      pc = h.pc | 0;
    } else {
      if ((h.brk & BRK_SYSTEM) === 0) left--;
      pc = npc;
    }
  }
  h.pc = pc >>> 0;
  return budget - left;
}
