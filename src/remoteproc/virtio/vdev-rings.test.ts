// Validation of the host's vring setup at DRIVER_OK, table-driven over what a hostile or buggy host
// can leave in the live table (rewritten geometry, unplaced, misaligned, unmapped or aliasing rings,
// notify ids), and feature masking whatever gfeatures holds.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FW_RSC_ADDR_ANY } from '../../rsc/rsc-constants.ts';
import { LiveVdevFields } from './vdev-locate.ts';
import { mapVdevRings, overlaps, type VdevQueues } from './vdev-rings.ts';
import { vringSize } from '../../virtio/vring-layout.ts';
import { ALIGN, BASE, MEM_SIZE, NUM, V0_DA, V1_DA, VdevBench } from '../../../test/support/vdev-fixtures.ts';

const SIZE = vringSize(NUM, ALIGN);

function map(
  b: VdevBench,
  more: { supported?: number; translate?: (da: number, len: number) => Uint8Array | undefined } = {},
): VdevQueues | string {
  return mapVdevRings({
    live: new LiveVdevFields(b.table, b.location),
    location: b.location,
    table: b.table,
    name: 'dev',
    labels: ['vring0 (a)', 'vring1 (b)'],
    memoryName: 'the test memory',
    supported: more.supported ?? 0xffff_ffff,
    translate: more.translate ?? b.translate,
    translateBus: b.translate,
  });
}

function refused(got: VdevQueues | string): string {
  assert.ok(typeof got === 'string', 'accepted');
  return got;
}

function accepted(got: VdevQueues | string): VdevQueues {
  if (typeof got === 'string') assert.fail(got);
  return got;
}

/** [what the host did, how, the refusal (undefined: accepted)] */
const cases: readonly [string, (b: VdevBench) => void, RegExp | undefined][] = [
  ['placed both rings as Linux does', () => undefined, undefined],
  [
    'rewrote vring1 num',
    (b) => b.poke(1, 'num', 8),
    /^vring1 num\/align 0x8\/0x1000 differ from the firmware's 0x10\/0x1000$/,
  ],
  [
    'rewrote vring0 align',
    (b) => b.poke(0, 'align', 0x10),
    /^vring0 num\/align 0x10\/0x10 differ from the firmware's 0x10\/0x1000$/,
  ],
  ['wrote 0xffffffff as vring0 num', (b) => b.poke(0, 'num', 0xffff_ffff), /^vring0 num\/align 0xffffffff/],
  [
    'left vring0 at FW_RSC_ADDR_ANY',
    (b) => b.poke(0, 'da', FW_RSC_ADDR_ANY),
    /^vring0 da is still FW_RSC_ADDR_ANY: the host did not place it$/,
  ],
  [
    'misaligned vring1',
    (b) => b.poke(1, 'da', V1_DA + 8),
    /^vring1 da 0x7008 is not aligned to its align 0x1000$/,
  ],
  [
    'freed vring0 notifyid',
    (b) => b.poke(0, 'notifyid', 0xffff_ffff),
    /^vring0 notifyid is 0xffffffff \(unassigned\)$/,
  ],
  [
    'put vring1 across the end of memory',
    (b) => b.poke(1, 'da', BASE + MEM_SIZE - ALIGN),
    /^vring1 at da 0x10000 \(0x1086 bytes for num 16, align 4096\) is outside the test memory$/,
  ],
  ['put vring0 below memory', (b) => b.poke(0, 'da', 0), /^vring0 at da 0x0 .* is outside the test memory$/],
  [
    'put vring0 at the top of the 32-bit space',
    (b) => b.poke(0, 'da', 0xffff_f000),
    /^vring0 at da 0xfffff000 .* is outside the test memory$/,
  ],
  [
    'gave both rings one notify id',
    (b) => b.poke(1, 'notifyid', 2),
    /^vring0 and vring1 have the same notify id 0x2$/,
  ],
  ['put both rings at one address', (b) => b.poke(1, 'da', V0_DA), /^vring0 and vring1 overlap$/],
  [
    'put vring1 one page after vring0 (it is longer than a page)',
    (b) => b.poke(1, 'da', V0_DA + ALIGN),
    /^vring0 and vring1 overlap$/,
  ],
  [
    'put vring0 over the resource table',
    (b) => b.poke(0, 'da', BASE),
    /^a vring overlaps the resource table$/,
  ],
];

