// The translated code's access to memory outside the main region's fast path (jit-ram.ts): plain
// aligned accesses to another RAM window and to a device's register window are done in place, as
// the bus does them; misaligned addresses, holes, accesses past a device's window and watched
// granules are refused with nothing touched (the region then leaves for the interpreter). A loop
// over a second RAM window and a device gives the same registers, memory and device accesses
// translated as interpreted.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asm } from '../../../test/support/rv32/asm.ts';
import { hartOnBus, poke32, RAM_BASE } from '../../../test/support/rv32/test-hart.ts';
import { Bus, type MmioRegion } from './bus.ts';
import { CodeWatch, WATCH_CODE, WATCH_RESERVATION } from './code-watch.ts';
import { CSR } from './csr.ts';
import type { EngineKind } from './hart.ts';
import { IRQ } from './trap.ts';
import { NO_LOAD, ramAccess } from './jit-ram.ts';

const WINDOW = 0x9000_0000;
const DEVICE = 0x1000_0000;

function device(log: string[]): MmioRegion {
  return {
    name: 'dev',
    base: DEVICE,
    size: 0x10,
    read: (offset) => {
      log.push(`r${offset}`);
      return 7;
    },
    write: (offset, _width, value) => {
      log.push(`w${offset}=${(value >>> 0).toString(16)}`);
    },
  };
}

function layout(log: string[] = []): { bus: Bus; main: Uint8Array; window: Uint8Array } {
  const main = new Uint8Array(0x1_0000);
  const window = new Uint8Array(0x1000);
  const bus = new Bus({
    ram: [
      { base: RAM_BASE, size: main.length, bytes: main, name: 'main' },
      { base: WINDOW, size: window.length, bytes: window, name: 'window' },
    ],
    mmio: [device(log)],
  });
  return { bus, main, window };
}

