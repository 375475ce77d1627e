// Property tests for every ELF entry point: whatever the bytes, the reader returns problems and
// the strict functions either succeed or throw RprocError, never RangeError/TypeError, never hang
// and never allocate per entry before a bounds check. Failing seeds are kept in test/seeds/.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkProperty } from '../../test/support/property.ts';
import { RprocError } from '../util/errors.ts';
import { buildElf, type ElfSpec } from './elf-builder.ts';
import { ELF_STRUCT_SIZE, PT, SHF, STT } from './elf-constants.ts';
import { elfSanityCheck, parseElf, readElf } from './elf-reader.ts';
import { findLoadedResourceTable, findResourceTable, loadResourceTableCopy } from './elf-rsc-table.ts';
import { loadElfSegments, loadSegments } from './elf-segments.ts';
import { readSymbols, symbolize } from './elf-symbols.ts';
import {
  DATA_DA,
  FakeMemory,
  RSC_DA,
  TEXT_DA,
  allFields,
  firmwareSpec,
  imageOf,
  setField,
} from '../../test/support/elf-fixtures.ts';
import type { ElfImage } from './elf-types.ts';

/** Generous: a run is a few milliseconds; a per-entry loop over garbage counts would take seconds. */
const RUN_BUDGET_MS = 1000;

/** Run `fn`; anything it throws must be an RprocError. */
function parsesOrRaises(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
  }
}

function firmwareMemory(): FakeMemory {
  return new FakeMemory([
    { da: TEXT_DA, size: 0x1000 },
    { da: DATA_DA, size: 0x1000 },
    { da: RSC_DA, size: 0x100 },
  ]);
}

/** Every entry point on one input; returns nothing, throws only on a broken promise. */
function exerciseEverything(bytes: Uint8Array): void {
  const started = performance.now();
  const { image } = readElf(bytes);
  parsesOrRaises(() => parseElf(bytes));
  parsesOrRaises(() => elfSanityCheck(bytes));
  if (image !== undefined) exerciseImage(image);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < RUN_BUDGET_MS, `took ${elapsed.toFixed(0)} ms`);
}

function exerciseImage(image: ElfImage): void {
  const lookup = findResourceTable(image);
  if (lookup.status === 'found') {
    assert.ok(lookup.fileOffset + lookup.size <= image.bytes.length);
    assert.ok(lookup.size >= 16);
  }
  parsesOrRaises(() => loadResourceTableCopy(image));
  readSymbols(image);
  for (const addr of [0, TEXT_DA, TEXT_DA + 0x1a, DATA_DA + 2, 0xffff_ffff]) symbolize(image, addr);
  parsesOrRaises(() => loadSegments(image));
  const memory = firmwareMemory();
  const before = memory.snapshot();
  try {
    loadElfSegments(image, memory.daToVa);
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
    // Validation precedes copying: a failed load leaves device memory as it was.
    assert.deepEqual(memory.snapshot(), before);
  }
  parsesOrRaises(() => findLoadedResourceTable(image, memory.daToVa));
}

const BASES: Uint8Array[] = [
  buildElf(firmwareSpec(32, 'le')),
  buildElf(firmwareSpec(32, 'be')),
  buildElf(firmwareSpec(64, 'le')),
  buildElf(firmwareSpec(64, 'be')),
];

/** Arbitrary bytes, half of them behind a valid ELF header (with its tables pointing anywhere). */
const arbitraryImage = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 4096 }),
  fc
    .tuple(fc.constantFrom(...BASES), fc.uint8Array({ minLength: 0, maxLength: 4096 }))
    .map(([base, tail]) => {
      const headerSize = ELF_STRUCT_SIZE[imageOf(base).header.class].ehdr;
      const bytes = new Uint8Array(headerSize + tail.length);
      bytes.set(base.subarray(0, headerSize));
      bytes.set(tail, headerSize);
      return bytes;
    }),
);

const EDGE_VALUES = [
  0n,
  1n,
  0x10n,
  0xffffn,
  0x7fff_ffffn,
  0xffff_ffffn,
  0x1_0000_0000n,
  2n ** 53n,
  2n ** 63n,
  2n ** 64n - 1n,
];

type Mutation =
  | { readonly kind: 'byte'; readonly position: number; readonly value: number }
  | { readonly kind: 'field'; readonly field: number; readonly value: bigint };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('byte' as const),
    position: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('field' as const),
    field: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(...EDGE_VALUES),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: 0x2000n }),
    ),
  }),
);

function applyMutations(base: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  const bytes = base.slice();
  const image = imageOf(base);
  const fields = allFields(image);
  for (const m of mutations) {
    if (m.kind === 'byte') {
      bytes[m.position % bytes.length] = m.value;
    } else {
      const field = fields[m.field % fields.length];
      if (field !== undefined) setField(bytes, image.header.endian, field, m.value);
    }
  }
  return bytes;
}

