// Every check the resource-table parser makes on a firmware-written value, pinned at its boundary:
// for each, the last value the check accepts parses clean and the first value it refuses gives
// exactly that check's problem. Tests of values far past a limit live in rsc-malformed.test.ts;
// these catch a check that is off by one (`>` for `>=`, a wrong constant, a missing term).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hex, type ErrnoName } from '../util/errors.ts';
import type { Severity } from '../util/problems.ts';
import { FW_RSC_CARVEOUT, FW_RSC_TRACE, FW_RSC_VDEV, FW_RSC_VDEV_VRING } from './rsc-layout.ts';
import { RSC_CARVEOUT, RSC_DEVMEM, RSC_TRACE, RSC_VDEV } from './rsc-constants.ts';
import { checkRscTable, parseRscTable } from './rsc-parse.ts';

/** One entry of a hand-made table: its offset (offset[i]) and its bytes (fw_rsc_hdr included). */
interface RawEntry {
  readonly at: number;
  readonly bytes: Uint8Array;
}

interface RawTable {
  readonly size: number;
  readonly ver?: number;
  readonly num?: number;
  readonly reserved?: readonly [number, number];
  /** offset[] values; default the entries' `at`. */
  readonly offsets?: readonly number[];
  readonly entries?: readonly RawEntry[];
}

/** A table laid out byte by byte, without the builder's own checks or alignment. */
function table(t: RawTable): Uint8Array {
  const out = new Uint8Array(t.size);
  const dv = new DataView(out.buffer);
  const entries = t.entries ?? [];
  const offsets = t.offsets ?? entries.map((e) => e.at);
  const put = (at: number, v: number): void => {
    if (at + 4 <= t.size) dv.setUint32(at, v, true);
  };
  put(0, t.ver ?? 1);
  put(4, t.num ?? offsets.length);
  put(8, t.reserved?.[0] ?? 0);
  put(12, t.reserved?.[1] ?? 0);
  offsets.forEach((o, i) => put(16 + 4 * i, o));
  for (const e of entries) out.set(e.bytes.subarray(0, Math.max(0, t.size - e.at)), e.at);
  return out;
}

/** fw_rsc_hdr + a body of `bodySize` bytes, with u8/u32 fields set by body offset. */
function entry(
  type: number,
  bodySize: number,
  fields: Record<number, number> = {},
  u8: Record<number, number> = {},
): Uint8Array {
  const out = new Uint8Array(4 + bodySize);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  for (const [off, v] of Object.entries(fields)) dv.setUint32(4 + Number(off), v, true);
  for (const [off, v] of Object.entries(u8)) dv.setUint8(4 + Number(off), v);
  return out;
}

const V = FW_RSC_VDEV;
const R = FW_RSC_VDEV_VRING;

interface VdevShape {
  readonly vrings?: readonly { num?: number; align?: number }[];
  readonly configLen?: number;
  readonly numOfVrings?: number;
  readonly reserved?: readonly [number, number];
  /** Bytes of the body actually present (default: all of it). */
  readonly bodyBytes?: number;
}

/** A vdev entry: fw_rsc_hdr, the fixed part, its vrings and config space. */
function vdev(shape: VdevShape = {}): Uint8Array {
  const vrings = shape.vrings ?? [{}, {}];
  const configLen = shape.configLen ?? 0;
  const fields: Record<number, number> = { [V.id]: 7, [V.config_len]: configLen };
  vrings.forEach((r, i) => {
    fields[V.vring + R.size * i + R.da] = 0xffff_ffff;
    fields[V.vring + R.size * i + R.align] = r.align ?? 0x1000;
    fields[V.vring + R.size * i + R.num] = r.num ?? 256;
  });
  const u8: Record<number, number> = {
    [V.num_of_vrings]: shape.numOfVrings ?? vrings.length,
    [V.reserved]: shape.reserved?.[0] ?? 0,
    [V.reserved + 1]: shape.reserved?.[1] ?? 0,
  };
  const full = entry(RSC_VDEV, V.size + R.size * vrings.length + configLen, fields, u8);
  return shape.bodyBytes === undefined ? full : full.subarray(0, 4 + shape.bodyBytes);
}

