// The decoder: every RV32C form against the 32-bit instruction the GNU assembler encodes for it
// (pairs assembled once with riscv64-unknown-elf-as and embedded here), the reserved and
// unsupported encodings, and, where the cross objdump is installed, all 49,152 16-bit
// encodings classified legal/illegal against its disassembly.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { needTools } from '../../../test/support/cross-tools.ts';
import { decode, decode32 } from './decode.ts';
import { OP, opName } from './opcodes.ts';
import { expandCompressed } from './rvc.ts';

/** [compressed, its 32-bit expansion as assembled, assembly text]. */
const RVC_PAIRS: readonly (readonly [number, number, string])[] = [
  [0x1fe8, 0x3fc10513, 'c.addi4spn a0, sp, 1020'],
  [0x0044, 0x00410493, 'c.addi4spn s1, sp, 4'],
  [0x5f7c, 0x07c72783, 'c.lw a5, 124(a4)'],
  [0x4080, 0x0004a403, 'c.lw s0, 0(s1)'],
  [0xc234, 0x04d62023, 'c.sw a3, 64(a2)'],
  [0xc3c4, 0x0097a223, 'c.sw s1, 4(a5)'],
  [0x0001, 0x00000013, 'c.nop'],
  [0x1501, 0xfe050513, 'c.addi a0, -32'],
  [0x0ffd, 0x01ff8f93, 'c.addi t6, 31'],
  [0x2ffd, 0x7fe000ef, 'c.jal .+2046'],
  [0x3001, 0x801ff0ef, 'c.jal .-2048'],
  [0x55fd, 0xfff00593, 'c.li a1, -1'],
  [0x42c5, 0x01100293, 'c.li t0, 17'],
  [0x617d, 0x1f010113, 'c.addi16sp sp, 496'],
  [0x7101, 0xe0010113, 'c.addi16sp sp, -512'],
  [0x667d, 0x0001f637, 'c.lui a2, 0x1f'],
  [0x7901, 0xfffe0937, 'c.lui s2, 0xfffe0'],
  [0x817d, 0x01f55513, 'c.srli a0, 31'],
  [0x8485, 0x4014d493, 'c.srai s1, 1'],
  [0x9b3d, 0xfef77713, 'c.andi a4, -17'],
  [0x8c1d, 0x40f40433, 'c.sub s0, a5'],
  [0x8db1, 0x00c5c5b3, 'c.xor a1, a2'],
  [0x8ec5, 0x0096e6b3, 'c.or a3, s1'],
  [0x8fe9, 0x00a7f7b3, 'c.and a5, a0'],
  [0xa6e5, 0x3e80006f, 'c.j .+1000'],
  [0xbff5, 0xffdff06f, 'c.j .-4'],
  [0xcd7d, 0x0e050f63, 'c.beqz a0, .+254'],
  [0xd081, 0xf00480e3, 'c.beqz s1, .-256'],
  [0xe399, 0x00079363, 'c.bnez a5, .+6'],
  [0x0e7e, 0x01fe1e13, 'c.slli t3, 31'],
  [0x50fe, 0x0fc12083, 'c.lwsp ra, 252(sp)'],
  [0x4d82, 0x00012d83, 'c.lwsp s11, 0(sp)'],
  [0x8082, 0x00008067, 'c.jr ra'],
  [0x8f82, 0x000f8067, 'c.jr t6'],
  [0x8556, 0x01500533, 'c.mv a0, s5'],
  [0x9002, 0x00100073, 'c.ebreak'],
  [0x9782, 0x000780e7, 'c.jalr a5'],
  [0x9a1e, 0x007a0a33, 'c.add s4, t2'],
  [0xdfa2, 0x0e812e23, 'c.swsp s0, 252(sp)'],
  [0xc602, 0x00012623, 'c.swsp zero, 12(sp)'],
];

describe('RV32C expansion', () => {
  for (const [c, full, text] of RVC_PAIRS) {
    it(`${text} expands to ${(full >>> 0).toString(16)}`, () => {
      assert.equal(expandCompressed(c) >>> 0, full >>> 0);
      const d = decode(c, 0);
      assert.equal(d.len, 2);
      const { len: _len, ...fields } = decode32(full);
      const { len: _l2, ...got } = d;
      assert.deepEqual(got, fields);
    });
  }

  const illegal: readonly (readonly [number, string])[] = [
    [0x0000, 'all-zero halfword (defined illegal)'],
    [0x0004, 'c.addi4spn with nzuimm = 0'],
    [0x6000, 'c.flw (no F)'],
    [0x2000, 'c.fld (no D)'],
    [0xe000, 'c.fsw (no F)'],
    [0x8000, 'quadrant 0 funct3 = 100 (reserved)'],
    [0x6101, 'c.addi16sp with nzimm = 0'],
    [0x6501, 'c.lui with nzimm = 0'],
    [0x9001 | (1 << 12), 'c.srli with shamt[5] = 1 (RV32)'],
    [0x9c01, 'c.subw (RV64 only)'],
    [0x1002, 'c.slli with shamt[5] = 1 (RV32)'],
    [0x4002, 'c.lwsp with rd = 0'],
    [0x8002, 'c.jr with rs1 = 0'],
    [0x6002, 'c.flwsp (no F)'],
  ];
  for (const [h, why] of illegal) {
    it(`${h.toString(16).padStart(4, '0')} is illegal: ${why}`, () => {
      const d = decode(h, 0);
      assert.equal(d.op, OP.ILLEGAL);
      assert.equal(d.imm, h, 'mtval carries the 16 instruction bits');
      assert.equal(d.len, 2);
    });
  }

  it('every quadrant 0-2 encoding expands to 0 or to a legal 32-bit instruction', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 3) === 3) continue;
      const e = expandCompressed(h);
      if (e !== 0) assert.notEqual(decode32(e).op, OP.ILLEGAL, `0x${h.toString(16)}`);
    }
  });
});