describe('ELF properties', () => {
  it('arbitrary bytes: readElf never throws, every strict entry point raises only RprocError', () => {
    checkProperty('elf-arbitrary-bytes', fc.property(arbitraryImage, exerciseEverything), { numRuns: 300 });
  });

  it('mutated firmware images: the same, and a failed load leaves memory untouched', () => {
    checkProperty(
      'elf-mutated-images',
      fc.property(
        fc.constantFrom(...BASES),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        (base, mutations) => exerciseEverything(applyMutations(base, mutations)),
      ),
      { numRuns: 400 },
    );
  });

  it('a huge e_phnum / e_shnum in a tiny file is rejected before anything is allocated', () => {
    for (const base of BASES) {
      const image = imageOf(base);
      const bytes = base.slice(0, image.header.class === 64 ? 64 : 52);
      const fields = allFields(image).filter((f) => f.name === 'e_phnum' || f.name === 'e_shnum');
      for (const f of fields) setField(bytes, image.header.endian, f, 0xfffe);
      exerciseEverything(bytes);
      assert.deepEqual(readElf(bytes).image?.programHeaders, []);
    }
  });

  const segmentSpec = fc.record({
    paddr: fc.bigInt({ min: 0n, max: 0xffff_0000n }),
    vaddr: fc.bigInt({ min: 0n, max: 0xffff_0000n }),
    data: fc.uint8Array({ maxLength: 64 }),
    extra: fc.nat({ max: 0x100 }),
    align: fc.constantFrom(1, 4, 16, 0x100),
    type: fc.constantFrom<number>(PT.PT_LOAD, PT.PT_LOAD, PT.PT_NOTE),
  });
  const spec = fc.record({
    class: fc.constantFrom(32 as const, 64 as const),
    endian: fc.constantFrom('le' as const, 'be' as const),
    entry: fc.bigInt({ min: 0n, max: 0xffff_ffffn }),
    segments: fc.array(segmentSpec, { maxLength: 5 }),
    sectionCount: fc.nat({ max: 4 }),
    symbols: fc.array(
      fc.record({ value: fc.bigInt({ min: 0x1000n, max: 0x10ffn }), size: fc.nat({ max: 0x40 }) }),
      { maxLength: 6 },
    ),
  });

  it('round trip: whatever the builder writes, the reader reads back exactly', () => {
    checkProperty(
      'elf-round-trip',
      fc.property(spec, (s) => {
        const elfSpec: ElfSpec = {
          class: s.class,
          endian: s.endian,
          entry: s.entry,
          segments: s.segments.map((g) => ({
            type: g.type,
            paddr: g.paddr,
            vaddr: g.vaddr,
            data: g.data,
            memsz: g.data.length + g.extra,
            align: g.align,
          })),
          sections: [
            { name: '.text', addr: 0x1000, size: 0x100, flags: SHF.SHF_ALLOC | SHF.SHF_EXECINSTR },
            ...Array.from({ length: s.sectionCount }, (_, i) => ({
              name: `.s${i}`,
              data: new Uint8Array(i * 3),
            })),
          ],
          symbols: s.symbols.map((x, i) => ({
            name: `sym${i}`,
            value: x.value,
            size: x.size,
            type: STT.STT_FUNC,
          })),
        };
        const image = parseElf(buildElf(elfSpec));
        assert.equal(image.header.entry, s.entry);
        assert.deepEqual(
          image.programHeaders.map((p) => [p.type, p.paddr, p.vaddr, p.filesz, p.memsz, p.align]),
          s.segments.map((g) => [
            g.type,
            g.paddr,
            g.vaddr,
            g.data.length,
            g.data.length + g.extra,
            BigInt(g.align),
          ]),
        );
        for (const p of image.programHeaders) {
          assert.equal(BigInt(p.offset) % p.align, p.vaddr % p.align, 'p_offset ≡ p_vaddr (mod p_align)');
        }
        const loads = loadSegments(image);
        assert.deepEqual(
          loads.map((l) => l.data),
          s.segments.filter((g) => g.type === PT.PT_LOAD).map((g) => g.data),
        );
        assert.deepEqual(
          image.sections.map((x) => x.name),
          [
            '',
            '.text',
            ...Array.from({ length: s.sectionCount }, (_, i) => `.s${i}`),
            ...(s.symbols.length > 0 ? ['.symtab', '.strtab'] : []),
            '.shstrtab',
          ],
        );
        assert.equal(readSymbols(image).symbols.length, s.symbols.length === 0 ? 0 : s.symbols.length + 1);
      }),
      { numRuns: 200 },
    );
  });
});
