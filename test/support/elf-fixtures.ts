// Shared fixtures for the ELF tests: a realistic firmware image spec, a resource-table header,
// field-level mutation of built images at the exported field offsets, and a fake device memory
// map whose daToVa behaves like rproc_da_to_va over a few carveouts. Test-only; no kernel mirror.

import { ByteView, type Endian } from '../../src/util/bytes.ts';
import { RprocError } from '../../src/util/errors.ts';
import { buildElf, type ElfSpec } from '../../src/elf/elf-builder.ts';
import {
  EHDR,
  ELF_STRUCT_SIZE,
  PF,
  PHDR,
  SHDR,
  SHF,
  SHT,
  STT,
  SYM,
  type ElfClass,
} from '../../src/elf/elf-constants.ts';
import { readElf } from '../../src/elf/elf-reader.ts';
import type { DaToVa } from '../../src/elf/elf-segments.ts';
import type { ElfImage } from '../../src/elf/elf-types.ts';

export const TEXT_DA = 0x8000_0000;
export const DATA_DA = 0x8000_4000;
export const RSC_DA = 0x8000_7000;

/** A resource table header (16 + 4·num bytes, offsets left zero) in the given byte order. */
export function rscTableBytes(
  options: {
    ver?: number;
    num?: number;
    reserved0?: number;
    reserved1?: number;
    size?: number;
    endian?: Endian;
  } = {},
): Uint8Array {
  const num = options.num ?? 0;
  const bytes = new Uint8Array(options.size ?? 16 + 4 * num);
  const w = new ByteView(bytes, options.endian ?? 'le', { what: 'test resource table', op: 'test' });
  if (bytes.length >= 16) {
    w.setU32(0, options.ver ?? 1, 'ver');
    w.setU32(4, num, 'num');
    w.setU32(8, options.reserved0 ?? 0, 'reserved[0]');
    w.setU32(12, options.reserved1 ?? 0, 'reserved[1]');
  }
  return bytes;
}

/**
 * What a small firmware looks like after linking: .text in an R+X segment, .data + .bss in an R+W
 * segment whose memsz exceeds its filesz, .resource_table in its own segment, and symbols.
 */
export function firmwareSpec(elfClass: ElfClass, endian: Endian = 'le'): ElfSpec {
  const text = new Uint8Array(0x60).map((_, i) => (i * 7 + 1) & 0xff);
  const data = new Uint8Array(0x20).fill(0x5a);
  return {
    class: elfClass,
    endian,
    entry: TEXT_DA,
    segments: [
      { paddr: TEXT_DA, flags: PF.PF_R | PF.PF_X, section: '.text', align: 0x10 },
      { paddr: DATA_DA, flags: PF.PF_R | PF.PF_W, section: '.data', memsz: 0x120 },
      { paddr: RSC_DA, flags: PF.PF_R | PF.PF_W, section: '.resource_table' },
    ],
    sections: [
      { name: '.text', data: text, flags: SHF.SHF_ALLOC | SHF.SHF_EXECINSTR, align: 0x10 },
      { name: '.data', data, flags: SHF.SHF_ALLOC | SHF.SHF_WRITE },
      {
        name: '.bss',
        type: SHT.SHT_NOBITS,
        size: 0x100,
        addr: DATA_DA + 0x20,
        flags: SHF.SHF_ALLOC | SHF.SHF_WRITE,
      },
      {
        name: '.resource_table',
        data: rscTableBytes({ num: 2, endian }),
        flags: SHF.SHF_ALLOC | SHF.SHF_WRITE,
      },
      { name: '.comment', data: new TextEncoder().encode('GCC: (test) 13.2.0\0'), flags: 0 },
    ],
    symbols: [
      { name: '_start', value: TEXT_DA, section: '.text' },
      { name: 'main', value: TEXT_DA + 0x10, size: 0x30, type: STT.STT_FUNC },
      { name: 'helper', value: TEXT_DA + 0x40, size: 0x10, type: STT.STT_FUNC, bind: 0 },
      { name: 'late_label', value: TEXT_DA + 0x50, section: '.text' },
      { name: 'counter', value: DATA_DA, size: 4, type: STT.STT_OBJECT },
      { name: 'stack_size', value: 0x800, type: STT.STT_NOTYPE },
    ],
  };
}

