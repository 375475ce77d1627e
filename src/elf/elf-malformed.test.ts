// The malformed-image cases of docs/malformed-input-cases.md (TC-E01…TC-E22) and the resource-table
// location cases (TC-R01…TC-R10) that concern the ELF layer, one named test each. Every image is
// buildElf output mutated at the exported field offsets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildElf, type ElfSpec, type SegmentSpec } from './elf-builder.ts';
import { EI, EM, PT, SHT } from './elf-constants.ts';
import { elfSanityCheck, parseElf, readElf } from './elf-reader.ts';
import {
  findLoadedResourceTable,
  findResourceTable,
  loadResourceTableCopy,
  loadResourceTableCopyOptional,
  type RscTableLookup,
} from './elf-rsc-table.ts';
import { loadElfSegments, loadSegments } from './elf-segments.ts';
import {
  FakeMemory,
  RSC_DA,
  ehdrField,
  firmwareSpec,
  imageOf,
  mutated,
  phdrField,
  rprocErrorOf,
  rscTableBytes,
  sectionNamed,
  setField,
  shdrField,
} from '../../test/support/elf-fixtures.ts';
import type { ElfImage } from './elf-types.ts';

/** Assert that `fn` throws EINVAL (or `code`) and that the message matches. */
function assertRejects(fn: () => unknown, message: RegExp, code = 'EINVAL'): void {
  const e = rprocErrorOf(fn);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
}

function firstError(bytes: Uint8Array): string {
  return readElf(bytes).problems.find((p) => p.severity === 'error')?.message ?? '(no error)';
}

function segmentsImage(elfClass: 32 | 64, segments: SegmentSpec[]): ElfSpec {
  return { class: elfClass, entry: 0x1000, segments };
}

/** Two adjacent regions, like two carveouts side by side, plus one far away. */
function carveouts(): FakeMemory {
  return new FakeMemory([
    { da: 0x1000, size: 0x1000 },
    { da: 0x2000, size: 0x1000 },
    { da: 0x8000, size: 0x100 },
  ]);
}