describe('jit-ram', () => {
  it('loads and stores aligned words, halves and bytes of another RAM window in place', () => {
    const { bus, window } = layout();
    const ram = ramAccess(bus, new CodeWatch(bus.ram));
    assert.equal(ram.store(WINDOW + 8, 4, -2), true);
    assert.equal(ram.load(WINDOW + 8, 4), -2);
    assert.equal(ram.load(WINDOW + 8, 2), 0xfffe);
    assert.equal(ram.load(WINDOW + 9, 1), 0xff);
    assert.equal(ram.store(WINDOW + 0xffe, 2, 0x1234), true);
    assert.deepEqual([...window.subarray(0xffe)], [0x34, 0x12]);
  });

  it('reads and writes a device register in place, with the width masks the bus applies', () => {
    const log: string[] = [];
    const { bus } = layout(log);
    const ram = ramAccess(bus, new CodeWatch(bus.ram));
    assert.equal(ram.load(DEVICE + 4, 4), 7);
    assert.equal(ram.load(DEVICE + 2, 2), 7);
    assert.equal(ram.store(DEVICE + 8, 1, 0x1ff), true);
    assert.equal(ram.store(DEVICE + 0xc, 4, -1), true);
    assert.deepEqual(log, ['r4', 'r2', 'w8=ff', 'w12=ffffffff']);
  });

  it('refuses holes, misaligned addresses, a device window overrun and watched granules, touching nothing', () => {
    const log: string[] = [];
    const { bus, window } = layout(log);
    const watch = new CodeWatch(bus.ram);
    const ram = ramAccess(bus, watch);
    assert.equal(ram.load(DEVICE + 2, 4), NO_LOAD, 'a misaligned device access');
    assert.equal(ram.store(DEVICE + 1, 2, 1), false, 'a misaligned device access');
    assert.equal(ram.load(DEVICE + 0x10, 4), NO_LOAD, 'past the device window');
    assert.equal(ram.store(DEVICE + 0x10, 1, 1), false, 'past the device window');
    assert.deepEqual(log, [], 'no device access was made');
    assert.equal(ram.load(0x2000_0000, 4), NO_LOAD);
    assert.equal(ram.load(WINDOW + 2, 4), NO_LOAD);
    assert.equal(ram.store(WINDOW + 1, 2, 5), false);
    assert.equal(ram.load(WINDOW + 0xffc + 4, 4), NO_LOAD, 'past the window');
    watch.mark(WINDOW + 0x100, 4, WATCH_CODE);
    watch.mark(WINDOW + 0x200, 4, WATCH_RESERVATION);
    assert.equal(ram.store(WINDOW + 0x100, 4, 9), false);
    assert.equal(ram.store(WINDOW + 0x200, 1, 9), false);
    assert.equal(window[0x100], 0);
    assert.equal(window[0x200], 0);
  });

  it('alternating between windows and a device, every access lands in its own place', () => {
    const log: string[] = [];
    const main = new Uint8Array(0x1000);
    const a = new Uint8Array(0x1000);
    const b = new Uint8Array(0x1000);
    const WINDOW_B = WINDOW + 0x1_0000;
    const bus = new Bus({
      ram: [
        { base: RAM_BASE, size: main.length, bytes: main, name: 'main' },
        { base: WINDOW, size: a.length, bytes: a, name: 'a' },
        { base: WINDOW_B, size: b.length, bytes: b, name: 'b' },
      ],
      mmio: [device(log)],
    });
    const watch = new CodeWatch(bus.ram);
    const ram = ramAccess(bus, watch);
    watch.mark(WINDOW_B + 0x400, 4, WATCH_CODE);
    for (let i = 0; i < 4; i++) {
      assert.equal(ram.store(WINDOW + 4 * i, 4, 0x100 + i), true);
      assert.equal(ram.store(WINDOW_B + 4 * i, 4, 0x200 + i), true);
      assert.equal(ram.load(DEVICE, 4), 7);
      assert.equal(ram.store(RAM_BASE + 4 * i, 4, 0x300 + i), true);
      assert.equal(
        ram.store(WINDOW_B + 0x400, 4, 1),
        false,
        'the watched granule of b, whichever window came last',
      );
    }
    for (let i = 0; i < 4; i++) {
      assert.equal(ram.load(WINDOW + 4 * i, 4), 0x100 + i);
      assert.equal(ram.load(WINDOW_B + 4 * i, 4), 0x200 + i);
      assert.equal(ram.load(RAM_BASE + 4 * i, 4), 0x300 + i);
    }
    assert.equal(ram.load(WINDOW + 0x1000, 4), NO_LOAD, 'the hole after a, right after using a');
    assert.equal(b[0x400], 0);
    assert.equal(log.length, 4);
  });

  it('a translated loop over a second RAM window and a device ends as the interpreter does', () => {
    // x10 = window, x17 = device; 300 iterations of loads and stores of every width there,
    // a misaligned load (emulated by the interpreter) and a device read.
    const program = [
      asm.lui(10, WINDOW),
      asm.lui(17, DEVICE),
      asm.lw(12, 10, 0), // loop:
      asm.addi(12, 12, 3),
      asm.sw(12, 10, 0),
      asm.lbu(13, 10, 1),
      asm.add(14, 14, 13),
      asm.sh(12, 10, 8),
      asm.lh(15, 10, 8),
      asm.sb(15, 10, 13),
      asm.lw(16, 10, 10), // misaligned
      asm.lw(18, 17, 4), // device
      asm.add(14, 14, 16),
      asm.addi(11, 11, -1),
      asm.bne(11, 0, -48),
      asm.ebreak(),
    ];
    const run = (
      engine: EngineKind,
    ): { x: number[]; window: number[]; log: string[]; translated: number } => {
      const log: string[] = [];
      const { bus, main, window } = layout(log);
      poke32(main, RAM_BASE, program);
      const hart = hartOnBus(bus, engine);
      hart.x[11] = 300;
      hart.run(100_000);
      return {
        x: [...hart.x],
        window: [...window.subarray(0, 16)],
        log,
        translated: hart.jitStats?.translatedInsns ?? 0,
      };
    };
    const jit = run('jit');
    const interp = run('interpreter');
    assert.ok(jit.translated > 2000, `only ${jit.translated} instructions ran translated`);
    assert.deepEqual(jit.x, interp.x);
    assert.deepEqual(jit.window, interp.window);
    assert.deepEqual(jit.log, interp.log);
    assert.equal(jit.log.length, 300);
  });

  it('a device store that raises an enabled interrupt inside a translated loop has it taken right after the store', () => {
    // On pass 7 of 40 the loop writes the device's "raise" register, whose handler drives MEI:
    // the hart must take the interrupt before the next instruction, translated as interpreted.
    const program = [
      asm.lui(17, DEVICE),
      asm.addi(11, 0, 40),
      asm.addi(19, 0, 7),
      asm.addi(12, 12, 3), // loop:
      asm.bne(11, 19, 8),
      asm.sw(11, 17, 8), // raise
      asm.addi(12, 12, 5),
      asm.addi(11, 11, -1),
      asm.bne(11, 0, -20),
      asm.ebreak(),
    ];
    const handler = [asm.csrrs(20, CSR.mepc, 0), asm.csrrs(21, CSR.mcause, 0), asm.ebreak()];
    const run = (engine: EngineKind) => {
      const log: string[] = [];
      const { bus, main } = layout(log);
      poke32(main, RAM_BASE, program);
      poke32(main, RAM_BASE + 0x100, handler);
      const hart = hartOnBus(bus, engine);
      const dev = bus.mmio[0];
      assert.ok(dev !== undefined);
      const write = dev.write.bind(dev);
      dev.write = (offset, width, value) => {
        write(offset, width, value);
        if (offset === 8) hart.setIrq(IRQ.MEI, true);
      };
      hart.csr.write(CSR.mtvec, RAM_BASE + 0x100);
      hart.csr.write(CSR.mie, 1 << IRQ.MEI);
      hart.csr.write(CSR.mstatus, 8);
      hart.run(100_000);
      return {
        x: [...hart.x],
        pc: hart.pc,
        instret: hart.instret,
        log,
        translated: hart.jitStats?.translatedInsns ?? 0,
      };
    };
    const jit = run('jit');
    const interp = run('interpreter');
    assert.ok(jit.translated > 20, `only ${jit.translated} instructions ran translated`);
    assert.deepEqual({ ...jit, translated: 0 }, { ...interp, translated: 0 });
    assert.equal(interp.x[20], (RAM_BASE + 0x18) | 0, 'mepc: the instruction after the store');
    assert.equal(interp.x[21], (1 << 31) | IRQ.MEI);
  });
});
