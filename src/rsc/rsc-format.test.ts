// The debugfs-style dump line for line against rproc_rsc_table_show's wording, our extra lines, and
// the JSON form.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRscTable } from './rsc-build.ts';
import { parseRscTable } from './rsc-parse.ts';
import { RscTableWriter } from './rsc-writer.ts';
import { formatRscTable, rscTableToJson } from './rsc-format.ts';
import type { RscTable } from './rsc-types.ts';

function knownTable(): RscTable {
  const bytes = buildRscTable([
    { kind: 'carveout', da: 0x1000_0000, pa: 0x1000_0000, len: 0x8000, name: 'fw-heap' },
    { kind: 'devmem', da: 0x4000_0000, pa: 0x5000_0000, len: 0x1000, flags: 0x3, name: 'uart0' },
    { kind: 'trace', da: 0x8010_0000, len: 0x1000, name: 'trace0' },
    {
      kind: 'vdev',
      id: 7,
      dfeatures: 1,
      vrings: [
        { align: 0x1000, num: 256 },
        { align: 0x1000, num: 256, notifyId: 0xffff_ffff },
      ],
      config: Uint8Array.of(1, 2),
    },
    { kind: 'vendor', type: 128, body: new Uint8Array(4) },
    { kind: 'unknown', type: 5 },
  ]);
  const vdev = parseRscTable(bytes).entries[3];
  assert.ok(vdev !== undefined);
  new RscTableWriter(bytes).setVdevStatus(vdev.bodyOffset, 0x7);
  return parseRscTable(bytes);
}

// What Linux's debugfs resource_table file shows for the same table (its %pK hdr pointer replaced by
// the table offset). Note Linux's %d on u32 fields: a notifyid of 0xffffffff prints as -1.
const linuxText = `Entry 0 is of type carveout
  Device Address 0x10000000
  Physical Address 0x10000000
  Length 0x8000 Bytes
  Flags 0x0
  Reserved (should be zero) [0]
  Name fw-heap

Entry 1 is of type devmem
  Device Address 0x40000000
  Physical Address 0x50000000
  Length 0x1000 Bytes
  Flags 0x3
  Reserved (should be zero) [0]
  Name uart0

Entry 2 is of type trace
  Device Address 0x80100000
  Length 0x1000 Bytes
  Reserved (should be zero) [0]
  Name trace0

Entry 3 is of type vdev
  ID 7
  Notify ID 0
  Device features 0x1
  Guest features 0x0
  Config length 0x2
  Status 0x7
  Number of vrings 2
  Reserved (should be zero) [0][0]

  Vring 0
    Device Address 0xffffffff
    Alignment 4096
    Number of buffers 256
    Notify ID 0
    Physical Address 0x0

  Vring 1
    Device Address 0xffffffff
    Alignment 4096
    Number of buffers 256
    Notify ID -1
    Physical Address 0x0

Unknown resource type found: 128 [hdr: 0x110]
Unknown resource type found: 5 [hdr: 0x118]
`;