describe('malformed ELF images (TC-E)', () => {
  it('TC-E01 an image shorter than 52 bytes is rejected', () => {
    const bytes = buildElf(firmwareSpec(32)).slice(0, 0x20);
    assert.equal(readElf(bytes).image, undefined);
    assert.equal(firstError(bytes), 'image is too small (0x20 bytes, an ELF32 header needs 0x34)');
    assertRejects(() => parseElf(bytes), /0x20 bytes/);
    const e = rprocErrorOf(() => elfSanityCheck(bytes));
    assert.equal(e.message, 'EINVAL: image is too small (0x20 bytes, an ELF32 header needs 0x34)');
    assert.equal(e.op, 'elf-sanity-check');
    assertRejects(() => elfSanityCheck(new Uint8Array(0)), /\(0x0 bytes/);
  });

  it('TC-E02 a bad magic ("\\x7fELG") is rejected', () => {
    const bytes = mutated(firmwareSpec(32), (b) =>
      setField(b, 'le', { at: EI.EI_MAG3, width: 1, name: 'EI_MAG3' }, 0x47),
    );
    assert.equal(readElf(bytes).image, undefined);
    assert.match(firstError(bytes), /bad magic 0x7f454c47 at 0x0/);
    assertRejects(() => elfSanityCheck(bytes), /^EINVAL: image is corrupted \(bad magic 0x7f454c47\)$/);
  });

  for (const value of [0, 3, 255]) {
    it(`TC-E03 EI_CLASS = ${value} is rejected`, () => {
      const bytes = mutated(firmwareSpec(32), (b) =>
        setField(b, 'le', { at: EI.EI_CLASS, width: 1, name: 'EI_CLASS' }, value),
      );
      assert.equal(readElf(bytes).image, undefined);
      assert.match(
        firstError(bytes),
        new RegExp(`unsupported class 0x${value.toString(16)} at e_ident\\[EI_CLASS\\] 0x4`),
      );
      assertRejects(() => elfSanityCheck(bytes), new RegExp(`unsupported class 0x${value.toString(16)}$`));
    });
  }

  it('TC-E04 an ELFCLASS64 image of 60 bytes is rejected', () => {
    const bytes = buildElf(firmwareSpec(64)).slice(0, 60);
    assert.equal(readElf(bytes).image, undefined);
    assert.equal(firstError(bytes), 'image is too small (0x3c bytes, an ELF64 header needs 0x40)');
    assertRejects(
      () => elfSanityCheck(bytes),
      /^EINVAL: image is too small \(0x3c bytes, an ELF64 header needs 0x40\)$/,
    );
  });

  it('TC-E05 EI_DATA opposite to the host byte order, or 0, is rejected', () => {
    const big = buildElf(firmwareSpec(32, 'be'));
    assert.equal(readElf(big).problems.length, 0, 'the reader reads both byte orders');
    assertRejects(
      () => elfSanityCheck(big),
      /^EINVAL: unsupported firmware endianness: big-endian image on a little-endian host$/,
    );
    const little = buildElf(firmwareSpec(64, 'le'));
    assertRejects(
      () => elfSanityCheck(little, { hostEndian: 'be' }),
      /^EINVAL: unsupported firmware endianness: little-endian image on a big-endian host$/,
    );
    const none = mutated(firmwareSpec(32), (b) =>
      setField(b, 'le', { at: EI.EI_DATA, width: 1, name: 'EI_DATA' }, 0),
    );
    assert.equal(readElf(none).image, undefined);
    assert.match(firstError(none), /unsupported data encoding 0x0 at e_ident\[EI_DATA\] 0x5/);
    assertRejects(() => elfSanityCheck(none), /EI_DATA 0x0 is neither ELFDATA2LSB nor ELFDATA2MSB/);
  });

  it('TC-E06 e_phnum = 0 is rejected ("no loadable segments")', () => {
    const bytes = mutated(firmwareSpec(32), (b) => setField(b, 'le', ehdrField(32, 'e_phnum'), 0));
    assert.equal(parseElf(bytes).programHeaders.length, 0, 'a reader accepts an image without segments');
    assertRejects(() => elfSanityCheck(bytes), /^EINVAL: no loadable segments \(e_phnum is 0\)$/);
  });

  it('TC-E07 e_phoff beyond the file, or phoff + phnum·phentsize past the end, is rejected', () => {
    const size = buildElf(firmwareSpec(32)).length;
    const beyond = mutated(firmwareSpec(32), (b) =>
      setField(b, 'le', ehdrField(32, 'e_phoff'), size + 0x100),
    );
    assertRejects(
      () => elfSanityCheck(beyond),
      new RegExp(
        `firmware size is too small: e_phoff 0x${(size + 0x100).toString(16)} is past the end of the image at 0x${size.toString(16)}`,
      ),
    );
    // Inside the file, so Linux's check (phoff <= size) passes, but three headers do not fit.
    const straddling = mutated(firmwareSpec(32), (b) =>
      setField(b, 'le', ehdrField(32, 'e_phoff'), size - 8),
    );
    const expected = `program header table at 0x${(size - 8).toString(16)} (3 × 32 bytes) runs past the end of the image at 0x${size.toString(16)}`;
    assert.equal(firstError(straddling), expected);
    assertRejects(
      () => elfSanityCheck(straddling),
      new RegExp(`^EINVAL: ${expected.replace(/[()]/g, '\\$&')}$`),
    );
    assertRejects(
      () => loadSegments(imageOf(straddling)),
      /program header table at 0x[0-9a-f]+ \(3 × 32 bytes\) runs past/,
    );
  });

  for (const elfClass of [32, 64] as const) {
    it(`TC-E08 ELF${elfClass} e_phentsize other than the structure size is rejected`, () => {
      const bytes = mutated(firmwareSpec(elfClass), (b) =>
        setField(b, 'le', ehdrField(elfClass, 'e_phentsize'), 0x28),
      );
      const size = elfClass === 32 ? '0x20' : '0x38';
      assert.match(
        firstError(bytes),
        new RegExp(`e_phentsize 0x28 at 0x[0-9a-f]+ is not the ELF${elfClass} program header size ${size}`),
      );
      assert.deepEqual(imageOf(bytes).programHeaders, [], 'no header is read with a stride we do not trust');
      assertRejects(() => elfSanityCheck(bytes), /e_phentsize 0x28/);
    });
  }

  it('TC-E09 a first section header that does not fit, or an ELF64 e_shoff that wraps, is rejected', () => {
    const size = buildElf(firmwareSpec(32)).length;
    const short = mutated(firmwareSpec(32), (b) => setField(b, 'le', ehdrField(32, 'e_shoff'), size - 10));
    assertRejects(
      () => elfSanityCheck(short),
      new RegExp(
        `image is too small: section header at e_shoff 0x${(size - 10).toString(16)} \\(0x28 bytes\\) runs past the end`,
      ),
    );
    assert.match(firstError(short), /section header table at 0x[0-9a-f]+ \(9 × 40 bytes\) runs past the end/);

    // 0xffffffffffffffe0 + 64 wraps to 0x20 in u64: Linux's check would pass.
    const wrapping = mutated(firmwareSpec(64), (b) =>
      setField(b, 'le', ehdrField(64, 'e_shoff'), 0xffff_ffff_ffff_ffe0n),
    );
    assert.equal(readElf(wrapping).image, undefined);
    assert.match(firstError(wrapping), /e_shoff 0xffffffffffffffe0 at 0x28 is past the end of the image/);
    assertRejects(
      () => elfSanityCheck(wrapping),
      /section header at e_shoff 0xffffffffffffffe0 \(0x40 bytes\) runs past/,
    );
  });

  it('TC-E10 an e_shnum whose table runs past the end of the file is rejected', () => {
    const bytes = mutated(firmwareSpec(32), (b) => setField(b, 'le', ehdrField(32, 'e_shnum'), 0x7fff));
    const { image } = readElf(bytes);
    assert.deepEqual(image?.sections, []);
    assert.match(
      firstError(bytes),
      /section header table at 0x[0-9a-f]+ \(32767 × 40 bytes\) runs past the end/,
    );
    assertRejects(() => parseElf(bytes), /32767 × 40/);
    assert.ok(image);
    assert.equal(findResourceTable(image).status, 'absent');
  });

  describe('TC-E11 unusable section names give no table and an error, never a crash', () => {
    const cases: { name: string; edit: (b: Uint8Array, img: ElfImage) => void; message: RegExp }[] = [
      {
        name: 'e_shstrndx ≥ e_shnum',
        edit: (b, img) => setField(b, 'le', ehdrField(32, 'e_shstrndx'), img.header.shnum + 3),
        message: /e_shstrndx 0xc at 0x32 is not below the section count 0x9/,
      },
      {
        name: 'string table sh_offset outside the file',
        edit: (b, img) =>
          setField(
            b,
            'le',
            shdrField(32, sectionNamed(img, '.shstrtab').headerOffset, 'sh_offset'),
            0xffff_0000,
          ),
        message:
          /section 8 \(header at 0x[0-9a-f]+\): sh_offset 0xffff0000 \+ sh_size 0x[0-9a-f]+ = 0x[0-9a-f]+ runs past the end/,
      },
      {
        name: 'string table sh_size past the end',
        edit: (b, img) =>
          setField(b, 'le', shdrField(32, sectionNamed(img, '.shstrtab').headerOffset, 'sh_size'), 0x10_0000),
        message: /sh_size 0x100000 = 0x[0-9a-f]+ runs past the end/,
      },
      {
        name: 'sh_name outside the string table',
        edit: (b, img) =>
          setField(
            b,
            'le',
            shdrField(32, sectionNamed(img, '.resource_table').headerOffset, 'sh_name'),
            0x1000,
          ),
        message:
          /section 4: sh_name 0x1000 at 0x[0-9a-f]+ is outside the section name string table \(section 8, 0x[0-9a-f]+ bytes at 0x[0-9a-f]+\)/,
      },
      {
        name: 'string table not NUL-terminated',
        edit: (b, img) => {
          const strtab = sectionNamed(img, '.shstrtab');
          const nameAt = strtab.offset + sectionNamed(img, '.resource_table').nameOffset;
          b.fill(0x78, nameAt + '.resource_table'.length, strtab.offset + strtab.size);
        },
        message:
          /section 4: the name at sh_name 0x[0-9a-f]+ is not NUL-terminated within the section name string table/,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const bytes = mutated(firmwareSpec(32), c.edit);
        const { image } = readElf(bytes);
        assert.ok(image);
        assert.match(firstError(bytes), c.message);
        assert.equal(findResourceTable(image).status, 'absent');
        assertRejects(() => loadResourceTableCopy(image), /no resource table/);
        assertRejects(() => parseElf(bytes), c.message);
      });
    }
  });

  it('TC-E12 a section-less image boots only where the table is optional', () => {
    const spec: ElfSpec = {
      class: 32,
      entry: 0x1000,
      segments: [{ paddr: 0x1000, data: new Uint8Array(16) }],
      sectionHeaders: false,
    };
    const image = elfSanityCheck(buildElf(spec));
    assert.equal(image.header.shentsize, 0);
    assert.equal(findResourceTable(image).status, 'absent');
    assertRejects(
      () => loadResourceTableCopy(image),
      /^EINVAL: no resource table: the image has no "\.resource_table" section$/,
    );
    assert.equal(loadResourceTableCopyOptional(image), undefined);
    const memory = carveouts();
    loadElfSegments(image, memory.daToVa);
    assert.deepEqual(memory.read(0x1000, 16), new Uint8Array(16));
  });

  it('TC-E13 a PT_LOAD with p_filesz > p_memsz is rejected', () => {
    const bytes = buildElf(segmentsImage(32, [{ paddr: 0x1000, data: new Uint8Array(0x20), memsz: 0x10 }]));
    assert.match(
      firstError(bytes),
      /program header 0 \(PT_LOAD at 0x34\): p_filesz 0x20 is larger than p_memsz 0x10/,
    );
    assertRejects(() => elfSanityCheck(bytes), /p_filesz 0x20 is larger than p_memsz 0x10/);
    const memory = carveouts();
    const before = memory.snapshot();
    assertRejects(
      () => loadElfSegments(imageOf(bytes), memory.daToVa),
      /^EINVAL: bad phdr filesz 0x20 memsz 0x10 \(program header 0 at 0x34\)$/,
    );
    assert.deepEqual(memory.snapshot(), before);
  });

  it('TC-E14 a PT_LOAD past the end of the file is rejected, including an ELF64 p_offset that wraps', () => {
    const past = mutated(segmentsImage(32, [{ paddr: 0x1000, data: new Uint8Array(0x20) }]), (b, img) => {
      const ph = img.programHeaders[0]?.headerOffset ?? 0;
      setField(b, 'le', phdrField(32, ph, 'p_filesz'), 0x1000);
      setField(b, 'le', phdrField(32, ph, 'p_memsz'), 0x1000);
    });
    assert.match(
      firstError(past),
      /p_offset 0x54 \+ p_filesz 0x1000 = 0x1054 runs past the end of the image at 0x[0-9a-f]+/,
    );
    assertRejects(
      () => loadElfSegments(imageOf(past), carveouts().daToVa),
      /^EINVAL: truncated fw: need 0x1054 avail 0x[0-9a-f]+/,
    );

    // 0xffffffffffffff00 + 0x200 wraps to 0x100 in u64, which Linux's check lets through.
    const wrap = mutated(segmentsImage(64, [{ paddr: 0x1000, data: new Uint8Array(0x200) }]), (b, img) =>
      setField(
        b,
        'le',
        phdrField(64, img.programHeaders[0]?.headerOffset ?? 0, 'p_offset'),
        0xffff_ffff_ffff_ff00n,
      ),
    );
    assert.match(
      firstError(wrap),
      /p_offset 0xffffffffffffff00 \+ p_filesz 0x200 = 0x10000000000000100 runs past the end/,
    );
    assert.deepEqual(imageOf(wrap).programHeaders, [], 'the header cannot be listed with exact numbers');
    assertRejects(() => elfSanityCheck(wrap), /0xffffffffffffff00/);
    const memory = carveouts();
    assertRejects(
      () => loadElfSegments(imageOf(wrap), memory.daToVa),
      /truncated fw: need 0x10000000000000100/,
    );
    assert.deepEqual(memory.calls, [], 'nothing was translated');
  });

  it('TC-E15 a PT_LOAD not entirely inside one memory region is rejected ("bad phdr da")', () => {
    for (const [what, paddr] of [
      ['straddles two adjacent regions', 0x1800],
      ['runs partly outside the last region', 0x2800],
    ] as const) {
      const image = parseElf(
        buildElf(segmentsImage(32, [{ paddr, data: new Uint8Array(0x10), memsz: 0x1000 }])),
      );
      const memory = carveouts();
      const before = memory.snapshot();
      const e = rprocErrorOf(() => loadElfSegments(image, memory.daToVa));
      assert.equal(
        e.message,
        `EINVAL: bad phdr da 0x${paddr.toString(16)} mem 0x1000 (program header 0)`,
        what,
      );
      assert.deepEqual(memory.snapshot(), before, what);
    }
  });

  it('TC-E16 p_memsz = 0 must still translate: rejected when unmapped, a no-op when mapped', () => {
    const unmapped = parseElf(buildElf(segmentsImage(32, [{ paddr: 0x9000 }])));
    assertRejects(
      () => loadElfSegments(unmapped, carveouts().daToVa),
      /^EINVAL: bad phdr da 0x9000 mem 0x0 \(program header 0\)$/,
    );
    const mapped = parseElf(buildElf(segmentsImage(32, [{ paddr: 0x1010 }])));
    const memory = carveouts();
    const before = memory.snapshot();
    loadElfSegments(mapped, memory.daToVa);
    assert.deepEqual(memory.calls, [{ da: 0x1010n, len: 0 }]);
    assert.deepEqual(memory.snapshot(), before);
  });

  it('TC-E17 a PT_LOAD with p_vaddr ≠ p_paddr is loaded at p_paddr', () => {
    const data = new Uint8Array([1, 2, 3, 4]);
    const image = parseElf(buildElf(segmentsImage(64, [{ paddr: 0x1000, vaddr: 0x8000_1000, data }])));
    const [segment] = loadSegments(image);
    assert.equal(segment?.da, 0x1000n);
    assert.equal(segment.vaddr, 0x8000_1000n);
    const memory = carveouts();
    loadElfSegments(image, memory.daToVa);
    assert.deepEqual(memory.read(0x1000, 4), data);
    assert.deepEqual(memory.calls, [{ da: 0x1000n, len: 4 }]);
  });

  for (const elfClass of [32, 64] as const) {
    it(`TC-E18 ELF${elfClass} non-PT_LOAD headers (PT_NOTE, PT_NULL, PT_PHDR) with garbage fields are ignored`, () => {
      const garbage = elfClass === 64 ? 0xfff0_0000_dead_beefn : 0xdead_beefn;
      const bytes = mutated(
        segmentsImage(elfClass, [
          { type: PT.PT_NOTE, paddr: 0 },
          { paddr: 0x1000, data: new Uint8Array([9, 8, 7]) },
          { type: PT.PT_NULL, paddr: 0 },
          { type: PT.PT_PHDR, paddr: 0 },
        ]),
        (b, img) => {
          for (const ph of img.programHeaders) {
            if (ph.type === PT.PT_LOAD) continue;
            for (const field of [
              'p_offset',
              'p_vaddr',
              'p_paddr',
              'p_filesz',
              'p_memsz',
              'p_align',
              'p_flags',
            ] as const) {
              setField(b, 'le', phdrField(elfClass, ph.headerOffset, field), garbage);
            }
          }
        },
      );
      const image = elfSanityCheck(bytes);
      assert.ok(readElf(bytes).problems.every((p) => p.severity === 'warning'));
      assert.deepEqual(
        loadSegments(image).map((s) => s.index),
        [1],
      );
      const memory = carveouts();
      loadElfSegments(image, memory.daToVa);
      assert.deepEqual(memory.read(0x1000, 3), new Uint8Array([9, 8, 7]));
      assert.equal(memory.calls.length, 1);
    });
  }

  it('TC-E19 overlapping PT_LOAD segments are loaded in header order: the later one wins', () => {
    const image = parseElf(
      buildElf(
        segmentsImage(32, [
          { paddr: 0x1000, data: new Uint8Array(0x20).fill(0x11) },
          { paddr: 0x1010, data: new Uint8Array(0x20).fill(0x22) },
        ]),
      ),
    );
    const memory = carveouts();
    loadElfSegments(image, memory.daToVa);
    assert.deepEqual(memory.read(0x1000, 0x10), new Uint8Array(0x10).fill(0x11));
    assert.deepEqual(memory.read(0x1010, 0x20), new Uint8Array(0x20).fill(0x22));
  });

  it('TC-E20 memsz > filesz: the tail up to memsz is zero-filled, nothing beyond', () => {
    const image = parseElf(
      buildElf(segmentsImage(32, [{ paddr: 0x1000, data: new Uint8Array(0x10).fill(0x33), memsz: 0x100 }])),
    );
    const memory = carveouts();
    assert.deepEqual(
      memory.read(0x1000, 0x200),
      new Uint8Array(0x200).fill(0xaa),
      'destination pre-filled with 0xAA',
    );
    loadElfSegments(image, memory.daToVa);
    assert.deepEqual(memory.read(0x1000, 0x10), new Uint8Array(0x10).fill(0x33));
    assert.deepEqual(memory.read(0x1010, 0xf0), new Uint8Array(0xf0));
    assert.deepEqual(memory.read(0x1100, 0x100), new Uint8Array(0x100).fill(0xaa));
  });

  it('TC-E21 an ELF64 segment above 4 GiB is rejected when nothing translates it', () => {
    // 0x1_0000_1000 truncated to 32 bits would be 0x1000, which is mapped: it must not alias.
    const image = parseElf(buildElf(segmentsImage(64, [{ paddr: 0x1_0000_1000n, data: new Uint8Array(8) }])));
    const memory = carveouts();
    const before = memory.snapshot();
    assertRejects(
      () => loadElfSegments(image, memory.daToVa),
      /^EINVAL: bad phdr da 0x100001000 mem 0x8 \(program header 0\)$/,
    );
    assert.deepEqual(memory.snapshot(), before);
  });

  it('TC-E22 a foreign e_machine is accepted and reported (the platform driver may check it)', () => {
    for (const machine of [EM.EM_X86_64, 0x1234]) {
      const image = elfSanityCheck(buildElf({ ...firmwareSpec(32), machine }));
      assert.equal(image.header.machine, machine);
    }
  });
});

