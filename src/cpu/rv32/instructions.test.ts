// Per-instruction semantics, table-driven, under both engines: RV32I arithmetic, shifts (by ≥ 32:
// only the low 5 bits count), comparisons, loads with sign/zero extension, stores, branches and
// jumps, and the M extension's edge cases (division by zero, INT_MIN / -1, the high products).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { DATA, ENGINES, RAM_BASE, peek32, runProgram } from '../../../test/support/rv32/test-hart.ts';

const INT_MIN = -0x8000_0000;
const A = 10; // a0
const B = 11; // a1
const D = 12; // a2

type Op3 = (rd: number, rs1: number, rs2: number) => number;

/** [mnemonic, encoder, a, b, expected rd] for register-register ops. */
const RR: readonly (readonly [string, Op3, number, number, number])[] = [
  ['add wraps', asm.add, 0x7fff_ffff, 1, INT_MIN],
  ['sub', asm.sub, 5, 7, -2],
  ['sll by 33 uses 1', asm.sll, 1, 33, 2],
  ['sll by 31', asm.sll, 1, 31, INT_MIN],
  ['srl by 36 uses 4', asm.srl, -16, 36, 0x0fff_ffff],
  ['sra keeps sign', asm.sra, -16, 2, -4],
  ['sra by 63 uses 31', asm.sra, INT_MIN, 63, -1],
  ['slt signed', asm.slt, -1, 0, 1],
  ['sltu unsigned', asm.sltu, -1, 0, 0],
  ['sltu 0 < 1', asm.sltu, 0, 1, 1],
  ['xor', asm.xor, 0x0f0f, 0x00ff, 0x0ff0],
  ['or', asm.or, 0x0f00, 0x00f0, 0x0ff0],
  ['and', asm.and, 0x0ff0, 0x00ff, 0x00f0],
  ['mul low bits', asm.mul, 0x1234_5678, 0x9abc_def0 | 0, Math.imul(0x1234_5678, 0x9abc_def0 | 0)],
  ['mul overflow', asm.mul, INT_MIN, -1, INT_MIN],
  ['mulh -1 * -1', asm.mulh, -1, -1, 0],
  ['mulh INT_MIN * INT_MIN', asm.mulh, INT_MIN, INT_MIN, 0x4000_0000],
  ['mulh INT_MIN * -1', asm.mulh, INT_MIN, -1, 0],
  ['mulh -2 * 3', asm.mulh, -2, 3, -1],
  ['mulhu max * max', asm.mulhu, -1, -1, -2],
  ['mulhu 2^31 * 2', asm.mulhu, INT_MIN, 2, 1],
  ['mulhsu -1 * max', asm.mulhsu, -1, -1, -1],
  ['mulhsu 2 * max', asm.mulhsu, 2, -1, 1],
  ['mulhsu INT_MIN * 2^31', asm.mulhsu, INT_MIN, INT_MIN, -0x4000_0000],
  ['div', asm.div, -7, 2, -3],
  ['div by zero is -1', asm.div, 42, 0, -1],
  ['div overflow is INT_MIN', asm.div, INT_MIN, -1, INT_MIN],
  ['divu', asm.divu, -1, 2, 0x7fff_ffff],
  ['divu by zero is all ones', asm.divu, 42, 0, -1],
  ['rem sign of dividend', asm.rem, -7, 2, -1],
  ['rem by zero is dividend', asm.rem, -42, 0, -42],
  ['rem overflow is 0', asm.rem, INT_MIN, -1, 0],
  ['remu', asm.remu, -1, 10, 5],
  ['remu by zero is dividend', asm.remu, -3, 0, -3],
];

type OpI = (rd: number, rs1: number, imm: number) => number;

const RI: readonly (readonly [string, OpI, number, number, number])[] = [
  ['addi negative immediate', asm.addi, 5, -6, -1],
  ['addi -2048', asm.addi, 0, -2048, -2048],
  ['slti', asm.slti, -5, -4, 1],
  ['sltiu sign-extended immediate is huge', asm.sltiu, 5, -1, 1],
  ['sltiu', asm.sltiu, -1, 5, 0],
  ['xori -1 is not', asm.xori, 0x1234, -1, ~0x1234],
  ['ori', asm.ori, 0x100, 0x0ff, 0x1ff],
  ['andi sign-extends', asm.andi, -1, -256, -256],
  ['slli 31', asm.slli, 3, 31, INT_MIN],
  ['srli 31', asm.srli, -1, 31, 1],
  ['srai 31', asm.srai, INT_MIN, 31, -1],
  ['srli 0', asm.srli, -1, 0, -1],
];

