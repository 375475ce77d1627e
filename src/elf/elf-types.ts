// The plain data a firmware image is read into: ELF header, program headers, sections. Addresses
// are bigint (exact for ELF64); file offsets and sizes are safe-integer numbers once checked.
// Mirrors the elf32_hdr/elf64_hdr, elf_phdr and elf_shdr structures of include/uapi/linux/elf.h.

import type { Endian } from '../util/bytes.ts';
import type { Problem } from '../util/problems.ts';
import type { ElfClass } from './elf-constants.ts';

/** Operation name of every problem the reader records. */
export const ELF_PARSE_OP = 'elf-parse';

export interface ElfHeader {
  readonly class: ElfClass;
  readonly endian: Endian;
  /** e_ident[EI_VERSION]. */
  readonly identVersion: number;
  readonly osabi: number;
  readonly abiVersion: number;
  readonly type: number;
  /** e_machine: reported, never checked here (see elfSanityCheck). */
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly phoff: number;
  readonly shoff: number;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  /** e_phnum, or section 0's sh_info when e_phnum is PN_XNUM (extended numbering). */
  readonly phnum: number;
  readonly shentsize: number;
  /** e_shnum, or section 0's sh_size when e_shnum is 0 and e_shoff is not (extended numbering). */
  readonly shnum: number;
  /** e_shstrndx, or section 0's sh_link when e_shstrndx is SHN_XINDEX; SHN_UNDEF means no names. */
  readonly shstrndx: number;
}

export interface ElfProgramHeader {
  readonly index: number;
  /** File offset of this program header, so that tools and tests can point at its fields. */
  readonly headerOffset: number;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: bigint;
}

export interface ElfSection {
  readonly index: number;
  /** File offset of this section header. */
  readonly headerOffset: number;
  /** The name from the section name string table; '' when there is none or it is unreadable. */
  readonly name: string;
  /** sh_name: offset of the name in the section name string table. */
  readonly nameOffset: number;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: bigint;
  readonly entsize: bigint;
}

export interface ElfImage {
  /** The whole file; every view handed out (segment data, the resource table) points into it. */
  readonly bytes: Uint8Array;
  readonly header: ElfHeader;
  /**
   * Program headers in table order. A header whose 64-bit p_offset, p_filesz or p_memsz cannot be a
   * safe integer is left out with a problem (an error for PT_LOAD, a warning otherwise); `index`
   * keeps the position in the table.
   */
  readonly programHeaders: readonly ElfProgramHeader[];
  /** Section headers by index; empty when the section header table is absent or unusable. */
  readonly sections: readonly ElfSection[];
}

export interface ElfReadResult {
  /**
   * Undefined only when the ELF header itself is unusable: too short, bad magic, class or data
   * encoding, or an ELF64 e_phoff/e_shoff beyond 2^53 (no file offset can be that large).
   */
  readonly image: ElfImage | undefined;
  readonly problems: Problem[];
}
