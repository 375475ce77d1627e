// PT_LOAD listing and loading through a fake daToVa: copy, zero fill, header order, and the
// validate-every-segment-before-copying decision.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildElf } from './elf-builder.ts';
import { PF, PT } from './elf-constants.ts';
import { parseElf } from './elf-reader.ts';
import { loadElfSegments, loadSegments } from './elf-segments.ts';
import {
  DATA_DA,
  FakeMemory,
  RSC_DA,
  TEXT_DA,
  firmwareSpec,
  rprocErrorOf,
  sectionNamed,
} from '../../test/support/elf-fixtures.ts';

const FIRMWARE_MEMORY = [
  { da: TEXT_DA, size: 0x4000 },
  { da: DATA_DA, size: 0x3000 },
  { da: RSC_DA, size: 0x1000 },
];

describe('loadSegments', () => {
  for (const elfClass of [32, 64] as const) {
    it(`ELF${elfClass}: lists PT_LOAD segments in header order with views of their file bytes`, () => {
      const image = parseElf(buildElf(firmwareSpec(elfClass)));
      const segments = loadSegments(image);
      assert.deepEqual(
        segments.map((s) => [s.index, s.da, s.filesz, s.memsz, s.flags]),
        [
          [0, BigInt(TEXT_DA), 0x60, 0x60, PF.PF_R | PF.PF_X],
          [1, BigInt(DATA_DA), 0x20, 0x120, PF.PF_R | PF.PF_W],
          [2, BigInt(RSC_DA), 24, 24, PF.PF_R | PF.PF_W],
        ],
      );
      const text = sectionNamed(image, '.text');
      const first = segments[0];
      assert.ok(first);
      assert.equal(first.fileOffset, text.offset);
      assert.equal(first.data.buffer, image.bytes.buffer, 'data is a view, not a copy');
      assert.deepEqual(first.data, image.bytes.subarray(text.offset, text.offset + text.size));
    });
  }

  it('skips headers that are not PT_LOAD', () => {
    const image = parseElf(
      buildElf({
        class: 32,
        entry: 0,
        segments: [
          { type: PT.PT_NOTE, paddr: 0, data: new Uint8Array(8) },
          { paddr: 0x100, data: new Uint8Array(4) },
          { type: PT.PT_RISCV_ATTRIBUTES, paddr: 0, data: new Uint8Array(4) },
        ],
      }),
    );
    assert.deepEqual(
      loadSegments(image).map((s) => s.index),
      [1],
    );
  });
});

describe('loadElfSegments', () => {
  for (const endian of ['le', 'be'] as const) {
    it(`copies file bytes and zero-fills to memsz (${endian})`, () => {
      const image = parseElf(buildElf(firmwareSpec(64, endian)));
      const memory = new FakeMemory(FIRMWARE_MEMORY);
      loadElfSegments(image, memory.daToVa);
      const text = sectionNamed(image, '.text');
      assert.deepEqual(memory.read(TEXT_DA, 0x60), image.bytes.subarray(text.offset, text.offset + 0x60));
      assert.deepEqual(memory.read(DATA_DA, 0x20), new Uint8Array(0x20).fill(0x5a));
      assert.deepEqual(memory.read(DATA_DA + 0x20, 0x100), new Uint8Array(0x100), '.bss is zeroed');
      assert.deepEqual(
        memory.read(DATA_DA + 0x120, 0x10),
        new Uint8Array(0x10).fill(0xaa),
        'nothing past memsz',
      );
      assert.deepEqual(
        memory.calls.map((c) => [c.da, c.len]),
        [
          [BigInt(TEXT_DA), 0x60],
          [BigInt(DATA_DA), 0x120],
          [BigInt(RSC_DA), 24],
        ],
      );
    });
  }

  it('translates every segment before writing any: a bad third segment leaves memory untouched', () => {
    const spec = firmwareSpec(32);
    const image = parseElf(
      buildElf({ ...spec, segments: [...(spec.segments ?? []), { paddr: 0x1000, data: new Uint8Array(4) }] }),
    );
    const memory = new FakeMemory(FIRMWARE_MEMORY);
    const before = memory.snapshot();
    const e = rprocErrorOf(() => loadElfSegments(image, memory.daToVa));
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.message, 'EINVAL: bad phdr da 0x1000 mem 0x4 (program header 3)');
    assert.deepEqual(memory.snapshot(), before);
  });

  it('rejects a translation shorter than memsz, and writes only memsz of a longer one', () => {
    const image = parseElf(
      buildElf({ class: 32, entry: 0, segments: [{ paddr: 0x10, data: new Uint8Array([1, 2]), memsz: 4 }] }),
    );
    const short = rprocErrorOf(() => loadElfSegments(image, () => new Uint8Array(3)));
    assert.match(short.message, /bad phdr da 0x10 mem 0x4 \(daToVa returned only 0x3 bytes\)/);
    const long = new Uint8Array(8).fill(0xee);
    loadElfSegments(image, () => long);
    assert.deepEqual(long, new Uint8Array([1, 2, 0, 0, 0xee, 0xee, 0xee, 0xee]));
  });
});
