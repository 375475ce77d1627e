// The debugger's memory path (Bus.peek, what the GDB stub's memory reads and the debug agent use):
// RAM bytes little-endian across adjacent regions, device registers only through a region's
// side-effect-free `peek` at an aligned offset inside the window, and nothing else. A peek never
// runs a device's `read` (which may take a byte or claim an interrupt) and never sets the bus's
// fault flag: a debugger looking at memory must not change what the firmware sees next.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Bus, RamArea, type MmioRegion, type RamRegion, type Width } from './bus.ts';
import { Plic, PLIC_REG } from './devices/plic.ts';
import { MAILBOX_REG, MailboxDevice } from './devices/mailbox.ts';
import { Uart16550 } from './devices/uart16550.ts';
import { RV32_MAP } from './devices/rv32-memory-map.ts';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock } from '../../soc/core-block.ts';

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x100;
const DEV_BASE = 0x1000_0000;
const DEV_SIZE = 0x10;

function ram(base = RAM_BASE, size = RAM_SIZE): RamRegion {
  const bytes = new Uint8Array(size);
  bytes.forEach((_, i) => (bytes[i] = (i + 0x80) & 0xff));
  return { base, size, bytes, name: `ram@${base.toString(16)}` };
}

/**
 * A device whose peek answers 0xf1f2_f3f4 + offset, unmasked (the bus must mask it), except at
 * `hidden` where it cannot be read without side effects; its read and write only log.
 */
function device(
  base = DEV_BASE,
  size = DEV_SIZE,
  hidden = 0xc,
): MmioRegion & { log: string[]; peekLog: string[] } {
  const log: string[] = [];
  const peekLog: string[] = [];
  return {
    name: 'dev',
    base,
    size,
    log,
    peekLog,
    read: (offset: number, width: Width) => {
      log.push(`r${width}@${offset}`);
      return 0;
    },
    write: (offset: number, width: Width) => {
      log.push(`w${width}@${offset}`);
    },
    peek: (offset: number, width: Width) => {
      peekLog.push(`p${width}@${offset}`);
      return offset === hidden ? undefined : (0xf1f2_f3f4 + offset) | 0;
    },
  };
}

function rig() {
  const mem = ram();
  const dev = device();
  const bus = new Bus({ ram: [mem], mmio: [dev] });
  return { bus, mem, dev };
}

describe('rv32 bus peek: RAM', () => {
  // [address, width, value]: bytes of the fixture are (offset + 0x80) & 0xff.
  const rows: readonly [string, number, Width, number | undefined][] = [
    ['first byte', RAM_BASE, 1, 0x80],
    ['first half', RAM_BASE, 2, 0x8180],
    ['first word, unsigned', RAM_BASE, 4, 0x8382_8180],
    ['misaligned half', RAM_BASE + 1, 2, 0x8281],
    ['misaligned word', RAM_BASE + 3, 4, 0x8685_8483],
    ['last byte', RAM_BASE + RAM_SIZE - 1, 1, 0x7f],
    ['last half', RAM_BASE + RAM_SIZE - 2, 2, 0x7f7e],
    ['last word', RAM_BASE + RAM_SIZE - 4, 4, 0x7f7e_7d7c],
    ['a half one byte past the end', RAM_BASE + RAM_SIZE - 1, 2, undefined],
    ['a word one byte past the end', RAM_BASE + RAM_SIZE - 3, 4, undefined],
    ['a word three bytes past the end', RAM_BASE + RAM_SIZE - 1, 4, undefined],
    ['the byte after the region', RAM_BASE + RAM_SIZE, 1, undefined],
    ['the byte before the region', RAM_BASE - 1, 1, undefined],
    ['a word ending in the region but starting before it', RAM_BASE - 2, 4, undefined],
    ['a negative address is unsigned', RAM_BASE - 0x1_0000_0000, 1, 0x80],
  ];
  for (const [name, addr, width, want] of rows) {
    it(`${name}: ${want === undefined ? 'undefined' : `0x${want.toString(16)}`}`, () => {
      const { bus } = rig();
      assert.equal(bus.peek(addr, width), want);
      assert.equal(bus.faulted, false, 'a peek never faults the bus');
    });
  }

  it('reads across two adjacent RAM regions, little-endian', () => {
    const a = ram(RAM_BASE, 0x100);
    const b = ram(RAM_BASE + 0x100, 0x100);
    const bus = new Bus({ ram: [a, b] });
    assert.equal(bus.peek(RAM_BASE + 0xfe, 4), 0x8180_7f7e);
    assert.equal(bus.peek(RAM_BASE + 0xff, 2), 0x807f);
    assert.equal(bus.peek(RAM_BASE + 0x1ff, 2), undefined, 'into nothing after the second');
  });

  it('a word of RAM followed by a device is not read into the device', () => {
    const mem = ram();
    const dev = device(RAM_BASE + RAM_SIZE, 0x10);
    const bus = new Bus({ ram: [mem], mmio: [dev] });
    assert.equal(bus.peek(RAM_BASE + RAM_SIZE - 2, 4), undefined);
    assert.deepEqual([dev.log, dev.peekLog], [[], []]);
  });

  it('sees what the core stored, and changes nothing', () => {
    const { bus, mem } = rig();
    bus.write(RAM_BASE + 8, 4, 0xdead_beef);
    const before = mem.bytes.slice();
    assert.equal(bus.peek(RAM_BASE + 8, 4), 0xdead_beef);
    assert.equal(bus.peek(RAM_BASE + 9, 2), 0xadbe);
    assert.deepEqual(mem.bytes, before);
  });
});

