// The translated code's inline test that a load or store lies in the main RAM (jit-codegen.ts,
// `inside`): one mask test when the RAM's size is a power of two, alignment and an unsigned
// comparison otherwise. For both kinds of size, every width, loads and stores, at the addresses
// where the test decides — the last naturally aligned access inside, one that straddles the end,
// the first byte past it, the bytes just below the base, an address that wraps round 2^32 — a
// translated loop does what the interpreter does: the same registers, RAM and device accesses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { hartOnBus } from '../../../test/support/rv32/test-hart.ts';
import { Bus, type MmioRegion } from './bus.ts';
import type { EngineKind } from './hart.ts';

const RAM_BASE = 0x8000_0000;
const ITERATIONS = 40;
const [N, A, V, ONE, LAST] = [10, 11, 13, 14, 15];

/** A 16-byte device at base that logs every access and reads back its offset + 0x5a. */
function device(name: string, base: number, log: string[]): MmioRegion {
  return {
    name,
    base,
    size: 0x10,
    read: (offset, width) => {
      log.push(`${name} r${width}@${offset}`);
      return offset + 0x5a;
    },
    write: (offset, width, value) => {
      log.push(`${name} w${width}@${offset}=${(value >>> 0).toString(16)}`);
    },
  };
}

interface Access {
  readonly op: 'lb' | 'lbu' | 'lh' | 'lhu' | 'lw' | 'sb' | 'sh' | 'sw';
  readonly width: 1 | 2 | 4;
}

const ACCESSES: readonly Access[] = [
  { op: 'lb', width: 1 },
  { op: 'lbu', width: 1 },
  { op: 'lh', width: 2 },
  { op: 'lhu', width: 2 },
  { op: 'lw', width: 4 },
  { op: 'sb', width: 1 },
  { op: 'sh', width: 2 },
  { op: 'sw', width: 4 },
];

/** [name, rs1, imm] of each address the inline test decides on, for a RAM of `size` bytes. */
function addresses(size: number, width: number): readonly (readonly [string, number, number])[] {
  const end = RAM_BASE + size;
  return [
    ['inside', RAM_BASE + 0x800, 0],
    ['last aligned access inside', end - width, 0],
    ['the same through the immediate', end - width - 0x40, 0x40],
    ['straddling the end', end - width + 1, 0],
    ['first byte past the end', end, 0],
    ['just below the base, through a negative immediate', RAM_BASE, -width],
    ['an address that wraps round 2^32 (to 0, unmapped)', -8, 8],
  ];
}

function run(engine: EngineKind, size: number, a: Access, rs1: number, imm: number) {
  const log: string[] = [];
  const ram = new Uint8Array(size);
  const bus = new Bus({
    ram: [{ base: RAM_BASE, size, bytes: ram }],
    mmio: [device('below', RAM_BASE - 0x10, log), device('above', RAM_BASE + size, log)],
  });
  const hart = hartOnBus(bus, engine, { misaligned: 'emulate' });
  const access = a.op[0] === 's' ? asm[a.op as 'sb' | 'sh' | 'sw'](V, A, imm) : asm[a.op as 'lb'](12, A, imm);
  // The loop accesses an address inside the RAM until its last pass, which takes the address under
  // test: by then the loop runs translated, so a fault or a device access happens there.
  const words = [
    asm.addi(N, 0, ITERATIONS),
    asm.addi(V, V, 0x111), // loop:
    asm.bne(N, ONE, 8),
    asm.addi(A, LAST, 0),
    access, // skip:
    asm.addi(N, N, -1),
    asm.bne(N, 0, -20),
    0x00100073, // EBREAK
  ];
  const dv = new DataView(ram.buffer);
  words.forEach((w, i) => dv.setInt32(i * 4, w | 0, true));
  hart.x[A] = (RAM_BASE + 0x800 - imm) | 0;
  hart.x[LAST] = rs1 | 0;
  hart.x[ONE] = 1;
  hart.x[V] = 0x1122_3344;
  for (let i = 0; i < 1000 && hart.run(1_000_000).reason === 'budget'; i++);
  return {
    x: [...hart.x],
    pc: hart.pc,
    instret: hart.instret,
    ram: [...ram.subarray(size - 8), ...ram.subarray(0x800, 0x808)],
    log,
    translated: hart.jitStats?.translatedInsns ?? 0,
  };
}

describe('jit: the inline main-RAM test decides as the interpreter at its boundaries', () => {
  for (const size of [0x1_0000, 0x1_8000]) {
    const kind = (size & (size - 1)) === 0 ? 'power-of-two size (mask test)' : 'other size (comparison)';
    describe(`${kind}, ${size.toString(16)} bytes`, () => {
      for (const a of ACCESSES) {
        for (const [where, rs1, imm] of addresses(size, a.width)) {
          it(`${a.op}: ${where}`, () => {
            const interp = run('interpreter', size, a, rs1, imm);
            const jit = run('jit', size, a, rs1, imm);
            assert.ok(jit.translated > 0, 'the loop ran translated');
            assert.deepEqual({ ...jit, translated: 0 }, { ...interp, translated: 0 });
          });
        }
      }
    });
  }
});