describe('resource table location and header (TC-R01…R10)', () => {
  function rscImage(elfClass: 32 | 64, table: Uint8Array, extra: ElfSpec['sections'] = []): ElfImage {
    return imageOf(
      buildElf({
        class: elfClass,
        entry: RSC_DA,
        segments: [{ paddr: RSC_DA, section: '.resource_table' }],
        sections: [{ name: '.resource_table', data: table }, ...extra],
      }),
    );
  }

  function assertInvalid(
    lookup: RscTableLookup,
    message: RegExp,
  ): asserts lookup is Extract<RscTableLookup, { status: 'invalid' }> {
    assert.equal(lookup.status, 'invalid');
    assert.equal(lookup.problem.code, 'EINVAL');
    assert.match(lookup.problem.message, message);
  }

  it('TC-R01 a table section past the end of the file, or wrapping, is "truncated"', () => {
    const past = mutated(firmwareSpec(32), (b, img) =>
      setField(
        b,
        'le',
        shdrField(32, sectionNamed(img, '.resource_table').headerOffset, 'sh_size'),
        0x10_0000,
      ),
    );
    const lookup = findResourceTable(imageOf(past));
    assertInvalid(
      lookup,
      /^resource table truncated: sh_offset 0x[0-9a-f]+ \+ sh_size 0x100000 = 0x[0-9a-f]+ runs past the end of the image at 0x[0-9a-f]+$/,
    );
    assertRejects(() => loadResourceTableCopy(imageOf(past)), /resource table truncated/);

    // ELF32: 0xfffffff0 + 0x20 wraps to 0x10 in 32 bits.
    const wrap32 = mutated(firmwareSpec(32), (b, img) => {
      const h = sectionNamed(img, '.resource_table').headerOffset;
      setField(b, 'le', shdrField(32, h, 'sh_offset'), 0xffff_fff0);
      setField(b, 'le', shdrField(32, h, 'sh_size'), 0x20);
    });
    assertInvalid(
      findResourceTable(imageOf(wrap32)),
      /sh_offset 0xfffffff0 \+ sh_size 0x20 = 0x100000010 runs past/,
    );

    // ELF64: 0xfffffffffffffff0 + 0x20 wraps in u64. Such an offset has no exact number, so the
    // reader refuses the section table as a whole: the table is absent and the boot still fails.
    const wrap64 = mutated(firmwareSpec(64), (b, img) => {
      const h = sectionNamed(img, '.resource_table').headerOffset;
      setField(b, 'le', shdrField(64, h, 'sh_offset'), 0xffff_ffff_ffff_fff0n);
      setField(b, 'le', shdrField(64, h, 'sh_size'), 0x20);
    });
    assert.match(
      firstError(wrap64),
      /sh_offset 0xfffffffffffffff0 \+ sh_size 0x20 = 0x10000000000000010 runs past/,
    );
    assert.equal(findResourceTable(imageOf(wrap64)).status, 'absent');
    assertRejects(() => loadResourceTableCopy(imageOf(wrap64)), /no resource table/);
    assertRejects(() => elfSanityCheck(wrap64), /0xfffffffffffffff0/);
  });

  it('TC-R02 a table smaller than its 16-byte header is "header-less"', () => {
    assertInvalid(
      findResourceTable(rscImage(32, new Uint8Array(12))),
      /^header-less resource table: sh_size 0xc is smaller than the 0x10-byte table header$/,
    );
  });

  for (const ver of [0, 2, 0xffff_ffff]) {
    it(`TC-R03 ver = 0x${ver.toString(16)} is rejected`, () => {
      const image = rscImage(64, rscTableBytes({ ver }));
      assertInvalid(
        findResourceTable(image),
        new RegExp(`^unsupported fw ver 0x${ver.toString(16)} at 0x[0-9a-f]+ \\(expected 1\\)$`),
      );
      assertRejects(() => loadResourceTableCopy(image), /unsupported fw ver/);
      assertRejects(() => loadResourceTableCopyOptional(image), /unsupported fw ver/);
    });
  }

  it('TC-R04 non-zero reserved[0] or reserved[1] is rejected', () => {
    assertInvalid(
      findResourceTable(rscImage(32, rscTableBytes({ reserved0: 1 }))),
      /non zero reserved bytes: reserved\[0\] 0x1, reserved\[1\] 0x0/,
    );
    assertInvalid(
      findResourceTable(rscImage(32, rscTableBytes({ reserved1: 0x8000_0000 }))),
      /non zero reserved bytes: reserved\[0\] 0x0, reserved\[1\] 0x80000000/,
    );
  });

  it('TC-R05 16 + 4·num past the section is "incomplete", also where 4·num wraps 32 bits', () => {
    assertInvalid(
      findResourceTable(rscImage(32, rscTableBytes({ num: 2, size: 16 }))),
      /^resource table incomplete: num 0x2 at 0x[0-9a-f]+ needs 0x18 bytes, the section has 0x10$/,
    );
    // 4 × 0x40000000 is 0 in 32 bits, so a 32-bit check would accept this 16-byte table.
    assertInvalid(
      findResourceTable(rscImage(32, rscTableBytes({ num: 0x4000_0000, size: 16 }))),
      /num 0x40000000 .* needs 0x100000010 bytes/,
    );
  });

  it('TC-R06 num = 0 is a valid table without resources', () => {
    const lookup = findResourceTable(rscImage(32, rscTableBytes({ num: 0 })));
    assert.equal(lookup.status, 'found');
    assert.equal(lookup.size, 16);
  });

  it('TC-R07 with two ".resource_table" sections the first one is used, even if invalid', () => {
    const invalidFirst = rscImage(32, rscTableBytes({ ver: 2 }), [
      { name: '.resource_table', data: rscTableBytes({ num: 1 }) },
    ]);
    const lookup = findResourceTable(invalidFirst);
    assertInvalid(lookup, /unsupported fw ver 0x2/);
    assert.equal(lookup.section.index, 1);
    const validFirst = rscImage(32, rscTableBytes({ num: 1 }), [
      { name: '.resource_table', data: rscTableBytes({ ver: 2 }) },
    ]);
    const found = findResourceTable(validFirst);
    assert.equal(found.status, 'found');
    assert.equal(found.section.index, 1);
  });

  describe('TC-R08 only the exact C-string name ".resource_table" matches', () => {
    for (const name of [
      '.resource_tablex',
      '.RESOURCE_TABLE',
      '.resource_tabl',
      'resource_table',
      '.resource_table ',
    ]) {
      it(`"${name}" does not match`, () => {
        const image = imageOf(buildElf({ class: 32, entry: 0, sections: [{ name, data: rscTableBytes() }] }));
        assert.equal(findResourceTable(image).status, 'absent');
      });
    }

    it('".resource_table\\0junk" in the string table is the C string ".resource_table", so it matches', () => {
      // Names are C strings: the bytes after the NUL are another string (or padding), never part
      // of this name. Linux's strcmp sees ".resource_table" here too.
      const bytes = mutated(
        { class: 32, entry: 0, sections: [{ name: '.resource_table_junk', data: rscTableBytes() }] },
        (b, img) => {
          const s = sectionNamed(img, '.resource_table_junk');
          const strtab = sectionNamed(img, '.shstrtab');
          const at = strtab.offset + s.nameOffset + '.resource_table'.length;
          setField(b, 'le', { at, width: 1, name: 'name byte' }, 0);
        },
      );
      const lookup = findResourceTable(imageOf(bytes));
      assert.equal(lookup.status, 'found');
      assert.equal(lookup.section.name, '.resource_table');
    });

    it('a name shared by tail merging (sh_name pointing into "x.resource_table") matches', () => {
      const bytes = mutated(
        { class: 32, entry: 0, sections: [{ name: 'x.resource_table', data: rscTableBytes() }] },
        (b, img) => {
          const s = sectionNamed(img, 'x.resource_table');
          setField(b, 'le', shdrField(32, s.headerOffset, 'sh_name'), s.nameOffset + 1);
        },
      );
      assert.equal(findResourceTable(imageOf(bytes)).status, 'found');
    });

    it('an SHT_NOBITS ".resource_table" has no file bytes and is invalid', () => {
      const image = imageOf(
        buildElf({
          class: 32,
          entry: 0,
          sections: [{ name: '.resource_table', type: SHT.SHT_NOBITS, size: 16 }],
        }),
      );
      assertInvalid(findResourceTable(image), /is SHT_NOBITS: it has no bytes in the file/);
    });
  });

  it('TC-R09 (ELF part) a table whose sh_addr does not translate after loading is not found in memory', () => {
    const image = parseElf(buildElf(firmwareSpec(32)));
    const memory = new FakeMemory([{ da: 0x8000_0000, size: 0x7000 }]);
    assert.equal(findLoadedResourceTable(image, memory.daToVa), undefined);
    assert.deepEqual(memory.calls, [{ da: BigInt(RSC_DA), len: 24 }]);
  });

  // The core halves of TC-R09 and TC-R10 are in src/remoteproc/rproc-resources.test.ts.
});
