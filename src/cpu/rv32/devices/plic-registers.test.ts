// The PLIC's register window at QEMU virt's layout (hw/intc/sifive_plic.c; the RISC-V PLIC spec's
// memory map), offset by offset at every block's edges: priorities, pending, context 0's enables,
// threshold and claim/complete, each with the last offset that answers and the first that does
// not, what a debugger's peek sees (a claim it does not make), which writes re-sample meip
// (onChange), and the claim order over all 95 sources and three enable words.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Width } from '../bus.ts';
import { PLIC_REG, PLIC_SOURCES, Plic } from './plic.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

const CLAIM = PLIC_REG.CONTEXT + PLIC_REG.CLAIM;
const THRESHOLD = PLIC_REG.CONTEXT + PLIC_REG.THRESHOLD;
const prio = (s: number): number => PLIC_REG.PRIORITY + 4 * s;
const pending = (w: number): number => PLIC_REG.PENDING + 4 * w;
const enable = (w: number): number => PLIC_REG.ENABLE + 4 * w;

function rig() {
  let changes = 0;
  const p = new Plic(() => changes++);
  const r = p.region();
  return {
    p,
    r,
    rd: (off: number, w: Width = 4): number => r.read(off, w),
    pk: (off: number, w: Width = 4): number | undefined => r.peek?.(off, w),
    wr: (off: number, v: number, w: Width = 4): void => r.write(off, w, v),
    changes: () => changes,
  };
}

type Rig = ReturnType<typeof rig>;

/**
 * Sources 1, 31, 32, 63, 64 and 95 (the first and last bit of each word) with priority 1..6 and
 * their lines high, all enabled, threshold 0: every register holds something non-zero.
 */
function loaded(): Rig {
  const t = rig();
  [1, 31, 32, 63, 64, 95].forEach((s, i) => {
    t.wr(prio(s), i + 1);
    t.p.setLevel(s, true);
  });
  t.wr(enable(0), 0xffff_ffff);
  t.wr(enable(1), 0xffff_ffff);
  t.wr(enable(2), 0xffff_ffff);
  return t;
}

