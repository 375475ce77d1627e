// The A extension: AMO results, LR/SC success and every reservation-loss rule (SC, own store,
// trap, another agent's store), misaligned and out-of-RAM atomics, and two harts on one
// SharedArrayBuffer incrementing a counter with LR/SC loops in interleaved slices.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bus, type MmioRegion } from './bus.ts';
import { CSR } from './csr.ts';
import { Hart } from './hart.ts';
import { asm } from '../../../test/support/rv32/asm.ts';
import {
  DATA,
  ENGINES,
  RAM_BASE,
  makeHart,
  peek32,
  poke32,
  runProgram,
} from '../../../test/support/rv32/test-hart.ts';
import { CAUSE } from './trap.ts';

const A0 = 10;
const A1 = 11;
const A2 = 12;
const A3 = 13;

describe('AMOs', () => {
  const cases = [
    ['amoswap', asm.amoswap, 5, 9, 9],
    ['amoadd wraps', asm.amoadd, 0x7fff_ffff, 1, -0x8000_0000],
    ['amoxor', asm.amoxor, 0x0f0f, 0x00ff, 0x0ff0],
    ['amoand', asm.amoand, 0x0f0f, 0x00ff, 0x000f],
    ['amoor', asm.amoor, 0x0f00, 0x00ff, 0x0fff],
    ['amomin signed', asm.amomin, -5, 3, -5],
    ['amomax signed', asm.amomax, -5, 3, 3],
    ['amominu', asm.amominu, -5, 3, 3],
    ['amomaxu', asm.amomaxu, -5, 3, -5],
  ] as const;
  for (const engine of ENGINES) {
    for (const shared of [false, true]) {
      for (const [name, op, init, src, result] of cases) {
        it(`${engine}${shared ? ' (shared RAM)' : ''}: ${name}`, () => {
          const { hart, ram } = runProgram(
            engine,
            [op(A2, A1, A0, 3)],
            { [A0]: DATA, [A1]: src },
            {
              shared,
              data: [[DATA, [init]]],
            },
          );
          assert.equal(hart.x[A2], init, 'rd = old value');
          assert.equal(peek32(ram, DATA), result);
        });
      }
    }
  }
});