/** Parse bytes that must be readable (a test fixture), or fail loudly. */
export function imageOf(bytes: Uint8Array): ElfImage {
  const { image } = readElf(bytes);
  if (image === undefined) throw new Error('test fixture: ELF header unreadable');
  return image;
}

type Width = 1 | 2 | 4 | 'word';

const EHDR_WIDTH: Readonly<Record<keyof (typeof EHDR)[32], Width>> = {
  e_ident: 1,
  e_type: 2,
  e_machine: 2,
  e_version: 4,
  e_entry: 'word',
  e_phoff: 'word',
  e_shoff: 'word',
  e_flags: 4,
  e_ehsize: 2,
  e_phentsize: 2,
  e_phnum: 2,
  e_shentsize: 2,
  e_shnum: 2,
  e_shstrndx: 2,
};
const PHDR_WIDTH: Readonly<Record<keyof (typeof PHDR)[32], Width>> = {
  p_type: 4,
  p_flags: 4,
  p_offset: 'word',
  p_vaddr: 'word',
  p_paddr: 'word',
  p_filesz: 'word',
  p_memsz: 'word',
  p_align: 'word',
};
const SHDR_WIDTH: Readonly<Record<keyof (typeof SHDR)[32], Width>> = {
  sh_name: 4,
  sh_type: 4,
  sh_flags: 'word',
  sh_addr: 'word',
  sh_offset: 'word',
  sh_size: 'word',
  sh_link: 4,
  sh_info: 4,
  sh_addralign: 'word',
  sh_entsize: 'word',
};
const SYM_WIDTH: Readonly<Record<keyof (typeof SYM)[32], Width>> = {
  st_name: 4,
  st_value: 'word',
  st_size: 'word',
  st_info: 1,
  st_other: 1,
  st_shndx: 2,
};

/** One writable field of a structure: where it is and how wide it is. */
export interface FieldRef {
  readonly at: number;
  readonly width: 1 | 2 | 4 | 8;
  readonly name: string;
}

export function ehdrField(elfClass: ElfClass, name: keyof (typeof EHDR)[32]): FieldRef {
  return ref(EHDR[elfClass][name], EHDR_WIDTH[name], elfClass, name, 0);
}
export function phdrField(elfClass: ElfClass, headerOffset: number, name: keyof (typeof PHDR)[32]): FieldRef {
  return ref(PHDR[elfClass][name], PHDR_WIDTH[name], elfClass, name, headerOffset);
}
export function shdrField(elfClass: ElfClass, headerOffset: number, name: keyof (typeof SHDR)[32]): FieldRef {
  return ref(SHDR[elfClass][name], SHDR_WIDTH[name], elfClass, name, headerOffset);
}
export function symField(elfClass: ElfClass, entryOffset: number, name: keyof (typeof SYM)[32]): FieldRef {
  return ref(SYM[elfClass][name], SYM_WIDTH[name], elfClass, name, entryOffset);
}

function ref(offset: number, width: Width, elfClass: ElfClass, name: string, base: number): FieldRef {
  return { at: base + offset, width: width === 'word' ? (elfClass === 64 ? 8 : 4) : width, name };
}

