// Every check the rv32 memory bus and its MMIO devices make on an address, width or value firmware
// gives them, pinned at its boundary: the last byte, word or id a check lets through works, the
// first one past it faults (the bus) or is ignored / reads 0 (a device register window). The
// firmware is untrusted: a check off by one here is a stray read or write of host memory's views.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RprocError } from '../../util/errors.ts';
import { Bus, type MmioRegion, type RamRegion, type Width } from './bus.ts';
import { PLIC_REG, PLIC_SOURCES, Plic } from './devices/plic.ts';
import { MAILBOX_REG, MailboxDevice, WATCHDOG_REG } from './devices/mailbox.ts';
import { Clint } from './devices/clint.ts';
import { testFinisher, type FinisherOutcome } from './devices/test-finisher.ts';
import { Uart16550 } from './devices/uart16550.ts';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock } from '../../soc/core-block.ts';

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x100;
const MMIO_BASE = 0x1000_0000;
const MMIO_SIZE = 0x10;

/** A device that records every access and reads back 0x1234_5678 + offset (unmasked). */
function recorder(base = MMIO_BASE, size = MMIO_SIZE): MmioRegion & { log: string[] } {
  const log: string[] = [];
  return {
    name: 'rec',
    base,
    size,
    log,
    read: (offset: number, width: Width) => {
      log.push(`r${width}@${offset}`);
      return (0xf234_5678 + offset) | 0;
    },
    write: (offset: number, width: Width, value: number) => {
      log.push(`w${width}@${offset}=${(value >>> 0).toString(16)}`);
    },
  };
}

function ram(base = RAM_BASE, size = RAM_SIZE): RamRegion {
  const bytes = new Uint8Array(size);
  bytes.forEach((_, i) => (bytes[i] = i & 0xff));
  return { base, size, bytes, name: 'ram' };
}

function busWith(): { bus: Bus; dev: ReturnType<typeof recorder>; mem: RamRegion } {
  const dev = recorder();
  const mem = ram();
  return { bus: new Bus({ ram: [mem], mmio: [dev] }), dev, mem };
}

function read(bus: Bus, addr: number, width: Width): number | 'fault' {
  bus.clearFault();
  const v = bus.read(addr, width);
  return bus.faulted ? 'fault' : v;
}

function write(bus: Bus, addr: number, width: Width, value: number): 'ok' | 'fault' {
  bus.clearFault();
  bus.write(addr, width, value);
  return bus.faulted ? 'fault' : 'ok';
}

