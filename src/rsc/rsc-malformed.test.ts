// The malformed-table cases of docs/malformed-input-cases.md (TC-R03…R29) that concern the parser, one
// named test each: exact code, severity and offset, and a message that names the value in hex.
// Offsets below follow the builder's layout: header 16 + 4·num, entries aligned to 8.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RprocError, type ErrnoName } from '../util/errors.ts';
import { ByteView } from '../util/bytes.ts';
import type { Severity } from '../util/problems.ts';
import { FW_RSC_VDEV, FW_RSC_VDEV_VRING, vringOffset } from './rsc-layout.ts';
import { buildRscTable } from './rsc-build.ts';
import { checkRscTable, parseRscTable } from './rsc-parse.ts';
import { formatRscTable } from './rsc-format.ts';
import type { RscEntrySpec, RscTable, RscVdevSpec } from './rsc-types.ts';

interface Expected {
  readonly severity: Severity;
  readonly code: ErrnoName;
  readonly offset: number;
  /** Values the message must name, each as 0x… hex. */
  readonly values: readonly number[];
  /** Words the message must contain. */
  readonly words?: readonly string[];
}

function patchU32(bytes: Uint8Array, off: number, value: number): Uint8Array {
  new ByteView(bytes, 'le', { what: 'test table', op: 'test' }).setU32(off, value, 'patch');
  return bytes;
}

function patchU8(bytes: Uint8Array, off: number, value: number): Uint8Array {
  new ByteView(bytes, 'le', { what: 'test table', op: 'test' }).setU8(off, value, 'patch');
  return bytes;
}

function namesHex(message: string, value: number): boolean {
  return new RegExp(`0x${value.toString(16)}(?![0-9a-f])`).test(message);
}

/** The table has exactly one problem, as expected; checkRscTable throws it iff it is an error. */
function expectOnly(bytes: Uint8Array, expected: Expected): RscTable {
  const table = parseRscTable(bytes);
  const listing = table.problems.map((p) => `${p.severity} ${p.code} @${p.offset}: ${p.message}`).join('\n');
  assert.equal(table.problems.length, 1, `expected one problem, got:\n${listing}`);
  const [p] = table.problems;
  assert.ok(p !== undefined);
  assert.deepEqual(
    [p.severity, p.code, p.offset],
    [expected.severity, expected.code, expected.offset],
    listing,
  );
  for (const v of expected.values)
    assert.ok(namesHex(p.message, v), `"${p.message}" should name 0x${v.toString(16)}`);
  for (const w of expected.words ?? []) assert.ok(p.message.includes(w), `"${p.message}" should say "${w}"`);
  if (expected.severity === 'error') {
    assert.throws(
      () => checkRscTable(bytes),
      (e) =>
        e instanceof RprocError &&
        e.code === expected.code &&
        e.offset === expected.offset &&
        e.message === `${expected.code}: ${p.message}`,
    );
  } else {
    assert.deepEqual(checkRscTable(bytes), table);
  }
  return table;
}

const trace: RscEntrySpec = { kind: 'trace', da: 0x8010_0000, len: 0x1000, name: 'trace0' };
const rpmsgVdev = (vrings = 2): RscVdevSpec => ({
  kind: 'vdev',
  id: 7,
  dfeatures: 1,
  vrings: Array.from({ length: vrings }, () => ({ align: 0x1000, num: 256 })),
});
// A single entry sits at 0x18 (16 + 4, aligned to 8), its body at 0x1c.
const ENTRY = 0x18;
const BODY = 0x1c;

