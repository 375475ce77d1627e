// Property tests: any bytes parse (and dump) without throwing, fast; checkRscTable raises only RprocError;
// mutated valid tables behave the same, and arbitrary valid specs survive build → parse unchanged.
// Longer runs: FC_RUNS=100000 node scripts/run-tests.mjs rsc-property

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkProperty } from '../../test/support/property.ts';
import { ERRNO, RprocError } from '../util/errors.ts';
import { ByteView, type Endian } from '../util/bytes.ts';
import { RSC_CARVEOUT, RSC_DEVMEM, RSC_TRACE, RSC_VDEV } from './rsc-constants.ts';
import { buildRscTable } from './rsc-build.ts';
import { checkRscTable, parseRscTable } from './rsc-parse.ts';
import { formatRscTable, rscTableToJson } from './rsc-format.ts';
import type { RscEntry, RscEntrySpec, RscTable } from './rsc-types.ts';

const EDGE_U32 = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff] as const;
/** Generous: a table of ≤ 2 KiB parses in well under a millisecond; this only catches runaway work. */
const MAX_PARSE_MS = 200;

// ---- arbitraries ---------------------------------------------------------------------------------

const u32 = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(...EDGE_U32));
const name = fc.string({ maxLength: 31 }); // printable ASCII, so it reads back as written
const powerOfTwo = (maxExp: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: maxExp }).map((e) => 2 ** e);

const memorySpec = (kind: 'carveout' | 'devmem'): fc.Arbitrary<RscEntrySpec> =>
  fc.record({ kind: fc.constant(kind), da: u32, pa: u32, len: u32, flags: u32, name });
const traceSpec: fc.Arbitrary<RscEntrySpec> = fc.record({
  kind: fc.constant('trace' as const),
  da: u32,
  len: u32,
  name,
});
const vringSpec = fc.record({ da: u32, align: powerOfTwo(31), num: powerOfTwo(15), notifyId: u32, pa: u32 });
const vdevSpec: fc.Arbitrary<RscEntrySpec> = fc.record({
  kind: fc.constant('vdev' as const),
  id: u32,
  notifyId: u32,
  dfeatures: u32,
  gfeatures: u32,
  status: fc.integer({ min: 0, max: 0xff }),
  vrings: fc.array(vringSpec, { maxLength: 2 }),
  config: fc.uint8Array({ maxLength: 48 }),
});
const vendorSpec: fc.Arbitrary<RscEntrySpec> = fc.record({
  kind: fc.constant('vendor' as const),
  type: fc.integer({ min: 128, max: 512 }),
  body: fc.uint8Array({ maxLength: 24 }),
});
const unknownSpec: fc.Arbitrary<RscEntrySpec> = fc.record({
  kind: fc.constant('unknown' as const),
  type: fc.oneof(fc.integer({ min: 4, max: 127 }), fc.integer({ min: 513, max: 0xffff_ffff })),
  body: fc.uint8Array({ maxLength: 8 }),
});
const entrySpec = fc.oneof(
  memorySpec('carveout'),
  memorySpec('devmem'),
  traceSpec,
  vdevSpec,
  vendorSpec,
  unknownSpec,
);
const endian = fc.constantFrom<Endian>('le', 'be');
const validTable = fc.record({
  specs: fc.array(entrySpec, { maxLength: 8 }),
  endian,
  align: fc.constantFrom(1, 2, 4, 8, 16),
});

/**
 * Raw bytes, half of them behind a plausible header (ver 1, small num, offsets often in range, known
 * types written at those offsets) so that the entry decoders see garbage too, not just the header.
 */
const hostileBytes: fc.Arbitrary<{ bytes: Uint8Array; endian: Endian }> = fc.record({
  endian,
  bytes: fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    fc
      .record({
        body: fc.uint8Array({ minLength: 16, maxLength: 2048 }),
        targets: fc.array(
          fc.record({
            offset: fc.oneof(fc.integer({ min: 0, max: 2100 }), u32),
            type: fc.oneof(fc.constantFrom(0, 1, 2, 3, 128, 512, 4), u32),
          }),
          { maxLength: 12 },
        ),
      })
      .map(({ body, targets }) => plantHeader(body, targets)),
  ),
});

function plantHeader(body: Uint8Array, targets: readonly { offset: number; type: number }[]): Uint8Array {
  const bytes = body.slice();
  const v = new ByteView(bytes, 'le', { what: 'generated table', op: 'test' });
  v.setU32(0, 1, 'ver');
  v.setU32(4, targets.length, 'num');
  v.setU32(8, 0, 'reserved[0]');
  v.setU32(12, 0, 'reserved[1]');
  targets.forEach(({ offset, type }, i) => {
    if (v.fits(16 + 4 * i, 4)) v.setU32(16 + 4 * i, offset, 'offset[i]');
    if (v.fits(offset, 4)) v.setU32(offset, type, 'type');
  });
  return bytes;
}

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly xor: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 0xff }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(...EDGE_U32) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(table: Uint8Array, mutations: readonly Mutation[], e: Endian): Uint8Array {
  let bytes = table.slice();
  for (const m of mutations) {
    if (bytes.length < 4) break;
    if (m.kind === 'flip') {
      const at = m.at % bytes.length;
      bytes[at] = (bytes[at] ?? 0) ^ m.xor;
    } else if (m.kind === 'set') {
      // A u32 field: table fields sit at multiples of 4 from an entry start, which builder tables align.
      const at = (m.at % (bytes.length - 3)) & ~3;
      new ByteView(bytes, e, { what: 'mutated table', op: 'test' }).setU32(at, m.value, 'field');
    } else {
      bytes = bytes.slice(0, m.at % bytes.length);
    }
  }
  return bytes;
}