/** A carveout (or devmem, same layout) whose name is `name`, NUL-padded. */
function carveout(type: number, name = 'c', reserved = 0): Uint8Array {
  const e = entry(type, FW_RSC_CARVEOUT.size, {
    [FW_RSC_CARVEOUT.da]: 0x1000,
    [FW_RSC_CARVEOUT.len]: 0x1000,
    [FW_RSC_CARVEOUT.reserved]: reserved,
  });
  e.set(new TextEncoder().encode(name), 4 + FW_RSC_CARVEOUT.name);
  return e;
}

function trace(name = 't', reserved = 0): Uint8Array {
  const e = entry(RSC_TRACE, FW_RSC_TRACE.size, {
    [FW_RSC_TRACE.da]: 0x2000,
    [FW_RSC_TRACE.len]: 0x100,
    [FW_RSC_TRACE.reserved]: reserved,
  });
  e.set(new TextEncoder().encode(name), 4 + FW_RSC_TRACE.name);
  return e;
}

/** One entry at 0x14 (just after a one-slot offset[]), in a table that ends with it. */
function only(bytes: Uint8Array, size = 0x14 + bytes.length): Uint8Array {
  return table({ size, entries: [{ at: 0x14, bytes }] });
}

interface Refusal {
  readonly severity: Severity;
  readonly code: ErrnoName;
  /** Where the problem is reported (table offset). */
  readonly offset: number;
  /** The message, which names the value in hex. */
  readonly message: RegExp;
}

interface Boundary {
  readonly check: string;
  readonly lastValid: () => Uint8Array;
  readonly firstInvalid: () => Uint8Array;
  readonly refused: Refusal;
  /** A problem of another check that the last valid input cannot avoid (default: none at all). */
  readonly alsoAtLastValid?: RegExp;
}

const name31 = 'n'.repeat(31);
const name32 = 'n'.repeat(32);