describe('rv32 bus peek: devices', () => {
  // [what, offset, width, value or undefined, whether the device's peek was asked]
  const rows: readonly [string, number, Width, number | undefined, boolean][] = [
    ['a word, unsigned', 0, 4, 0xf1f2_f3f4, true],
    ['a half, masked to 16 bits', 2, 2, 0xf3f6, true],
    ['a byte, masked to 8 bits', 1, 1, 0xf5, true],
    ['the last word of the window', DEV_SIZE - 8, 4, 0xf1f2_f3fc, true],
    ['the last byte of the window', DEV_SIZE - 1, 1, 0x03, true],
    ['the last half of the window', DEV_SIZE - 2, 2, 0xf402, true],
    ['a register the device cannot peek', 0xc, 4, undefined, true],
    ['a misaligned word', 2, 4, undefined, false],
    ['a misaligned half', 1, 2, undefined, false],
    ['a word one past the window', DEV_SIZE, 4, undefined, false],
    ['the byte one past the window', DEV_SIZE, 1, undefined, false],
    ['the byte before the window', -1, 1, undefined, false],
  ];
  for (const [name, offset, width, want, asked] of rows) {
    it(`${name}: ${want === undefined ? 'undefined' : `0x${want.toString(16)}`}`, () => {
      const { bus, dev } = rig();
      assert.equal(bus.peek(DEV_BASE + offset, width), want);
      assert.deepEqual(dev.peekLog, asked ? [`p${width}@${offset}`] : []);
      assert.deepEqual(dev.log, [], 'never a read or a write');
      assert.equal(bus.faulted, false);
    });
  }

  it('a word crossing the window end is refused even when the next region is a device', () => {
    const a = device(DEV_BASE, 6);
    const b = device(DEV_BASE + 6, 0x10);
    const bus = new Bus({ ram: [], mmio: [a, b] });
    assert.equal(bus.peek(DEV_BASE + 4, 4), undefined);
    assert.equal(bus.peek(DEV_BASE + 4, 2), 0xf3f8);
    assert.deepEqual(a.peekLog, ['p2@4']);
  });

  it('a device without peek is not readable by a debugger at all', () => {
    const log: string[] = [];
    const dev: MmioRegion = {
      base: DEV_BASE,
      size: DEV_SIZE,
      read: () => (log.push('read'), 0x11),
      write: () => void log.push('write'),
    };
    const bus = new Bus({ ram: [], mmio: [dev] });
    assert.equal(bus.peek(DEV_BASE, 4), undefined);
    assert.equal(bus.peek(DEV_BASE, 1), undefined);
    assert.deepEqual(log, []);
  });

  it('an address in no region is undefined, and does not fault', () => {
    const { bus } = rig();
    assert.equal(bus.peek(0, 4), undefined);
    assert.equal(bus.peek(0xffff_fffc, 4), undefined);
    assert.equal(bus.faulted, false);
  });
});

