// Builder unit tests: layout and alignment, defaults, exact values, refusals, and build → parse
// round trips for each entry kind.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../util/errors.ts';
import { FW_RSC_ADDR_ANY } from './rsc-constants.ts';
import { buildRscTable, type RscBuildOptions } from './rsc-build.ts';
import { checkRscTable, parseRscTable } from './rsc-parse.ts';
import type { RscEntrySpec, RscTable } from './rsc-types.ts';

const offsetsOf = (t: RscTable): number[] => t.entries.map((e) => e.offset);
const isEinval = (e: unknown): boolean => isRprocError(e, 'EINVAL');

const threeEntries: RscEntrySpec[] = [
  { kind: 'vendor', type: 130, body: Uint8Array.of(1, 2, 3) },
  { kind: 'trace', da: 0x100, len: 0x20 },
  { kind: 'vendor', type: 131, body: Uint8Array.of(4) },
];

describe('buildRscTable layout', () => {
  const cases: readonly [string, RscBuildOptions, number[], number][] = [
    // header 16 + 12 = 28; entries of 7, 48 and 5 bytes
    ['8-byte alignment by default', {}, [32, 40, 88], 93],
    ['4-byte alignment', { align: 4 }, [28, 36, 84], 89],
    ['no alignment', { align: 1 }, [28, 35, 83], 88],
    ['16-byte alignment', { align: 16 }, [32, 48, 96], 101],
  ];
  for (const [name, options, offsets, size] of cases) {
    it(`places entries with ${name}`, () => {
      const bytes = buildRscTable(threeEntries, options);
      const table = parseRscTable(bytes);
      assert.deepEqual(offsetsOf(table), offsets);
      assert.equal(bytes.length, size);
    });
  }

  it('zero-fills the padding between entries', () => {
    const bytes = buildRscTable(threeEntries);
    assert.deepEqual(bytes.subarray(28, 32), new Uint8Array(4));
    assert.deepEqual(bytes.subarray(39, 40), new Uint8Array(1));
  });
});

describe('buildRscTable defaults', () => {
  it('lets the host pick carveout and vring addresses and numbers notifyids as Linux will', () => {
    const table = checkRscTable(
      buildRscTable([
        { kind: 'carveout', len: 0x1000 },
        {
          kind: 'vdev',
          id: 7,
          vrings: [
            { align: 16, num: 4 },
            { align: 16, num: 4 },
          ],
        },
        {
          kind: 'vdev',
          id: 3,
          vrings: [
            { align: 16, num: 4 },
            { align: 16, num: 4, notifyId: 42 },
          ],
        },
      ]),
    );
    const [carveout, vdev0, vdev1] = table.entries;
    assert.ok(carveout?.kind === 'carveout' && vdev0?.kind === 'vdev' && vdev1?.kind === 'vdev');
    assert.deepEqual(
      [carveout.da, carveout.pa, carveout.flags, carveout.reserved, carveout.name],
      [FW_RSC_ADDR_ANY, 0, 0, 0, ''],
    );
    assert.deepEqual(
      [vdev0.notifyId, vdev0.dfeatures, vdev0.gfeatures, vdev0.status, vdev0.configLen, vdev0.reserved],
      [0, 0, 0, 0, 0, [0, 0]],
    );
    assert.deepEqual(
      [...vdev0.vrings, ...vdev1.vrings].map((v) => [v.da, v.notifyId, v.pa]),
      [
        [FW_RSC_ADDR_ANY, 0, 0],
        [FW_RSC_ADDR_ANY, 1, 0],
        [FW_RSC_ADDR_ANY, 2, 0],
        [FW_RSC_ADDR_ANY, 42, 0],
      ],
    );
  });

  it('writes values it is given even when the parser will refuse them', () => {
    const table = parseRscTable(
      buildRscTable([
        { kind: 'devmem', da: 1, pa: 2, len: 3, reserved: 4 },
        { kind: 'vdev', id: 7, reserved: [0, 9], vrings: [{ align: 3, num: 0 }] },
      ]),
    );
    assert.equal(table.entries.length, 2);
    assert.deepEqual(
      table.problems.map((p) => p.message.replace(/ at offset 0x[0-9a-f]+/, '')),
      [
        'resource entry 0 (devmem) has reserved 0x4 at 0x2c; it must be zero',
        'resource entry 1 (vdev) has reserved[1] 0x9 at 0x6b; it must be zero',
        'vring 0 of resource entry 1 (vdev) has num 0x0 at 0x74: a vring needs at least one buffer',
        'vring 0 of resource entry 1 (vdev) has align 0x3 at 0x70: not a power of two',
      ],
    );
  });
});

