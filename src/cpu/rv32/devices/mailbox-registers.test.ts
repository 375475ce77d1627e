// The mailbox and watchdog windows register by register (docs/rv32-core.md lists them): for every
// offset from the first register to the first one past the last, what a 32-bit read, a debugger's
// peek and a write do to the CoreBlock words, whom they tell (onChange re-samples the external
// interrupt line; onHeld stalls a core that rang a held doorbell), and that other widths do
// nothing. The CoreBlock is the host's shared memory: a register that writes the wrong word, or
// takes what it should only show, corrupts the host's view of the core.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock, HOST_EVENT } from '../../../soc/core-block.ts';
import type { MmioRegion, Width } from '../bus.ts';
import { MAILBOX_REG, MailboxDevice, WATCHDOG_REG } from './mailbox.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

/** The CoreBlock words the registers stand for, in the order words() reports them. */
const WATCHED_WORDS: readonly number[] = [
  CORE_WORD.H2C_PENDING,
  CORE_WORD.C2H_PENDING,
  CORE_WORD.C2H_SEQ,
  CORE_WORD.RSC_DA,
  CORE_WORD.RSC_SIZE,
  CORE_WORD.HOST_EVENTS,
  CORE_WORD.WDT_PERIOD_MS,
  CORE_WORD.WDT_KICKS,
];

function rig() {
  const block = new CoreBlock(new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS)), 0);
  let changes = 0;
  const holds: number[] = [];
  const mbox = new MailboxDevice(
    block,
    () => changes++,
    (hold) => holds.push(hold),
  );
  return {
    block,
    mbox,
    r: mbox.region(),
    wd: mbox.watchdogRegion(),
    changes: () => changes,
    held: () => holds.length,
    /** The hold generation each stall was told. */
    holds: () => [...holds],
    /** The CoreBlock words the registers stand for, to see what an access changed. */
    words: () => WATCHED_WORDS.map((w) => block.load(w)),
  };
}

type Rig = ReturnType<typeof rig>;

/** Every word the registers stand for set to something recognisable, the interrupt enabled. */
function loaded(): Rig {
  const t = rig();
  t.block.postH2C(3);
  t.block.postH2C(31);
  t.block.postHostEvent(HOST_EVENT.DETACHED);
  t.block.store(CORE_WORD.RSC_DA, 0x8000_4000 | 0);
  t.block.store(CORE_WORD.RSC_SIZE, 0x2c0);
  t.block.store(CORE_WORD.WDT_PERIOD_MS, 250);
  t.mbox.irqEnabled = true;
  return t;
}

const H2C_SET = ((1 << 3) | (1 << 31)) >>> 0;

