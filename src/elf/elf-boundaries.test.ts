// Every check the ELF reader, the sanity check, the segment loader and the resource-table lookup
// make on a value a firmware image carries, pinned at its boundary: the last value a check accepts
// reads clean (or at least without that check's problem), the first value it refuses gives exactly
// that check's error. Images are laid out byte by byte here, so that each boundary is one field one
// step away from valid. Far-out values are in elf-malformed.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RprocError } from '../util/errors.ts';
import { EHDR, PHDR, PT, SHDR, SHT, SYM, type ElfClass } from './elf-constants.ts';
import { elfSanityCheck, readElf } from './elf-reader.ts';
import { findLoadedResourceTable, findResourceTable } from './elf-rsc-table.ts';
import { loadElfSegments, loadSegments } from './elf-segments.ts';
import { imageView, readRawProgramHeader, readRawSectionHeader, readRawSymbol } from './elf-structs.ts';
import type { ElfImage } from './elf-types.ts';

type EField = keyof (typeof EHDR)[32];
type PField = keyof (typeof PHDR)[32];
type SField = keyof (typeof SHDR)[32];

const HALF: ReadonlySet<string> = new Set([
  'e_type',
  'e_machine',
  'e_ehsize',
  'e_phentsize',
  'e_phnum',
  'e_shentsize',
  'e_shnum',
  'e_shstrndx',
]);
/** Fields that are 8 bytes wide in ELF64 (addresses, offsets, sizes). */
const WIDE64: ReadonlySet<string> = new Set([
  'e_entry',
  'e_phoff',
  'e_shoff',
  'p_offset',
  'p_vaddr',
  'p_paddr',
  'p_filesz',
  'p_memsz',
  'p_align',
  'sh_flags',
  'sh_addr',
  'sh_offset',
  'sh_size',
  'sh_addralign',
  'sh_entsize',
]);

const SIZES = {
  32: { ehdr: 0x34, phdr: 0x20, shdr: 0x28 },
  64: { ehdr: 0x40, phdr: 0x38, shdr: 0x40 },
} as const;

/** A little-endian ELF image written field by field. */
class Image {
  readonly cls: ElfClass;
  bytes: Uint8Array;

  constructor(cls: ElfClass, size: number) {
    this.cls = cls;
    this.bytes = new Uint8Array(size);
    this.bytes.set([0x7f, 0x45, 0x4c, 0x46, cls === 32 ? 1 : 2, 1, 1]);
    this.e('e_type', 2).e('e_machine', 0xf3).e('e_version', 1).e('e_ehsize', SIZES[cls].ehdr);
    this.e('e_phentsize', SIZES[cls].phdr).e('e_shentsize', SIZES[cls].shdr);
  }

  private put(at: number, name: string, v: number | bigint): this {
    const dv = new DataView(this.bytes.buffer);
    if (this.cls === 64 && WIDE64.has(name)) dv.setBigUint64(at, BigInt(v), true);
    else if (HALF.has(name)) dv.setUint16(at, Number(v), true);
    else dv.setUint32(at, Number(v), true);
    return this;
  }

  e(f: EField, v: number | bigint): this {
    return this.put(EHDR[this.cls][f], f, v);
  }

  p(i: number, f: PField, v: number | bigint): this {
    const phoff = this.u(EHDR[this.cls].e_phoff, 'e_phoff');
    return this.put(phoff + SIZES[this.cls].phdr * i + PHDR[this.cls][f], f, v);
  }

  s(i: number, f: SField, v: number | bigint): this {
    const shoff = this.u(EHDR[this.cls].e_shoff, 'e_shoff');
    return this.put(shoff + SIZES[this.cls].shdr * i + SHDR[this.cls][f], f, v);
  }

  at(off: number, data: Uint8Array | readonly number[]): this {
    this.bytes.set(data, off);
    return this;
  }

  /** The image cut (or padded with zeros) to `size` bytes. */
  resize(size: number): this {
    const out = new Uint8Array(size);
    out.set(this.bytes.subarray(0, Math.min(size, this.bytes.length)));
    this.bytes = out;
    return this;
  }

  private u(at: number, name: string): number {
    const dv = new DataView(this.bytes.buffer);
    if (this.cls === 64 && WIDE64.has(name)) return Number(dv.getBigUint64(at, true));
    return dv.getUint32(at, true);
  }
}

/** One PT_LOAD of 16 file bytes right after its header, no sections: the smallest valid firmware. */
function firmware(cls: ElfClass = 32, phnum = 1): Image {
  const { ehdr, phdr } = SIZES[cls];
  const data = ehdr + phdr * phnum;
  const img = new Image(cls, data + 16 * phnum).e('e_phoff', ehdr).e('e_phnum', phnum).e('e_entry', 0x1000);
  for (let i = 0; i < phnum; i++) {
    img
      .p(i, 'p_type', PT.PT_LOAD)
      .p(i, 'p_offset', data + 16 * i)
      .p(i, 'p_filesz', 16)
      .p(i, 'p_memsz', 16);
    img
      .p(i, 'p_paddr', 0x1000 + 0x100 * i)
      .p(i, 'p_vaddr', 0x1000 + 0x100 * i)
      .p(i, 'p_flags', 5);
    img.at(data + 16 * i, new Uint8Array(16).fill(0xa0 + i));
  }
  return img;
}

const STRTAB = new TextEncoder().encode('\0.resource_table\0.shstrtab\0');
const RSC_AT = 0x64;

/**
 * firmware() plus sections: 0 (NULL), 1 ".resource_table" (a table of `rscSize` bytes, num 1, at
 * 0x64), 2 ".shstrtab"; the section headers at the end.
 */
function withSections(rscSize = 20): Image {
  const strAt = RSC_AT + rscSize;
  const shoff = (strAt + STRTAB.length + 3) & ~3;
  const img = firmware(32).resize(shoff + 3 * SIZES[32].shdr);
  img.e('e_shoff', shoff).e('e_shnum', 3).e('e_shstrndx', 2);
  img.s(1, 'sh_name', 1).s(1, 'sh_type', SHT.SHT_PROGBITS).s(1, 'sh_offset', RSC_AT).s(1, 'sh_size', rscSize);
  img.s(1, 'sh_addr', 0x2000);
  img
    .s(2, 'sh_name', 17)
    .s(2, 'sh_type', SHT.SHT_STRTAB)
    .s(2, 'sh_offset', strAt)
    .s(2, 'sh_size', STRTAB.length);
  img.at(strAt, STRTAB);
  const table = new DataView(img.bytes.buffer, RSC_AT, rscSize);
  if (rscSize >= 16) {
    table.setUint32(0, 1, true);
    table.setUint32(4, Math.floor((rscSize - 16) / 4), true);
  }
  return img;
}

