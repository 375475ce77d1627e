// Builds small, deterministic ELF32/ELF64 images of either byte order from a declarative spec:
// program headers, sections (a segment can carry a section, as a linker places .resource_table
// inside a PT_LOAD), symbols and the section name table. Used by tests, fixtures and tools;
// everything is written through ByteView. Mirrors no kernel file: it plays the linker's part.

import { ByteView, type Endian } from '../util/bytes.ts';
import { hex, RprocError } from '../util/errors.ts';
import {
  EHDR,
  EI,
  ELFCLASS,
  ELFDATA,
  ELFMAG,
  ELF_STRUCT_SIZE,
  EM,
  ET,
  EV,
  PF,
  PHDR,
  PN_XNUM,
  PT,
  SHDR,
  SHF,
  SHN,
  SHT,
  STB,
  STT,
  SYM,
  type ElfClass,
} from './elf-constants.ts';

const OP = 'elf-build';
const DEFAULT_ALIGN = 4;
/** Alignment beyond this would only pad test images with zeros; real firmware never needs it here. */
const MAX_ALIGN = 0x1_0000;

export interface SegmentSpec {
  /** p_type; PT_LOAD by default. */
  readonly type?: number;
  /** p_flags; PF_R | PF_W | PF_X by default. */
  readonly flags?: number;
  readonly paddr: bigint | number;
  /** p_vaddr; the same as paddr by default. */
  readonly vaddr?: bigint | number;
  /** The file bytes (p_filesz = length). Not allowed together with `section`. */
  readonly data?: Uint8Array;
  /** p_memsz; p_filesz by default. Written as given, even when smaller than p_filesz. */
  readonly memsz?: number;
  /** p_align, also used to place the data so that p_offset ≡ p_vaddr (mod p_align); 4 by default. */
  readonly align?: number;
  /** Carry this section: the segment's file bytes are the section's, as a linker lays them out. */
  readonly section?: string;
}

export interface SectionSpec {
  readonly name: string;
  /** sh_type; SHT_PROGBITS by default. */
  readonly type?: number;
  /** sh_flags; SHF_ALLOC by default when the section has an address or a segment carries it. */
  readonly flags?: bigint | number;
  /** sh_addr; the carrying segment's p_vaddr by default, else 0. */
  readonly addr?: bigint | number;
  readonly data?: Uint8Array;
  /** sh_size of an SHT_NOBITS section, or zero-filled data when `data` is absent. */
  readonly size?: number;
  /** sh_addralign, also used to place the data; 4 by default. */
  readonly align?: number;
  readonly link?: number;
  readonly info?: number;
  readonly entsize?: number;
}

export interface SymbolSpec {
  readonly name: string;
  readonly value: bigint | number;
  readonly size?: bigint | number;
  /** STT_*; STT_NOTYPE by default. */
  readonly type?: number;
  /** STB_*; STB_GLOBAL by default. */
  readonly bind?: number;
  /** The section the symbol is defined in, by name. */
  readonly section?: string;
  /** st_shndx, overriding `section`. Default: the allocated section containing the value, else SHN_ABS. */
  readonly shndx?: number;
}

export interface ElfSpec {
  readonly class: ElfClass;
  /** Byte order; little-endian by default. */
  readonly endian?: Endian;
  /** e_machine; EM_RISCV by default. */
  readonly machine?: number;
  /** e_type; ET_EXEC by default. */
  readonly type?: number;
  readonly flags?: number;
  readonly entry: bigint | number;
  readonly segments?: readonly SegmentSpec[];
  readonly sections?: readonly SectionSpec[];
  readonly symbols?: readonly SymbolSpec[];
  /** false builds a section-less image (e_shoff = e_shnum = e_shentsize = 0); true by default. */
  readonly sectionHeaders?: boolean;
}

/** A section as it will be written: the spec resolved to final values. */
interface PlannedSection {
  readonly name: string;
  readonly type: number;
  flags: bigint;
  addr: bigint;
  readonly data: Uint8Array;
  readonly size: number;
  readonly align: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
  offset: number;
  placed: boolean;
}