describe('mailbox window', () => {
  it('sits at 0x0201_0000 (4 KiB), the watchdog at 0x0201_1000 (4 KiB)', () => {
    const { r, wd } = rig();
    assert.deepEqual([r.name, r.base, r.size], ['mailbox', RV32_MAP.MAILBOX, 0x1000]);
    assert.deepEqual([wd.name, wd.base, wd.size], ['watchdog', RV32_MAP.WATCHDOG, 0x1000]);
  });

  // [register, offset, 32-bit read, whether the read takes it (the word is 0 after), onChange calls]
  const reads: readonly [string, number, number, boolean, number][] = [
    ['H2C_TAKE', MAILBOX_REG.H2C_TAKE, H2C_SET, true, 1],
    ['C2H_NOTIFY (write-only)', MAILBOX_REG.C2H_NOTIFY, 0, false, 0],
    ['IRQ_ENABLE', MAILBOX_REG.IRQ_ENABLE, 1, false, 0],
    ['RSC_DA', MAILBOX_REG.RSC_DA, 0x8000_4000, false, 0],
    ['RSC_SIZE', MAILBOX_REG.RSC_SIZE, 0x2c0, false, 0],
    ['EVENTS', MAILBOX_REG.EVENTS, HOST_EVENT.DETACHED, true, 1],
    ['past EVENTS', MAILBOX_REG.EVENTS + 4, 0, false, 0],
    ['the last word of the window', 0xffc, 0, false, 0],
  ];
  for (const [name, offset, want, takes, calls] of reads) {
    it(`read ${name}: 0x${want.toString(16)}${takes ? ', taken' : ''}`, () => {
      const t = loaded();
      const before = t.words();
      assert.equal(t.r.peek?.(offset, 4), want, 'peek shows it');
      assert.deepEqual(t.words(), before, 'peek takes nothing');
      assert.equal(t.changes(), 0, 'peek tells no one');
      assert.equal(t.r.read(offset, 4), want);
      assert.equal(t.changes(), calls);
      const after = before.slice();
      if (offset === MAILBOX_REG.H2C_TAKE) after[0] = 0;
      if (offset === MAILBOX_REG.EVENTS) after[5] = 0;
      assert.deepEqual(t.words(), after);
      if (takes) assert.equal(t.r.read(offset, 4), 0, 'taken: a second read gets nothing');
    });
  }

  for (const width of [1, 2] as const) {
    it(`${width}-byte reads and peeks of every register are 0 and take nothing`, () => {
      const t = loaded();
      const before = t.words();
      for (const offset of Object.values(MAILBOX_REG)) {
        assert.equal(t.r.read(offset, width), 0, `read at ${offset}`);
        assert.equal(t.r.peek?.(offset, width), 0, `peek at ${offset}`);
      }
      assert.deepEqual(t.words(), before);
      assert.equal(t.changes(), 0);
    });
  }

  it('IRQ_ENABLE reads what was written, bit 0 only; each write re-samples the line', () => {
    const t = rig();
    const seen: number[] = [];
    for (const v of [1, 0, 0xffff_fffe, 0xffff_ffff, 2]) {
      t.r.write(MAILBOX_REG.IRQ_ENABLE, 4, v);
      seen.push(t.r.read(MAILBOX_REG.IRQ_ENABLE, 4), t.r.peek?.(MAILBOX_REG.IRQ_ENABLE, 4) ?? -1);
    }
    assert.deepEqual(seen, [1, 1, 0, 0, 0, 0, 1, 1, 0, 0]);
    assert.equal(t.changes(), 5);
  });

  // [register, offset, value written, the words it changes: [CORE_WORD, value]], onChange calls]
  const writes: readonly [string, number, number, readonly [number, number][], number][] = [
    ['H2C_TAKE (read-only)', MAILBOX_REG.H2C_TAKE, 0xffff_ffff, [], 0],
    ['RSC_DA', MAILBOX_REG.RSC_DA, 0x9000_0000, [[CORE_WORD.RSC_DA, 0x9000_0000 | 0]], 0],
    ['RSC_SIZE', MAILBOX_REG.RSC_SIZE, 0xffff_ffff, [[CORE_WORD.RSC_SIZE, -1]], 0],
    ['EVENTS (read-only)', MAILBOX_REG.EVENTS, 0xffff_ffff, [], 0],
    ['past EVENTS', MAILBOX_REG.EVENTS + 4, 0xffff_ffff, [], 0],
  ];
  for (const [name, offset, value, changed, calls] of writes) {
    it(`write ${name}`, () => {
      const t = rig();
      const before = t.words();
      t.r.write(offset, 4, value);
      const after = before.slice();
      for (const [w, v] of changed) after[WATCHED_WORDS.indexOf(w)] = v;
      assert.deepEqual(t.words(), after);
      assert.equal(t.changes(), calls);
      assert.equal(t.mbox.irqEnabled, false);
    });
  }

  for (const width of [1, 2] as const) {
    it(`${width}-byte writes to every register do nothing`, () => {
      const t = rig();
      const before = t.words();
      for (const offset of Object.values(MAILBOX_REG)) t.r.write(offset, width, 0xff);
      assert.deepEqual(t.words(), before);
      assert.deepEqual([t.changes(), t.held(), t.mbox.irqEnabled], [0, 0, false]);
    });
  }

  it('C2H_NOTIFY rings the host with the id written, a 32-bit id unsigned', () => {
    const t = rig();
    t.r.write(MAILBOX_REG.C2H_NOTIFY, 4, 0);
    assert.equal(t.block.takeC2H(), 1);
    t.r.write(MAILBOX_REG.C2H_NOTIFY, 4, 30);
    assert.equal(t.block.takeC2H(), 1 << 30);
    t.r.write(MAILBOX_REG.C2H_NOTIFY, 4, -1);
    assert.equal(t.block.takeC2H() >>> 0, 0x8000_0000, 'id 0xffffffff: "scan all"');
    assert.equal(t.block.c2hSeq(), 3);
    assert.deepEqual([t.changes(), t.held()], [0, 0]);
  });

  it('C2H_NOTIFY while the host holds the doorbell stalls the core at that hold; released, it does not', () => {
    const t = rig();
    t.block.holdC2H();
    const first = t.block.c2hHold();
    assert.notEqual(first, 0);
    t.r.write(MAILBOX_REG.C2H_NOTIFY, 4, 1);
    assert.deepEqual(t.holds(), [first]);
    assert.equal(t.block.takeC2H(), 2, 'the ring still reaches the host');
    t.block.holdC2H();
    assert.equal(t.block.c2hHold(), first, 'a hold already on stays as it is');
    // Re-armed: a new generation, and the next ring stalls the core again, at that one.
    assert.equal(t.block.rearmC2H(), true);
    const second = t.block.c2hHold();
    assert.ok(second !== 0 && second !== first, `generation ${second} after ${first}`);
    t.r.write(MAILBOX_REG.C2H_NOTIFY, 4, 1);
    assert.deepEqual(t.holds(), [first, second]);
    assert.equal(t.block.releaseC2H(), true);
    assert.equal(t.block.rearmC2H(), false, 'nothing to re-arm once released');
    assert.equal(t.block.releaseC2H(), false);
    t.r.write(MAILBOX_REG.C2H_NOTIFY, 4, 1);
    assert.equal(t.held(), 2);
    t.block.holdC2H();
    assert.ok(![0, first, second].includes(t.block.c2hHold()), 'a new hold never repeats the last one');
  });

  it('the stall callback defaults to nothing', () => {
    const block = new CoreBlock(new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS)), 0);
    const r = new MailboxDevice(block, () => undefined).region();
    block.holdC2H();
    assert.doesNotThrow(() => r.write(MAILBOX_REG.C2H_NOTIFY, 4, 1));
    assert.equal(block.takeC2H(), 2);
  });

  // [enabled, ids pending, events pending, line]
  const lines: readonly [boolean, boolean, boolean, boolean][] = [
    [false, false, false, false],
    [false, true, false, false],
    [false, false, true, false],
    [false, true, true, false],
    [true, false, false, false],
    [true, true, false, true],
    [true, false, true, true],
    [true, true, true, true],
  ];
  for (const [enabled, ids, events, line] of lines) {
    it(`external interrupt line: enabled ${enabled}, ids ${ids}, events ${events} → ${line}`, () => {
      const t = rig();
      t.r.write(MAILBOX_REG.IRQ_ENABLE, 4, enabled ? 1 : 0);
      if (ids) t.block.postH2C(31);
      if (events) t.block.postHostEvent(HOST_EVENT.DETACHED);
      assert.equal(t.mbox.irqPending, line);
      t.r.read(MAILBOX_REG.H2C_TAKE, 4);
      assert.equal(t.mbox.irqPending, enabled && events, 'ids taken');
      t.r.read(MAILBOX_REG.EVENTS, 4);
      assert.equal(t.mbox.irqPending, false, 'events taken');
    });
  }
});

