// The interpreter: runs decoded instructions from the decode cache in one tight loop over a
// switch with numeric-literal case labels (a V8 jump table; perf-limits.md §4), with registers in
// an Int32Array and the main RAM reached inline through typed-array views. Anything else leaves
// the loop or calls into the hart: loads/stores outside the main RAM or misaligned ones (Hart.load
// / store), stores into watched granules (Hart.watchedStore), system instructions (BRK_SYSTEM,
// run by Hart.execSystem). It is also the translator's fallback for code not yet hot, where it
// stops after each control transfer (blockMode) so the dispatcher sees every block entry.

import { BRK_SYSTEM, BRK_TRAP, type Hart } from './hart.ts';
import { div, divu, mulh, mulhsu, mulhu, rem, remu } from './alu.ts';
import { CAUSE } from './trap.ts';

/**
 * Run up to `budget` instructions from h.pc; returns how many retired and leaves h.pc at the next
 * instruction. Exits early when h.brk becomes non-zero (a trap, a system instruction, an exit
 * request from a device or a code invalidation) and, in blockMode, after any jump or branch.
 */
export function interpret(h: Hart, budget: number, blockMode: boolean): number {
  const x = h.x;
  const dc = h.dcache;
  const tags = dc.tag;
  const infos = dc.info;
  const imms = dc.imm;
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
  let left = budget;
  loop: while (left > 0) {
    left--;
    const slot = (pc >>> 1) & mask;
    if (tags[slot] !== pc) {
      const faultAt = h.fill(pc);
      if (faultAt >= 0) {
        h.trap(CAUSE.INSTRUCTION_ACCESS_FAULT, faultAt, pc);
        break;
      }
    }
    const info = infos[slot] as number;
    const imm = imms[slot] as number;
    const rd = (info >>> 8) & 31;
    const rs1 = (info >>> 13) & 31;
    const rs2 = (info >>> 18) & 31;
    npc = (pc + 2 + ((info >>> 22) & 2)) | 0;
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
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
        }
        break;
      case 4: {
        // JALR: target computed before rd is written (rd may equal rs1); bit 0 cleared
        const t = ((x[rs1] as number) + imm) & ~1;
        x[rd] = npc;
        npc = t;
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
        }
        break;
      }
      case 5: // BEQ
        if (x[rs1] === x[rs2]) npc = (pc + imm) | 0;
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
        }
        break;
      case 6: // BNE
        if (x[rs1] !== x[rs2]) npc = (pc + imm) | 0;
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
        }
        break;
      case 7: // BLT
        if ((x[rs1] as number) < (x[rs2] as number)) npc = (pc + imm) | 0;
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
        }
        break;
      case 8: // BGE
        if ((x[rs1] as number) >= (x[rs2] as number)) npc = (pc + imm) | 0;
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
        }
        break;
      case 9: // BLTU
        if ((x[rs1] as number) >>> 0 < (x[rs2] as number) >>> 0) npc = (pc + imm) | 0;
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
        }
        break;
      case 10: // BGEU
        if ((x[rs1] as number) >>> 0 >= (x[rs2] as number) >>> 0) npc = (pc + imm) | 0;
        if (blockMode) {
          x[0] = 0;
          pc = npc;
          break loop;
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
        x[rd] = mulh(x[rs1] as number, x[rs2] as number);
        break;
      case 40: // MULHSU
        x[rd] = mulhsu(x[rs1] as number, x[rs2] as number);
        break;
      case 41: // MULHU
        x[rd] = mulhu(x[rs1] as number, x[rs2] as number);
        break;
      case 42: // DIV
        x[rd] = div(x[rs1] as number, x[rs2] as number);
        break;
      case 43: // DIVU
        x[rd] = divu(x[rs1] as number, x[rs2] as number);
        break;
      case 44: // REM
        x[rd] = rem(x[rs1] as number, x[rs2] as number);
        break;
      case 45: // REMU
        x[rd] = remu(x[rs1] as number, x[rs2] as number);
        break;
      case 46: // FENCE: on shared memory, a sequentially consistent RMW orders the plain accesses
        if (h.sharedMain) Atomics.add(m32, 0, 0);
        break;
      default:
        // ILLEGAL and the system ops: the hart runs them (not retired here).
        npc = pc;
        h.brk |= BRK_SYSTEM;
        break loop;
    }
    x[0] = 0;
    pc = npc;
  }
  if (h.brk !== 0) {
    // Left the loop from inside an instruction. A trap: it did not retire, and pc is already
    // the handler's. Otherwise it completed (or is a system op that has not started): go on at npc.
    left++;
    if ((h.brk & BRK_TRAP) !== 0) {
      pc = h.pc | 0;
    } else {
      if ((h.brk & BRK_SYSTEM) === 0) left--;
      x[0] = 0;
      pc = npc;
    }
  }
  h.pc = pc >>> 0;
  return budget - left;
}