describe('TC-R03..R06: table header', () => {
  it('TC-R03 table version 0, 2 and 0xffffffff is rejected', () => {
    for (const ver of [0, 2, 0xffff_ffff]) {
      expectOnly(patchU32(buildRscTable([]), 0, ver), {
        severity: 'error',
        code: 'EINVAL',
        offset: 0,
        values: [ver],
        words: ['version'],
      });
    }
  });

  it('TC-R04 reserved[0] or reserved[1] ≠ 0 is rejected', () => {
    expectOnly(patchU32(buildRscTable([]), 8, 1), {
      severity: 'error',
      code: 'EINVAL',
      offset: 8,
      values: [1],
      words: ['reserved[0]'],
    });
    expectOnly(patchU32(buildRscTable([]), 12, 0xdead_beef), {
      severity: 'error',
      code: 'EINVAL',
      offset: 12,
      values: [0xdead_beef],
      words: ['reserved[1]'],
    });
  });

  it('TC-R05 num whose offset[] overruns the table is rejected, including 4·num wrapping 32 bits', () => {
    // [num, bytes needed for header + offset[]]
    const cases: readonly [number, number][] = [
      [1, 0x14],
      [0x4000_0000, 0x1_0000_0010], // 4·num = 0 in u32 arithmetic
      [0x4000_0001, 0x1_0000_0014],
      [0xffff_ffff, 16 + 4 * 0xffff_ffff],
    ];
    for (const [num, needed] of cases) {
      const table = expectOnly(patchU32(buildRscTable([]), 4, num), {
        severity: 'error',
        code: 'EINVAL',
        offset: 4,
        values: [num, needed, 0x10],
        words: ['table end'],
      });
      assert.deepEqual(table.entries, []);
    }
  });

  it('TC-R06 num = 0 is a valid table without resources', () => {
    const table = checkRscTable(buildRscTable([]));
    assert.deepEqual([table.ver, table.num, table.entries, table.problems], [1, 0, [], []]);
    // Trailing bytes after an empty header (a padded section) change nothing.
    const padded = new Uint8Array(64);
    padded.set(buildRscTable([]));
    assert.deepEqual(checkRscTable(padded).problems, []);
  });
});

describe('TC-R11..R14: entry offsets', () => {
  it('TC-R11 an entry offset at or past the table end, or within 4 bytes of it, is rejected', () => {
    const size = buildRscTable([trace]).length;
    for (const offset of [size, size - 1, size - 3, 0x7fff_ffff]) {
      const table = expectOnly(patchU32(buildRscTable([trace]), 0x10, offset), {
        severity: 'error',
        code: 'EINVAL',
        offset: 0x10, // offset[0]
        values: [offset, size],
        words: ['runs past the table end'],
      });
      assert.deepEqual(table.entries, []);
    }
  });

  it('TC-R11 boundary: a header ending exactly at the table end is accepted', () => {
    const bytes = buildRscTable([{ kind: 'vendor', type: 0x80 }]);
    const table = checkRscTable(bytes);
    assert.deepEqual(table.entries, [
      { index: 0, offset: bytes.length - 4, bodyOffset: bytes.length, type: 0x80, kind: 'vendor', avail: 0 },
    ]);
  });

  it('TC-R12 entry offset ≥ 0x80000000 is rejected, not read before the table', () => {
    for (const offset of [0x8000_0000, 0xffff_fff0, 0xffff_fffc, 0xffff_ffff]) {
      const table = expectOnly(patchU32(buildRscTable([trace]), 0x10, offset), {
        severity: 'error',
        code: 'EINVAL',
        offset: 0x10,
        values: [offset],
        words: ['negative', 'before the table'],
      });
      assert.deepEqual(table.entries, []);
    }
  });

  it('TC-R12 an entry inside the header or offset[] is rejected too', () => {
    for (const offset of [0, 4, 0x10]) {
      expectOnly(patchU32(buildRscTable([trace]), 0x10, offset), {
        severity: 'error',
        code: 'EINVAL',
        offset: 0x10,
        values: [offset, 0x14],
        words: ['inside the table header'],
      });
    }
  });

  it('TC-R13 an unaligned entry offset is accepted with a warning and read byte-wise', () => {
    // header 0x18; a vendor entry of 4 + 1 bytes at 0x18 puts the trace at 0x1d
    const bytes = buildRscTable([{ kind: 'vendor', type: 0x90, body: Uint8Array.of(0xee) }, trace], {
      align: 1,
    });
    const table = expectOnly(bytes, {
      severity: 'warning',
      code: 'EINVAL',
      offset: 0x14, // offset[1]
      values: [0x1d],
      words: ['not 4-byte aligned'],
    });
    assert.deepEqual(table.entries[1], {
      index: 1,
      offset: 0x1d,
      bodyOffset: 0x21,
      type: 2,
      kind: 'trace',
      da: 0x8010_0000,
      len: 0x1000,
      reserved: 0,
      name: 'trace0',
      nameTerminated: true,
    });
  });

  it('TC-R14 two offsets to the same vdev entry are rejected', () => {
    const bytes = buildRscTable([rpmsgVdev(), trace]);
    patchU32(bytes, 0x14, ENTRY);
    expectOnly(bytes, {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14, // offset[1]
      values: [ENTRY],
      words: ['same entry as resource entry 0'],
    });
  });

  it('TC-R14 an entry starting inside another entry is rejected', () => {
    // Entry 1 is moved onto the carveout's flags word (2 = RSC_TRACE): a trace overlapping the carveout.
    const bytes = buildRscTable([{ kind: 'carveout', len: 0x1000, flags: 2, name: 'x' }, trace]);
    patchU32(bytes, 0x14, BODY + 12);
    const table = expectOnly(bytes, {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      values: [BODY + 12, ENTRY, ENTRY + 56],
      words: ['overlaps resource entry 0'],
    });
    assert.deepEqual(
      table.entries.map((e) => [e.kind, e.offset]),
      [
        ['carveout', ENTRY],
        ['trace', BODY + 12],
      ],
    );
  });
});