describe('watchdog window', () => {
  function access(wd: MmioRegion, kind: 'read' | 'peek', offset: number, width: Width): number | undefined {
    return kind === 'read' ? wd.read(offset, width) : wd.peek?.(offset, width);
  }

  // [register, offset, width, read and peek]
  const reads: readonly [string, number, Width, number][] = [
    ['PERIOD_MS', WATCHDOG_REG.PERIOD_MS, 4, 0xffff_fff0],
    ['PERIOD_MS, a byte', WATCHDOG_REG.PERIOD_MS, 1, 0],
    ['PERIOD_MS, a half', WATCHDOG_REG.PERIOD_MS, 2, 0],
    ['KICK (write-only)', WATCHDOG_REG.KICK, 4, 0],
    ['past KICK', WATCHDOG_REG.KICK + 4, 4, 0],
  ];
  for (const [name, offset, width, want] of reads) {
    for (const kind of ['read', 'peek'] as const) {
      it(`${kind} ${name}: 0x${want.toString(16)}`, () => {
        const t = rig();
        t.block.store(CORE_WORD.WDT_PERIOD_MS, 0xffff_fff0 | 0);
        const before = t.words();
        assert.equal(access(t.wd, kind, offset, width), want);
        assert.deepEqual(t.words(), before);
      });
    }
  }

  // [register, offset, width, value, period after, kicks after]
  const writes: readonly [string, number, Width, number, number, number][] = [
    ['PERIOD_MS', WATCHDOG_REG.PERIOD_MS, 4, 0xffff_ffff, -1, 0],
    ['PERIOD_MS, a byte', WATCHDOG_REG.PERIOD_MS, 1, 9, 0, 0],
    ['PERIOD_MS, a half', WATCHDOG_REG.PERIOD_MS, 2, 9, 0, 0],
    ['KICK', WATCHDOG_REG.KICK, 4, 0, 0, 1],
    ['KICK, a byte', WATCHDOG_REG.KICK, 1, 1, 0, 0],
    ['past KICK', WATCHDOG_REG.KICK + 4, 4, 1, 0, 0],
    ['before KICK', WATCHDOG_REG.KICK - 2, 2, 1, 0, 0],
  ];
  for (const [name, offset, width, value, period, kicks] of writes) {
    it(`write ${name}: period ${period}, kicks ${kicks}`, () => {
      const t = rig();
      t.wd.write(offset, width, value);
      assert.deepEqual(
        [t.block.load(CORE_WORD.WDT_PERIOD_MS), t.block.load(CORE_WORD.WDT_KICKS)],
        [period, kicks],
      );
      assert.equal(t.changes(), 0);
    });
  }

  it('kicks count up, one per write whatever the value', () => {
    const t = rig();
    for (const v of [0, 1, 0xffff_ffff]) t.wd.write(WATCHDOG_REG.KICK, 4, v);
    assert.equal(t.block.load(CORE_WORD.WDT_KICKS), 3);
  });
});