describe('RV32IM register instructions', () => {
  for (const engine of ENGINES) {
    for (const [name, op, a, b, want] of RR) {
      it(`${engine}: ${name}`, () => {
        const { hart } = runProgram(engine, [op(D, A, B)], { [A]: a, [B]: b });
        assert.equal(hart.x[D], want);
        assert.equal(hart.instret, 2, 'the op and the final ebreak retire');
      });
    }
    for (const [name, op, a, imm, want] of RI) {
      it(`${engine}: ${name}`, () => {
        const { hart } = runProgram(engine, [op(D, A, imm)], { [A]: a });
        assert.equal(hart.x[D], want);
      });
    }
    it(`${engine}: x0 stays zero`, () => {
      const { hart } = runProgram(engine, [asm.addi(0, 0, 5), asm.add(D, 0, 0), asm.lui(0, 0x1000)]);
      assert.equal(hart.x[0], 0);
      assert.equal(hart.x[D], 0);
    });
    it(`${engine}: lui and auipc`, () => {
      const { hart } = runProgram(engine, [asm.lui(A, 0xfffff000 | 0), asm.auipc(B, 0x1000)]);
      assert.equal(hart.x[A], 0xfffff000 | 0);
      assert.equal(hart.x[B] ?? 0, (RAM_BASE + 4 + 0x1000) | 0);
    });
  }
});

describe('RV32I loads and stores', () => {
  for (const engine of ENGINES) {
    it(`${engine}: lb/lh sign-extend, lbu/lhu zero-extend`, () => {
      const program = [
        asm.lb(13, A, 0),
        asm.lbu(14, A, 0),
        asm.lh(15, A, 2),
        asm.lhu(16, A, 2),
        asm.lw(17, A, 4),
        asm.lb(18, A, 1),
      ];
      const { hart } = runProgram(
        engine,
        program,
        { [A]: DATA },
        { data: [[DATA, [0x8000_7f80 | 0, 0x1234_5678]]] },
      );
      assert.deepEqual(
        [13, 14, 15, 16, 17, 18].map((i) => hart.x[i]),
        [-128, 0x80, -32768, 0x8000, 0x1234_5678, 0x7f],
      );
    });
    it(`${engine}: sb/sh/sw store the low bytes, little-endian`, () => {
      const { hart, ram } = runProgram(
        engine,
        [asm.sw(B, A, 0), asm.sh(B, A, 4), asm.sb(B, A, 7), asm.sw(B, A, -4)],
        { [A]: DATA + 8, [B]: 0x1122_3344 },
      );
      assert.equal(hart.instret, 5);
      assert.equal(peek32(ram, DATA + 8), 0x1122_3344);
      assert.equal(peek32(ram, DATA + 12), 0x4400_3344);
      assert.equal(peek32(ram, DATA + 4), 0x1122_3344);
    });
    it(`${engine}: misaligned ordinary accesses are carried out (QEMU virt behaviour)`, () => {
      const { hart, ram } = runProgram(engine, [asm.sw(B, A, 1), asm.lw(D, A, 1), asm.lh(13, A, 3)], {
        [A]: DATA,
        [B]: -0x0102_0304,
      });
      assert.equal(hart.x[D], -0x0102_0304);
      assert.equal(peek32(ram, DATA), 0xfdfc_fc00 | 0); // bytes 00 fc fc fd
      assert.equal(hart.x[13], 0xfefd - 0x10000);
    });
  }
});

describe('RV32I control transfer', () => {
  for (const engine of ENGINES) {
    const branches = [
      ['beq', asm.beq, 3, 3, true],
      ['bne', asm.bne, 3, 3, false],
      ['blt signed', asm.blt, -1, 0, true],
      ['bltu unsigned', asm.bltu, -1, 0, false],
      ['bge equal', asm.bge, 5, 5, true],
      ['bgeu unsigned', asm.bgeu, -1, 1, true],
    ] as const;
    for (const [name, op, a, b, taken] of branches) {
      it(`${engine}: ${name} ${taken ? 'taken' : 'not taken'}`, () => {
        // taken: skip the addi that marks the fallthrough path
        const { hart } = runProgram(engine, [op(A, B, 8), asm.addi(D, 0, 1)], { [A]: a, [B]: b });
        assert.equal(hart.x[D], taken ? 0 : 1);
      });
    }
    it(`${engine}: jal links pc + 4, jalr clears bit 0 and may use rd = rs1`, () => {
      const program = [
        asm.jal(1, 8), // 0: call 8, ra = 4
        asm.jal(0, 12), // 4: on to 16 (the final ebreak)
        asm.addi(A, 1, 1), // 8: a0 = ra + 1 (odd)
        asm.jalr(A, A, -1), // 12: target (a0 - 1) & ~1 = 4, read before a0 gets the link 16
      ];
      const { hart } = runProgram(engine, program);
      assert.equal(hart.x[1], (RAM_BASE + 4) | 0);
      assert.equal(hart.x[A], (RAM_BASE + 16) | 0);
      assert.equal(hart.instret, 5);
    });
    it(`${engine}: a counted loop retires exactly its instructions`, () => {
      const program = [asm.addi(A, 0, 100), asm.addi(B, B, 3), asm.addi(A, A, -1), asm.bne(A, 0, -8)];
      const { hart } = runProgram(engine, program);
      assert.equal(hart.x[B], 300);
      assert.equal(hart.instret, 1 + 300 + 1);
    });
  }
});
