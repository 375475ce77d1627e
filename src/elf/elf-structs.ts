// Raw readers for the ELF32/ELF64 program header, section header and symbol structures: the one
// place that knows which field sits where, returning every field exactly (64-bit words as bigint).
// Mirrors the elf_phdr_get_* / elf_shdr_get_* accessors of remoteproc_elf_helpers.h, but every
// read is bounds-checked through ByteView, so a caller that forgot a range check gets an
// RprocError, never a RangeError.

import { ByteView, type Endian } from '../util/bytes.ts';
import { EHDR, EI, PHDR, SHDR, SYM, type ElfClass } from './elf-constants.ts';

/** The largest file offset or size we handle as a number: 2^53 − 1, far beyond any real image. */
export const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/** The ELF header after e_ident, field by field (e_entry, e_phoff and e_shoff are words of the class). */
export interface RawElfHeader {
  readonly identVersion: number;
  readonly osabi: number;
  readonly abiVersion: number;
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly phoff: bigint;
  readonly shoff: bigint;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

export interface RawProgramHeader {
  readonly type: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
  readonly align: bigint;
}

export interface RawSectionHeader {
  readonly name: number;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: bigint;
  readonly size: bigint;
  readonly link: number;
  readonly info: number;
  readonly addralign: bigint;
  readonly entsize: bigint;
}

export interface RawSymbol {
  readonly name: number;
  readonly value: bigint;
  readonly size: bigint;
  readonly info: number;
  readonly other: number;
  readonly shndx: number;
}

/** A view of a firmware image for the given operation; every image read goes through one. */
export function imageView(bytes: Uint8Array, endian: Endian, op: string): ByteView {
  return new ByteView(bytes, endian, { what: 'image', op });
}

export function readRawElfHeader(view: ByteView, elfClass: ElfClass): RawElfHeader {
  const f = EHDR[elfClass];
  const is64 = elfClass === 64;
  return {
    identVersion: view.u8(EI.EI_VERSION, 'e_ident[EI_VERSION]'),
    osabi: view.u8(EI.EI_OSABI, 'e_ident[EI_OSABI]'),
    abiVersion: view.u8(EI.EI_ABIVERSION, 'e_ident[EI_ABIVERSION]'),
    type: view.u16(f.e_type, 'e_type'),
    machine: view.u16(f.e_machine, 'e_machine'),
    version: view.u32(f.e_version, 'e_version'),
    entry: view.uword(f.e_entry, is64, 'e_entry'),
    phoff: view.uword(f.e_phoff, is64, 'e_phoff'),
    shoff: view.uword(f.e_shoff, is64, 'e_shoff'),
    flags: view.u32(f.e_flags, 'e_flags'),
    ehsize: view.u16(f.e_ehsize, 'e_ehsize'),
    phentsize: view.u16(f.e_phentsize, 'e_phentsize'),
    phnum: view.u16(f.e_phnum, 'e_phnum'),
    shentsize: view.u16(f.e_shentsize, 'e_shentsize'),
    shnum: view.u16(f.e_shnum, 'e_shnum'),
    shstrndx: view.u16(f.e_shstrndx, 'e_shstrndx'),
  };
}

export function readRawProgramHeader(view: ByteView, elfClass: ElfClass, at: number): RawProgramHeader {
  const f = PHDR[elfClass];
  const is64 = elfClass === 64;
  return {
    type: view.u32(at + f.p_type, 'p_type'),
    flags: view.u32(at + f.p_flags, 'p_flags'),
    offset: view.uword(at + f.p_offset, is64, 'p_offset'),
    vaddr: view.uword(at + f.p_vaddr, is64, 'p_vaddr'),
    paddr: view.uword(at + f.p_paddr, is64, 'p_paddr'),
    filesz: view.uword(at + f.p_filesz, is64, 'p_filesz'),
    memsz: view.uword(at + f.p_memsz, is64, 'p_memsz'),
    align: view.uword(at + f.p_align, is64, 'p_align'),
  };
}

export function readRawSectionHeader(view: ByteView, elfClass: ElfClass, at: number): RawSectionHeader {
  const f = SHDR[elfClass];
  const is64 = elfClass === 64;
  return {
    name: view.u32(at + f.sh_name, 'sh_name'),
    type: view.u32(at + f.sh_type, 'sh_type'),
    flags: view.uword(at + f.sh_flags, is64, 'sh_flags'),
    addr: view.uword(at + f.sh_addr, is64, 'sh_addr'),
    offset: view.uword(at + f.sh_offset, is64, 'sh_offset'),
    size: view.uword(at + f.sh_size, is64, 'sh_size'),
    link: view.u32(at + f.sh_link, 'sh_link'),
    info: view.u32(at + f.sh_info, 'sh_info'),
    addralign: view.uword(at + f.sh_addralign, is64, 'sh_addralign'),
    entsize: view.uword(at + f.sh_entsize, is64, 'sh_entsize'),
  };
}

export function readRawSymbol(view: ByteView, elfClass: ElfClass, at: number): RawSymbol {
  const f = SYM[elfClass];
  const is64 = elfClass === 64;
  return {
    name: view.u32(at + f.st_name, 'st_name'),
    value: view.uword(at + f.st_value, is64, 'st_value'),
    size: view.uword(at + f.st_size, is64, 'st_size'),
    info: view.u8(at + f.st_info, 'st_info'),
    other: view.u8(at + f.st_other, 'st_other'),
    shndx: view.u16(at + f.st_shndx, 'st_shndx'),
  };
}