describe('rv32 bus: region layout checks at their boundaries', () => {
  const rejects = (layout: ConstructorParameters<typeof Bus>[0], detail: RegExp): void => {
    assert.throws(
      () => new Bus(layout),
      (e: unknown) => e instanceof RprocError && e.code === 'EINVAL' && detail.test(e.detail),
    );
  };

  it('a region may end exactly at 2^32; one word further is refused', () => {
    assert.doesNotThrow(() => new Bus({ ram: [ram(0xffff_ff00, 0x100)] }));
    rejects({ ram: [ram(0xffff_ff04, 0x100)] }, /RAM region ram at 0xffffff04 has bad size 0x100/);
    assert.doesNotThrow(() => new Bus({ ram: [], mmio: [recorder(0xffff_fff0, 0x10)] }));
    rejects(
      { ram: [], mmio: [recorder(0xffff_fff0, 0x11)] },
      /MMIO region rec at 0xfffffff0 has bad size 0x11/,
    );
  });

  it('a base below 2^32 is an address; 2^32 is not', () => {
    rejects(
      { ram: [], mmio: [recorder(0x1_0000_0000, 4)] },
      /MMIO region rec base 0x100000000 is not a 32-bit address/,
    );
    rejects({ ram: [], mmio: [recorder(-1, 4)] }, /MMIO region rec base .* is not a 32-bit address/);
    assert.doesNotThrow(() => new Bus({ ram: [], mmio: [recorder(0, 4)] }));
  });

  it('a base and a size are whole numbers', () => {
    rejects(
      { ram: [], mmio: [recorder(MMIO_BASE + 0.5, 4)] },
      /MMIO region rec base 0x10000000\.8 is not a 32-bit address|MMIO region rec base .* is not a 32-bit address/,
    );
    rejects({ ram: [], mmio: [recorder(MMIO_BASE, 4.5)] }, /MMIO region rec at 0x10000000 has bad size/);
  });

  it('unnamed regions are named by their kind and index in messages', () => {
    const unnamed = (base: number): RamRegion => ({ base, size: 0x100, bytes: new Uint8Array(0x100) });
    rejects(
      { ram: [unnamed(RAM_BASE), unnamed(RAM_BASE + 0xfc)] },
      /regions ram0 and ram1 overlap at 0x800000fc/,
    );
    const dev = (base: number): MmioRegion => ({ base, size: 4, read: () => 0, write: () => undefined });
    rejects(
      { ram: [unnamed(RAM_BASE)], mmio: [dev(RAM_BASE + 0xfc)] },
      /regions ram0 and mmio0 overlap at 0x800000fc/,
    );
    rejects({ ram: [], mmio: [dev(0x1_0000_0000)] }, /MMIO region mmio0 base/);
    rejects({ ram: [{ ...unnamed(RAM_BASE + 2) }] }, /RAM region ram0 at 0x80000002/);
  });

  it('a region has at least one byte', () => {
    assert.doesNotThrow(() => new Bus({ ram: [], mmio: [recorder(MMIO_BASE, 1)] }));
    rejects({ ram: [], mmio: [recorder(MMIO_BASE, 0)] }, /MMIO region rec at 0x10000000 has bad size 0x0/);
  });

  it('RAM is word-aligned in base, size and backing view, and the view covers it', () => {
    rejects(
      { ram: [ram(RAM_BASE + 2, 0x100)] },
      /RAM region ram at 0x80000002 size 0x100 is not word-aligned/,
    );
    rejects({ ram: [ram(RAM_BASE, 0xfe)] }, /RAM region ram at 0x80000000 size 0xfe is not word-aligned/);
    const backing = new Uint8Array(0x108);
    assert.doesNotThrow(
      () => new Bus({ ram: [{ base: RAM_BASE, size: 0x100, bytes: backing.subarray(4) }] }),
    );
    rejects(
      { ram: [{ base: RAM_BASE, size: 0x100, bytes: backing.subarray(2) }] },
      /backing view \(offset 0x2, 0x106 bytes\) must be word-aligned and cover 0x100 bytes/,
    );
    rejects(
      { ram: [{ base: RAM_BASE, size: 0x100, bytes: new Uint8Array(0xfc) }] },
      /backing view \(offset 0x0, 0xfc bytes\) must be word-aligned and cover 0x100 bytes/,
    );
  });

  it('regions may touch; one byte of overlap is refused', () => {
    assert.doesNotThrow(() => new Bus({ ram: [ram(RAM_BASE, 0x100), ram(RAM_BASE + 0x100, 0x100)] }));
    assert.doesNotThrow(() => new Bus({ ram: [ram()], mmio: [recorder(RAM_BASE + RAM_SIZE, 4)] }));
    rejects(
      { ram: [ram()], mmio: [recorder(RAM_BASE + RAM_SIZE - 1, 4)] },
      /regions ram and rec overlap at 0x800000ff/,
    );
    rejects(
      { ram: [ram(RAM_BASE + 0x100, 0x100), ram(RAM_BASE, 0x104)] },
      /regions ram and ram overlap at 0x80000100/,
    );
  });
});