describe('PLIC window', () => {
  it("sits at QEMU virt's 0x0c00_0000, 6 MiB", () => {
    const { r } = rig();
    assert.deepEqual([r.name, r.base, r.size], ['plic', RV32_MAP.PLIC, 0x60_0000]);
  });

  // [what, offset, 32-bit read of the loaded PLIC]
  const reads: readonly [string, number, number][] = [
    ['priority of source 0', prio(0), 0],
    ['priority of source 1', prio(1), 1],
    ['priority of source 95, the last', prio(95), 6],
    ['priority of source 96, none', prio(96), 0],
    ['the last word of the priority block', PLIC_REG.PENDING - 4, 0],
    ['pending word 0', pending(0), 0x8000_0002],
    ['pending word 1', pending(1), 0x8000_0001],
    ['pending word 2, the last', pending(2), 0x8000_0001],
    ['pending word 3, none', pending(3), 0],
    ['the last word of the pending block', PLIC_REG.ENABLE - 4, 0],
    ['enable word 0', enable(0), 0xffff_fffe],
    ['enable word 1', enable(1), 0xffff_ffff],
    ['enable word 2, the last', enable(2), 0xffff_ffff],
    ['enable word 3, none', enable(3), 0],
    ["context 0's last enable word", PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE - 4, 0],
    ["context 1's first enable word", PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE, 0],
    ['the word before the context block', PLIC_REG.CONTEXT - 4, 0],
    ['threshold', THRESHOLD, 0],
    ['the word after claim', CLAIM + 4, 0],
    ["context 1's threshold", THRESHOLD + PLIC_REG.CONTEXT_STRIDE, 0],
    ["context 1's claim", CLAIM + PLIC_REG.CONTEXT_STRIDE, 0],
    ['the last word of the window', 0x60_0000 - 4, 0],
  ];
  for (const [name, offset, want] of reads) {
    it(`read ${name} (0x${offset.toString(16)}): 0x${want.toString(16)}`, () => {
      const t = loaded();
      const before = t.changes();
      assert.equal(t.rd(offset), want);
      assert.equal(t.pk(offset), want);
      assert.equal(t.changes(), before, 'reading a register other than claim changes nothing');
      assert.equal(t.rd(CLAIM), 95, 'nothing was claimed');
    });
  }

  it('a claim read is seen by peek without claiming; read, it claims and re-samples meip', () => {
    const t = loaded();
    assert.equal(t.pk(CLAIM), 95);
    assert.equal(t.pk(CLAIM), 95);
    assert.equal(t.changes(), 3 + 6, 'peek told no one');
    assert.equal(t.rd(pending(2)), 0x8000_0001);
    assert.equal(t.rd(CLAIM), 95);
    assert.equal(t.changes(), 3 + 6 + 1);
    assert.equal(t.rd(pending(2)), 1, 'in service: not pending');
    assert.equal(t.pk(CLAIM), 64);
  });

  it('a claim with nothing to claim reads 0 and tells no one', () => {
    const t = rig();
    assert.equal(t.rd(CLAIM), 0);
    assert.equal(t.changes(), 0);
  });

  // [what, offset, value, read back at the offset, onChange calls]
  const writes: readonly [string, number, number, number, number][] = [
    ['priority of source 0', prio(0), 7, 0, 0],
    ['priority of source 1', prio(1), 0xffff_fffd, 5, 1],
    ['priority of source 95', prio(95), 3, 3, 1],
    ['priority of source 96', prio(96), 3, 0, 0],
    ['pending (read-only)', pending(0), 0xffff_ffff, 0, 0],
    ['pending word 2 (read-only)', pending(2), 0xffff_ffff, 0, 0],
    ['enable word 0, source 0 hard-wired off', enable(0), 0xffff_ffff, 0xffff_fffe, 1],
    ['enable word 1', enable(1), 0x8000_0001, 0x8000_0001, 1],
    ['enable word 2', enable(2), 0x8000_0000, 0x8000_0000, 1],
    ['enable word 3', enable(3), 0xffff_ffff, 0, 0],
    ["context 0's last enable word", PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE - 4, 1, 0, 0],
    ["context 1's first enable word", PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE, 1, 0, 0],
    ['threshold keeps 3 bits', THRESHOLD, 0xffff_fffe, 6, 1],
    ['the word after claim', CLAIM + 4, 1, 0, 0],
    ["context 1's threshold", THRESHOLD + PLIC_REG.CONTEXT_STRIDE, 1, 0, 0],
    ['the word before the context block', PLIC_REG.CONTEXT - 4, 1, 0, 0],
  ];
  for (const [name, offset, value, want, calls] of writes) {
    it(`write ${name} (0x${offset.toString(16)}): reads 0x${want.toString(16)}, ${calls} re-sample(s)`, () => {
      const t = rig();
      t.wr(offset, value);
      assert.equal(t.rd(offset), want);
      assert.equal(t.changes(), calls);
    });
  }

  it('a complete is told (meip may rise again) for any id 1..95, in service or not; 0 and 96 are not', () => {
    const t = rig();
    for (const id of [0, 1, 95, 96, 0xffff_ffff]) t.wr(CLAIM, id);
    assert.equal(t.changes(), 2);
  });

  for (const [what, width, offset] of [
    ['a byte', 1, 0],
    ['a half', 2, 0],
    ['a misaligned word', 4, 2],
  ] as const) {
    it(`${what} access is not a register: reads and peeks 0, writes nothing, claims nothing`, () => {
      const t = loaded();
      const before = t.changes();
      for (const base of [prio(1), pending(0), enable(0), THRESHOLD, CLAIM]) {
        assert.equal(t.rd(base + offset, width), 0);
        assert.equal(t.pk(base + offset, width), 0);
        t.wr(base + offset, 7, width);
      }
      assert.equal(t.changes(), before);
      assert.deepEqual([t.rd(prio(1)), t.rd(enable(0)), t.rd(THRESHOLD)], [1, 0xffff_fffe, 0]);
      assert.equal(t.rd(CLAIM), 95);
    });
  }
});