describe('TC-R15..R22: entry contents', () => {
  // [name, specs, bytes to cut off the end, bytes the body needs, bytes available]
  const truncations: readonly [string, RscEntrySpec, number, number, number][] = [
    ['carveout with avail 51 < 52', { kind: 'carveout', len: 1 }, 1, 0x34, 0x33],
    ['devmem with avail 51 < 52', { kind: 'devmem', da: 0, pa: 0, len: 1 }, 1, 0x34, 0x33],
    ['trace with avail 43 < 44', trace, 1, 0x2c, 0x2b],
    ['vdev with avail 63 < 24 + 2·20', rpmsgVdev(), 1, 0x40, 0x3f],
    ['vdev with avail 23 < 24', rpmsgVdev(), 41, 0x18, 0x17],
  ];
  for (const [name, spec, cut, needed, avail] of truncations) {
    it(`TC-R15 ${name} is rejected as truncated`, () => {
      const full = buildRscTable([spec]);
      const table = expectOnly(full.slice(0, full.length - cut), {
        severity: 'error',
        code: 'EINVAL',
        offset: ENTRY,
        values: [needed, avail, full.length - cut],
        words: ['truncated'],
      });
      assert.deepEqual(table.entries, []);
    });
  }

  it('TC-R15 vdev with config_len 0xffffffff is rejected without 32-bit wrap', () => {
    const bytes = patchU32(buildRscTable([rpmsgVdev()]), BODY + FW_RSC_VDEV.config_len, 0xffff_ffff);
    expectOnly(bytes, {
      severity: 'error',
      code: 'EINVAL',
      offset: ENTRY,
      values: [0xffff_ffff, 0x40 + 0xffff_ffff, 0x40],
      words: ['truncated'],
    });
  });

  const reservedCases: readonly [string, RscEntrySpec, number, number][] = [
    ['carveout reserved', { kind: 'carveout', len: 1, reserved: 1 }, BODY + 16, 1],
    [
      'devmem reserved',
      { kind: 'devmem', da: 0, pa: 0, len: 1, reserved: 0x8000_0000 },
      BODY + 16,
      0x8000_0000,
    ],
    ['trace reserved', { ...trace, reserved: 0xff }, BODY + 8, 0xff],
    ['vdev reserved[0]', { ...rpmsgVdev(), reserved: [1, 0] }, BODY + 22, 1],
    ['vdev reserved[1]', { ...rpmsgVdev(), reserved: [0, 0x80] }, BODY + 23, 0x80],
  ];
  for (const [name, spec, offset, value] of reservedCases) {
    it(`TC-R16 ${name} ≠ 0 is rejected`, () => {
      expectOnly(buildRscTable([spec]), {
        severity: 'error',
        code: 'EINVAL',
        offset,
        values: [value],
        words: ['must be zero'],
      });
    });
  }

  it('TC-R16 both vdev reserved bytes set are reported separately', () => {
    const table = parseRscTable(buildRscTable([{ ...rpmsgVdev(), reserved: [0xff, 0xff] }]));
    assert.deepEqual(
      table.problems.map((p) => [p.severity, p.offset]),
      [
        ['error', BODY + 22],
        ['error', BODY + 23],
      ],
    );
  });

  it('TC-R17 vdev with num_of_vrings = 3 is rejected as too many vrings', () => {
    expectOnly(buildRscTable([rpmsgVdev(3)]), {
      severity: 'error',
      code: 'EINVAL',
      offset: BODY + FW_RSC_VDEV.num_of_vrings,
      values: [3],
      words: ['too many vrings'],
    });
  });

  it('TC-R17 vdev with num_of_vrings = 255 is rejected as too many vrings (and truncated)', () => {
    const bytes = patchU8(buildRscTable([rpmsgVdev()]), BODY + FW_RSC_VDEV.num_of_vrings, 255);
    const table = parseRscTable(bytes);
    assert.deepEqual(
      table.problems.map((p) => [p.severity, p.code, p.offset]),
      [
        ['error', 'EINVAL', ENTRY],
        ['error', 'EINVAL', BODY + FW_RSC_VDEV.num_of_vrings],
      ],
    );
    assert.ok(table.problems[1]?.message.includes('too many vrings'));
    assert.ok(namesHex(table.problems[1]?.message ?? '', 0xff));
    assert.deepEqual(table.entries, []);
  });

  const vringField = (i: number, field: number): number => vringOffset(BODY, i) + field;
  const vringCases: readonly [string, string, number, keyof typeof FW_RSC_VDEV_VRING, number, string][] = [
    ['TC-R18', 'vring num = 0', 1, 'num', 0, 'at least one buffer'],
    ['TC-R18', 'vring align = 0', 0, 'align', 0, 'non-zero alignment'],
    ['TC-R19', 'vring num not a power of two', 0, 'num', 24, 'not a power of two'],
    ['TC-R19', 'vring num = 3', 1, 'num', 3, 'not a power of two'],
    ['TC-R19', 'vring num > 32768', 0, 'num', 0x1_0000, 'virtio maximum 0x8000'],
    ['TC-R19', 'vring num = 0xffffffff', 1, 'num', 0xffff_ffff, 'virtio maximum 0x8000'],
    ['TC-R19', 'vring align not a power of two', 0, 'align', 0x30, 'not a power of two'],
    ['TC-R19', 'vring align = 0xffffffff', 1, 'align', 0xffff_ffff, 'not a power of two'],
  ];
  for (const [tc, name, i, field, value, reason] of vringCases) {
    it(`${tc} ${name} is rejected`, () => {
      const offset = vringField(i, FW_RSC_VDEV_VRING[field]);
      expectOnly(patchU32(buildRscTable([rpmsgVdev()]), offset, value), {
        severity: 'error',
        code: 'EINVAL',
        offset,
        values: [value],
        words: [`vring ${i}`, field, reason],
      });
    });
  }

  it('TC-R19 boundary: num 1 and 32768, align 1 and 0x80000000 are accepted', () => {
    const table = checkRscTable(
      buildRscTable([
        {
          kind: 'vdev',
          id: 7,
          vrings: [
            { align: 1, num: 1 },
            { align: 0x8000_0000, num: 32768 },
          ],
        },
      ]),
    );
    assert.deepEqual(table.problems, []);
  });

  it('TC-R21 vdev with num_of_vrings = 0 parses, with a warning', () => {
    const table = expectOnly(buildRscTable([rpmsgVdev(0)]), {
      severity: 'warning',
      code: 'EINVAL',
      offset: BODY + FW_RSC_VDEV.num_of_vrings,
      values: [0],
      words: ['no vrings'],
    });
    const [vdev] = table.entries;
    assert.ok(vdev?.kind === 'vdev');
    assert.deepEqual([vdev.numOfVrings, vdev.vrings], [0, []]);
  });

  it('TC-R22 a carveout name without NUL is read as exactly 32 literal bytes, with a warning', () => {
    const bytes = buildRscTable([{ kind: 'carveout', len: 1 }, trace]);
    bytes.fill(0x41, BODY + 20, BODY + 52); // the next bytes are the trace's type word, 02 00 00 00
    const table = expectOnly(bytes, {
      severity: 'warning',
      code: 'EINVAL',
      offset: BODY + 20,
      values: [BODY + 20],
      words: ['no NUL within its 32 bytes'],
    });
    const [carveout] = table.entries;
    assert.ok(carveout?.kind === 'carveout');
    assert.deepEqual([carveout.name, carveout.nameTerminated], ['A'.repeat(32), false]);
  });

  it('TC-R22 a trace name without NUL gets the same treatment', () => {
    const bytes = buildRscTable([trace, trace]);
    bytes.fill(0x7a, BODY + 12, BODY + 44);
    const table = expectOnly(bytes, {
      severity: 'warning',
      code: 'EINVAL',
      offset: BODY + 12,
      values: [BODY + 12],
    });
    assert.ok(table.entries[0]?.kind === 'trace');
    assert.equal(table.entries[0].name, 'z'.repeat(32));
  });

  it("TC-R22 '%' sequences in a name are plain characters", () => {
    const name = '%s%n%x%%%p%999999d';
    const table = checkRscTable(buildRscTable([{ kind: 'carveout', len: 1, name }]));
    assert.deepEqual(table.problems, []);
    assert.ok(table.entries[0]?.kind === 'carveout');
    assert.equal(table.entries[0].name, name);
  });
});