describe('rv32 bus: RAM accesses at the region edges', () => {
  it('the last byte, half and word of a region are read; the first past it faults', () => {
    const { bus } = busWith();
    const end = RAM_BASE + RAM_SIZE;
    assert.equal(read(bus, end - 1, 1), 0xff);
    assert.equal(read(bus, end - 2, 2), 0xfffe);
    assert.equal(read(bus, end - 4, 4), 0xfffefdfc | 0);
    assert.equal(read(bus, end, 1), 'fault');
    assert.equal(read(bus, end - 1, 2), 'fault');
    assert.equal(read(bus, end - 3, 4), 'fault');
    assert.equal(read(bus, RAM_BASE - 1, 1), 'fault');
    assert.equal(read(bus, RAM_BASE, 1), 0);
  });

  it('a misaligned word is a signed 32-bit value like an aligned one; a byte store writes one byte', () => {
    const { bus, mem } = busWith();
    assert.equal(read(bus, RAM_BASE + 0x81, 4), 0x84838281 | 0);
    assert.equal(read(bus, RAM_BASE + 0x81, 2), 0x8281, 'halves are unsigned');
    assert.equal(write(bus, RAM_BASE + 0x21, 1, 0x1ee), 'ok');
    assert.equal(write(bus, RAM_BASE + 0x26, 2, 0x1eeff), 'ok');
    assert.deepEqual(
      [...mem.bytes.subarray(0x20, 0x29)],
      [0x20, 0xee, 0x22, 0x23, 0x24, 0x25, 0xff, 0xee, 0x28],
    );
  });

  it('misaligned accesses inside RAM are done byte by byte', () => {
    const { bus } = busWith();
    assert.equal(read(bus, RAM_BASE + 1, 2), 0x0201);
    assert.equal(read(bus, RAM_BASE + 1, 4), 0x04030201);
    assert.equal(read(bus, RAM_BASE + 3, 4), 0x06050403);
    assert.equal(write(bus, RAM_BASE + 5, 4, 0xa1b2c3d4), 'ok');
    assert.equal(read(bus, RAM_BASE + 4, 4), 0xb2c3d404 | 0);
    assert.equal(read(bus, RAM_BASE + 8, 2), 0x09a1);
    assert.equal(write(bus, RAM_BASE + 1, 2, 0xbeef), 'ok');
    assert.equal(read(bus, RAM_BASE, 4), 0x03beef00);
  });

  it('an access straddling two adjacent RAM regions is done; straddling into nothing faults and writes nothing', () => {
    const a = ram(RAM_BASE, 0x100);
    const b = ram(RAM_BASE + 0x100, 0x100);
    const two = new Bus({ ram: [a, b] });
    assert.equal(read(two, RAM_BASE + 0xfe, 4), 0x0100fffe);
    assert.equal(write(two, RAM_BASE + 0xff, 2, 0x4321), 'ok');
    assert.deepEqual([a.bytes[0xff], b.bytes[0]], [0x21, 0x43]);
    const { bus, mem } = busWith();
    const before = mem.bytes.slice();
    assert.equal(write(bus, RAM_BASE + RAM_SIZE - 2, 4, 0xffff_ffff), 'fault');
    assert.equal(write(bus, RAM_BASE + RAM_SIZE - 1, 2, 0xffff), 'fault');
    assert.deepEqual(mem.bytes, before, 'a faulting store writes none of its bytes');
    assert.equal(write(bus, RAM_BASE + RAM_SIZE - 4, 4, 0x11223344), 'ok');
    assert.equal(read(bus, RAM_BASE + RAM_SIZE - 4, 4), 0x11223344);
    assert.equal(write(bus, RAM_BASE + RAM_SIZE - 1, 1, 0x99), 'ok');
    assert.equal(write(bus, RAM_BASE + RAM_SIZE, 1, 0x99), 'fault');
  });

  it('isRam: a range ending at the region end is RAM; one byte longer is not', () => {
    const { bus } = busWith();
    assert.equal(bus.isRam(RAM_BASE, RAM_SIZE), true);
    assert.equal(bus.isRam(RAM_BASE, RAM_SIZE + 1), false);
    assert.equal(bus.isRam(RAM_BASE + RAM_SIZE - 1, 1), true);
    assert.equal(bus.isRam(RAM_BASE + RAM_SIZE, 1), false);
    assert.equal(bus.isRam(RAM_BASE - 1, 1), false);
  });

  it('ramAt and mmioAt find the last byte of a region and not the byte after', () => {
    const { bus } = busWith();
    assert.equal(bus.ramAt(RAM_BASE + RAM_SIZE - 1)?.name, 'ram');
    assert.equal(bus.ramAt(RAM_BASE + RAM_SIZE), undefined);
    assert.equal(bus.ramAt(RAM_BASE - 1), undefined);
    assert.equal(bus.mmioAt(MMIO_BASE + MMIO_SIZE - 1)?.name, 'rec');
    assert.equal(bus.mmioAt(MMIO_BASE + MMIO_SIZE), undefined);
    assert.equal(bus.mmioAt(MMIO_BASE - 1), undefined);
    // Addresses are unsigned: -0x80000000 is RAM_BASE.
    assert.equal(bus.ramAt(-0x8000_0000)?.name, 'ram');
  });
});

