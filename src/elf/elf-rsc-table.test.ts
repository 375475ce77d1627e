// Resource table lookup in well-formed images, the cached copy and the loaded view.
// Malformed tables (TC-R01…R08): elf-malformed.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildElf } from './elf-builder.ts';
import { parseElf } from './elf-reader.ts';
import {
  findLoadedResourceTable,
  findResourceTable,
  loadResourceTableCopy,
  loadResourceTableCopyOptional,
} from './elf-rsc-table.ts';
import { loadElfSegments } from './elf-segments.ts';
import {
  DATA_DA,
  FakeMemory,
  RSC_DA,
  TEXT_DA,
  firmwareSpec,
  rscTableBytes,
} from '../../test/support/elf-fixtures.ts';

describe('findResourceTable', () => {
  for (const endian of ['le', 'be'] as const) {
    for (const elfClass of [32, 64] as const) {
      it(`finds the table of an ELF${elfClass} ${endian.toUpperCase()} image inside its PT_LOAD segment`, () => {
        const image = parseElf(buildElf(firmwareSpec(elfClass, endian)));
        const lookup = findResourceTable(image);
        assert.equal(lookup.status, 'found');
        assert.equal(lookup.section.name, '.resource_table');
        assert.equal(lookup.size, 24);
        assert.equal(lookup.da, BigInt(RSC_DA));
        assert.equal(lookup.fileOffset, lookup.section.offset);
        assert.equal(lookup.bytes.buffer, image.bytes.buffer, 'a view, not a copy');
        assert.deepEqual(lookup.bytes, rscTableBytes({ num: 2, endian }));
        const segment = image.programHeaders.find(
          (p) => p.paddr <= lookup.da && lookup.da < p.paddr + BigInt(p.memsz),
        );
        assert.ok(segment, 'a PT_LOAD segment covers sh_addr');
      });
    }
  }

  it('finds a table whose section lies in the middle of a larger segment', () => {
    const table = rscTableBytes({ num: 1 });
    const image = parseElf(
      buildElf({
        class: 32,
        entry: TEXT_DA,
        segments: [{ paddr: TEXT_DA, memsz: 0x1000 }],
        sections: [{ name: '.resource_table', addr: TEXT_DA + 0x400, data: table }],
      }),
    );
    const lookup = findResourceTable(image);
    assert.equal(lookup.status, 'found');
    assert.equal(lookup.da, BigInt(TEXT_DA + 0x400));
  });
});

describe('cached and loaded tables', () => {
  it('loadResourceTableCopy returns a copy with size and sh_addr', () => {
    const image = parseElf(buildElf(firmwareSpec(32)));
    const cached = loadResourceTableCopy(image);
    assert.equal(cached.size, 24);
    assert.equal(cached.da, BigInt(RSC_DA));
    assert.notEqual(cached.table.buffer, image.bytes.buffer);
    cached.table.fill(0xff);
    const again = findResourceTable(image);
    assert.equal(again.status, 'found');
    assert.deepEqual(again.bytes, rscTableBytes({ num: 2 }), 'editing the copy does not touch the image');
    assert.deepEqual(loadResourceTableCopyOptional(image)?.size, 24);
  });

  it('findLoadedResourceTable translates sh_addr after loading', () => {
    const image = parseElf(buildElf(firmwareSpec(64)));
    const memory = new FakeMemory([
      { da: TEXT_DA, size: 0x1000 },
      { da: DATA_DA, size: 0x1000 },
      { da: RSC_DA, size: 0x100 },
    ]);
    loadElfSegments(image, memory.daToVa);
    const loaded = findLoadedResourceTable(image, memory.daToVa);
    assert.ok(loaded);
    assert.deepEqual(loaded, rscTableBytes({ num: 2 }));
    assert.equal(loaded.buffer, memory.regions[2]?.bytes.buffer, 'a view of device memory');
  });
});