describe('LR/SC', () => {
  for (const engine of ENGINES) {
    it(`${engine}: LR then SC succeeds (rd = 0) and writes`, () => {
      const { hart, ram } = runProgram(
        engine,
        [asm.lr(A2, A0), asm.sc(A3, A1, A0)],
        { [A0]: DATA, [A1]: 7 },
        {
          data: [[DATA, [3]]],
        },
      );
      assert.deepEqual([hart.x[A2], hart.x[A3], peek32(ram, DATA)], [3, 0, 7]);
    });
    it(`${engine}: SC without a reservation, a second SC, SC to another word fail (rd = 1)`, () => {
      const { hart, ram } = runProgram(
        engine,
        [
          asm.sc(A2, A1, A0), // no reservation
          asm.lr(0, A0),
          asm.sc(A3, A1, A0), // succeeds
          asm.sc(14, A1, A0), // reservation consumed
          asm.lr(0, A0),
          asm.addi(15, A0, 4),
          asm.sc(16, A1, 15), // different word
        ],
        { [A0]: DATA, [A1]: 9 },
      );
      assert.deepEqual([hart.x[A2], hart.x[A3], hart.x[14], hart.x[16]], [1, 0, 1, 1]);
      assert.deepEqual([peek32(ram, DATA), peek32(ram, DATA + 4)], [9, 0]);
    });
    it(`${engine}: a store from this hart to the reserved word clears the reservation, even of the same value`, () => {
      const { hart } = runProgram(
        engine,
        [
          asm.lr(A2, A0),
          asm.sw(A2, A0, 0),
          asm.sc(A3, A1, A0),
          asm.lr(0, A0),
          asm.sb(0, A0, 5),
          asm.sc(14, A1, A0),
        ],
        { [A0]: DATA, [A1]: 1 },
      );
      assert.equal(hart.x[A3], 1, 'own store to the word');
      assert.equal(hart.x[14], 0, 'a store next to the word does not matter');
    });
    it(`${engine}: a trap between LR and SC clears the reservation`, () => {
      const handler = RAM_BASE + 0x400;
      const { hart } = runProgram(
        engine,
        [...asm.li(5, handler), asm.csrrw(0, CSR.mtvec, 5), asm.lr(0, A0), asm.ecall(), asm.sc(A3, A1, A0)],
        { [A0]: DATA, [A1]: 1 },
        {
          data: [
            [handler, [asm.csrrs(5, CSR.mepc, 0), asm.addi(5, 5, 4), asm.csrrw(0, CSR.mepc, 5), asm.mret()]],
          ],
        },
      );
      assert.equal(hart.x[A3], 1);
    });
    it(`${engine}: another agent's store of a different value makes SC fail`, () => {
      const { hart, ram } = makeHart(engine, { shared: true });
      poke32(ram, RAM_BASE, [asm.lr(A2, A0), asm.sc(A3, A1, A0), asm.ebreak()]);
      poke32(ram, DATA, [5]);
      hart.x[A0] = DATA;
      hart.x[A1] = 6;
      hart.run(1);
      poke32(ram, DATA, [8]); // the host (or another core) writes in between
      hart.run(10);
      assert.equal(hart.x[A3], 1);
      assert.equal(peek32(ram, DATA), 8);
    });
    it(`${engine}: misaligned LR/SC/AMO trap (4 for LR, 6 for SC/AMO); on a device they fault (5/7)`, () => {
      const handler = RAM_BASE + 0x400;
      // handler: a2 = mcause, a3 = mtval, skip the instruction
      const program = (insn: number) => [...asm.li(5, handler), asm.csrrw(0, CSR.mtvec, 5), insn];
      const handlerCode = [
        asm.csrrs(A2, CSR.mcause, 0),
        asm.csrrs(A3, CSR.mtval, 0),
        asm.csrrs(5, CSR.mepc, 0),
        asm.addi(5, 5, 4),
        asm.csrrw(0, CSR.mepc, 5),
        asm.mret(),
      ];
      const expect = [
        [asm.lr(0, A0), DATA + 2, CAUSE.LOAD_MISALIGNED],
        [asm.sc(0, A1, A0), DATA + 2, CAUSE.STORE_MISALIGNED],
        [asm.amoadd(0, A1, A0), DATA + 1, CAUSE.STORE_MISALIGNED],
        [asm.lr(0, A0), 0x1000, CAUSE.LOAD_ACCESS_FAULT],
        [asm.amoswap(0, A1, A0), 0x1000, CAUSE.STORE_ACCESS_FAULT],
      ] as const;
      for (const [insn, addr, cause] of expect) {
        const { hart } = runProgram(
          engine,
          program(insn),
          { [A0]: addr },
          { data: [[handler, handlerCode]] },
        );
        assert.deepEqual([hart.x[A2], hart.x[A3]], [cause, addr | 0]);
      }
    });
  }
});

