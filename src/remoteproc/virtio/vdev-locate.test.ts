// The device-side table walk: which vdev entry findVdev picks and what it refuses (table-driven),
// that any bytes give a location or our error, and that LiveVdevFields reads the host's fields at
// the offsets fixed at parse time whatever the host rewrites.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkProperty } from '../../../test/support/property.ts';
import { isRprocError, type ErrnoName } from '../../util/errors.ts';
import { buildRscTable } from '../../rsc/rsc-build.ts';
import { RESOURCE_TABLE } from '../../rsc/rsc-layout.ts';
import type { RscEntrySpec, RscVringSpec } from '../../rsc/rsc-types.ts';
import { LiveVdevFields, findVdev, hasVdev, type FindVdevOptions, type VdevLocation } from './vdev-locate.ts';
import { ALIGN, NUM, V0_DA, V1_DA, VdevBench } from '../../../test/support/vdev-fixtures.ts';

const two = [
  { num: 16, align: 16 },
  { num: 16, align: 16 },
] as const;
const carveout: RscEntrySpec = { kind: 'carveout', len: 0x1000 };
const vdev = (id: number, vrings: readonly RscVringSpec[] = two): RscEntrySpec => ({
  kind: 'vdev',
  id,
  vrings,
});

/** A table whose header says it has 0x1000 entries: parseRscTable reports it, nothing is found. */
function corrupt(): Uint8Array {
  const t = buildRscTable([vdev(11)]);
  new DataView(t.buffer).setUint32(RESOURCE_TABLE.num, 0x1000, true);
  return t;
}

interface Found {
  readonly entryIndex: number;
  readonly id: number;
}
interface Refused {
  readonly code: ErrnoName;
  readonly message: RegExp;
}

const cases: readonly [string, () => Uint8Array, FindVdevOptions, Found | Refused][] = [
  ['the only matching entry', () => buildRscTable([vdev(11)]), { ids: [11] }, { entryIndex: 0, id: 11 }],
  [
    'an entry after others',
    () => buildRscTable([carveout, vdev(7), vdev(11)]),
    { ids: [11] },
    { entryIndex: 2, id: 11 },
  ],
  [
    'any of several ids, counted in table order',
    () => buildRscTable([vdev(3), vdev(7), vdev(11)]),
    { ids: [11, 3], index: 1 },
    { entryIndex: 2, id: 11 },
  ],
  [
    'no entry with the id',
    () => buildRscTable([vdev(7)]),
    { ids: [3, 11], what: 'console vdev' },
    { code: 'ENODEV', message: /has 0 console vdev entries \(id 3 or 11\), no entry 0$/ },
  ],
  [
    'an index past the matching entries',
    () => buildRscTable([vdev(11)]),
    { ids: [11], index: 1 },
    { code: 'ENODEV', message: /has 1 vdev entries \(id 11\), no entry 1/ },
  ],
  [
    'a corrupt table names its first problem',
    corrupt,
    { ids: [11] },
    { code: 'ENODEV', message: /no entry 0; first table problem: / },
  ],
  [
    'a negative index',
    () => buildRscTable([vdev(11)]),
    { ids: [11], index: -1 },
    { code: 'EINVAL', message: /vdev index -1 is not a non-negative integer/ },
  ],
  [
    'a fractional index, named as the caller names it',
    () => buildRscTable([vdev(11)]),
    { ids: [11], index: 0.5, indexName: 'vdevIndex' },
    { code: 'EINVAL', message: /vdevIndex 0.5 is not a non-negative integer/ },
  ],
  [
    'NaN as index',
    () => buildRscTable([vdev(11)]),
    { ids: [11], index: NaN },
    { code: 'EINVAL', message: /vdev index NaN/ },
  ],
  [
    'one vring',
    () => buildRscTable([vdev(11, [{ num: 16, align: 16 }])]),
    { ids: [11] },
    { code: 'EINVAL', message: /vdev \(resource entry 0 at offset 0x\w+\) declares 1 vrings; it needs 2$/ },
  ],
  [
    'one vring, with the caller’s reason',
    () => buildRscTable([vdev(7, [{ num: 16, align: 16 }])]),
    { ids: [7], what: 'rpmsg vdev', needsTwo: 'rpmsg needs 2 (TX and RX)' },
    { code: 'EINVAL', message: /rpmsg vdev .* declares 1 vrings; rpmsg needs 2 \(TX and RX\)/ },
  ],
  [
    'vring num not a power of two',
    () => buildRscTable([vdev(11, [{ num: 12, align: 16 }, two[1]])]),
    { ids: [11] },
    { code: 'EINVAL', message: /vring 0: vring num 12 is not a power of two/ },
  ],
  [
    'vring num 0',
    () => buildRscTable([vdev(11, [two[0], { num: 0, align: 16 }])]),
    { ids: [11] },
    { code: 'EINVAL', message: /vring 1: vring num 0 is not a power of two/ },
  ],
  [
    'vring num above the split-ring maximum',
    () => buildRscTable([vdev(11, [{ num: 0x1_0000, align: 16 }, two[1]])]),
    { ids: [11] },
    { code: 'EINVAL', message: /vring 0: vring num 65536 is not a power of two in 1\.\.32768/ },
  ],
  [
    'vring align not a power of two',
    () => buildRscTable([vdev(11, [two[0], { num: 16, align: 24 }])]),
    { ids: [11] },
    { code: 'EINVAL', message: /vring 1: vring align 24 is not a power of two/ },
  ],
  [
    'the op the caller names',
    () => buildRscTable([]),
    { ids: [11], op: 'console-device' },
    { code: 'ENODEV', message: /has 0 vdev entries/ },
  ],
];

