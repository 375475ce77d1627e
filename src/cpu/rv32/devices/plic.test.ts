// The PLIC at QEMU virt's layout: WARL priorities, pending from the source lines, claim of the
// highest priority above the threshold (lowest id on a tie), a claimed source out of the running
// until completion, then pending again while its line is still high; context 0 drives meip.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLIC_REG, PLIC_SOURCES, Plic } from './plic.ts';

function plic(): {
  p: Plic;
  rd: (off: number) => number;
  wr: (off: number, v: number) => void;
  changes: () => number;
} {
  let changes = 0;
  const p = new Plic(() => changes++);
  const region = p.region();
  return {
    p,
    rd: (off) => region.read(off, 4) >>> 0,
    wr: (off, v) => region.write(off, 4, v),
    changes: () => changes,
  };
}

const CLAIM = PLIC_REG.CONTEXT + PLIC_REG.CLAIM;
const THRESHOLD = PLIC_REG.CONTEXT + PLIC_REG.THRESHOLD;
const prio = (s: number): number => PLIC_REG.PRIORITY + 4 * s;

describe('PLIC', () => {
  it('priorities keep 3 bits; source 0 has none; enable bit 0 is hard-wired to 0', () => {
    const { rd, wr } = plic();
    wr(prio(10), 0xff);
    assert.equal(rd(prio(10)), 7);
    wr(prio(0), 5);
    assert.equal(rd(prio(0)), 0);
    wr(PLIC_REG.ENABLE, 0xffff_ffff);
    assert.equal(rd(PLIC_REG.ENABLE), 0xffff_fffe);
    wr(prio(PLIC_SOURCES), 3);
    assert.equal(rd(prio(PLIC_SOURCES)), 0);
  });

  it('a high line is pending; enabled with priority above the threshold it raises meip', () => {
    const { p, rd, wr } = plic();
    p.setLevel(10, true);
    assert.equal(rd(PLIC_REG.PENDING), 1 << 10);
    assert.equal(p.meip, false, 'priority 0 never interrupts');
    wr(prio(10), 1);
    assert.equal(p.meip, false, 'not enabled');
    wr(PLIC_REG.ENABLE, 1 << 10);
    assert.equal(p.meip, true);
    wr(THRESHOLD, 1);
    assert.equal(p.meip, false, 'priority must exceed the threshold');
    wr(THRESHOLD, 0);
    p.setLevel(10, false);
    assert.equal(p.meip, false);
    assert.equal(rd(PLIC_REG.PENDING), 0);
  });

  it('claims the highest priority first, the lowest id on a tie; completion re-arms a line still high', () => {
    const { p, rd, wr, changes } = plic();
    for (const [s, pr] of [
      [3, 2],
      [10, 5],
      [33, 5],
      [40, 1],
    ] as const) {
      wr(prio(s), pr);
      p.setLevel(s, true);
    }
    wr(PLIC_REG.ENABLE, (1 << 3) | (1 << 10));
    wr(PLIC_REG.ENABLE + 4, (1 << (33 - 32)) | (1 << (40 - 32)));
    const before = changes();
    const order = [rd(CLAIM), rd(CLAIM), rd(CLAIM), rd(CLAIM), rd(CLAIM)];
    assert.deepEqual(order, [10, 33, 3, 40, 0]);
    assert.equal(changes() - before, 4, 'each claim may lower meip');
    assert.equal(p.meip, false, 'everything in service');
    assert.equal(rd(PLIC_REG.PENDING), 0);
    p.setLevel(3, false);
    wr(CLAIM, 3);
    wr(CLAIM, 10);
    assert.equal(p.meip, true, 'source 10 is still high: pending again');
    assert.equal(rd(CLAIM), 10);
    assert.equal(rd(CLAIM), 0, 'source 3 went low before its completion: not pending');
  });

  it('ignores other contexts and widths other than 32 bits', () => {
    const { p, wr } = plic();
    const region = p.region();
    wr(prio(10), 1);
    wr(PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE, 1 << 10); // context 1 (S-mode on QEMU virt)
    p.setLevel(10, true);
    assert.equal(p.meip, false);
    region.write(PLIC_REG.ENABLE, 1, 0xff);
    assert.equal(region.read(PLIC_REG.ENABLE, 4), 0);
    assert.equal(region.read(PLIC_REG.CONTEXT + PLIC_REG.CONTEXT_STRIDE + PLIC_REG.CLAIM, 4), 0);
  });
});