describe('atomics on a device register (MMIO): read-modify-write, as QEMU does', () => {
  const DEV = 0x1000_0000;
  /** A 16-byte device whose word 0 holds `value`; every access is logged. */
  function device(value: number): { region: MmioRegion; log: string[]; word: () => number } {
    let word = value;
    const log: string[] = [];
    return {
      log,
      word: () => word,
      region: {
        name: 'dev',
        base: DEV,
        size: 16,
        read: (offset, width) => {
          log.push(`r${width}@${offset}`);
          return offset === 0 ? word : 0;
        },
        write: (offset, width, v) => {
          log.push(`w${width}@${offset}=${v | 0}`);
          if (offset === 0) word = v | 0;
        },
      },
    };
  }
  const cases = [
    ['amoswap (libmetal metal_io_write32)', asm.amoswap, 5, 9, 9],
    ['amoadd wraps', asm.amoadd, 0x7fff_ffff, 1, -0x8000_0000],
    ['amoxor', asm.amoxor, 0x0f0f, 0x00ff, 0x0ff0],
    ['amoand', asm.amoand, 0x0f0f, 0x00ff, 0x000f],
    ['amoor', asm.amoor, 0x0f00, 0x00ff, 0x0fff],
    ['amomin signed', asm.amomin, -5, 3, -5],
    ['amomax signed', asm.amomax, -5, 3, 3],
    ['amominu', asm.amominu, -5, 3, 3],
    ['amomaxu', asm.amomaxu, -5, 3, -5],
  ] as const;
  for (const engine of ENGINES) {
    for (const [name, op, init, src, result] of cases) {
      it(`${engine}: ${name}: one 4-byte read, one 4-byte write of the result, rd = old`, () => {
        const dev = device(init);
        const { hart } = runProgram(
          engine,
          [op(A2, A1, A0, 3)],
          { [A0]: DEV, [A1]: src },
          { mmio: [dev.region] },
        );
        assert.equal(hart.x[A2], init);
        assert.equal(dev.word(), result);
        assert.deepEqual(dev.log, ['r4@0', `w4@0=${result}`]);
      });
    }
    it(`${engine}: LR reads and reserves the register; SC writes only while it still reads that value`, () => {
      const dev = device(3);
      const { hart } = runProgram(
        engine,
        [asm.lr(A2, A0), asm.sc(A3, A1, A0), asm.sc(14, A1, A0)],
        { [A0]: DEV, [A1]: 7 },
        { mmio: [dev.region] },
      );
      assert.deepEqual([hart.x[A2], hart.x[A3], hart.x[14], dev.word()], [3, 0, 1, 7]);
      // LR: read; first SC: read, write; second SC (no reservation): read only.
      assert.deepEqual(dev.log, ['r4@0', 'r4@0', 'w4@0=7', 'r4@0']);
    });
    it(`${engine}: SC fails (rd = 1, nothing written) when the register changed since LR`, () => {
      const dev = device(3);
      const { hart } = makeHart(engine, { mmio: [dev.region] });
      hart.x[A0] = DEV;
      hart.x[A1] = 7;
      const program = [asm.lr(A2, A0), asm.sc(A3, A1, A0), 0x00100073];
      for (let i = 0; i < program.length; i++) hart.bus.write(RAM_BASE + 4 * i, 4, program[i] ?? 0);
      hart.run(1);
      dev.region.write(0, 4, 4); // the device's register moved (another agent, or the device itself)
      dev.log.length = 0;
      hart.run(10);
      assert.deepEqual([hart.x[A3], dev.word(), dev.log], [1, 4, ['r4@0']]);
    });
    it(`${engine}: an AMO on a device too small for a word faults with cause 7, nothing read or written`, () => {
      const dev = device(1);
      const small: MmioRegion = { ...dev.region, base: DEV, size: 2 };
      const handler = RAM_BASE + 0x400;
      const { hart } = runProgram(
        engine,
        [...asm.li(5, handler), asm.csrrw(0, CSR.mtvec, 5), asm.amoswap(A2, A1, A0)],
        { [A0]: DEV, [A1]: 9 },
        {
          mmio: [small],
          data: [
            [
              handler,
              [
                asm.csrrs(A2, CSR.mcause, 0),
                asm.csrrs(A3, CSR.mtval, 0),
                asm.csrrs(5, CSR.mepc, 0),
                asm.addi(5, 5, 4),
                asm.csrrw(0, CSR.mepc, 5),
                asm.mret(),
              ],
            ],
          ],
        },
      );
      assert.deepEqual([hart.x[A2], hart.x[A3]], [CAUSE.STORE_ACCESS_FAULT, DEV | 0]);
      assert.deepEqual(dev.log, []);
    });
  }
});

describe('two harts sharing memory', () => {
  for (const engine of ENGINES) {
    it(`${engine}: LR/SC counter loops interleaved in small slices count exactly`, () => {
      const size = 0x1_0000;
      const shared = new Uint8Array(new SharedArrayBuffer(size));
      const counter = RAM_BASE + 0x8000;
      // loop 500 times: do { v = lr(counter) } while (sc(counter, v + 1)); then ebreak
      const program = [
        asm.addi(A1, 0, 500), // 0
        asm.lr(A2, A0), // 4
        asm.addi(A2, A2, 1), // 8
        asm.sc(A3, A2, A0), // 12
        asm.bne(A3, 0, -12), // 16: retry
        asm.addi(A1, A1, -1), // 20
        asm.bne(A1, 0, -20), // 24
        asm.ebreak(), // 28
      ];
      poke32(shared, RAM_BASE, program);
      const harts = [0, 1].map((id) => {
        const bus = new Bus({ ram: [{ base: RAM_BASE, size, bytes: shared }] });
        const h = new Hart({
          bus,
          hartId: id,
          resetPc: RAM_BASE,
          engine,
          jitThreshold: 1,
          onEnvCall: (hh) => {
            hh.halt();
            return true;
          },
        });
        h.x[A0] = counter;
        return h;
      });
      // Slices of 3 and 5 instructions make the two harts interleave inside their LR/SC windows.
      for (let i = 0; i < 10_000 && !harts.every((h) => h.isHalted); i++) {
        harts[0]?.run(3);
        harts[1]?.run(5);
      }
      assert.ok(harts.every((h) => h.isHalted));
      assert.equal(peek32(shared, counter), 1000);
    });
  }
});