describe('findVdev', () => {
  for (const [name, table, options, want] of cases) {
    it(name, () => {
      if ('code' in want) {
        assert.throws(
          () => findVdev(table(), options),
          (e) =>
            isRprocError(e, want.code) &&
            e.op === (options.op ?? 'vdev-locate') &&
            want.message.test(e.message),
        );
        return;
      }
      const loc = findVdev(table(), options);
      assert.equal(loc.entryIndex, want.entryIndex);
      assert.equal(loc.id, want.id);
    });
  }

  it('keeps what the firmware wrote, as parsed', () => {
    const t = buildRscTable([
      {
        kind: 'vdev',
        id: 11,
        notifyId: 31,
        dfeatures: 0x3000_0001,
        vrings: [
          { num: 8, align: 0x1000, da: 0x8000, notifyId: 5 },
          { num: 32, align: 64, notifyId: 6 },
        ],
        config: new Uint8Array(12),
      },
    ]);
    const loc = findVdev(t, { ids: [11] });
    assert.deepEqual(
      { ...loc, bodyOffset: undefined },
      {
        entryIndex: 0,
        bodyOffset: undefined,
        id: 11,
        numOfVrings: 2,
        configLen: 12,
        dfeatures: 0x3000_0001,
        notifyId: 31,
        vrings: [
          { num: 8, align: 0x1000, da: 0x8000, notifyId: 5 },
          { num: 32, align: 64, da: 0xffff_ffff, notifyId: 6 },
        ],
      },
    );
  });

  it('any bytes, or a good table with bytes changed, give a location or an RprocError', () => {
    const good = buildRscTable([carveout, vdev(11), vdev(3)]);
    const edited = fc
      .array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })
      .map((pokes) => {
        const t = good.slice();
        for (const [off, byte] of pokes) t[off] = byte;
        return t;
      });
    checkProperty(
      'vdev-locate-any-bytes',
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), edited), fc.nat(2), (bytes, index) => {
        let loc: VdevLocation | undefined;
        try {
          loc = findVdev(bytes, { ids: [3, 7, 11], index });
        } catch (e) {
          return isRprocError(e);
        }
        // A location found in arbitrary bytes still has usable geometry and lies inside them.
        new LiveVdevFields(bytes, loc);
        return loc.vrings.every((v) => v.num >= 1 && (v.num & (v.num - 1)) === 0);
      }),
    );
  });
});

describe('hasVdev', () => {
  const tables: readonly [string, Uint8Array, boolean][] = [
    ['an entry with the id', buildRscTable([carveout, vdev(3)]), true],
    ['entries with other ids', buildRscTable([vdev(7)]), false],
    ['a one-vring entry (found, even if findVdev refuses it)', buildRscTable([vdev(3, [two[0]])]), true],
    ['an empty table', buildRscTable([]), false],
    ['no table at all', new Uint8Array(0), false],
    ['garbage', new Uint8Array(64).fill(0xff), false],
  ];
  for (const [name, table, want] of tables) {
    it(`${name}: ${String(want)}`, () => {
      assert.equal(hasVdev(table, [3, 11]), want);
    });
  }
});

describe('LiveVdevFields', () => {
  it('reads status, gfeatures and both vrings as the host wrote them', () => {
    const b = new VdevBench();
    const live = new LiveVdevFields(b.table, b.location);
    assert.equal(live.status(), 0);
    b.place({ gfeatures: 0xffff_ffff, id0: 9, id1: 10 });
    b.status(0xff);
    assert.equal(live.status(), 0xff);
    assert.equal(live.gfeatures(), 0xffff_ffff);
    assert.deepEqual(live.vring(0), { da: V0_DA, align: ALIGN, num: NUM, notifyId: 9 });
    assert.deepEqual(live.vring(1), { da: V1_DA, align: ALIGN, num: NUM, notifyId: 10 });
  });

  it('keeps its offsets when the host rewrites num_of_vrings', () => {
    const b = new VdevBench({ before: [carveout] });
    const live = new LiveVdevFields(b.table, b.location);
    b.place({ da1: 0x9000 });
    for (const n of [0, 1, 255]) {
      b.pokeNumOfVrings(n);
      assert.equal(live.vring(1).da, 0x9000);
    }
  });

  it('refuses a location that does not lie inside the table', () => {
    const b = new VdevBench();
    const short = b.table.subarray(0, b.location.bodyOffset + 30);
    assert.throws(
      () => new LiveVdevFields(short, b.location, 'console-device', 'console vdev entry'),
      (e) => isRprocError(e) && e.op === 'console-device' && /console vdev entry/.test(e.message),
    );
  });
});