describe('formatRscTable', () => {
  it('prints exactly what Linux prints when extras are off', () => {
    assert.equal(formatRscTable(knownTable(), { extras: false }), linuxText);
  });

  it('keeps every Linux line, in order, when extras are on', () => {
    const lines = formatRscTable(knownTable()).split('\n');
    let at = 0;
    for (const line of linuxText.split('\n')) {
      const found = lines.indexOf(line, at);
      assert.ok(found >= 0, `Linux line ${JSON.stringify(line)} missing after line ${at}`);
      at = found + 1;
    }
  });

  it('adds our annotations after the Linux lines of each entry', () => {
    const text = formatRscTable(knownTable());
    const expectedRuns = [
      '  Name fw-heap\n  Table offset 0x28 (body at 0x2c)\n\nEntry 1',
      '  Name trace0\n  Table offset 0x98 (body at 0x9c)\n\n',
      [
        '  Reserved (should be zero) [0][0]',
        '  Virtio device VIRTIO_ID_RPMSG',
        '  Device feature bits VIRTIO_RPMSG_F_NS',
        '  Guest feature bits none',
        '  Status bits ACKNOWLEDGE DRIVER DRIVER_OK',
        '  Table offset 0xc8 (body at 0xcc)',
        '',
        '  Vring 0',
      ].join('\n'),
      "Unknown resource type found: 128 [hdr: 0x110]\n  Vendor resource 0x80 at offset 0x110, 0x8 bytes to the table end, for the platform driver's handleRsc\n",
      'Unknown resource type found: 5 [hdr: 0x118]\n  Unsupported resource type 0x5 at offset 0x118, skipped\n',
    ];
    for (const run of expectedRuns) assert.ok(text.includes(run), `missing:\n${run}\n--- in:\n${text}`);
    assert.ok(
      text.endsWith(
        [
          'Resource table version 1, 6 entries, 0x11c bytes, little-endian',
          'Problems:',
          '  warning EOPNOTSUPP at 0x118: unsupported resource 5: resource entry 5 at offset 0x118 has type 0x5; skipped',
          '',
        ].join('\n'),
      ),
    );
  });

  it('notes a host-assigned address and an unterminated name', () => {
    const bytes = buildRscTable([{ kind: 'carveout', len: 0x1000, name: 'x' }]);
    bytes.fill(0x41, 0x18 + 4 + 20, 0x18 + 4 + 52);
    const text = formatRscTable(parseRscTable(bytes));
    assert.ok(
      text.includes(
        [
          '  Device Address 0xffffffff',
          '  Physical Address 0x0',
          '  Length 0x1000 Bytes',
          '  Flags 0x0',
          '  Reserved (should be zero) [0]',
          `  Name ${'A'.repeat(32)}`,
          '  Device Address is FW_RSC_ADDR_ANY: the host picks it',
          '  Name is not NUL-terminated within its 32 bytes',
        ].join('\n'),
      ),
    );
  });

  it('prints Linux’s message when there is no table', () => {
    assert.equal(formatRscTable(undefined), 'No resource table found\n');
  });

  it('prints the header summary and every problem of a broken table', () => {
    const text = formatRscTable(parseRscTable(new Uint8Array(8)));
    assert.equal(
      text,
      'Resource table version 0, 0 entries, 0x8 bytes, little-endian\nProblems:\n' +
        '  error EINVAL at 0x0: resource table is 0x8 bytes, shorter than its 0x10-byte header\n',
    );
  });
});

describe('rscTableToJson', () => {
  it('gives plain JSON numbers for every integer and hex for config bytes', () => {
    const json = rscTableToJson(knownTable());
    const round: unknown = JSON.parse(JSON.stringify(json));
    assert.deepEqual(round, json);
    assert.deepEqual(json.entries[3], {
      index: 3,
      offset: 0xc8,
      bodyOffset: 0xcc,
      type: 3,
      kind: 'vdev',
      id: 7,
      notifyId: 0,
      dfeatures: 1,
      gfeatures: 0,
      configLen: 2,
      status: 7,
      numOfVrings: 2,
      reserved: [0, 0],
      vrings: [
        { da: 0xffff_ffff, align: 0x1000, num: 256, notifyId: 0, pa: 0 },
        { da: 0xffff_ffff, align: 0x1000, num: 256, notifyId: 0xffff_ffff, pa: 0 },
      ],
      config: '0102',
    });
    assert.deepEqual(json.entries[4], {
      index: 4,
      offset: 0x110,
      bodyOffset: 0x114,
      type: 128,
      kind: 'vendor',
      avail: 8,
    });
    assert.deepEqual(json.problems, [
      {
        severity: 'warning',
        code: 'EOPNOTSUPP',
        offset: 0x118,
        message: 'unsupported resource 5: resource entry 5 at offset 0x118 has type 0x5; skipped',
      },
    ]);
    assert.deepEqual(
      { ...json, entries: [], problems: [] },
      { ver: 1, num: 6, size: 0x11c, endian: 'le', entries: [], problems: [] },
    );
  });
});