interface PlannedSegment {
  readonly spec: SegmentSpec;
  readonly paddr: bigint;
  readonly vaddr: bigint;
  readonly carried: PlannedSection | undefined;
  readonly data: Uint8Array;
  offset: number;
}

/** Build an ELF image from `spec`. Deterministic: the same spec always gives the same bytes. */
export function buildElf(spec: ElfSpec): Uint8Array {
  const elfClass = spec.class;
  const size = ELF_STRUCT_SIZE[elfClass];
  const wordAlign = elfClass === 64 ? 8 : 4;
  const withSections = spec.sectionHeaders ?? true;
  const sectionSpecs = spec.sections ?? [];
  const symbolSpecs = spec.symbols ?? [];
  const segmentSpecs = spec.segments ?? [];
  if (!withSections && (sectionSpecs.length > 0 || symbolSpecs.length > 0)) {
    throw buildError('a section-less image (sectionHeaders: false) cannot have sections or symbols');
  }
  if (segmentSpecs.length >= PN_XNUM) {
    throw buildError(`${segmentSpecs.length} segments need extended numbering`);
  }

  // Section 0 is the null section; the spec's sections follow in order.
  const sections: PlannedSection[] = sectionSpecs.map(planSection);
  const byName = (name: string, what: string): PlannedSection => {
    const s = sections.find((x) => x.name === name);
    if (s === undefined) throw buildError(`${what} names section "${name}", which the spec does not have`);
    return s;
  };

  const segments: PlannedSegment[] = segmentSpecs.map((s, i) => {
    const paddr = toAddress(s.paddr, `segment ${i} paddr`);
    const vaddr = s.vaddr === undefined ? paddr : toAddress(s.vaddr, `segment ${i} vaddr`);
    if (s.section === undefined) {
      return { spec: s, paddr, vaddr, carried: undefined, data: s.data ?? new Uint8Array(0), offset: 0 };
    }
    if (s.data !== undefined) throw buildError(`segment ${i} has both data and section "${s.section}"`);
    const carried = byName(s.section, `segment ${i}`);
    if (carried.type === SHT.SHT_NOBITS) {
      throw buildError(`segment ${i} cannot carry SHT_NOBITS section "${carried.name}"`);
    }
    return { spec: s, paddr, vaddr, carried, data: carried.data, offset: 0 };
  });
  for (const [i, sectionSpec] of sectionSpecs.entries()) {
    const s = sections[i];
    if (s === undefined) continue;
    const carrier = segments.find((g) => g.carried === s);
    if (sectionSpec.addr === undefined && carrier !== undefined) s.addr = carrier.vaddr;
    if (sectionSpec.flags === undefined && (sectionSpec.addr !== undefined || carrier !== undefined)) {
      s.flags = SHF.SHF_ALLOC;
    }
  }

  const symtab =
    symbolSpecs.length > 0
      ? planSymbolTable(elfClass, spec.endian ?? 'le', symbolSpecs, sections)
      : undefined;
  if (symtab !== undefined) sections.push(symtab.symtab, symtab.strtab);
  const shstrtab = withSections ? planNameTable(sections) : undefined;
  if (shstrtab !== undefined) sections.push(shstrtab.section);
  const shnum = withSections ? sections.length + 1 : 0;
  if (shnum >= SHN.SHN_LORESERVE) throw buildError(`${shnum} sections need extended numbering`);

  // File layout: header, program headers, segment data, other section data, section headers.
  let cursor = size.ehdr + segments.length * size.phdr;
  for (const g of segments) {
    const align =
      g.carried === undefined ? alignOf(g.spec.align) : Math.max(alignOf(g.spec.align), g.carried.align);
    g.offset = placeAt(cursor, g.vaddr, align);
    cursor = g.offset + g.data.length;
    if (g.carried !== undefined && !g.carried.placed) {
      g.carried.offset = g.offset;
      g.carried.placed = true;
    }
  }
  for (const s of sections) {
    if (s.placed) continue;
    if (s.type === SHT.SHT_NOBITS) {
      s.offset = cursor;
    } else {
      s.offset = placeAt(cursor, s.addr, s.align);
      cursor = s.offset + s.data.length;
    }
    s.placed = true;
  }
  const shoff = withSections ? placeAt(cursor, 0n, wordAlign) : 0;
  const total = withSections ? shoff + shnum * size.shdr : cursor;

  const out = new Uint8Array(total);
  const w = new ByteView(out, spec.endian ?? 'le', { what: 'ELF image being built', op: OP });
  writeElfHeader(w, spec, {
    phnum: segments.length,
    shoff,
    shnum,
    shstrndx: shstrtab === undefined ? SHN.SHN_UNDEF : shnum - 1,
  });
  segments.forEach((g, i) => {
    writeProgramHeader(w, elfClass, size.ehdr + i * size.phdr, g);
    w.setBytes(g.offset, g.data, `segment ${i} data`);
  });
  if (withSections) {
    sections.forEach((s, i) => {
      const index = i + 1;
      if (s.type !== SHT.SHT_NOBITS) w.setBytes(s.offset, s.data, `section "${s.name}" data`);
      const nameOffset = shstrtab?.offsets.get(s.name) ?? 0;
      writeSectionHeader(w, elfClass, shoff + index * size.shdr, s, nameOffset);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function buildError(detail: string): RprocError {
  return new RprocError('EINVAL', OP, detail);
}

function toAddress(value: bigint | number, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw buildError(`${what} ${String(value)} is not a non-negative integer`);
  }
  return BigInt(value);
}

function toCount(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw buildError(`${what} ${String(value)} is not a non-negative integer`);
  }
  return value;
}

function alignOf(align: number | undefined): number {
  const a = align ?? DEFAULT_ALIGN;
  if (!Number.isSafeInteger(a) || a < 0 || a > MAX_ALIGN) {
    throw buildError(`alignment ${hex(a)} is not in [0, ${hex(MAX_ALIGN)}]`);
  }
  return Math.max(a, 1);
}

/** The first offset ≥ cursor that is congruent to addr modulo align, as p_offset must be to p_vaddr. */
function placeAt(cursor: number, addr: bigint, align: number): number {
  if (align <= 1) return cursor;
  const want = Number(addr % BigInt(align));
  const offset = cursor - (cursor % align) + want;
  return offset < cursor ? offset + align : offset;
}

function cName(name: string, what: string): Uint8Array {
  if (name.includes('\0')) throw buildError(`${what} "${name.replaceAll('\0', '\\0')}" contains a NUL byte`);
  return new TextEncoder().encode(name);
}

function planSection(s: SectionSpec): PlannedSection {
  const type = s.type ?? SHT.SHT_PROGBITS;
  const what = `section "${s.name}"`;
  cName(s.name, 'section name');
  let data = s.data ?? new Uint8Array(0);
  let sectionSize = data.length;
  if (type === SHT.SHT_NOBITS) {
    if (s.data !== undefined) throw buildError(`${what} is SHT_NOBITS and cannot have data`);
    data = new Uint8Array(0);
    sectionSize = toCount(s.size ?? 0, `${what} size`);
  } else if (s.data === undefined && s.size !== undefined) {
    data = new Uint8Array(toCount(s.size, `${what} size`));
    sectionSize = data.length;
  }
  return {
    name: s.name,
    type,
    flags: s.flags === undefined ? 0n : toAddress(s.flags, `${what} flags`),
    addr: s.addr === undefined ? 0n : toAddress(s.addr, `${what} addr`),
    data,
    size: sectionSize,
    align: alignOf(s.align),
    link: s.link ?? 0,
    info: s.info ?? 0,
    entsize: s.entsize ?? 0,
    offset: 0,
    placed: false,
  };
}

/** .shstrtab: a leading NUL (the empty name), then each distinct name once. */
function planNameTable(sections: readonly PlannedSection[]): {
  section: PlannedSection;
  offsets: Map<string, number>;
} {
  const offsets = new Map<string, number>([['', 0]]);
  const parts: Uint8Array[] = [new Uint8Array(1)];
  let length = 1;
  for (const name of [...sections.map((s) => s.name), '.shstrtab']) {
    if (offsets.has(name)) continue;
    const encoded = cName(name, 'section name');
    offsets.set(name, length);
    parts.push(encoded, new Uint8Array(1));
    length += encoded.length + 1;
  }
  return {
    section: planSection({ name: '.shstrtab', type: SHT.SHT_STRTAB, data: concat(parts), align: 1 }),
    offsets,
  };
}

/**
 * .symtab and .strtab. The gABI wants local symbols first and sh_info = index of the first
 * non-local one; sh_link names the string table (the section after .symtab).
 */
function planSymbolTable(
  elfClass: ElfClass,
  endian: Endian,
  specs: readonly SymbolSpec[],
  sections: readonly PlannedSection[],
): { symtab: PlannedSection; strtab: PlannedSection } {
  const symSize = ELF_STRUCT_SIZE[elfClass].sym;
  const f = SYM[elfClass];
  const is64 = elfClass === 64;
  const isLocal = (s: SymbolSpec): boolean => (s.bind ?? STB.STB_GLOBAL) === STB.STB_LOCAL;
  const ordered = [...specs.filter(isLocal), ...specs.filter((s) => !isLocal(s))];
  const strParts: Uint8Array[] = [new Uint8Array(1)];
  let strLength = 1;
  // Entry 0 is the null symbol, left all zero.
  const table = new Uint8Array((ordered.length + 1) * symSize);
  const w = new ByteView(table, endian, { what: 'symbol table being built', op: OP });
  ordered.forEach((s, i) => {
    const what = `symbol "${s.name}"`;
    const encoded = cName(s.name, 'symbol name');
    let nameOffset = 0;
    if (encoded.length > 0) {
      nameOffset = strLength;
      strParts.push(encoded, new Uint8Array(1));
      strLength += encoded.length + 1;
    }
    const value = toAddress(s.value, `${what} value`);
    const at = (i + 1) * symSize;
    w.setU32(at + f.st_name, nameOffset, `${what} st_name`);
    w.setUword(at + f.st_value, value, is64, `${what} st_value`);
    w.setUword(at + f.st_size, toAddress(s.size ?? 0, `${what} size`), is64, `${what} st_size`);
    w.setU8(
      at + f.st_info,
      (((s.bind ?? STB.STB_GLOBAL) & 0xf) << 4) | ((s.type ?? STT.STT_NOTYPE) & 0xf),
      `${what} st_info`,
    );
    w.setU8(at + f.st_other, 0, `${what} st_other`);
    w.setU16(at + f.st_shndx, s.shndx ?? symbolSection(s, value, sections), `${what} st_shndx`);
  });
  const symtab = planSection({
    name: '.symtab',
    type: SHT.SHT_SYMTAB,
    data: table,
    align: is64 ? 8 : 4,
    // Section indices count the null section: spec sections are 1..n, .symtab n+1, .strtab n+2.
    link: sections.length + 2,
    info: 1 + specs.filter(isLocal).length,
    entsize: symSize,
  });
  const strtab = planSection({ name: '.strtab', type: SHT.SHT_STRTAB, data: concat(strParts), align: 1 });
  return { symtab, strtab };
}

function symbolSection(s: SymbolSpec, value: bigint, sections: readonly PlannedSection[]): number {
  if (s.section !== undefined) {
    const i = sections.findIndex((x) => x.name === s.section);
    if (i < 0) {
      throw buildError(`symbol "${s.name}" names section "${s.section}", which the spec does not have`);
    }
    return i + 1;
  }
  const i = sections.findIndex(
    (x) => (x.flags & SHF.SHF_ALLOC) !== 0n && x.addr <= value && value < x.addr + BigInt(x.size),
  );
  return i < 0 ? SHN.SHN_ABS : i + 1;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function writeElfHeader(
  w: ByteView,
  spec: ElfSpec,
  layout: { phnum: number; shoff: number; shnum: number; shstrndx: number },
): void {
  const elfClass = spec.class;
  const f = EHDR[elfClass];
  const size = ELF_STRUCT_SIZE[elfClass];
  const is64 = elfClass === 64;
  ELFMAG.forEach((b, i) => w.setU8(EI.EI_MAG0 + i, b, 'e_ident magic'));
  w.setU8(EI.EI_CLASS, is64 ? ELFCLASS.ELFCLASS64 : ELFCLASS.ELFCLASS32, 'e_ident[EI_CLASS]');
  w.setU8(EI.EI_DATA, w.endian === 'le' ? ELFDATA.ELFDATA2LSB : ELFDATA.ELFDATA2MSB, 'e_ident[EI_DATA]');
  w.setU8(EI.EI_VERSION, EV.EV_CURRENT, 'e_ident[EI_VERSION]');
  w.setU16(f.e_type, spec.type ?? ET.ET_EXEC, 'e_type');
  w.setU16(f.e_machine, spec.machine ?? EM.EM_RISCV, 'e_machine');
  w.setU32(f.e_version, EV.EV_CURRENT, 'e_version');
  w.setUword(f.e_entry, toAddress(spec.entry, 'entry'), is64, 'e_entry');
  w.setUword(f.e_phoff, BigInt(layout.phnum > 0 ? size.ehdr : 0), is64, 'e_phoff');
  w.setUword(f.e_shoff, BigInt(layout.shoff), is64, 'e_shoff');
  w.setU32(f.e_flags, spec.flags ?? 0, 'e_flags');
  w.setU16(f.e_ehsize, size.ehdr, 'e_ehsize');
  w.setU16(f.e_phentsize, layout.phnum > 0 ? size.phdr : 0, 'e_phentsize');
  w.setU16(f.e_phnum, layout.phnum, 'e_phnum');
  w.setU16(f.e_shentsize, layout.shnum > 0 ? size.shdr : 0, 'e_shentsize');
  w.setU16(f.e_shnum, layout.shnum, 'e_shnum');
  w.setU16(f.e_shstrndx, layout.shstrndx, 'e_shstrndx');
}

function writeProgramHeader(w: ByteView, elfClass: ElfClass, at: number, g: PlannedSegment): void {
  const f = PHDR[elfClass];
  const is64 = elfClass === 64;
  const filesz = g.data.length;
  w.setU32(at + f.p_type, g.spec.type ?? PT.PT_LOAD, 'p_type');
  w.setU32(at + f.p_flags, g.spec.flags ?? PF.PF_R | PF.PF_W | PF.PF_X, 'p_flags');
  w.setUword(at + f.p_offset, BigInt(g.offset), is64, 'p_offset');
  w.setUword(at + f.p_vaddr, g.vaddr, is64, 'p_vaddr');
  w.setUword(at + f.p_paddr, g.paddr, is64, 'p_paddr');
  w.setUword(at + f.p_filesz, BigInt(filesz), is64, 'p_filesz');
  w.setUword(at + f.p_memsz, BigInt(toCount(g.spec.memsz ?? filesz, 'segment memsz')), is64, 'p_memsz');
  w.setUword(at + f.p_align, BigInt(alignOf(g.spec.align)), is64, 'p_align');
}

function writeSectionHeader(
  w: ByteView,
  elfClass: ElfClass,
  at: number,
  s: PlannedSection,
  nameOffset: number,
): void {
  const f = SHDR[elfClass];
  const is64 = elfClass === 64;
  w.setU32(at + f.sh_name, nameOffset, 'sh_name');
  w.setU32(at + f.sh_type, s.type, 'sh_type');
  w.setUword(at + f.sh_flags, s.flags, is64, 'sh_flags');
  w.setUword(at + f.sh_addr, s.addr, is64, 'sh_addr');
  w.setUword(at + f.sh_offset, BigInt(s.offset), is64, 'sh_offset');
  w.setUword(at + f.sh_size, BigInt(s.size), is64, 'sh_size');
  w.setU32(at + f.sh_link, s.link, 'sh_link');
  w.setU32(at + f.sh_info, s.info, 'sh_info');
  w.setUword(at + f.sh_addralign, BigInt(s.align), is64, 'sh_addralign');
  w.setUword(at + f.sh_entsize, BigInt(s.entsize), is64, 'sh_entsize');
}
