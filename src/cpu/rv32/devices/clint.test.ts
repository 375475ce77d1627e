// The CLINT at QEMU virt's SiFive layout (hw/intc/riscv_aclint.c: msip at 0x0, mtimecmp at
// 0x4000, mtime at 0xbff8), register by register: reset values, which offsets and widths answer,
// what a write keeps and whom it tells (onChange re-samples mip.MTIP / MSIP), mtime from the
// core's clock at 10 MHz in both halves, and the deadline helpers the core's WFI sleep uses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bus, type Width } from '../bus.ts';
import { Clint, hostClockNs } from './clint.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

const MSIP = 0x0;
const MTIMECMP = 0x4000;
const MTIMECMP_HI = 0x4004;
const MTIME = 0xbff8;
const MTIME_HI = 0xbffc;
const NS_PER_TICK = 100;

function rig(startNs = 0) {
  let ns = startNs;
  let changes = 0;
  const clint = new Clint(
    () => changes++,
    () => ns,
  );
  const r = clint.region();
  return {
    clint,
    r,
    rd: (offset: number, width: Width = 4): number => r.read(offset, width),
    pk: (offset: number, width: Width = 4): number | undefined => r.peek?.(offset, width),
    wr: (offset: number, value: number, width: Width = 4): void => r.write(offset, width, value),
    setNs: (v: number): void => {
      ns = v;
    },
    changes: () => changes,
  };
}

describe('CLINT registers', () => {
  it('sits at QEMU virt 0x0200_0000, a 64 KiB window', () => {
    const { r } = rig();
    assert.deepEqual([r.name, r.base, r.size], ['clint', RV32_MAP.CLINT, 0x10000]);
  });

  it('resets with msip 0, mtimecmp all ones (never), mtime 0, no timer deadline', () => {
    const { clint, rd } = rig();
    assert.deepEqual(
      [MSIP, MTIMECMP, MTIMECMP_HI, MTIME, MTIME_HI].map((o) => rd(o)),
      [0, 0xffff_ffff, 0xffff_ffff, 0, 0],
    );
    assert.equal(clint.timerPending, false);
    assert.equal(clint.deadlineNs(), undefined);
    assert.equal(clint.msUntilDeadline(), undefined);
  });

  // [register, offset, value written, value read back, onChange calls]
  const writes: readonly [string, number, number, number, number][] = [
    ['msip keeps bit 0', MSIP, 0xffff_ffff, 1, 1],
    ['msip bit 1 alone is 0', MSIP, 2, 0, 1],
    ['mtimecmp low word', MTIMECMP, 0x1234_5678, 0x1234_5678, 1],
    ['mtimecmp low word, top bit set', MTIMECMP, 0x8000_0001, 0x8000_0001, 1],
    ['mtimecmp high word', MTIMECMP_HI, 0xfedc_ba98, 0xfedc_ba98, 1],
    ['mtime is read-only here', MTIME, 5, 0, 0],
    ['mtime high is read-only here', MTIME_HI, 5, 0, 0],
    ["hart 1's msip is not there", MSIP + 4, 1, 0, 0],
    ['the word before mtimecmp', MTIMECMP - 4, 1, 0, 0],
    ['the word after mtimecmp', MTIMECMP + 8, 1, 0, 0],
    ['the word before mtime', MTIME - 4, 1, 0, 0],
    ['the word after mtime', MTIME + 8, 1, 0, 0],
  ];
  for (const [name, offset, value, want, calls] of writes) {
    it(`${name}: write 0x${value.toString(16)} at 0x${offset.toString(16)}, reads 0x${want.toString(16)}`, () => {
      const { rd, pk, wr, changes } = rig();
      wr(offset, value);
      assert.equal(rd(offset), want);
      assert.equal(pk(offset), want, 'a debugger reads the same');
      assert.equal(changes(), calls);
    });
  }

  it('the two halves of mtimecmp are written separately; the other half is kept', () => {
    const { clint, rd, wr } = rig();
    wr(MTIMECMP, 0x0000_0010);
    assert.equal(clint.mtimecmp, 0xffff_ffff_0000_0010n, 'the reset high half stays');
    wr(MTIMECMP_HI, 0x0000_0002);
    assert.equal(clint.mtimecmp, 0x2_0000_0010n);
    wr(MTIMECMP, 0x0000_0020);
    assert.equal(clint.mtimecmp, 0x2_0000_0020n);
    assert.deepEqual([rd(MTIMECMP), rd(MTIMECMP_HI)], [0x20, 2]);
  });

  it('a word store from the bus (a signed value) is taken as its 32 bits', () => {
    const clint = new Clint(
      () => undefined,
      () => 0,
    );
    const bus = new Bus({ ram: [], mmio: [clint.region()] });
    bus.write(RV32_MAP.CLINT + MTIMECMP, 4, 0xffff_fff0);
    bus.write(RV32_MAP.CLINT + MTIMECMP_HI, 4, 0x8000_0000);
    assert.equal(clint.mtimecmp, 0x8000_0000_ffff_fff0n);
    assert.equal(bus.read(RV32_MAP.CLINT + MTIMECMP, 4), 0xffff_fff0 | 0);
  });

  for (const width of [1, 2] as const) {
    it(`a ${width}-byte access reads 0 and writes nothing`, () => {
      const { clint, rd, pk, wr, changes } = rig(12_345_600);
      for (const o of [MSIP, MTIMECMP, MTIMECMP_HI]) wr(o, 1, width);
      assert.deepEqual([clint.msip, clint.mtimecmp, changes()], [0, 2n ** 64n - 1n, 0]);
      for (const o of [MSIP, MTIMECMP, MTIMECMP_HI, MTIME, MTIME_HI]) {
        assert.equal(rd(o, width), 0);
        assert.equal(pk(o, width), 0);
      }
      assert.equal(rd(MTIME), 123_456, 'a word read does answer');
    });
  }
});

