// Parser unit tests on well-formed tables: decoded fields, offsets, endianness, copies vs views, and
// the contract of checkRscTable (first error thrown, warnings tolerated). Malformed tables: see
// rsc-malformed.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RprocError } from '../util/errors.ts';
import { ByteView } from '../util/bytes.ts';
import { FW_RSC_ADDR_ANY, VIRTIO_ID_RPMSG } from './rsc-constants.ts';
import { buildRscTable } from './rsc-build.ts';
import { checkRscTable, parseRscTable } from './rsc-parse.ts';
import type { RscEntry } from './rsc-types.ts';

// Laid out with the default 8-byte alignment: header 16 + 4·4 = 0x20, then
// carveout 0x20 (56 bytes), trace 0x58 (48), vdev 0x88 (4 + 24 + 40 + 2), vendor 0xd0 (4 + 4).
const sample = buildRscTable([
  { kind: 'carveout', da: 0x1000_0000, len: 0x10_0000, flags: 0x7, name: 'fw-heap' },
  { kind: 'trace', da: 0x8010_0000, len: 0x1000, name: 'trace0' },
  {
    kind: 'vdev',
    id: VIRTIO_ID_RPMSG,
    dfeatures: 1,
    vrings: [
      { align: 0x1000, num: 256 },
      { align: 0x1000, num: 256 },
    ],
    config: Uint8Array.of(0xab, 0xcd),
  },
  { kind: 'vendor', type: 0x80, body: Uint8Array.of(9, 9, 9, 9) },
]);

const expectedEntries: RscEntry[] = [
  {
    index: 0,
    offset: 0x20,
    bodyOffset: 0x24,
    type: 0,
    kind: 'carveout',
    da: 0x1000_0000,
    pa: 0,
    len: 0x10_0000,
    flags: 0x7,
    reserved: 0,
    name: 'fw-heap',
    nameTerminated: true,
  },
  {
    index: 1,
    offset: 0x58,
    bodyOffset: 0x5c,
    type: 2,
    kind: 'trace',
    da: 0x8010_0000,
    len: 0x1000,
    reserved: 0,
    name: 'trace0',
    nameTerminated: true,
  },
  {
    index: 2,
    offset: 0x88,
    bodyOffset: 0x8c,
    type: 3,
    kind: 'vdev',
    id: 7,
    notifyId: 0,
    dfeatures: 1,
    gfeatures: 0,
    configLen: 2,
    status: 0,
    numOfVrings: 2,
    reserved: [0, 0],
    vrings: [
      { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 256, notifyId: 0, pa: 0 },
      { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 256, notifyId: 1, pa: 0 },
    ],
    config: Uint8Array.of(0xab, 0xcd),
  },
  { index: 3, offset: 0xd0, bodyOffset: 0xd4, type: 0x80, kind: 'vendor', avail: 4 },
];

describe('parseRscTable on well-formed tables', () => {
  it('decodes every entry with its index, offsets and fields', () => {
    const table = parseRscTable(sample);
    assert.equal(sample.length, 0xd8);
    assert.deepEqual(table, {
      ver: 1,
      num: 4,
      size: 0xd8,
      endian: 'le',
      entries: expectedEntries,
      problems: [],
    });
  });

  it('decodes a big-endian table to the same entries', () => {
    const specs = [
      { kind: 'trace', da: 0x0102_0304, len: 0x10, name: 'be' },
      { kind: 'vdev', id: 3, vrings: [{ align: 4, num: 2 }] },
    ] as const;
    const le = parseRscTable(buildRscTable(specs));
    const be = parseRscTable(buildRscTable(specs, { endian: 'be' }), { endian: 'be' });
    assert.deepEqual(be.entries, le.entries);
    assert.equal(be.endian, 'be');
    // The same bytes read with the wrong byte order are not a version-1 table.
    assert.equal(parseRscTable(buildRscTable(specs, { endian: 'be' })).ver, 0x0100_0000);
  });

  it('accepts num = 0 as a table without resources', () => {
    const table = checkRscTable(buildRscTable([]));
    assert.deepEqual([table.size, table.num, table.entries, table.problems], [16, 0, [], []]);
  });

  it('gives a vendor entry the bytes from its body to the table end, as Linux does', () => {
    const bytes = buildRscTable([
      { kind: 'vendor', type: 200, body: new Uint8Array(8) },
      { kind: 'trace', da: 0, len: 0 },
    ]);
    const [vendor, trace] = parseRscTable(bytes).entries;
    assert.ok(vendor?.kind === 'vendor' && trace?.kind === 'trace');
    assert.equal(vendor.avail, bytes.length - vendor.bodyOffset);
    assert.ok(vendor.avail > 8 + 48);
  });

  it('copies the vdev config space rather than viewing the table', () => {
    const bytes = sample.slice();
    const vdev = parseRscTable(bytes).entries[2];
    assert.ok(vdev?.kind === 'vdev');
    bytes.fill(0);
    assert.deepEqual(vdev.config, Uint8Array.of(0xab, 0xcd));
  });

  it('reads names literally, escaping bytes outside printable ASCII', () => {
    const bytes = buildRscTable([{ kind: 'carveout', len: 1, name: '%s%n %x' }]);
    const literal = checkRscTable(bytes);
    assert.ok(literal.entries[0]?.kind === 'carveout');
    assert.equal(literal.entries[0].name, '%s%n %x');
    assert.deepEqual(literal.problems, []);
    const v = new ByteView(bytes, 'le', { what: 'table', op: 'test' });
    v.setU8(0x18 + 4 + 20 + 2, 0x01, 'name[2]');
    const entry = parseRscTable(bytes).entries[0];
    assert.ok(entry?.kind === 'carveout');
    assert.equal(entry.name, '%s\\x01n %x');
  });

  it('reads a table that is a view into a larger buffer', () => {
    const big = new Uint8Array(sample.length + 64);
    big.set(sample, 32);
    const table = parseRscTable(big.subarray(32, 32 + sample.length));
    assert.deepEqual(table.entries, expectedEntries);
  });
});

describe('checkRscTable', () => {
  it('returns the table when there are only warnings', () => {
    const bytes = buildRscTable([{ kind: 'unknown', type: 5 }]);
    const table = checkRscTable(bytes);
    assert.equal(table.problems.length, 1);
    assert.equal(table.problems[0]?.severity, 'warning');
  });

  it('throws the first error as an RprocError with its offset', () => {
    const bytes = buildRscTable([
      { kind: 'trace', da: 0, len: 0, reserved: 5 },
      { kind: 'carveout', len: 1, reserved: 6 },
    ]);
    const table = parseRscTable(bytes);
    assert.deepEqual(
      table.problems.map((p) => [p.severity, p.code, p.offset]),
      [
        ['error', 'EINVAL', 0x18 + 4 + 8],
        ['error', 'EINVAL', 0x48 + 4 + 16],
      ],
    );
    assert.throws(
      () => checkRscTable(bytes),
      (e) =>
        e instanceof RprocError &&
        e.code === 'EINVAL' &&
        e.op === 'rsc-parse' &&
        e.offset === 0x24 &&
        e.message ===
          'EINVAL: resource entry 0 (trace) at offset 0x18 has reserved 0x5 at 0x24; it must be zero',
    );
  });
});