describe('rv32 bus: MMIO decode at its boundaries', () => {
  it('the last word, half and byte of a device are accessed; one past the end faults', () => {
    const { bus, dev } = busWith();
    const end = MMIO_BASE + MMIO_SIZE;
    assert.notEqual(read(bus, end - 4, 4), 'fault');
    assert.notEqual(read(bus, end - 2, 2), 'fault');
    assert.notEqual(read(bus, end - 1, 1), 'fault');
    assert.equal(read(bus, end, 1), 'fault');
    assert.equal(write(bus, end - 4, 4, 1), 'ok');
    assert.equal(write(bus, end, 4, 1), 'fault');
    assert.deepEqual(dev.log, ['r4@12', 'r2@14', 'r1@15', 'w4@12=1']);
  });

  it('an aligned access that crosses the end of a window whose size is not a multiple of it faults', () => {
    const dev = recorder(MMIO_BASE, 6);
    const bus = new Bus({ ram: [], mmio: [dev] });
    assert.equal(read(bus, MMIO_BASE + 4, 4), 'fault');
    assert.equal(write(bus, MMIO_BASE + 4, 4, 1), 'fault');
    assert.equal(write(bus, MMIO_BASE + 4, 2, 1), 'ok');
    assert.deepEqual(dev.log, ['w2@4=1']);
  });

  it('a device access must be aligned to its width', () => {
    const { bus, dev } = busWith();
    assert.equal(read(bus, MMIO_BASE + 2, 4), 'fault');
    assert.equal(read(bus, MMIO_BASE + 1, 2), 'fault');
    assert.equal(write(bus, MMIO_BASE + 2, 4, 0), 'fault');
    assert.equal(write(bus, MMIO_BASE + 3, 2, 0), 'fault');
    assert.deepEqual(dev.log, []);
    assert.notEqual(read(bus, MMIO_BASE + 2, 2), 'fault');
    assert.notEqual(read(bus, MMIO_BASE + 3, 1), 'fault');
  });

  it('device reads are masked to the width (signed for words); writes are masked before the device sees them', () => {
    const { bus, dev } = busWith();
    assert.equal(read(bus, MMIO_BASE, 1), 0x78);
    assert.equal(read(bus, MMIO_BASE + 4, 2), 0x567c);
    assert.equal(read(bus, MMIO_BASE + 8, 4), 0xf234_5680 | 0);
    assert.equal(write(bus, MMIO_BASE, 1, 0x1ff), 'ok');
    assert.equal(write(bus, MMIO_BASE, 2, 0x1_ffff), 'ok');
    assert.equal(write(bus, MMIO_BASE, 4, 0x1_ffff_ffff), 'ok');
    assert.deepEqual(dev.log.slice(3), ['w1@0=ff', 'w2@0=ffff', 'w4@0=ffffffff']);
  });
});