// ---- invariants ----------------------------------------------------------------------------------

/** What must hold for whatever bytes went in. */
function assertSane(bytes: Uint8Array, e: Endian): void {
  const start = performance.now();
  const table = parseRscTable(bytes, { endian: e });
  const elapsed = performance.now() - start;
  assert.ok(elapsed < MAX_PARSE_MS, `parse took ${elapsed} ms for ${bytes.length} bytes`);
  assert.equal(table.size, bytes.length);
  for (const entry of table.entries) {
    assert.equal(entry.bodyOffset, entry.offset + 4);
    assert.ok(entry.offset >= 16 && entry.bodyOffset <= bytes.length, `entry at ${entry.offset}`);
  }
  for (const p of table.problems) {
    assert.ok(p.code in ERRNO);
    assert.ok(
      p.offset !== undefined && Number.isInteger(p.offset) && p.offset >= 0 && p.offset <= bytes.length,
    );
    assert.ok(p.message.length > 0);
  }
  // The dumps take whatever the parser returns.
  assert.equal(typeof formatRscTable(table), 'string');
  assert.deepEqual(JSON.parse(JSON.stringify(rscTableToJson(table))), rscTableToJson(table));
  const firstError = table.problems.find((p) => p.severity === 'error');
  try {
    assert.deepEqual(checkRscTable(bytes, { endian: e }), table);
    assert.equal(firstError, undefined);
  } catch (err) {
    if (!(err instanceof RprocError)) throw err;
    assert.equal(err.message, `${firstError?.code}: ${firstError?.message}`);
    assert.equal(err.offset, firstError?.offset);
  }
}

const typeOfKind = { carveout: RSC_CARVEOUT, devmem: RSC_DEVMEM, trace: RSC_TRACE, vdev: RSC_VDEV } as const;

/** The parsed entry is the spec, plus what the layout implies. */
function assertMatches(spec: RscEntrySpec, entry: RscEntry | undefined, bytes: Uint8Array): void {
  assert.ok(entry !== undefined && entry.kind === spec.kind);
  const { index: _i, offset: _o, bodyOffset, type, ...fields } = entry;
  switch (spec.kind) {
    case 'carveout':
    case 'devmem':
    case 'trace':
      assert.equal(type, typeOfKind[spec.kind]);
      assert.deepEqual(fields, { reserved: 0, nameTerminated: true, ...spec });
      break;
    case 'vdev': {
      const config = spec.config ?? new Uint8Array(0);
      assert.equal(type, RSC_VDEV);
      assert.deepEqual(fields, {
        ...spec,
        // fast-check records have a null prototype, parsed ones Object's; deepEqual compares those.
        vrings: spec.vrings.map((v) => ({ ...v })),
        reserved: [0, 0],
        numOfVrings: spec.vrings.length,
        configLen: config.length,
        config,
      });
      break;
    }
    case 'vendor':
    case 'unknown': {
      const body = spec.body ?? new Uint8Array(0);
      assert.equal(type, spec.type);
      assert.deepEqual(bytes.subarray(bodyOffset, bodyOffset + body.length), body);
      if (entry.kind === 'vendor') assert.equal(entry.avail, bytes.length - bodyOffset);
      break;
    }
  }
}

function onlyExpectedWarnings(table: RscTable): void {
  for (const p of table.problems) {
    assert.equal(p.severity, 'warning', p.message);
    assert.match(p.message, /not 4-byte aligned|no vrings|unsupported resource/);
  }
}

// ---- properties ----------------------------------------------------------------------------------

describe('resource table properties', () => {
  it('any bytes (0..2048) parse without throwing; checkRscTable raises only RprocError', () => {
    checkProperty(
      'rsc-parse-bytes',
      fc.property(hostileBytes, ({ bytes, endian: e }) => assertSane(bytes, e)),
      { numRuns: 1000 },
    );
  });

  it('valid tables with flipped bytes, edge-value u32 fields and truncation behave the same', () => {
    checkProperty(
      'rsc-parse-mutated',
      fc.property(
        validTable,
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        ({ specs, endian: e, align }, m) =>
          assertSane(mutate(buildRscTable(specs, { endian: e, align }), m, e), e),
      ),
      { numRuns: 1000 },
    );
  });

  it('valid specs round-trip through build and parse', () => {
    checkProperty(
      'rsc-round-trip',
      fc.property(validTable, ({ specs, endian: e, align }) => {
        const bytes = buildRscTable(specs, { endian: e, align });
        const table = checkRscTable(bytes, { endian: e });
        onlyExpectedWarnings(table);
        assert.equal(table.num, specs.length);
        assert.equal(table.entries.length, specs.length);
        specs.forEach((spec, i) => {
          const entry = table.entries[i];
          assert.ok(entry !== undefined);
          assert.equal(entry.index, i);
          assert.equal(entry.offset % align, 0);
          assertMatches(spec, entry, bytes);
        });
      }),
      { numRuns: 500 },
    );
  });
});