describe('buildRscTable refusals', () => {
  const cases: readonly [string, RscEntrySpec[], RscBuildOptions?][] = [
    ['a vendor entry with a non-vendor type', [{ kind: 'vendor', type: 5 }]],
    ['a vendor entry above RSC_VENDOR_END', [{ kind: 'vendor', type: 513 }]],
    ['an unknown entry with a standard type', [{ kind: 'unknown', type: 3 }]],
    ['an unknown entry with a vendor type', [{ kind: 'unknown', type: 128 }]],
    ['a name of 32 bytes (no room for its NUL)', [{ kind: 'trace', da: 0, len: 0, name: 'x'.repeat(32) }]],
    ['a da above 32 bits', [{ kind: 'carveout', da: 0x1_0000_0000, len: 1 }]],
    ['a negative length', [{ kind: 'trace', da: 0, len: -1 }]],
    ['a status above a byte', [{ kind: 'vdev', id: 7, status: 256, vrings: [] }]],
    ['a reserved byte above a byte', [{ kind: 'vdev', id: 7, reserved: [0, 300], vrings: [] }]],
    ['256 vrings', [{ kind: 'vdev', id: 7, vrings: new Array(256).fill({ align: 4, num: 4 }) }]],
    ['an alignment that is not a power of two', [], { align: 3 }],
    ['an alignment of zero', [], { align: 0 }],
  ];
  for (const [name, specs, options] of cases) {
    it(`refuses ${name} with EINVAL`, () => {
      assert.throws(() => buildRscTable(specs, options), isEinval);
    });
  }
});

describe('buildRscTable round trips', () => {
  // [name, spec, the decoded fields beyond index/offset/bodyOffset/type]
  const cases: readonly [string, RscEntrySpec, Record<string, unknown>][] = [
    [
      'carveout',
      { kind: 'carveout', da: 0x1000, pa: 0x8000_1000, len: 0x2000, flags: 0x3, name: 'fw:carveout' },
      { reserved: 0, nameTerminated: true },
    ],
    [
      'devmem',
      { kind: 'devmem', da: 0x4000_0000, pa: 0x4000_0000, len: 0x1000, flags: 1, name: 'uart' },
      { reserved: 0, nameTerminated: true },
    ],
    [
      'trace',
      { kind: 'trace', da: 0x8010_0000, len: 0x400, name: 'trace%d' },
      { reserved: 0, nameTerminated: true },
    ],
    [
      'vdev',
      {
        kind: 'vdev',
        id: 7,
        notifyId: 2,
        dfeatures: 0x1,
        gfeatures: 0x1,
        status: 0x7,
        vrings: [
          { da: 0x8800_0000, align: 0x1000, num: 256, notifyId: 0, pa: 5 },
          { da: 0x8800_4000, align: 0x1000, num: 256, notifyId: 1, pa: 6 },
        ],
        config: Uint8Array.of(1, 2, 3),
      },
      { reserved: [0, 0], numOfVrings: 2, configLen: 3 },
    ],
  ];
  for (const [name, spec, implied] of cases) {
    for (const endian of ['le', 'be'] as const) {
      it(`reproduces a ${name} entry (${endian})`, () => {
        const entry = checkRscTable(buildRscTable([spec], { endian }), { endian }).entries[0];
        assert.ok(entry !== undefined);
        const { index, offset, bodyOffset, type, ...fields } = entry;
        assert.deepEqual(
          [index, offset, bodyOffset, type],
          [0, 24, 28, ['carveout', 'devmem', 'trace', 'vdev'].indexOf(name)],
        );
        assert.deepEqual(fields, { ...spec, ...implied });
      });
    }
  }
});