describe('mapVdevRings', () => {
  for (const [name, hostile, refusal] of cases) {
    it(`the host ${name}: ${refusal === undefined ? 'accepted' : 'refused'}`, () => {
      const b = new VdevBench();
      b.place();
      hostile(b);
      if (refusal !== undefined) {
        assert.match(refused(map(b)), refusal);
        return;
      }
      const [r0, r1] = accepted(map(b)).rings;
      assert.deepEqual(
        [r0.label, r0.notifyId, r0.memory.length, r0.broken, r0.dirty, r0.vq.num],
        ['vring0 (a)', 2, SIZE, undefined, false, NUM],
      );
      assert.deepEqual([r1.label, r1.notifyId], ['vring1 (b)', 3]);
      assert.ok(r0.memory.byteOffset === V0_DA - BASE && r1.memory.byteOffset === V1_DA - BASE);
    });
  }

  it('a translator that gives back a short view counts as unmapped', () => {
    const b = new VdevBench();
    b.place();
    const short = (da: number, len: number): Uint8Array | undefined => b.translate(da, len - 1);
    assert.match(
      refused(map(b, { translate: short })),
      /^vring0 at da 0x4000 .* is outside the test memory$/,
    );
  });

  it('reads nothing but the table: the rings are not written', () => {
    const b = new VdevBench();
    b.place();
    b.memory.fill(0xa5, V0_DA - BASE, V1_DA - BASE + SIZE);
    const before = b.memory.slice();
    accepted(map(b));
    assert.deepEqual(b.memory, before);
  });

  // [dfeatures (firmware), gfeatures (host), supported (device), negotiated]
  const features: readonly [number, number, number, number][] = [
    [0, 0xffff_ffff, 0xffff_ffff, 0],
    [0x3000_0001, 0xffff_ffff, 0xffff_ffff, 0x3000_0001],
    [0x3000_0001, 0xffff_ffff, 0x2000_0000, 0x2000_0000],
    [0x3000_0001, 0x1000_0000, 0xffff_ffff, 0x1000_0000],
    [0xffff_ffff, 0x8000_0000, 0xffff_ffff, 0x8000_0000],
  ];
  for (const [dfeatures, gfeatures, supported, want] of features) {
    it(`features: d ${dfeatures.toString(16)} ∧ g ${gfeatures.toString(16)} ∧ s ${supported.toString(16)}`, () => {
      const b = new VdevBench({ dfeatures });
      b.place({ gfeatures });
      assert.equal(accepted(map(b, { supported })).features, want);
    });
  }
});

describe('overlaps', () => {
  const buf = new Uint8Array(64);
  const cases: readonly [string, Uint8Array, Uint8Array, boolean][] = [
    ['the same bytes', buf.subarray(0, 8), buf.subarray(0, 8), true],
    ['one byte shared', buf.subarray(0, 8), buf.subarray(7, 9), true],
    ['adjacent', buf.subarray(0, 8), buf.subarray(8, 16), false],
    ['one inside the other', buf.subarray(0, 32), buf.subarray(4, 8), true],
    ['an empty view at the end', buf.subarray(8, 8), buf.subarray(0, 8), false],
    // Conservative: a refused empty buffer costs nothing, a missed overlap would.
    ['an empty view strictly inside', buf.subarray(4, 4), buf.subarray(0, 8), true],
    ['other buffers', new Uint8Array(8), new Uint8Array(8), false],
  ];
  for (const [name, a, b, want] of cases) {
    it(`${name}: ${String(want)}`, () => {
      assert.equal(overlaps(a, b), want);
      assert.equal(overlaps(b, a), want);
    });
  }
});