/** Every header, program header, section header and symbol field of an image, for mutation. */
export function allFields(image: ElfImage): FieldRef[] {
  const c = image.header.class;
  const fields: FieldRef[] = [];
  for (const name of Object.keys(EHDR_WIDTH) as (keyof typeof EHDR_WIDTH)[]) {
    if (name !== 'e_ident') fields.push(ehdrField(c, name));
  }
  for (const ph of image.programHeaders) {
    for (const name of Object.keys(PHDR_WIDTH) as (keyof typeof PHDR_WIDTH)[])
      fields.push(phdrField(c, ph.headerOffset, name));
  }
  for (const s of image.sections) {
    for (const name of Object.keys(SHDR_WIDTH) as (keyof typeof SHDR_WIDTH)[])
      fields.push(shdrField(c, s.headerOffset, name));
    if (s.type === SHT.SHT_SYMTAB) {
      const entry = ELF_STRUCT_SIZE[c].sym;
      for (let at = s.offset + entry; at + entry <= s.offset + s.size; at += entry) {
        for (const name of Object.keys(SYM_WIDTH) as (keyof typeof SYM_WIDTH)[])
          fields.push(symField(c, at, name));
      }
    }
  }
  return fields;
}

/** Write `value` (truncated to the field's width) into a copy-free view of `bytes`. */
export function setField(bytes: Uint8Array, endian: Endian, field: FieldRef, value: bigint | number): void {
  const w = new ByteView(bytes, endian, { what: 'test image', op: 'test' });
  const v = BigInt(value) & ((1n << BigInt(field.width * 8)) - 1n);
  switch (field.width) {
    case 1:
      w.setU8(field.at, Number(v), field.name);
      break;
    case 2:
      w.setU16(field.at, Number(v), field.name);
      break;
    case 4:
      w.setU32(field.at, Number(v), field.name);
      break;
    case 8:
      w.setU64(field.at, v, field.name);
      break;
  }
}

/** Build `spec`, then apply `edit` to a copy of the bytes with the image's own fields at hand. */
export function mutated(spec: ElfSpec, edit: (bytes: Uint8Array, image: ElfImage) => void): Uint8Array {
  const bytes = buildElf(spec);
  edit(bytes, imageOf(bytes.slice()));
  return bytes;
}

export function sectionNamed(image: ElfImage, name: string): ElfImage['sections'][number] {
  const s = image.sections.find((x) => x.name === name);
  if (s === undefined) throw new Error(`test fixture: no section ${name}`);
  return s;
}

/** Assert-style helper: run `fn` and return the RprocError it throws. */
export function rprocErrorOf(fn: () => unknown): RprocError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RprocError) return e;
    throw e;
  }
  throw new Error('expected an RprocError, but nothing was thrown');
}

export interface FakeRegion {
  readonly da: bigint;
  readonly bytes: Uint8Array;
}

/**
 * Device memory made of separate regions, like carveouts: daToVa returns a view only when the
 * whole [da, da + len) lies inside one region (rproc_da_to_va), comparing in bigint so that an
 * address above 4 GiB can never alias a low one.
 */
export class FakeMemory {
  readonly regions: FakeRegion[];
  readonly calls: { da: bigint; len: number }[] = [];

  constructor(regions: readonly { da: bigint | number; size: number }[], fill = 0xaa) {
    this.regions = regions.map((r) => ({ da: BigInt(r.da), bytes: new Uint8Array(r.size).fill(fill) }));
  }

  /** The DaToVa to hand to the code under test; it records every call. */
  readonly daToVa: DaToVa = (da, len) => {
    this.calls.push({ da, len });
    return this.translate(da, len);
  };

  /** A copy of [da, da + len) for assertions (not recorded as a call). */
  read(da: bigint | number, len: number): Uint8Array {
    const view = this.translate(BigInt(da), len);
    if (view === undefined) throw new Error(`test memory: ${String(da)} + ${len} is not mapped`);
    return view.slice();
  }

  /** A snapshot of every region, to prove that a failed load wrote nothing. */
  snapshot(): Uint8Array[] {
    return this.regions.map((r) => r.bytes.slice());
  }

  private translate(da: bigint, len: number): Uint8Array | undefined {
    for (const r of this.regions) {
      const end = r.da + BigInt(r.bytes.length);
      if (da >= r.da && da <= end && BigInt(len) <= end - da) {
        const off = Number(da - r.da);
        return r.bytes.subarray(off, off + len);
      }
    }
    return undefined;
  }
}