describe('rv32 devices: register windows at their boundaries', () => {
  function plic() {
    const p = new Plic(() => undefined);
    const r = p.region();
    return {
      p,
      rd: (o: number, w: Width = 4) => r.read(o, w) >>> 0,
      wr: (o: number, v: number, w: Width = 4) => r.write(o, w, v),
    };
  }

  it('PLIC priorities: sources 1..95 keep 3 bits, source 0 and 96 are not there', () => {
    const { rd, wr } = plic();
    for (const s of [0, 1, PLIC_SOURCES - 1, PLIC_SOURCES]) wr(4 * s, 0xff);
    assert.deepEqual(
      [0, 1, PLIC_SOURCES - 1, PLIC_SOURCES].map((s) => rd(4 * s)),
      [0, 7, 7, 0],
    );
    wr(4, 8);
    assert.equal(rd(4), 0, 'priority 8 is 0 in 3 bits');
  });

  it('PLIC enables: words 0..2 are there (source 0 hard-wired off), word 3 and the next context are not', () => {
    const { rd, wr } = plic();
    for (const w of [0, 1, 2, 3]) wr(PLIC_REG.ENABLE + 4 * w, 0xffff_ffff);
    assert.deepEqual(
      [0, 1, 2, 3].map((w) => rd(PLIC_REG.ENABLE + 4 * w)),
      [0xffff_fffe, 0xffff_ffff, 0xffff_ffff, 0],
    );
    wr(PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE, 0xffff_ffff);
    assert.equal(rd(PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE), 0);
  });

  it('PLIC pending: words 0..2 show the lines, word 3 reads 0; lines 1..95 exist, 0 and 96 do not', () => {
    const { p, rd } = plic();
    for (const s of [0, 1, 95, 96]) p.setLevel(s, true);
    assert.deepEqual(
      [0, 1, 2, 3].map((w) => rd(PLIC_REG.PENDING + 4 * w)),
      [0b10, 0, 0x8000_0000, 0],
    );
    p.setLevel(95, false);
    assert.equal(rd(PLIC_REG.PENDING + 8), 0);
  });

  it('PLIC claim/complete: a source above the threshold is claimed; at the threshold it is not; ids 0 and 96 complete nothing', () => {
    const { p, rd, wr } = plic();
    const CLAIM = PLIC_REG.CONTEXT + PLIC_REG.CLAIM;
    const THRESHOLD = PLIC_REG.CONTEXT + PLIC_REG.THRESHOLD;
    wr(4 * 95, 3);
    wr(PLIC_REG.ENABLE + 8, 0x8000_0000);
    p.setLevel(95, true);
    wr(THRESHOLD, 3);
    assert.equal(rd(THRESHOLD), 3);
    assert.equal(p.meip, false);
    assert.equal(rd(CLAIM), 0);
    wr(THRESHOLD, 2 | 8);
    assert.equal(rd(THRESHOLD), 2, 'the threshold keeps 3 bits');
    assert.equal(p.meip, true);
    assert.equal(rd(CLAIM), 95);
    assert.equal(p.meip, false, 'claimed: out of the running');
    wr(CLAIM, 96);
    wr(CLAIM, 0);
    assert.equal(p.meip, false, 'no such source to complete');
    wr(CLAIM, 95);
    assert.equal(p.meip, true, 'completed while the line is high: pending again');
  });

  it('PLIC registers are 32-bit and word-aligned: other widths and offsets read 0 and write nothing', () => {
    const { rd, wr } = plic();
    wr(4, 5, 2);
    wr(5, 5);
    assert.equal(rd(4), 0);
    wr(4, 5);
    assert.equal(rd(4, 2), 0);
    assert.equal(rd(5), 0);
    assert.equal(rd(4), 5);
  });

  function mailbox() {
    const block = new CoreBlock(new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS)), 0);
    const mbox = new MailboxDevice(block, () => undefined);
    return { block, r: mbox.region(), wd: mbox.watchdogRegion() };
  }

  it('mailbox registers answer 32-bit accesses only, at their exact offsets', () => {
    const { block, r, wd } = mailbox();
    r.write(MAILBOX_REG.RSC_DA, 2, 0x1234);
    r.write(MAILBOX_REG.RSC_DA + 4 - 4, 4, 0x8000_1000);
    assert.equal(block.load(CORE_WORD.RSC_DA) >>> 0, 0x8000_1000);
    assert.equal(r.read(MAILBOX_REG.RSC_DA, 2), 0);
    assert.equal(r.read(MAILBOX_REG.RSC_DA, 4), 0x8000_1000);
    r.write(MAILBOX_REG.RSC_SIZE, 4, 0x400);
    assert.equal(r.read(MAILBOX_REG.RSC_SIZE, 4), 0x400);
    assert.equal(r.read(MAILBOX_REG.EVENTS + 4, 4), 0, 'past the last register');
    r.write(MAILBOX_REG.IRQ_ENABLE, 4, 2);
    assert.equal(r.read(MAILBOX_REG.IRQ_ENABLE, 4), 0, 'only bit 0 enables');
    r.write(MAILBOX_REG.IRQ_ENABLE, 4, 3);
    assert.equal(r.read(MAILBOX_REG.IRQ_ENABLE, 4), 1);
    wd.write(WATCHDOG_REG.PERIOD_MS, 2, 50);
    assert.equal(wd.read(WATCHDOG_REG.PERIOD_MS, 4), 0);
    wd.write(WATCHDOG_REG.PERIOD_MS, 4, 50);
    assert.equal(wd.read(WATCHDOG_REG.PERIOD_MS, 4), 50);
    assert.equal(wd.read(WATCHDOG_REG.PERIOD_MS, 2), 0);
    assert.equal(wd.read(WATCHDOG_REG.KICK, 4), 0);
    const kicks = block.load(CORE_WORD.WDT_KICKS);
    wd.write(WATCHDOG_REG.KICK, 2, 1);
    wd.write(WATCHDOG_REG.KICK + 4, 4, 1);
    assert.equal(block.load(CORE_WORD.WDT_KICKS), kicks);
    wd.write(WATCHDOG_REG.KICK, 4, 1);
    assert.equal(block.load(CORE_WORD.WDT_KICKS), kicks + 1);
  });

  it('CLINT: msip keeps bit 0, mtimecmp is two words, other offsets and widths do nothing', () => {
    let changes = 0;
    const clint = new Clint(
      () => changes++,
      () => 0,
    );
    const r = clint.region();
    r.write(0, 4, 3);
    assert.equal(r.read(0, 4), 1);
    r.write(0, 2, 0);
    assert.equal(r.read(0, 4), 1);
    assert.equal(r.read(0, 2), 0);
    r.write(0x4000, 4, 0xffff_fff0);
    r.write(0x4004, 4, 0x1);
    assert.equal(clint.mtimecmp, 0x1_ffff_fff0n);
    assert.equal(r.read(0x4000, 4) >>> 0, 0xffff_fff0);
    assert.equal(r.read(0x4004, 4), 1);
    const before = changes;
    r.write(0x4008, 4, 5);
    r.write(0x3ffc, 4, 5);
    assert.equal(changes, before);
    assert.equal(clint.mtimecmp, 0x1_ffff_fff0n);
    assert.equal(r.read(0xbff8, 4), 0);
    assert.equal(r.read(0xbffc, 4), 0);
  });

  it('CLINT time: the timer fires when mtime reaches mtimecmp, not a tick before', () => {
    let ns = 0;
    const clint = new Clint(
      () => undefined,
      () => ns,
    );
    const r = clint.region();
    r.write(0x4000, 4, 10);
    r.write(0x4004, 4, 0);
    ns = 999;
    assert.equal(r.read(0xbff8, 4), 9);
    assert.equal(clint.timerPending, false);
    assert.equal(clint.msUntilDeadline(), 0.0001);
    ns = 1000;
    assert.equal(clint.timerPending, true);
    assert.equal(clint.msUntilDeadline(), 0);
    assert.equal(clint.deadlineNs(), 1000);
  });

  it('test finisher: only a 32-bit write at offset 0 with a known low half ends the run', () => {
    // QEMU's sifive_test values (hw/misc/sifive_test.c), spelled out so the test pins them too.
    const FINISHER_PASS = 0x5555;
    const FINISHER_FAIL = 0x3333;
    const FINISHER_RESET = 0x7777;
    const got: FinisherOutcome[] = [];
    const r = testFinisher((o) => got.push(o));
    r.write(4, 4, FINISHER_PASS);
    r.write(0, 2, FINISHER_PASS);
    r.write(0, 4, FINISHER_PASS + 1);
    assert.deepEqual(got, []);
    r.write(0, 4, 0xabcd_0000 | FINISHER_PASS);
    r.write(0, 4, (7 << 16) | FINISHER_FAIL);
    r.write(0, 4, 0xffff_0000 | FINISHER_FAIL);
    r.write(0, 4, FINISHER_RESET);
    assert.deepEqual(got, [
      { kind: 'pass' },
      { kind: 'fail', code: 7 },
      { kind: 'fail', code: 0xffff },
      { kind: 'reset' },
    ]);
    assert.equal(r.read(0, 4), 0);
  });

  it('UART: registers 0..7 answer, offset 8 and beyond read 0 and write nothing', () => {
    const text: string[] = [];
    const uart = new Uart16550((t) => text.push(t));
    const r = uart.region();
    r.write(7, 1, 0x5a);
    assert.equal(r.read(7, 1), 0x5a, 'SCR, the last register');
    r.write(8, 1, 0x41);
    r.write(15, 1, 0x41);
    assert.equal(r.read(8, 1), 0);
    r.write(0, 1, 0x41);
    r.write(0, 1, 0x0a);
    assert.deepEqual(text, ['A\n']);
  });
});