describe('CLINT time', () => {
  // [core ns, mtime low, mtime high]
  const times: readonly [number, number, number][] = [
    [0, 0, 0],
    [99, 0, 0],
    [100, 1, 0],
    [12_345_699, 123_456, 0],
    [(2 ** 32 - 1) * NS_PER_TICK, 0xffff_ffff, 0],
    [2 ** 32 * NS_PER_TICK, 0, 1],
    [(2 ** 33 + 7) * NS_PER_TICK, 7, 2],
    [2 ** 64 * NS_PER_TICK, 0, 0],
  ];
  for (const [ns, lo, hi] of times) {
    it(`at ${ns} ns mtime reads ${hi}:${lo}`, () => {
      const { rd, pk } = rig(ns);
      assert.deepEqual([rd(MTIME), rd(MTIME_HI)], [lo, hi]);
      assert.deepEqual([pk(MTIME), pk(MTIME_HI)], [lo, hi]);
    });
  }

  it('offsets that are no register read 0 while both halves of mtime are not 0', () => {
    const { rd, pk } = rig((2 ** 33 + 7) * NS_PER_TICK);
    for (const o of [MSIP + 4, MTIMECMP - 4, MTIMECMP + 8, MTIME - 4, MTIME + 8, 0xfffc]) {
      assert.deepEqual([rd(o), pk(o)], [0, 0], `offset 0x${o.toString(16)}`);
    }
  });

  it('the deadline and the time to it follow mtimecmp at 10 MHz', () => {
    const { clint, wr, setNs } = rig();
    wr(MTIMECMP_HI, 0);
    wr(MTIMECMP, 50_000);
    assert.equal(clint.deadlineNs(), 5_000_000);
    assert.equal(clint.msUntilDeadline(), 5);
    setNs(1_000_000);
    assert.equal(clint.msUntilDeadline(), 4);
    assert.equal(clint.timerPending, false);
    setNs(4_999_999);
    assert.equal(clint.msUntilDeadline(), 0.0001);
    assert.equal(clint.timerPending, false);
    setNs(5_000_000);
    assert.equal(clint.msUntilDeadline(), 0);
    assert.equal(clint.timerPending, true);
    setNs(9_000_000);
    assert.equal(clint.msUntilDeadline(), 0, 'past the deadline: 0, not negative');
    assert.equal(clint.timerPending, true);
  });

  it('a deadline above 2^32 ticks is kept in full', () => {
    const { clint, wr } = rig();
    wr(MTIMECMP, 0);
    wr(MTIMECMP_HI, 1);
    assert.equal(clint.deadlineNs(), 2 ** 32 * NS_PER_TICK);
    assert.equal(clint.msUntilDeadline(), (2 ** 32 * NS_PER_TICK) / 1e6);
  });

  it('hostClockNs counts host nanoseconds from its call', () => {
    const before = performance.now();
    const clock = hostClockNs();
    const made = performance.now();
    while (performance.now() - made < 3) {
      // spin 3 ms
    }
    const after = performance.now();
    const ns = clock();
    const end = performance.now();
    assert.ok(ns >= (after - made) * 1e6, `${ns} ns after at least ${after - made} ms`);
    assert.ok(ns <= (end - before) * 1e6, `${ns} ns after at most ${end - before} ms`);
  });

  it('the default clock is the host clock', () => {
    const clint = new Clint(() => undefined);
    const t = clint.mtime();
    assert.ok(t >= 0n && t < 10_000_000n, `mtime ${t} within a second of construction`);
  });
});