describe('32-bit decoding', () => {
  const illegal: readonly (readonly [number, string])[] = [
    [0x0200_1013, 'slli with shamt[5] = 1'],
    [0x4200_5013, 'srai with shamt[5] = 1'],
    [0x0000_2063, 'branch funct3 = 010'],
    [0x0000_3003, 'ld (RV64)'],
    [0x0000_3023, 'sd (RV64)'],
    [0x0000_1067, 'jalr funct3 = 001'],
    [0x1020_0073, 'sret (no S-mode)'],
    [0x1200_0073, 'sfence.vma (no S-mode)'],
    [0x0000_4073, 'SYSTEM funct3 = 100'],
    [0x0000_0007, 'flw (no F)'],
    [0x1055_252f, 'lr.w with rs2 ≠ 0'],
    [0x0000_302f, 'amoadd.d (RV64)'],
    [0xf800_202f, 'AMO funct5 = 11111'],
    [0x0400_0033, 'OP with funct7 = 0000010'],
    [0x0000_001f, '48-bit instruction prefix'],
    [-1, 'all ones'],
  ];
  for (const [inst, why] of illegal) {
    it(`${(inst >>> 0).toString(16).padStart(8, '0')} is illegal: ${why}`, () => {
      const d = decode(inst & 0xffff, inst >>> 16);
      assert.equal(d.op, OP.ILLEGAL);
      assert.equal(d.imm, inst >>> 0, 'mtval carries the instruction bits');
    });
  }

  it('decodes immediates of every format with their sign', () => {
    assert.deepEqual(decode32(0xfff0_0513), { op: OP.ADDI, rd: 10, rs1: 0, rs2: 31, imm: -1, len: 4 });
    assert.equal(decode32(0xfe05_2e23).imm, -4); // sw x0, -4(a0)
    assert.equal(decode32(0xfe00_0ee3).imm, -4); // beq x0, x0, -4
    assert.equal(decode32(0xffdf_f06f).imm, -4); // jal x0, -4
    assert.equal(decode32(0x8000_0537).imm, -0x8000_0000); // lui a0, 0x80000
    assert.equal(decode32(0x3400_1573).imm, 0x340); // csrrw a0, mscratch, x0: imm = CSR number
    assert.equal(decode32(0x0c05_a52f).imm, 2); // amoswap.w.aq: imm = aq/rl bits
    assert.equal(opName(OP.LR_W), 'lr.w');
    assert.equal(opName(OP.FENCE_I), 'fence.i');
  });
});

// objdump accepts a few encodings the spec reserves on RV32 or that need F/D; everything else
// must agree: objdump prints a c.* mnemonic exactly for the encodings we expand.
function reservedOrUnsupportedHere(h: number, mnemonic: string): boolean {
  if (/^c\.f/.test(mnemonic) || mnemonic === 'c.unimp') return true;
  if ((mnemonic === 'c.slli' || mnemonic === 'c.srli' || mnemonic === 'c.srai') && (h >>> 12) & 1)
    return true;
  return mnemonic === 'c.addi16sp' && (h & 0x107c) === 0;
}

describe('RV32C classification against objdump', () => {
  const tools = needTools({ objdump: ['riscv64-unknown-elf-objdump'] });
  it('all 16-bit encodings', { skip: tools.skip }, () => {
    const objdump = tools.get('objdump');
    const halves: number[] = [];
    for (let h = 0; h < 0x10000; h++) if ((h & 3) !== 3) halves.push(h);
    const dir = mkdtempSync(join(tmpdir(), 'rvc-'));
    try {
      const bin = join(dir, 'all.bin');
      writeFileSync(bin, new Uint8Array(new Uint16Array(halves).buffer));
      const r = spawnSync(objdump, ['-D', '-b', 'binary', '-m', 'riscv:rv32', '-M', 'no-aliases', bin], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n').filter((l) => /^\s+[0-9a-f]+:\t/.test(l));
      assert.equal(lines.length, halves.length);
      let compared = 0;
      lines.forEach((line, i) => {
        const h = halves[i] ?? 0;
        const mnemonic = (line.split('\t')[2] ?? '').trim();
        const objdumpLegal = mnemonic.startsWith('c.') && !reservedOrUnsupportedHere(h, mnemonic);
        const oursLegal = expandCompressed(h) !== 0;
        if (reservedOrUnsupportedHere(h, mnemonic)) {
          assert.equal(oursLegal, false, `0x${h.toString(16)} ${mnemonic} must be illegal on this hart`);
          return;
        }
        assert.equal(oursLegal, objdumpLegal, `0x${h.toString(16)}: objdump says ${mnemonic}`);
        compared++;
      });
      assert.ok(compared > 30_000, `only ${compared} encodings compared`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