describe('TC-R28..R29: entry types and scale', () => {
  for (const type of [4, 5, 127, 513, 0x1_0000, 0xffff_ffff]) {
    it(`TC-R28 unknown type ${type} is skipped with an "unsupported resource" warning`, () => {
      const table = expectOnly(buildRscTable([{ kind: 'unknown', type }, trace]), {
        severity: 'warning',
        code: 'EOPNOTSUPP',
        offset: ENTRY,
        values: [type],
        words: ['unsupported resource', 'skipped'],
      });
      assert.deepEqual(
        table.entries.map((e) => e.kind),
        ['unknown', 'trace'],
      );
    });
  }

  it('TC-R28 vendor types 128..512 are surfaced for handleRsc with avail to the table end', () => {
    for (const type of [128, 300, 512]) {
      const bytes = buildRscTable([{ kind: 'vendor', type, body: Uint8Array.of(1, 2, 3, 4) }, trace]);
      const table = checkRscTable(bytes);
      assert.deepEqual(table.problems, []);
      assert.deepEqual(table.entries[0], {
        index: 0,
        offset: ENTRY,
        bodyOffset: BODY,
        type,
        kind: 'vendor',
        avail: bytes.length - BODY,
      });
    }
  });

  it('TC-R29 10 000 small entries parse in one bounded linear pass', () => {
    const specs: RscEntrySpec[] = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 === 0 ? { kind: 'vendor', type: 0x80 + (i % 0x100) } : { kind: 'trace', da: i, len: 16 },
    );
    const bytes = buildRscTable(specs);
    const start = performance.now();
    const table = checkRscTable(bytes);
    const elapsed = performance.now() - start;
    assert.equal(table.entries.length, 10_000);
    assert.deepEqual(table.problems, []);
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
  });

  it('TC-R29 10 000 offsets to one entry give one error each, still in linear time', () => {
    const bytes = buildRscTable(Array.from({ length: 10_000 }, () => trace));
    const first = 16 + 4 * 10_000;
    for (let i = 1; i < 10_000; i++) patchU32(bytes, 16 + 4 * i, first);
    const start = performance.now();
    const table = parseRscTable(bytes);
    const elapsed = performance.now() - start;
    assert.equal(table.entries.length, 10_000);
    assert.equal(table.problems.length, 9_999);
    assert.ok(table.problems.every((p) => p.severity === 'error' && p.message.includes('same entry')));
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    assert.equal(formatRscTable(table).split('\n').length, 10_000 * 7 + 2 + 9_999 + 1);
  });
});