describe('rv32 bus: addresses are unsigned', () => {
  // The hart's registers hold signed 32-bit values: an address at or above 0x8000_0000 arrives
  // negative and must reach the same byte or register as its unsigned spelling.
  const HIGH_DEV = 0xf000_0000;

  function highBus() {
    const mem = ram();
    const dev = recorder(HIGH_DEV, 0x10);
    return { bus: new Bus({ ram: [mem], mmio: [dev] }), dev, mem };
  }

  it('RAM: a negative address reads and writes the byte its unsigned value names', () => {
    const { bus, mem } = highBus();
    assert.equal(read(bus, (RAM_BASE + 4) | 0, 4), 0x07060504);
    assert.equal(read(bus, (RAM_BASE + 6) | 0, 2), 0x0706);
    assert.equal(read(bus, (RAM_BASE + 9) | 0, 1), 9);
    assert.equal(read(bus, (RAM_BASE + 1) | 0, 4), 0x04030201, 'misaligned, byte by byte');
    assert.equal(write(bus, (RAM_BASE + 8) | 0, 4, 0x0d0c0b0a), 'ok');
    assert.equal(write(bus, (RAM_BASE + 12) | 0, 2, 0xbbaa), 'ok');
    assert.equal(write(bus, (RAM_BASE + 14) | 0, 1, 0xcc), 'ok');
    assert.equal(write(bus, (RAM_BASE + 0x11) | 0, 4, 0x44332211), 'ok');
    assert.deepEqual(
      [...mem.bytes.subarray(8, 0x15)],
      [0x0a, 0x0b, 0x0c, 0x0d, 0xaa, 0xbb, 0xcc, 0x0f, 0x10, 0x11, 0x22, 0x33, 0x44],
    );
  });

  it('MMIO: a negative address reaches the register at its unsigned offset', () => {
    const { bus, dev } = highBus();
    assert.equal(read(bus, (HIGH_DEV + 4) | 0, 4), (0xf234_5678 + 4) | 0);
    assert.equal(write(bus, (HIGH_DEV + 8) | 0, 2, 0x1234), 'ok');
    assert.equal(bus.mmioAt((HIGH_DEV + 0xf) | 0)?.name, 'rec');
    assert.equal(read(bus, (HIGH_DEV + 0x10) | 0, 4), 'fault');
    assert.deepEqual(dev.log, ['r4@4', 'w2@8=1234']);
  });

  it('isRam takes a negative address as unsigned', () => {
    const { bus } = highBus();
    assert.equal(bus.isRam(RAM_BASE | 0, RAM_SIZE), true);
    assert.equal(bus.isRam((RAM_BASE + 1) | 0, RAM_SIZE), false);
  });
});