describe('PLIC claim order', () => {
  it('claims every source in priority order, lowest id first among equals, across all three words', () => {
    const t = loaded();
    const order: number[] = [];
    for (let i = 0; i < 7; i++) order.push(t.rd(CLAIM));
    assert.deepEqual(order, [95, 64, 63, 32, 31, 1, 0]);
  });

  it('a source with its line low, or not enabled, is passed over however high its priority', () => {
    const t = rig();
    t.wr(prio(5), 1);
    t.wr(prio(6), 7);
    t.wr(prio(7), 7);
    t.p.setLevel(5, true);
    t.p.setLevel(6, true);
    t.wr(enable(0), (1 << 5) | (1 << 7));
    assert.equal(t.pk(CLAIM), 5, 'source 6 is not enabled, source 7 is low');
  });

  it('the first source of word 1 is not mistaken for the first source of word 2', () => {
    const t = rig();
    t.wr(prio(32), 1);
    t.wr(prio(64), 7);
    t.p.setLevel(32, true);
    t.wr(enable(1), 1);
    t.wr(enable(2), 0);
    assert.equal(t.rd(CLAIM), 32);
  });

  it('ties are broken by the lowest id, also across words', () => {
    const t = rig();
    for (const s of [70, 40, 2]) {
      t.wr(prio(s), 4);
      t.p.setLevel(s, true);
    }
    for (const w of [0, 1, 2]) t.wr(enable(w), 0xffff_ffff);
    assert.deepEqual([t.rd(CLAIM), t.rd(CLAIM), t.rd(CLAIM)], [2, 40, 70]);
  });

  it('meip follows the best source against the threshold: above it yes, equal to it no', () => {
    const t = rig();
    t.wr(prio(33), 4);
    t.p.setLevel(33, true);
    t.wr(enable(1), 2);
    for (const [threshold, meip] of [
      [0, true],
      [3, true],
      [4, false],
      [7, false],
    ] as const) {
      t.wr(THRESHOLD, threshold);
      assert.equal(t.p.meip, meip, `threshold ${threshold}`);
    }
  });

  it('a line lowered before its claim is not claimed; raised again, it is', () => {
    const t = rig();
    t.wr(prio(9), 1);
    t.wr(enable(0), 1 << 9);
    t.p.setLevel(9, true);
    t.p.setLevel(9, false);
    assert.deepEqual([t.rd(pending(0)), t.p.meip], [0, false]);
    t.p.setLevel(9, true);
    t.p.setLevel(9, true);
    assert.deepEqual([t.rd(pending(0)), t.p.meip], [1 << 9, true]);
  });

  it('lines outside 1..95 are not driven: setLevel(0) and setLevel(96) change no pending bit', () => {
    const t = rig();
    t.p.setLevel(0, true);
    t.p.setLevel(96, true);
    t.p.setLevel(-1, true);
    assert.deepEqual(
      [0, 1, 2, 3].map((w) => t.rd(pending(w))),
      [0, 0, 0, 0],
    );
    assert.equal(t.rd(pending(3)), 0);
    t.p.setLevel(PLIC_SOURCES - 1, true);
    assert.equal(t.rd(pending(2)), 0x8000_0000);
  });

  it('completing one source leaves the other sources of its word in service', () => {
    const t = rig();
    for (const s of [33, 34, 40]) {
      t.wr(prio(s), 1);
      t.p.setLevel(s, true);
    }
    t.wr(enable(1), 0xffff_ffff);
    assert.deepEqual([t.rd(CLAIM), t.rd(CLAIM), t.rd(CLAIM), t.rd(CLAIM)], [33, 34, 40, 0]);
    t.wr(CLAIM, 34);
    assert.equal(t.rd(pending(1)), 1 << (34 - 32), 'only 34 is pending again');
    assert.deepEqual([t.rd(CLAIM), t.rd(CLAIM)], [34, 0]);
  });

  it('completing a source in service that is not enabled still takes it out of service', () => {
    const t = rig();
    t.wr(prio(12), 2);
    t.wr(enable(0), 1 << 12);
    t.p.setLevel(12, true);
    assert.equal(t.rd(CLAIM), 12);
    t.wr(enable(0), 0);
    t.wr(CLAIM, 12);
    assert.equal(t.rd(pending(0)), 1 << 12, 'pending again');
    t.wr(enable(0), 1 << 12);
    assert.equal(t.rd(CLAIM), 12);
  });
});