function problems(bytes: Uint8Array): string[] {
  return readElf(bytes).problems.map((p) => `${p.severity} ${p.code} @${String(p.offset)}: ${p.message}`);
}

interface ReadBoundary {
  readonly check: string;
  readonly lastValid: () => Image;
  readonly firstInvalid: () => Image;
  /** "severity code @offset: message" of the first problem of the first invalid image. */
  readonly refused: RegExp;
  /** The last valid image may carry this other check's problem (it cannot avoid it). */
  readonly alsoAtLastValid?: RegExp;
  /** The first invalid image has this problem only (reading stops there). */
  readonly only?: boolean;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const READ: readonly ReadBoundary[] = [
  {
    check: 'image ≥ an ELF32 header',
    lastValid: () => new Image(32, 0x34),
    firstInvalid: () => new Image(32, 0x33),
    refused: /^error EINVAL @0: image is too small \(0x33 bytes, an ELF32 header needs 0x34\)$/,
  },
  {
    check: 'an ELF64 image ≥ an ELF64 header',
    lastValid: () => new Image(64, 0x40),
    firstInvalid: () => new Image(64, 0x3f),
    refused: /^error EINVAL @0: image is too small \(0x3f bytes, an ELF64 header needs 0x40\)$/,
    only: true,
  },
  {
    check: 'EI_CLASS is 1 or 2 (above)',
    lastValid: () => new Image(64, 0x40),
    firstInvalid: () => new Image(64, 0x40).at(4, [3]),
    refused: /^error EINVAL @4: unsupported class 0x3 at e_ident\[EI_CLASS\] 0x4/,
  },
  {
    check: 'EI_CLASS is 1 or 2 (below)',
    lastValid: () => new Image(32, 0x34),
    firstInvalid: () => new Image(32, 0x34).at(4, [0]),
    refused: /^error EINVAL @4: unsupported class 0x0 at/,
  },
  {
    check: 'EI_DATA is 1 or 2',
    lastValid: () => new Image(32, 0x34),
    firstInvalid: () => new Image(32, 0x34).at(5, [3]),
    refused: /^error EINVAL @5: unsupported data encoding 0x3 at e_ident\[EI_DATA\] 0x5/,
  },
  {
    check: 'EI_DATA is not 0',
    lastValid: () => new Image(32, 0x34),
    firstInvalid: () => new Image(32, 0x34).at(5, [0]),
    refused: /^error EINVAL @5: unsupported data encoding 0x0/,
  },
  {
    check: 'the magic is \\x7fELF (last byte)',
    lastValid: () => new Image(32, 0x34),
    firstInvalid: () => new Image(32, 0x34).at(3, [0x47]),
    refused: /^error EINVAL @0: bad magic 0x7f454c47 at 0x0/,
  },
  {
    check: 'e_version 1 (a warning)',
    lastValid: () => firmware(),
    firstInvalid: () => firmware().e('e_version', 2),
    refused: /^warning EINVAL @20: e_version is 0x2 at 0x14, not EV_CURRENT/,
  },
  {
    check: 'e_ident[EI_VERSION] 1 (a warning)',
    lastValid: () => firmware(),
    firstInvalid: () => firmware().at(6, [2]),
    refused: /^warning EINVAL @6: e_ident\[EI_VERSION\] is 0x2 at 0x6/,
  },
  {
    check: 'e_ehsize is the header size (a warning)',
    lastValid: () => firmware(),
    firstInvalid: () => firmware().e('e_ehsize', 0x35),
    refused: /^warning EINVAL @40: e_ehsize is 0x35 at 0x28, not the ELF32 header size 0x34/,
  },
  {
    check: 'e_phoff ≠ 0 when there are program headers',
    lastValid: () => firmware(),
    firstInvalid: () => firmware().e('e_phoff', 0),
    refused: /^error EINVAL @28: e_phnum is 1 but e_phoff is 0 \(no program header table\)$/,
  },
  {
    check: 'e_phentsize is the program header size (above)',
    lastValid: () => firmware(),
    firstInvalid: () => firmware().e('e_phentsize', 0x21),
    refused: /^error EINVAL @42: e_phentsize 0x21 at 0x2a is not the ELF32 program header size 0x20$/,
  },
  {
    check: 'e_phentsize is the program header size (below)',
    lastValid: () => firmware(),
    firstInvalid: () => firmware().e('e_phentsize', 0x1f),
    refused: /^error EINVAL @42: e_phentsize 0x1f at 0x2a/,
  },
  {
    check: 'the whole program header table lies in the image, not only its first header',
    // Two headers, the table at the very end of the image; then one byte cut from the second.
    lastValid: () => {
      const img = firmware(32, 2);
      const tableAt = img.bytes.length;
      const moved = img.resize(tableAt + 0x40);
      moved.at(tableAt, img.bytes.subarray(0x34, 0x74));
      return moved.e('e_phoff', tableAt);
    },
    firstInvalid: () => {
      const img = firmware(32, 2);
      const tableAt = img.bytes.length;
      const moved = img.resize(tableAt + 0x40);
      moved.at(tableAt, img.bytes.subarray(0x34, 0x74));
      return moved.e('e_phoff', tableAt).resize(tableAt + 0x3f);
    },
    refused:
      /^error EINVAL @148: program header table at 0x94 \(2 × 32 bytes\) runs past the end of the image at 0xd3$/,
  },
  {
    check: 'p_filesz ≤ p_memsz',
    lastValid: () => firmware().p(0, 'p_memsz', 16),
    firstInvalid: () => firmware().p(0, 'p_memsz', 15),
    refused:
      /^error EINVAL @68: program header 0 \(PT_LOAD at 0x34\): p_filesz 0x10 is larger than p_memsz 0xf$/,
  },
  {
    check: 'p_offset + p_filesz ≤ the image size',
    lastValid: () => firmware().p(0, 'p_offset', 0x54),
    firstInvalid: () => firmware().p(0, 'p_offset', 0x55),
    refused:
      /^error EINVAL @56: program header 0 \(PT_LOAD at 0x34\): p_offset 0x55 \+ p_filesz 0x10 = 0x65 runs past the end of the image at 0x64$/,
  },
  {
    check: 'ELF64 p_memsz ≤ 2^53 − 1',
    lastValid: () => firmware(64).p(0, 'p_memsz', MAX_SAFE),
    firstInvalid: () => firmware(64).p(0, 'p_memsz', MAX_SAFE + 1n),
    refused:
      /^error EOVERFLOW @104: program header 0 \(PT_LOAD at 0x40\): p_memsz 0x20000000000000 is too large to handle$/,
  },
  {
    check: 'ELF64 p_offset of a header the loader skips ≤ 2^53 − 1 (else not listed, a warning)',
    lastValid: () => firmware(64).p(0, 'p_type', PT.PT_NOTE).p(0, 'p_offset', MAX_SAFE),
    firstInvalid: () =>
      firmware(64)
        .p(0, 'p_type', PT.PT_NOTE)
        .p(0, 'p_offset', MAX_SAFE + 1n),
    refused:
      /^warning EOVERFLOW @64: program header 0 \(PT_NOTE at 0x40\): p_offset 0x20000000000000, p_filesz 0x10 or p_memsz 0x10 is too large/,
  },
  {
    check: 'ELF64 e_phoff ≤ 2^53 − 1 (else the header is unusable)',
    lastValid: () => firmware(64).e('e_phoff', MAX_SAFE),
    // 2^53 − 1 is a number: then it is only a table past the end.
    alsoAtLastValid: /program header table at 0x1fffffffffffff/,
    firstInvalid: () => firmware(64).e('e_phoff', MAX_SAFE + 1n),
    refused: /^error EINVAL @32: e_phoff 0x20000000000000 at 0x20 is past the end of the image at 0x88$/,
  },
  {
    check: 'e_shoff ≠ 0 when e_shnum says there are sections',
    lastValid: () => firmware().e('e_shnum', 0),
    firstInvalid: () => firmware().e('e_shnum', 1),
    refused: /^error EINVAL @32: e_shnum is 1 but e_shoff is 0 \(no section header table\)$/,
  },
  {
    check: 'e_shentsize is the section header size',
    lastValid: () => withSections(),
    firstInvalid: () => withSections().e('e_shentsize', 0x29),
    refused: /^error EINVAL @46: e_shentsize 0x29 at 0x2e is not the ELF32 section header size 0x28$/,
  },
  {
    check: 'the whole section header table lies in the image',
    lastValid: () => withSections(),
    firstInvalid: () => withSections().resize(withSections().bytes.length - 1),
    refused:
      /^error EINVAL @148: section header table at 0x94 \(3 × 40 bytes\) runs past the end of the image at 0x10b$/,
  },
  {
    check: 'sh_offset + sh_size ≤ the image size',
    lastValid: () => withSections().s(1, 'sh_size', 0x10c - RSC_AT),
    // The table now spans the strtab: still a valid range, the table check only needs 16 + 4 bytes.
    firstInvalid: () => withSections().s(1, 'sh_size', 0x10c - RSC_AT + 1),
    refused:
      /^error EINVAL @204: section 1 ".resource_table" \(header at 0xbc\): sh_offset 0x64 \+ sh_size 0xa9 = 0x10d runs past the end of the image at 0x10c$/,
  },
  {
    check: 'e_shstrndx below the section count',
    lastValid: () => withSections(),
    firstInvalid: () => withSections().e('e_shstrndx', 3),
    refused: /^error EINVAL @50: e_shstrndx 0x3 at 0x32 is not below the section count 0x3$/,
  },
  {
    check: 'sh_name inside the string table',
    // The last byte of the string table is its final NUL: an empty name.
    lastValid: () => withSections().s(0, 'sh_name', STRTAB.length - 1),
    firstInvalid: () => withSections().s(0, 'sh_name', STRTAB.length),
    refused:
      /^error EINVAL @148: section 0: sh_name 0x1b at 0x94 is outside the section name string table \(section 2, 0x1b bytes at 0x78\)$/,
  },
  {
    check: 'a section name is NUL-terminated inside the string table',
    lastValid: () => withSections(),
    firstInvalid: () => withSections().s(2, 'sh_size', STRTAB.length - 1),
    refused:
      /^error EINVAL @137: section 2: the name at sh_name 0x11 is not NUL-terminated within the section name string table \(section 2, 0x1a bytes at 0x78\)$/,
  },
  {
    check: 'the string table is not SHT_NOBITS',
    lastValid: () => withSections(),
    firstInvalid: () => withSections().s(2, 'sh_type', SHT.SHT_NOBITS),
    refused: /^error EINVAL @228: section name string table \(section 2, header at 0xe4\) is SHT_NOBITS/,
  },
];

describe('ELF reader: every check at its boundary', () => {
  for (const b of READ) {
    it(`${b.check}: last valid reads clean, first invalid gives that problem`, () => {
      const ok = problems(b.lastValid().bytes).filter((p) => b.alsoAtLastValid?.test(p) !== true);
      assert.deepEqual(ok, []);
      if (b.alsoAtLastValid !== undefined) {
        assert.ok(problems(b.lastValid().bytes).some((p) => b.alsoAtLastValid?.test(p)));
      }
      const bad = problems(b.firstInvalid().bytes);
      assert.match(bad[0] ?? '(no problem)', b.refused, bad.join('\n'));
      if (b.only === true) assert.equal(bad.length, 1, bad.join('\n'));
    });
  }

  it('a clean image lists its headers, sections and names as written', () => {
    const { image, problems: p } = readElf(withSections().bytes);
    assert.deepEqual(p, []);
    assert.ok(image !== undefined);
    assert.deepEqual(
      image.programHeaders.map((h) => [h.type, h.offset, h.filesz, h.memsz, h.paddr]),
      [[PT.PT_LOAD, 0x54, 16, 16, 0x1000n]],
    );
    assert.deepEqual(
      image.sections.map((s) => [s.name, s.offset, s.size]),
      [
        ['', 0, 0],
        ['.resource_table', RSC_AT, 20],
        ['.shstrtab', RSC_AT + 20, STRTAB.length],
      ],
    );
  });
});

// ---- gABI extended numbering --------------------------------------------------------------------

/** firmware(cls) plus a table of `count` zeroed section headers at its end (no names). */
function withSectionTable(cls: ElfClass, count = 1): Image {
  const img = firmware(cls);
  const shoff = img.bytes.length;
  return img
    .resize(shoff + count * SIZES[cls].shdr)
    .e('e_shoff', shoff)
    .e('e_shnum', count);
}

const NO_NAMES = /^warning EINVAL @\d+: e_shstrndx is SHN_UNDEF: sections have no names/;

interface ReadRow {
  readonly check: string;
  readonly image: () => Image;
  /** Every problem, in order, as "severity code @offset: message" (patterns). */
  readonly problems: readonly RegExp[];
  readonly phnum?: number;
  readonly shnum?: number;
  readonly shstrndx?: number;
  /** The section names as read (so also how many sections are listed). */
  readonly names?: readonly string[];
  /** How many sections are listed. */
  readonly sections?: number;
  /** How many program headers are listed. */
  readonly programHeaders?: number;
}

/** One test per row: exactly these problems in this order, and the header values read. */
function readRows(rows: readonly ReadRow[]): void {
  for (const r of rows) {
    it(r.check, () => {
      const { image, problems: found } = readElf(r.image().bytes);
      const lines = found.map((p) => `${p.severity} ${p.code} @${String(p.offset)}: ${p.message}`);
      assert.equal(lines.length, r.problems.length, lines.join('\n'));
      r.problems.forEach((re, i) => assert.match(lines[i] ?? '', re, lines.join('\n')));
      assert.ok(image !== undefined);
      if (r.phnum !== undefined) assert.equal(image.header.phnum, r.phnum);
      if (r.shnum !== undefined) assert.equal(image.header.shnum, r.shnum);
      if (r.shstrndx !== undefined) assert.equal(image.header.shstrndx, r.shstrndx);
      if (r.names !== undefined)
        assert.deepEqual(
          image.sections.map((s) => s.name),
          r.names,
        );
      if (r.sections !== undefined) assert.equal(image.sections.length, r.sections);
      if (r.phnum === 1) assert.equal(image.programHeaders.length, 1);
      if (r.programHeaders !== undefined) assert.equal(image.programHeaders.length, r.programHeaders);
    });
  }
}

describe('ELF reader: extended numbering (section 0 holds the real counts) at its boundaries', () => {
  readRows([
    {
      check: 'e_phnum PN_XNUM (0xffff): the count is section 0’s sh_info',
      image: () => withSectionTable(32).e('e_phnum', 0xffff).s(0, 'sh_info', 1),
      problems: [NO_NAMES],
      phnum: 1,
      shnum: 1,
    },
    {
      check: 'ELF64 e_phnum PN_XNUM: the count is section 0’s sh_info',
      image: () => withSectionTable(64).e('e_phnum', 0xffff).s(0, 'sh_info', 1),
      problems: [NO_NAMES],
      phnum: 1,
    },
    {
      check: 'e_phnum 0xfffe (one below PN_XNUM) is a count, not a marker',
      image: () => withSectionTable(32).e('e_phnum', 0xfffe).s(0, 'sh_info', 1),
      problems: [/^error EINVAL @52: program header table at 0x34 \(65534 × 32 bytes\) runs past/, NO_NAMES],
      phnum: 0xfffe,
    },
    {
      check: 'PN_XNUM without a section header table',
      image: () => firmware(32).e('e_phnum', 0xffff),
      problems: [
        /^error EINVAL @44: e_phnum at 0x2c is PN_XNUM \(0xffff\) but there is no section header table \(e_shoff is 0\) to hold the real count$/,
        /^error EINVAL @52: program header table at 0x34 \(65535 × 32 bytes\) runs past/,
      ],
      phnum: 0xffff,
    },
    {
      check: 'PN_XNUM: section 0 one byte past the end of the image',
      image: () => {
        const img = withSectionTable(32).e('e_phnum', 0xffff).s(0, 'sh_info', 1);
        return img.resize(img.bytes.length - 1);
      },
      problems: [
        /^error EINVAL @44: e_phnum at 0x2c is PN_XNUM \(0xffff\) but section header 0 cannot be read to hold the real count$/,
        /^error EINVAL @52: program header table/,
        /^error EINVAL @100: section header table at 0x64 \(1 × 40 bytes\) runs past the end of the image at 0x8b$/,
      ],
      phnum: 0xffff,
    },
    {
      check: 'PN_XNUM: section 0 unreadable with e_shentsize one above the header size',
      image: () => withSectionTable(32).e('e_phnum', 0xffff).s(0, 'sh_info', 1).e('e_shentsize', 0x29),
      problems: [
        /^error EINVAL @44: e_phnum at 0x2c is PN_XNUM \(0xffff\) but section header 0 cannot be read/,
        /^error EINVAL @52: program header table/,
        /^error EINVAL @46: e_shentsize 0x29/,
      ],
      phnum: 0xffff,
    },
    {
      check: 'e_shnum 0 with e_shoff set: the count is section 0’s sh_size',
      image: () => withSections().e('e_shnum', 0).s(0, 'sh_size', 3),
      problems: [],
      shnum: 3,
      names: ['', '.resource_table', '.shstrtab'],
    },
    {
      check: 'e_shnum 0 and section 0’s sh_size 0: no sections (a warning)',
      image: () => withSections().e('e_shnum', 0),
      problems: [
        /^warning EINVAL @48: e_shoff is 0x94 but e_shnum and section 0's sh_size are both 0: no sections$/,
      ],
      shnum: 0,
      names: [],
    },
    {
      check: 'e_shnum 1 is a count even when section 0’s sh_size says otherwise',
      image: () => withSections().e('e_shnum', 1).e('e_shstrndx', 0).s(0, 'sh_size', 3),
      problems: [NO_NAMES],
      shnum: 1,
      names: [''],
    },
    {
      check: 'ELF64 extended section count 2^53 − 1 is taken (then the table does not fit)',
      image: () => withSectionTable(64).e('e_shnum', 0).s(0, 'sh_size', MAX_SAFE),
      problems: [
        /^error EINVAL @136: section header table at 0x88 \(9007199254740991 × 64 bytes\) runs past/,
      ],
      shnum: Number.MAX_SAFE_INTEGER,
    },
    {
      check: 'ELF64 extended section count 2^53 cannot be a count',
      image: () =>
        withSectionTable(64)
          .e('e_shnum', 0)
          .s(0, 'sh_size', MAX_SAFE + 1n),
      problems: [
        /^error EINVAL @168: extended section count 0x20000000000000 in section 0's sh_size at 0xa8 cannot fit in the image$/,
      ],
      shnum: 0,
    },
    {
      check: 'e_shstrndx SHN_XINDEX (0xffff): the index is section 0’s sh_link',
      image: () => withSections().e('e_shstrndx', 0xffff).s(0, 'sh_link', 2),
      problems: [],
      shstrndx: 2,
      names: ['', '.resource_table', '.shstrtab'],
    },
    {
      check: 'e_shstrndx 0xfffe (one below SHN_XINDEX) is an index, not a marker',
      image: () => withSections().e('e_shstrndx', 0xfffe).s(0, 'sh_link', 2),
      problems: [/^error EINVAL @50: e_shstrndx 0xfffe at 0x32 is not below the section count 0x3$/],
      shstrndx: 0xfffe,
      names: ['', '', ''],
    },
    {
      check: 'SHN_XINDEX without a section header table: no names',
      image: () => firmware(32).e('e_shstrndx', 0xffff),
      problems: [
        /^error EINVAL @50: e_shstrndx at 0x32 is SHN_XINDEX \(0xffff\) but there is no section header table \(e_shoff is 0\) to hold the real index$/,
      ],
      shstrndx: 0,
    },
    {
      check: 'SHN_XINDEX with section 0 unreadable: no names',
      image: () => withSections().e('e_shstrndx', 0xffff).s(0, 'sh_link', 2).e('e_shentsize', 0x29),
      problems: [
        /^error EINVAL @50: e_shstrndx at 0x32 is SHN_XINDEX \(0xffff\) but section header 0 cannot be read to hold the real index$/,
        /^error EINVAL @46: e_shentsize 0x29/,
      ],
      shstrndx: 0,
    },
  ]);
});

describe('ELF reader: a header the loader skips is listed only if exact (ELF64, at 2^53 − 1 and 2^53)', () => {
  const note = (): Image => firmware(64).p(0, 'p_type', PT.PT_NOTE);
  const notListed = (field: string): RegExp =>
    new RegExp(
      `^warning EOVERFLOW @64: program header 0 \\(PT_NOTE at 0x40\\): .*${field} 0x20000000000000.* is too large to be a file offset or size; header not listed$`,
    );
  readRows([
    {
      check: 'p_filesz 2^53 − 1',
      image: () => note().p(0, 'p_filesz', MAX_SAFE),
      problems: [],
      programHeaders: 1,
    },
    {
      check: 'p_filesz 2^53',
      image: () => note().p(0, 'p_filesz', MAX_SAFE + 1n),
      problems: [notListed('p_filesz')],
      programHeaders: 0,
    },
    {
      check: 'p_memsz 2^53 − 1',
      image: () => note().p(0, 'p_memsz', MAX_SAFE),
      problems: [],
      programHeaders: 1,
    },
    {
      check: 'p_memsz 2^53',
      image: () => note().p(0, 'p_memsz', MAX_SAFE + 1n),
      problems: [notListed('p_memsz')],
      programHeaders: 0,
    },
    {
      check: 'p_offset 2^53 − 1',
      image: () => note().p(0, 'p_offset', MAX_SAFE),
      problems: [],
      programHeaders: 1,
    },
    {
      check: 'p_offset 2^53',
      image: () => note().p(0, 'p_offset', MAX_SAFE + 1n),
      problems: [notListed('p_offset')],
      programHeaders: 0,
    },
  ]);
});

describe('ELF reader: section header checks at their boundaries', () => {
  const sh64 = (): Image => withSectionTable(64, 2).s(1, 'sh_type', SHT.SHT_NOBITS);
  readRows([
    {
      check: 'sh_name of section 1 one past the name table: the error points at section 1’s header',
      image: () => withSections().s(1, 'sh_name', STRTAB.length),
      problems: [
        /^error EINVAL @188: section 1: sh_name 0x1b at 0xbc is outside the section name string table \(section 2, 0x1b bytes at 0x78\)$/,
      ],
      names: ['', '', '.shstrtab'],
    },
    {
      check: 'e_phoff 0 with e_phnum 1: no program header is read from the ELF header',
      image: () => firmware().e('e_phoff', 0),
      problems: [/^error EINVAL @28: e_phnum is 1 but e_phoff is 0 \(no program header table\)$/],
      programHeaders: 0,
    },
    {
      check: 'a SHT_NOBITS section may lie past the end of the file (it has no file bytes)',
      image: () => withSections().s(1, 'sh_type', SHT.SHT_NOBITS).s(1, 'sh_offset', 0x10000),
      problems: [],
      names: ['', '.resource_table', '.shstrtab'],
    },
    {
      check: 'a SHT_NOTE section (type 7, one below SHT_NOBITS) has file bytes: past the end is refused',
      image: () => withSections().s(1, 'sh_type', SHT.SHT_NOTE).s(1, 'sh_offset', 0x10000),
      problems: [
        /^error EINVAL @204: section 1 ".resource_table" \(header at 0xbc\): sh_offset 0x10000 \+ sh_size 0x14 = 0x10014 runs past the end of the image at 0x10c$/,
      ],
      sections: 3,
    },
    {
      check: 'a SHT_REL section (type 9, one above SHT_NOBITS) has file bytes: past the end is refused',
      image: () => withSections().s(1, 'sh_type', SHT.SHT_REL).s(1, 'sh_offset', 0x10000),
      problems: [/^error EINVAL @204: section 1 ".resource_table" \(header at 0xbc\): sh_offset 0x10000/],
      sections: 3,
    },
    {
      check: 'a SHT_NULL section’s offset and size are undefined: not checked',
      image: () => withSections().s(0, 'sh_offset', 0x10000).s(0, 'sh_size', 0x10),
      problems: [],
      sections: 3,
    },
    {
      check: 'a SHT_PROGBITS section 0 (type 1, one above SHT_NULL) is checked',
      image: () =>
        withSections().s(0, 'sh_type', SHT.SHT_PROGBITS).s(0, 'sh_offset', 0x10000).s(0, 'sh_size', 0x10),
      problems: [
        /^error EINVAL @164: section 0 \(header at 0x94\): sh_offset 0x10000 \+ sh_size 0x10 = 0x10010 runs past the end of the image at 0x10c$/,
      ],
      sections: 3,
    },
    {
      check: 'ELF64 SHT_NOBITS sh_size 2^53 − 1 is listed',
      image: () => sh64().s(1, 'sh_size', MAX_SAFE),
      problems: [NO_NAMES],
      shnum: 2,
      sections: 2,
    },
    {
      check: 'ELF64 SHT_NOBITS sh_size 2^53 is too large to handle, and no section is listed',
      image: () => sh64().s(1, 'sh_size', MAX_SAFE + 1n),
      problems: [
        NO_NAMES,
        /^error EOVERFLOW @224: section 1 \(header at 0xc8\): sh_offset 0x0 or sh_size 0x20000000000000 is too large to handle$/,
      ],
      shnum: 2,
      sections: 0,
    },
    {
      check: 'ELF64 SHT_NOBITS sh_offset 2^53 − 1 is listed',
      image: () => sh64().s(1, 'sh_offset', MAX_SAFE),
      problems: [NO_NAMES],
      sections: 2,
    },
    {
      check: 'ELF64 SHT_NOBITS sh_offset 2^53 is too large to handle, and no section is listed',
      image: () => sh64().s(1, 'sh_offset', MAX_SAFE + 1n),
      problems: [
        NO_NAMES,
        /^error EOVERFLOW @224: section 1 \(header at 0xc8\): sh_offset 0x20000000000000 or sh_size 0x0/,
      ],
      sections: 0,
    },
    {
      check: 'ELF64 SHT_PROGBITS sh_size 2^53 runs past the end, and no section is listed',
      image: () =>
        sh64()
          .s(1, 'sh_type', SHT.SHT_PROGBITS)
          .s(1, 'sh_size', MAX_SAFE + 1n),
      problems: [
        NO_NAMES,
        /^error EINVAL @224: section 1 \(header at 0xc8\): sh_offset 0x0 \+ sh_size 0x20000000000000/,
      ],
      sections: 0,
    },
    {
      check: 'the name string table of another type than SHT_STRTAB (a warning): names are still read',
      image: () => withSections().s(2, 'sh_type', SHT.SHT_PROGBITS),
      problems: [
        /^warning EINVAL @228: section name string table \(section 2, header at 0xe4\) has type 0x1, not SHT_STRTAB$/,
      ],
      names: ['', '.resource_table', '.shstrtab'],
    },
    {
      check: 'e_shstrndx SHN_UNDEF (0): a warning, no names',
      image: () => withSections().e('e_shstrndx', 0),
      problems: [
        /^warning EINVAL @50: e_shstrndx is SHN_UNDEF: sections have no names \(a resource table cannot be found\)$/,
      ],
      names: ['', '', ''],
    },
    {
      check: 'a name string table one byte past the end of the file: reported once, names unread',
      image: () => withSections().s(2, 'sh_offset', 0x10c - STRTAB.length + 1),
      problems: [
        /^error EINVAL @244: section 2 \(header at 0xe4\): sh_offset 0xf2 \+ sh_size 0x1b = 0x10d runs past/,
      ],
      names: ['', '', ''],
    },
    {
      check: 'e_shnum 0: section 0 alone, ending at the end of the file, is read (count 0: a warning)',
      image: () =>
        withSections()
          .e('e_shnum', 0)
          .resize(0x94 + 0x28),
      problems: [
        /^warning EINVAL @48: e_shoff is 0x94 but e_shnum and section 0's sh_size are both 0: no sections$/,
      ],
      sections: 0,
    },
    {
      check: 'e_shnum 0: section 0 one byte past the end of the file is refused (1 × the header size)',
      image: () =>
        withSections()
          .e('e_shnum', 0)
          .resize(0x94 + 0x27),
      problems: [
        /^error EINVAL @148: section header table at 0x94 \(1 × 40 bytes\) runs past the end of the image at 0xbb$/,
      ],
      sections: 0,
    },
  ]);
});

// ---- rproc_elf_sanity_check -------------------------------------------------------------------

function sanityError(bytes: Uint8Array): string {
  try {
    elfSanityCheck(bytes);
    return '(accepted)';
  } catch (e) {
    assert.ok(e instanceof RprocError);
    return `${e.code} @${String(e.offset)}: ${e.detail}`;
  }
}

describe('elfSanityCheck: Linux’s checks at their boundaries', () => {
  const rows: readonly {
    check: string;
    lastValid: () => Image;
    firstInvalid: () => Image;
    refused: RegExp;
    /** What the last valid image must not be refused with, when `refused` names a value. */
    notAtLastValid?: RegExp;
  }[] = [
    {
      check: 'image ≥ an ELF32 header',
      lastValid: () => new Image(32, 0x34),
      notAtLastValid: /image is too small \(/,
      firstInvalid: () => new Image(32, 0x33),
      refused: /^EINVAL @0: image is too small \(0x33 bytes, an ELF32 header needs 0x34\)$/,
    },
    {
      check: 'an ELF64 image ≥ an ELF64 header',
      lastValid: () => new Image(64, 0x40),
      notAtLastValid: /image is too small \(/,
      firstInvalid: () => new Image(64, 0x3f),
      refused: /^EINVAL @0: image is too small \(0x3f bytes, an ELF64 header needs 0x40\)$/,
    },
    {
      check: 'the first section header fits (e_shoff + its size ≤ the image size)',
      lastValid: () => {
        const img = firmware();
        return img.resize(img.bytes.length + 0x28).e('e_shoff', img.bytes.length - 0x28);
      },
      firstInvalid: () => {
        const img = firmware();
        return img.resize(img.bytes.length + 0x28).e('e_shoff', img.bytes.length - 0x27);
      },
      refused:
        /^EINVAL @32: image is too small: section header at e_shoff 0x65 \(0x28 bytes\) runs past the end of the image at 0x8c$/,
    },
    {
      check: 'at least one program header',
      lastValid: () => firmware(),
      firstInvalid: () => firmware().e('e_phnum', 0),
      refused: /^EINVAL @44: no loadable segments \(e_phnum is 0\)$/,
    },
    {
      check: 'e_phoff ≤ the image size',
      // e_phoff at the end passes Linux's check; the stricter table check then refuses it.
      lastValid: () => firmware().e('e_phoff', 0x64),
      notAtLastValid: /firmware size is too small/,
      firstInvalid: () => firmware().e('e_phoff', 0x65),
      refused: /^EINVAL @28: firmware size is too small: e_phoff 0x65 is past the end of the image at 0x64$/,
    },
    {
      check: 'EI_DATA matches the host',
      lastValid: () => firmware(),
      firstInvalid: () => firmware().at(5, [2]),
      refused: /^EINVAL @5: unsupported firmware endianness: big-endian image on a little-endian host$/,
    },
    {
      check: 'EI_DATA is 1 or 2',
      lastValid: () => firmware(),
      firstInvalid: () => firmware().at(5, [3]),
      refused: /^EINVAL @5: unsupported firmware endianness: EI_DATA 0x3 is neither/,
    },
    {
      check: 'EI_CLASS is 1 or 2',
      lastValid: () => firmware(64),
      firstInvalid: () => firmware(64).at(4, [3]),
      refused: /^EINVAL @4: unsupported class 0x3$/,
    },
    {
      check: 'the magic',
      lastValid: () => firmware(),
      firstInvalid: () => firmware().at(0, [0x7e]),
      refused: /^EINVAL @0: image is corrupted \(bad magic 0x7e454c46\)$/,
    },
    {
      check: 'then readElf’s first error, with its code and offset',
      lastValid: () => firmware(),
      firstInvalid: () => firmware().e('e_phentsize', 0x21),
      refused: /^EINVAL @42: e_phentsize 0x21 at 0x2a is not the ELF32 program header size 0x20$/,
    },
  ];
  for (const b of rows) {
    it(`${b.check}: last valid passes this check, first invalid fails it`, () => {
      const ok = sanityError(b.lastValid().bytes);
      assert.doesNotMatch(ok, b.notAtLastValid ?? b.refused);
      assert.match(sanityError(b.firstInvalid().bytes), b.refused);
    });
  }

  it('the smallest valid firmware of either class passes', () => {
    assert.equal(sanityError(firmware(32).bytes), '(accepted)');
    assert.equal(sanityError(firmware(64).bytes), '(accepted)');
  });
});

// ---- rproc_elf_load_segments --------------------------------------------------------------------

/** The image readElf made of `img`, with header fields the reader would have refused put back. */
function imageOf(img: Image, header: Partial<ElfImage['header']> = {}): ElfImage {
  const { image } = readElf(img.bytes);
  assert.ok(image !== undefined);
  return { ...image, header: { ...image.header, ...header } };
}

function loadError(image: ElfImage): string {
  try {
    loadSegments(image);
    return '(loaded)';
  } catch (e) {
    assert.ok(e instanceof RprocError);
    return `${e.code} @${String(e.offset)}: ${e.detail}`;
  }
}

describe('loadSegments: its own checks at their boundaries (it reads the table from the bytes)', () => {
  it('the whole program header table lies in the image', () => {
    const two = firmware(32, 2);
    assert.equal(loadError(imageOf(two)), '(loaded)');
    // Claim a third header: it would start at 0x74, inside the image, and end past it at 0x94.
    const cut = firmware(32, 2).resize(0x74 + 0x1f);
    assert.equal(loadError(imageOf(two, { phoff: 0x34 })), '(loaded)');
    assert.equal(
      loadError({ ...imageOf(two), bytes: cut.bytes, header: { ...imageOf(two).header, phnum: 3 } }),
      'EINVAL @52: program header table at 0x34 (3 × 32 bytes) runs past the end of the image at 0x93',
    );
  });

  it('p_filesz ≤ p_memsz', () => {
    const ok = firmware();
    assert.equal(loadError(imageOf(ok)), '(loaded)');
    const bad = imageOf(firmware());
    new DataView(bad.bytes.buffer).setUint32(0x34 + 20, 15, true);
    assert.equal(loadError(bad), 'EINVAL @68: bad phdr filesz 0x10 memsz 0xf (program header 0 at 0x34)');
  });

  it('p_offset + p_filesz ≤ the image size', () => {
    const ok = imageOf(firmware());
    new DataView(ok.bytes.buffer).setUint32(0x34 + 4, 0x54, true);
    assert.equal(loadError(ok), '(loaded)');
    const bad = imageOf(firmware());
    new DataView(bad.bytes.buffer).setUint32(0x34 + 4, 0x55, true);
    assert.equal(
      loadError(bad),
      'EINVAL @56: truncated fw: need 0x65 avail 0x64 (program header 0 at 0x34: p_offset 0x55, p_filesz 0x10)',
    );
  });

  it('ELF64 p_memsz ≤ 2^53 − 1', () => {
    const ok = imageOf(firmware(64));
    const dv = new DataView(ok.bytes.buffer);
    dv.setBigUint64(0x40 + 40, MAX_SAFE, true);
    assert.deepEqual(
      loadSegments(ok).map((s) => s.memsz),
      [Number.MAX_SAFE_INTEGER],
    );
    dv.setBigUint64(0x40 + 40, MAX_SAFE + 1n, true);
    assert.equal(
      loadError(ok),
      'EOVERFLOW @104: p_memsz 0x20000000000000 is too large to handle (program header 0 at 0x40)',
    );
  });

  it('the device memory daToVa gives is at least p_memsz bytes: exactly is loaded, one short is EINVAL', () => {
    const image = imageOf(firmware().p(0, 'p_memsz', 20));
    const memory = new Uint8Array(20).fill(0xff);
    loadElfSegments(image, (da, len) => (da === 0x1000n && len === 20 ? memory : undefined));
    assert.deepEqual([...memory], [...new Uint8Array(16).fill(0xa0), 0, 0, 0, 0]);
    assert.throws(
      () => loadElfSegments(image, () => new Uint8Array(19)),
      (e: unknown) =>
        e instanceof RprocError &&
        e.detail === 'bad phdr da 0x1000 mem 0x14 (daToVa returned only 0x13 bytes) (program header 0)',
    );
  });
});

// ---- find_table --------------------------------------------------------------------------------

function lookup(img: Image): string {
  const { image } = readElf(img.bytes);
  assert.ok(image !== undefined);
  const r = findResourceTable(image);
  return r.status === 'invalid' ? `@${String(r.problem.offset)}: ${r.problem.message}` : r.status;
}

describe('the resource table section: find_table’s checks at their boundaries', () => {
  const rows: readonly {
    check: string;
    lastValid: () => Image;
    firstInvalid: () => Image;
    refused: string;
  }[] = [
    {
      check: 'sh_size ≥ the 16-byte table header',
      lastValid: () => withSections(16),
      firstInvalid: () => withSections(15),
      refused: '@204: header-less resource table: sh_size 0xf is smaller than the 0x10-byte table header',
    },
    {
      check: 'offset[num] fits in the section',
      lastValid: () => withSections(20),
      firstInvalid: () => {
        const img = withSections(20);
        new DataView(img.bytes.buffer).setUint32(RSC_AT + 4, 2, true);
        return img;
      },
      refused: '@104: resource table incomplete: num 0x2 at 0x68 needs 0x18 bytes, the section has 0x14',
    },
    {
      check: 'ver = 1',
      lastValid: () => withSections(),
      firstInvalid: () => withSections().at(RSC_AT, [2]),
      refused: '@100: unsupported fw ver 0x2 at 0x64 (expected 1)',
    },
    {
      check: 'reserved[0] = 0',
      lastValid: () => withSections(),
      firstInvalid: () => withSections().at(RSC_AT + 8, [1]),
      refused: '@108: non zero reserved bytes: reserved[0] 0x1, reserved[1] 0x0 at 0x6c',
    },
    {
      check: 'reserved[1] = 0',
      lastValid: () => withSections(),
      firstInvalid: () => withSections().at(RSC_AT + 12, [1]),
      refused: '@108: non zero reserved bytes: reserved[0] 0x0, reserved[1] 0x1 at 0x6c',
    },
    {
      check: 'the section lies in the image',
      lastValid: () => withSections().s(1, 'sh_size', 0x10c - RSC_AT),
      firstInvalid: () => withSections().s(1, 'sh_size', 0x10c - RSC_AT + 1),
      refused:
        '@204: resource table truncated: sh_offset 0x64 + sh_size 0xa9 = 0x10d runs past the end of the image at 0x10c',
    },
    {
      check: 'the section has file bytes (not SHT_NOBITS)',
      lastValid: () => withSections(),
      firstInvalid: () => withSections().s(1, 'sh_type', SHT.SHT_NOBITS),
      refused: '@192: resource table section 1 is SHT_NOBITS: it has no bytes in the file',
    },
  ];
  for (const b of rows) {
    it(`${b.check}: last valid is found, first invalid is that error`, () => {
      assert.equal(lookup(b.lastValid()), 'found');
      assert.equal(lookup(b.firstInvalid()), b.refused);
    });
  }

  it('the loaded table is used when device memory holds all of it; one byte short, it is not', () => {
    const { image } = readElf(withSections().bytes);
    assert.ok(image !== undefined);
    const memory = new Uint8Array(20);
    const loaded = findLoadedResourceTable(image, (da, len) =>
      da === 0x2000n && len === 20 ? memory : undefined,
    );
    assert.ok(
      loaded !== undefined && loaded.buffer === memory.buffer && loaded.length === 20,
      'a view of device memory',
    );
    assert.equal(
      findLoadedResourceTable(image, () => new Uint8Array(19)),
      undefined,
    );
  });
});

// ---- the raw structure readers -----------------------------------------------------------------

describe('raw structure readers: every field from its own place, in both classes and byte orders', () => {
  /** Width in bytes of each field that is not a word of the class (4 or 8 bytes). */
  const WIDTH: Readonly<Record<string, number>> = {
    p_type: 4,
    p_flags: 4,
    sh_name: 4,
    sh_type: 4,
    sh_link: 4,
    sh_info: 4,
    st_name: 4,
    st_info: 1,
    st_other: 1,
    st_shndx: 2,
  };
  const at = 0x10;
  const structs = [
    ['program header', PHDR, readRawProgramHeader],
    ['section header', SHDR, readRawSectionHeader],
    ['symbol', SYM, readRawSymbol],
  ] as const;
  for (const [what, layout, read] of structs) {
    for (const cls of [32, 64] as const) {
      for (const endian of ['le', 'be'] as const) {
        it(`${what}, ELF${cls} ${endian}`, () => {
          const bytes = new Uint8Array(at + 0x40);
          const dv = new DataView(bytes.buffer);
          const le = endian === 'le';
          const expected: Record<string, number | bigint> = {};
          Object.entries(layout[cls]).forEach(([field, off], i) => {
            const width = WIDTH[field] ?? cls / 8;
            const key = field.replace(/^(p|sh|st)_/, '');
            // Distinct in every byte, and above 2^32 in a 64-bit word, so that a field read from the
            // wrong place, at the wrong width or in the wrong order gives another value.
            if (width === 1) dv.setUint8(at + off, (expected[key] = 0x11 + i));
            else if (width === 2) dv.setUint16(at + off, (expected[key] = 0x1102 + i), le);
            else if (width === 4 && WIDTH[field] === 4)
              dv.setUint32(at + off, (expected[key] = 0x11223304 + i), le);
            else if (width === 4)
              dv.setUint32(at + off, Number((expected[key] = 0x81223304n + BigInt(i))), le);
            else dv.setBigUint64(at + off, (expected[key] = 0x1122_3344_5566_7708n + BigInt(i)), le);
          });
          assert.deepEqual({ ...read(imageView(bytes, endian, 'test'), cls, at) }, expected);
        });
      }
    }
  }
});

describe('the loaders on images without the thing they look for', () => {
  it('findLoadedResourceTable without a resource table asks for no device memory', () => {
    const calls: string[] = [];
    const found = findLoadedResourceTable(imageOf(firmware()), (da, len) => {
      calls.push(`${String(da)} ${String(len)}`);
      return new Uint8Array(0x1000);
    });
    assert.equal(found, undefined);
    assert.deepEqual(calls, []);
  });

  it('loadSegments with e_phnum 0 reads no table, wherever e_phoff points', () => {
    assert.deepEqual(loadSegments(imageOf(firmware(), { phnum: 0, phoff: 0x1000 })), []);
  });
});