describe('rv32 bus peek: the SoC devices have no side effects', () => {
  it('the PLIC claim register shows the source a claim would take, without claiming', () => {
    const plic = new Plic(() => undefined);
    const bus = new Bus({ ram: [], mmio: [plic.region()] });
    const claim = RV32_MAP.PLIC + PLIC_REG.CONTEXT + PLIC_REG.CLAIM;
    bus.write(RV32_MAP.PLIC + 4 * 10, 4, 1);
    bus.write(RV32_MAP.PLIC + PLIC_REG.ENABLE, 4, 1 << 10);
    plic.setLevel(10, true);
    assert.equal(bus.peek(claim, 4), 10);
    assert.equal(bus.peek(claim, 4), 10);
    assert.equal(plic.meip, true, 'still pending');
    assert.equal(bus.read(claim, 4), 10);
    assert.equal(bus.peek(claim, 4), 0, 'claimed now');
  });

  it('the mailbox shows pending ids and events without taking them', () => {
    const block = new CoreBlock(new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS)), 0);
    const mbox = new MailboxDevice(block, () => undefined);
    const bus = new Bus({ ram: [], mmio: [mbox.region()] });
    block.postH2C(4);
    block.postHostEvent(2);
    assert.equal(bus.peek(RV32_MAP.MAILBOX + MAILBOX_REG.H2C_TAKE, 4), 1 << 4);
    assert.equal(bus.peek(RV32_MAP.MAILBOX + MAILBOX_REG.EVENTS, 4), 2);
    assert.equal(block.load(CORE_WORD.H2C_PENDING), 1 << 4);
    assert.equal(block.load(CORE_WORD.HOST_EVENTS), 2);
  });

  it('the UART receive buffer cannot be peeked; the byte stays for the firmware', () => {
    const sent = [0x41];
    const uart = new Uart16550(() => undefined, { rx: { take: (max) => sent.splice(0, max) } });
    uart.poll();
    const bus = new Bus({ ram: [], mmio: [uart.region()] });
    assert.equal(bus.peek(RV32_MAP.UART0, 1), undefined);
    assert.equal(bus.peek(RV32_MAP.UART0 + 5, 1), 0x61, 'LSR: data ready, THR empty');
    assert.equal(bus.read(RV32_MAP.UART0, 1), 0x41);
    assert.deepEqual(sent, []);
  });
});

describe('rv32 bus: RAM region views', () => {
  it('RamArea: contains its first and last byte, not the bytes either side; names default to ram<index>', () => {
    const area = new RamArea({ base: RAM_BASE, size: RAM_SIZE, bytes: new Uint8Array(RAM_SIZE) }, 3);
    assert.equal(area.name, 'ram3');
    assert.deepEqual(
      [RAM_BASE - 1, RAM_BASE, RAM_BASE + RAM_SIZE - 1, RAM_BASE + RAM_SIZE].map((a) => area.contains(a)),
      [false, true, true, false],
    );
    assert.equal(area.shared, false);
    assert.deepEqual(
      [area.u8.length, area.u16.length, area.i32.length],
      [RAM_SIZE, RAM_SIZE / 2, RAM_SIZE / 4],
    );
  });

  it('RamArea: views start at the backing view offset; shared memory says so', () => {
    const sab = new SharedArrayBuffer(0x20);
    const bytes = new Uint8Array(sab, 8, 0x10);
    const area = new RamArea({ base: 0, size: 0x10, bytes }, 0);
    assert.equal(area.shared, true);
    area.i32[0] = 0x0403_0201;
    assert.deepEqual([...new Uint8Array(sab, 8, 4)], [1, 2, 3, 4]);
    area.u16[1] = 0xbbaa;
    assert.deepEqual([...new Uint8Array(sab, 10, 2)], [0xaa, 0xbb]);
  });

  it('ramAt finds each of several regions in turn, whichever it found last', () => {
    const a = ram(RAM_BASE, 0x100);
    const b = ram(RAM_BASE + 0x1000, 0x100);
    const bus = new Bus({ ram: [a, b] });
    const names = [RAM_BASE, RAM_BASE + 0x1000, RAM_BASE + 0xff, RAM_BASE + 0x10ff, RAM_BASE + 0x100].map(
      (x) => bus.ramAt(x)?.name,
    );
    assert.deepEqual(names, [a.name, b.name, a.name, b.name, undefined]);
  });
});