const BOUNDARIES: readonly Boundary[] = [
  {
    check: 'table size ≥ the 16-byte header',
    lastValid: () => table({ size: 16 }),
    firstInvalid: () => table({ size: 15 }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0,
      message: /is 0xf bytes, shorter than its 0x10-byte header/,
    },
  },
  {
    check: 'ver = 1',
    lastValid: () => table({ size: 16, ver: 1 }),
    firstInvalid: () => table({ size: 16, ver: 2 }),
    refused: { severity: 'error', code: 'EINVAL', offset: 0, message: /version 0x2 at 0x0 is not supported/ },
  },
  {
    check: 'reserved[0] = 0',
    lastValid: () => table({ size: 16, reserved: [0, 0] }),
    firstInvalid: () => table({ size: 16, reserved: [1, 0] }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 8,
      message: /reserved\[0\] 0x1 at 0x8 must be zero/,
    },
  },
  {
    check: 'reserved[1] = 0',
    lastValid: () => table({ size: 16, reserved: [0, 0] }),
    firstInvalid: () => table({ size: 16, reserved: [0, 1] }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 12,
      message: /reserved\[1\] 0x1 at 0xc must be zero/,
    },
  },
  {
    check: 'header + offset[num] fit in the table',
    // num 1 with no entry behind its slot would fail the placement check: point it at a vendor
    // entry that is only its header, right after the slot.
    lastValid: () => table({ size: 0x18, entries: [{ at: 0x14, bytes: entry(128, 0) }] }),
    firstInvalid: () => table({ size: 0x13, num: 1 }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 4,
      message: /num 0x1 at 0x4 needs 0x14 bytes of header and offset\[\], past the table end 0x13/,
    },
  },
  {
    check: 'offset[i] below 0x80000000 (Linux reads it as a signed int)',
    // 0x7fffffff still fails, but as an offset past the end, not as a negative one.
    lastValid: () => table({ size: 0x18, offsets: [0x14], entries: [{ at: 0x14, bytes: entry(128, 0) }] }),
    firstInvalid: () => table({ size: 0x18, offsets: [0x8000_0000] }),
    refused: { severity: 'error', code: 'EINVAL', offset: 0x10, message: /offset 0x80000000 is negative/ },
  },
  {
    check: 'offset[i] + 4 (its fw_rsc_hdr) inside the table',
    lastValid: () => table({ size: 0x20, entries: [{ at: 0x1c, bytes: entry(128, 0) }] }),
    firstInvalid: () => table({ size: 0x20, offsets: [0x1d] }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x10,
      message: /resource entry 0 at offset 0x1d runs past the table end 0x20 \(offset\[0\] at 0x10\)/,
    },
  },
  {
    check: 'offset[i] not inside the header and offset[]',
    lastValid: () => table({ size: 0x18, entries: [{ at: 0x14, bytes: entry(128, 0) }] }),
    firstInvalid: () => table({ size: 0x18, offsets: [0x10] }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x10,
      message: /offset 0x10 lies inside the table header and offset\[\], which end at 0x14/,
    },
  },
  {
    check: 'offset[i] 4-byte aligned (a warning)',
    lastValid: () => table({ size: 0x1c, entries: [{ at: 0x18, bytes: entry(128, 0) }] }),
    firstInvalid: () => table({ size: 0x1c, entries: [{ at: 0x15, bytes: entry(128, 0) }] }),
    refused: {
      severity: 'warning',
      code: 'EINVAL',
      offset: 0x10,
      message: /offset 0x15 is not 4-byte aligned/,
    },
  },
  {
    check: 'carveout body fits before the table end',
    lastValid: () => only(carveout(RSC_CARVEOUT)),
    firstInvalid: () => only(carveout(RSC_CARVEOUT), 0x14 + 4 + FW_RSC_CARVEOUT.size - 1),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      message:
        /\(carveout\) at offset 0x14 is truncated: its body needs 0x34 bytes at 0x18, only 0x33 remain before the table end 0x4b/,
    },
  },
  {
    check: 'devmem body fits before the table end',
    lastValid: () => only(carveout(RSC_DEVMEM)),
    firstInvalid: () => only(carveout(RSC_DEVMEM), 0x14 + 4 + FW_RSC_CARVEOUT.size - 1),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      message: /\(devmem\) at offset 0x14 is truncated: its body needs 0x34 bytes/,
    },
  },
  {
    check: 'trace body fits before the table end',
    lastValid: () => only(trace()),
    firstInvalid: () => only(trace(), 0x14 + 4 + FW_RSC_TRACE.size - 1),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      message: /\(trace\) at offset 0x14 is truncated: its body needs 0x2c bytes at 0x18, only 0x2b remain/,
    },
  },
  {
    check: 'vdev fixed part fits before the table end',
    lastValid: () => only(vdev({ vrings: [], numOfVrings: 0 })),
    firstInvalid: () => only(vdev({ vrings: [], numOfVrings: 0 }), 0x14 + 4 + V.size - 1),
    // The smallest whole vdev has no vrings, which is itself worth a warning.
    alsoAtLastValid: /has no vrings/,
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      message: /\(vdev\) at offset 0x14 is truncated: its body needs 0x18 bytes/,
    },
  },
  {
    check: 'vdev vrings and config space fit before the table end',
    lastValid: () => only(vdev({ configLen: 3 })),
    firstInvalid: () => only(vdev({ configLen: 3 }), 0x14 + 4 + V.size + 2 * R.size + 3 - 1),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      message: /truncated: 2 vrings and config_len 0x3 need 0x43 body bytes at 0x18, only 0x42 remain/,
    },
  },
  {
    check: 'carveout reserved = 0',
    lastValid: () => only(carveout(RSC_CARVEOUT, 'c', 0)),
    firstInvalid: () => only(carveout(RSC_CARVEOUT, 'c', 1)),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x18 + 16,
      message: /\(carveout\) at offset 0x14 has reserved 0x1 at 0x28; it must be zero/,
    },
  },
  {
    check: 'trace reserved = 0',
    lastValid: () => only(trace('t', 0)),
    firstInvalid: () => only(trace('t', 1)),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x18 + 8,
      message: /\(trace\) at offset 0x14 has reserved 0x1 at 0x20; it must be zero/,
    },
  },
  {
    check: 'vdev reserved[0] = 0',
    lastValid: () => only(vdev({ reserved: [0, 0] })),
    firstInvalid: () => only(vdev({ reserved: [1, 0] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x18 + 22,
      message: /has reserved\[0\] 0x1 at 0x2e; it must be zero/,
    },
  },
  {
    check: 'vdev reserved[1] = 0',
    lastValid: () => only(vdev({ reserved: [0, 0] })),
    firstInvalid: () => only(vdev({ reserved: [0, 1] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x18 + 23,
      message: /has reserved\[1\] 0x1 at 0x2f; it must be zero/,
    },
  },
  {
    check: 'num_of_vrings ≤ 2',
    lastValid: () => only(vdev({ vrings: [{}, {}] })),
    firstInvalid: () => only(vdev({ vrings: [{}, {}, {}] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x18 + 21,
      message: /has too many vrings: num_of_vrings 0x3 at 0x2d, at most 2/,
    },
  },
  {
    check: 'num_of_vrings ≥ 1 (a warning)',
    lastValid: () => only(vdev({ vrings: [{}] })),
    firstInvalid: () => only(vdev({ vrings: [] })),
    refused: {
      severity: 'warning',
      code: 'EINVAL',
      offset: 0x18 + 21,
      message: /has no vrings \(num_of_vrings 0x0 at 0x2d\)/,
    },
  },
  {
    check: 'vring num ≥ 1',
    lastValid: () => only(vdev({ vrings: [{ num: 1 }] })),
    firstInvalid: () => only(vdev({ vrings: [{ num: 0 }] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x18 + 24 + 8,
      message:
        /vring 0 of resource entry 0 \(vdev\) at offset 0x14 has num 0x0 at 0x38: a vring needs at least one buffer/,
    },
  },
  {
    check: 'vring num ≤ 32768',
    lastValid: () => only(vdev({ vrings: [{ num: 0x8000 }] })),
    firstInvalid: () => only(vdev({ vrings: [{ num: 0x8001 }] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x38,
      message: /has num 0x8001 at 0x38: above the virtio maximum 0x8000/,
    },
  },
  {
    check: 'vring num a power of two',
    lastValid: () => only(vdev({ vrings: [{ num: 2 }] })),
    firstInvalid: () => only(vdev({ vrings: [{ num: 3 }] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x38,
      message: /has num 0x3 at 0x38: not a power of two/,
    },
  },
  {
    check: 'vring num a power of two, the second vring',
    lastValid: () => only(vdev({ vrings: [{}, { num: 0x4000 }] })),
    firstInvalid: () => only(vdev({ vrings: [{}, { num: 0x4001 }] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x38 + 20,
      message: /vring 1 of .* has num 0x4001 at 0x4c: not a power of two/,
    },
  },
  {
    check: 'vring align ≥ 1',
    lastValid: () => only(vdev({ vrings: [{ align: 1 }] })),
    firstInvalid: () => only(vdev({ vrings: [{ align: 0 }] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x34,
      message: /has align 0x0 at 0x34: the used ring needs a non-zero alignment/,
    },
  },
  {
    check: 'vring align a power of two',
    lastValid: () => only(vdev({ vrings: [{ align: 4 }] })),
    firstInvalid: () => only(vdev({ vrings: [{ align: 5 }] })),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x34,
      message: /has align 0x5 at 0x34: not a power of two/,
    },
  },
  {
    check: 'carveout name NUL-terminated within 32 bytes (a warning)',
    lastValid: () => only(carveout(RSC_CARVEOUT, name31)),
    firstInvalid: () => only(carveout(RSC_CARVEOUT, name32)),
    refused: {
      severity: 'warning',
      code: 'EINVAL',
      offset: 0x18 + 20,
      message: /has a name at 0x2c with no NUL within its 32 bytes/,
    },
  },
  {
    check: 'trace name NUL-terminated within 32 bytes (a warning)',
    lastValid: () => only(trace(name31)),
    firstInvalid: () => only(trace(name32)),
    refused: {
      severity: 'warning',
      code: 'EINVAL',
      offset: 0x18 + 12,
      message: /has a name at 0x24 with no NUL/,
    },
  },
  {
    check: 'entries do not overlap (the next starts at or after the end of the previous)',
    lastValid: () =>
      table({
        size: 0x18 + 0x38 + 0x30,
        entries: [
          { at: 0x18, bytes: carveout(RSC_CARVEOUT) },
          { at: 0x18 + 0x38, bytes: trace() },
        ],
      }),
    firstInvalid: () =>
      table({
        size: 0x18 + 0x38 + 0x30,
        entries: [
          { at: 0x18, bytes: carveout(RSC_CARVEOUT) },
          { at: 0x18 + 0x34, bytes: trace() },
        ],
      }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      message:
        /resource entry 1 at offset 0x4c overlaps resource entry 0 at 0x18\.\.0x50 \(offset\[1\] at 0x14\)/,
    },
  },
  {
    check: 'entries do not overlap, listed in reverse order',
    lastValid: () =>
      table({
        size: 0x18 + 0x38 + 0x30,
        offsets: [0x18 + 0x38, 0x18],
        entries: [
          { at: 0x18, bytes: carveout(RSC_CARVEOUT) },
          { at: 0x18 + 0x38, bytes: trace() },
        ],
      }),
    firstInvalid: () =>
      table({
        size: 0x18 + 0x38 + 0x30,
        offsets: [0x18 + 0x34, 0x18],
        entries: [
          { at: 0x18, bytes: carveout(RSC_CARVEOUT) },
          { at: 0x18 + 0x34, bytes: trace() },
        ],
      }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x10,
      message:
        /resource entry 0 at offset 0x4c overlaps resource entry 1 at 0x18\.\.0x50 \(offset\[0\] at 0x10\)/,
    },
  },
  {
    check: 'no two offsets to the same entry',
    lastValid: () =>
      table({
        size: 0x20,
        entries: [
          { at: 0x18, bytes: entry(128, 0) },
          { at: 0x1c, bytes: entry(128, 0) },
        ],
      }),
    firstInvalid: () =>
      table({ size: 0x20, offsets: [0x18, 0x18], entries: [{ at: 0x18, bytes: entry(128, 0) }] }),
    refused: {
      severity: 'error',
      code: 'EINVAL',
      offset: 0x14,
      message:
        /resource entry 1 at offset 0x18 is the same entry as resource entry 0 \(offset\[1\] at 0x14\)/,
    },
  },
  {
    check: 'vendor types are 128..512 inclusive (others are unsupported: a warning)',
    lastValid: () => only(entry(128, 0)),
    firstInvalid: () => only(entry(127, 0)),
    refused: {
      severity: 'warning',
      code: 'EOPNOTSUPP',
      offset: 0x14,
      message: /unsupported resource 127: resource entry 0 at offset 0x14 has type 0x7f; skipped/,
    },
  },
  {
    check: 'vendor types end at 512 inclusive',
    lastValid: () => only(entry(512, 0)),
    firstInvalid: () => only(entry(513, 0)),
    refused: {
      severity: 'warning',
      code: 'EOPNOTSUPP',
      offset: 0x14,
      message: /unsupported resource 513: .* has type 0x201/,
    },
  },
  {
    check: 'type 4 is the first unsupported type after vdev',
    lastValid: () => only(vdev()),
    firstInvalid: () => only(entry(4, 0)),
    refused: {
      severity: 'warning',
      code: 'EOPNOTSUPP',
      offset: 0x14,
      message: /unsupported resource 4: resource entry 0 at offset 0x14 has type 0x4/,
    },
  },
];

function listing(bytes: Uint8Array): string {
  return parseRscTable(bytes)
    .problems.map((p) => `${p.severity} ${p.code} @${String(p.offset)}: ${p.message}`)
    .join('\n');
}

describe('resource table: every check at its boundary', () => {
  for (const b of BOUNDARIES) {
    it(`${b.check}: last valid parses clean, first invalid gives that problem`, () => {
      const ok = parseRscTable(b.lastValid());
      const unexpected = ok.problems.filter((p) => b.alsoAtLastValid?.test(p.message) !== true);
      assert.deepEqual(unexpected, [], listing(b.lastValid()));
      assert.equal(ok.problems.length, b.alsoAtLastValid === undefined ? 0 : 1, listing(b.lastValid()));
      const bad = parseRscTable(b.firstInvalid());
      const p = bad.problems[0];
      assert.ok(p !== undefined, `the first invalid value is refused`);
      assert.deepEqual(
        [p.severity, p.code, p.offset],
        [b.refused.severity, b.refused.code, b.refused.offset],
        listing(b.firstInvalid()),
      );
      assert.match(p.message, b.refused.message);
      if (b.refused.severity === 'error') {
        assert.throws(
          () => checkRscTable(b.firstInvalid()),
          (e: unknown) => e instanceof Error && b.refused.message.test(e.message),
        );
      }
    });
  }

  it('a vdev of the largest valid shape decodes every field as written', () => {
    const bytes = only(
      vdev({
        vrings: [
          { num: 0x8000, align: 0x8000_0000 },
          { num: 1, align: 1 },
        ],
        configLen: 5,
      }),
    );
    const t = checkRscTable(bytes);
    const e = t.entries[0];
    assert.ok(e?.kind === 'vdev');
    assert.deepEqual(
      e.vrings.map((r) => [r.num, r.align]),
      [
        [0x8000, 0x8000_0000],
        [1, 1],
      ],
    );
    assert.equal(e.config.length, 5);
    assert.equal(e.configLen, 5);
  });
});

/** The overlap problems of a table, in the order reported. */
function overlaps(bytes: Uint8Array): string[] {
  return parseRscTable(bytes)
    .problems.filter((p) => p.message.includes(' overlaps '))
    .map((p) => p.message);
}

/** A vendor entry (type 128, no body): four bytes that overlap whatever they sit inside. */
const VENDOR = entry(128, 0);

describe('resource table: an entry cut off by the table end still reaches to it', () => {
  // A truncated entry claims its whole body, which runs past the table end: an entry placed
  // anywhere after its start overlaps it, whatever kind it is and whichever part is missing.
  const CASES: readonly { what: string; size: number; bytes: Uint8Array }[] = [
    { what: 'carveout', size: 0x30, bytes: carveout(RSC_CARVEOUT) },
    { what: 'devmem', size: 0x30, bytes: carveout(RSC_DEVMEM) },
    { what: 'trace', size: 0x30, bytes: trace() },
    { what: 'vdev, fixed part cut', size: 0x2c, bytes: vdev() },
    // The fixed part and vring 0 are whole; vring 1 runs past the end.
    { what: 'vdev, vrings cut', size: 0x50, bytes: vdev() },
  ];
  for (const c of CASES) {
    it(`${c.what}: a vendor entry in its last 4 bytes overlaps it`, () => {
      const at = c.size - 4;
      const bytes = table({
        size: c.size,
        entries: [
          { at: 0x18, bytes: c.bytes },
          { at, bytes: VENDOR },
        ],
      });
      const problems = parseRscTable(bytes).problems.map((p) => p.message);
      assert.ok(
        problems.some((m) => m.includes('is truncated')),
        problems.join('\n'),
      );
      assert.deepEqual(overlaps(bytes), [
        `resource entry 1 at offset ${hex(at)} overlaps resource entry 0 at 0x18..${hex(c.size)} (offset[1] at 0x14)`,
      ]);
    });
  }
});

describe('resource table: overlap is judged against the furthest reach so far', () => {
  const CASES: readonly { what: string; size: number; entries: RawEntry[]; expected: string[] }[] = [
    {
      // B ends before C starts, but A still covers C.
      what: 'a short entry inside a long one does not hide a later one inside the long one',
      size: 0x54,
      entries: [
        { at: 0x1c, bytes: carveout(RSC_CARVEOUT) },
        { at: 0x24, bytes: VENDOR },
        { at: 0x2c, bytes: VENDOR },
      ],
      expected: [
        'resource entry 1 at offset 0x24 overlaps resource entry 0 at 0x1c..0x54 (offset[1] at 0x14)',
        'resource entry 2 at offset 0x2c overlaps resource entry 0 at 0x1c..0x54 (offset[2] at 0x18)',
      ],
    },
    {
      // B starts inside A and reaches further; C starts after A's end but inside B.
      what: 'an overlapping entry that reaches further than the first becomes the one to beat',
      size: 0x78,
      entries: [
        { at: 0x1c, bytes: trace() },
        { at: 0x40, bytes: carveout(RSC_CARVEOUT) },
        { at: 0x50, bytes: VENDOR },
      ],
      expected: [
        'resource entry 1 at offset 0x40 overlaps resource entry 0 at 0x1c..0x4c (offset[1] at 0x14)',
        'resource entry 2 at offset 0x50 overlaps resource entry 1 at 0x40..0x78 (offset[2] at 0x18)',
      ],
    },
  ];
  for (const c of CASES) {
    it(c.what, () => {
      assert.deepEqual(overlaps(table({ size: c.size, entries: c.entries })), c.expected);
    });
  }
});