describe('CLINT timer line without bigints', () => {
  // [mtimecmp written (hi, lo), core time in ns, line high] — at, just before and just after the
  // deadline, deadlines beyond 2^53 ticks, and the reset value (never).
  const rows: readonly [number, number, number, boolean][] = [
    [0, 1000, 1000 * NS_PER_TICK, true],
    [0, 1000, 1000 * NS_PER_TICK - 1, false],
    [0, 1000, 1000 * NS_PER_TICK + 1, true],
    [0x1, 0x0, 0x1_0000_0000 * NS_PER_TICK, true],
    [0x1, 0x0, 0x1_0000_0000 * NS_PER_TICK - NS_PER_TICK, false],
    [0x20_0000, 0x0, 2 ** 52 * NS_PER_TICK, false],
    [0x20_0000, 0x1, 2 ** 52 * NS_PER_TICK, false],
    [0xffff_ffff, 0xffff_fffe, 2 ** 52 * NS_PER_TICK, false],
  ];
  for (const [hi, lo, ns, want] of rows) {
    it(`mtimecmp 0x${hi.toString(16)}_${lo.toString(16).padStart(8, '0')} at ${ns} ns: ${want ? 'high' : 'low'}`, () => {
      const t = rig();
      t.wr(MTIMECMP_HI, hi);
      t.wr(MTIMECMP, lo);
      t.setNs(ns);
      assert.equal(t.clint.timerPending, want);
      assert.equal(
        t.clint.timerPending,
        t.clint.mtime() >= t.clint.mtimecmp,
        'the same as the bigint comparison',
      );
    });
  }

  it('with no deadline set, the line is low without reading the clock', () => {
    let reads = 0;
    const clint = new Clint(
      () => undefined,
      () => {
        reads++;
        return 1e12;
      },
    );
    assert.equal(clint.timerPending, false);
    assert.equal(reads, 0);
    clint.mtimecmp = 5n;
    assert.equal(clint.timerPending, true, 'a deadline set through the field counts too');
    assert.equal(reads, 1);
  });

  it('mtime reads both halves from the clock as numbers', () => {
    const t = rig();
    t.setNs((0x123 * 0x1_0000_0000 + 0x9abc_def0) * NS_PER_TICK);
    assert.equal(t.rd(MTIME) >>> 0, 0x9abc_def0);
    assert.equal(t.rd(MTIME_HI) >>> 0, 0x123);
    assert.equal(t.clint.mtime(), 0x123_9abc_def0n);
  });
});
