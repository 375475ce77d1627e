// ELF constants with the spelling of the System V gABI and <linux/elf.h>, the structure sizes and
// field offsets of ELF32 and ELF64 headers, program headers, section headers and symbols, and a
// machine-name table. Mirrors include/uapi/linux/elf.h and the field accessors of
// drivers/remoteproc/remoteproc_elf_helpers.h.

/** Indices into e_ident. */
export const EI = {
  EI_MAG0: 0,
  EI_MAG1: 1,
  EI_MAG2: 2,
  EI_MAG3: 3,
  EI_CLASS: 4,
  EI_DATA: 5,
  EI_VERSION: 6,
  EI_OSABI: 7,
  EI_ABIVERSION: 8,
  EI_PAD: 9,
  EI_NIDENT: 16,
} as const;

/** The four magic bytes, "\x7fELF". */
export const ELFMAG = [0x7f, 0x45, 0x4c, 0x46] as const;

export const ELFCLASS = {
  ELFCLASSNONE: 0,
  ELFCLASS32: 1,
  ELFCLASS64: 2,
} as const;

export const ELFDATA = {
  ELFDATANONE: 0,
  ELFDATA2LSB: 1,
  ELFDATA2MSB: 2,
} as const;

export const EV = {
  EV_NONE: 0,
  EV_CURRENT: 1,
} as const;

export const ET = {
  ET_NONE: 0,
  ET_REL: 1,
  ET_EXEC: 2,
  ET_DYN: 3,
  ET_CORE: 4,
} as const;

export const PT = {
  PT_NULL: 0,
  PT_LOAD: 1,
  PT_DYNAMIC: 2,
  PT_INTERP: 3,
  PT_NOTE: 4,
  PT_SHLIB: 5,
  PT_PHDR: 6,
  PT_TLS: 7,
  PT_GNU_EH_FRAME: 0x6474e550,
  PT_GNU_STACK: 0x6474e551,
  PT_GNU_RELRO: 0x6474e552,
  PT_RISCV_ATTRIBUTES: 0x70000003,
} as const;

/**
 * Note types of core files (n_type, under the owner "CORE" unless said otherwise), from
 * include/uapi/linux/elf.h; NT_GDB_TDESC (owner "GDB") from binutils' include/elf/common.h.
 */
export const NT = {
  NT_PRSTATUS: 1,
  NT_PRFPREG: 2,
  NT_PRPSINFO: 3,
  NT_RISCV_CSR: 0x900,
  NT_GDB_TDESC: 0xff00_0000,
} as const;

export const PF = {
  PF_X: 0x1,
  PF_W: 0x2,
  PF_R: 0x4,
} as const;

export const SHT = {
  SHT_NULL: 0,
  SHT_PROGBITS: 1,
  SHT_SYMTAB: 2,
  SHT_STRTAB: 3,
  SHT_RELA: 4,
  SHT_HASH: 5,
  SHT_DYNAMIC: 6,
  SHT_NOTE: 7,
  SHT_NOBITS: 8,
  SHT_REL: 9,
  SHT_SHLIB: 10,
  SHT_DYNSYM: 11,
  SHT_INIT_ARRAY: 14,
  SHT_FINI_ARRAY: 15,
  SHT_PREINIT_ARRAY: 16,
  SHT_GROUP: 17,
  SHT_SYMTAB_SHNDX: 18,
  SHT_RISCV_ATTRIBUTES: 0x70000003,
} as const;

/** Section flags; sh_flags is a 64-bit word in ELF64, so these are bigints. */
export const SHF = {
  SHF_WRITE: 0x1n,
  SHF_ALLOC: 0x2n,
  SHF_EXECINSTR: 0x4n,
  SHF_MERGE: 0x10n,
  SHF_STRINGS: 0x20n,
  SHF_INFO_LINK: 0x40n,
  SHF_LINK_ORDER: 0x80n,
  SHF_OS_NONCONFORMING: 0x100n,
  SHF_GROUP: 0x200n,
  SHF_TLS: 0x400n,
} as const;

/** Symbol types: the low nibble of st_info. */
export const STT = {
  STT_NOTYPE: 0,
  STT_OBJECT: 1,
  STT_FUNC: 2,
  STT_SECTION: 3,
  STT_FILE: 4,
  STT_COMMON: 5,
  STT_TLS: 6,
} as const;

/** Symbol bindings: the high nibble of st_info. */
export const STB = {
  STB_LOCAL: 0,
  STB_GLOBAL: 1,
  STB_WEAK: 2,
} as const;

/** Special section indices. */
export const SHN = {
  SHN_UNDEF: 0,
  SHN_LORESERVE: 0xff00,
  SHN_ABS: 0xfff1,
  SHN_COMMON: 0xfff2,
  SHN_XINDEX: 0xffff,
} as const;

/** e_phnum value meaning "the real count is in section 0's sh_info" (gABI extended numbering). */
export const PN_XNUM = 0xffff;

export type ElfClass = 32 | 64;

/** Structure sizes by class, used as strides exactly as Linux does. */
export const ELF_STRUCT_SIZE = {
  32: { ehdr: 52, phdr: 32, shdr: 40, sym: 16 },
  64: { ehdr: 64, phdr: 56, shdr: 64, sym: 24 },
} as const;

/** Field offsets of the ELF header (e_ident is common to both classes). */
export const EHDR = {
  32: {
    e_ident: 0,
    e_type: 16,
    e_machine: 18,
    e_version: 20,
    e_entry: 24,
    e_phoff: 28,
    e_shoff: 32,
    e_flags: 36,
    e_ehsize: 40,
    e_phentsize: 42,
    e_phnum: 44,
    e_shentsize: 46,
    e_shnum: 48,
    e_shstrndx: 50,
  },
  64: {
    e_ident: 0,
    e_type: 16,
    e_machine: 18,
    e_version: 20,
    e_entry: 24,
    e_phoff: 32,
    e_shoff: 40,
    e_flags: 48,
    e_ehsize: 52,
    e_phentsize: 54,
    e_phnum: 56,
    e_shentsize: 58,
    e_shnum: 60,
    e_shstrndx: 62,
  },
} as const;

/** Field offsets of a program header. ELF64 moves p_flags next to p_type for alignment. */
export const PHDR = {
  32: {
    p_type: 0,
    p_offset: 4,
    p_vaddr: 8,
    p_paddr: 12,
    p_filesz: 16,
    p_memsz: 20,
    p_flags: 24,
    p_align: 28,
  },
  64: {
    p_type: 0,
    p_flags: 4,
    p_offset: 8,
    p_vaddr: 16,
    p_paddr: 24,
    p_filesz: 32,
    p_memsz: 40,
    p_align: 48,
  },
} as const;

/** Field offsets of a section header. */
export const SHDR = {
  32: {
    sh_name: 0,
    sh_type: 4,
    sh_flags: 8,
    sh_addr: 12,
    sh_offset: 16,
    sh_size: 20,
    sh_link: 24,
    sh_info: 28,
    sh_addralign: 32,
    sh_entsize: 36,
  },
  64: {
    sh_name: 0,
    sh_type: 4,
    sh_flags: 8,
    sh_addr: 16,
    sh_offset: 24,
    sh_size: 32,
    sh_link: 40,
    sh_info: 44,
    sh_addralign: 48,
    sh_entsize: 56,
  },
} as const;

/** Field offsets of a symbol table entry. ELF64 puts the byte-sized fields before st_value. */
export const SYM = {
  32: { st_name: 0, st_value: 4, st_size: 8, st_info: 12, st_other: 13, st_shndx: 14 },
  64: { st_name: 0, st_info: 4, st_other: 5, st_shndx: 6, st_value: 8, st_size: 16 },
} as const;

/** Machine numbers (e_machine) of processors that run remoteproc firmware, and a few hosts. */
export const EM = {
  EM_NONE: 0,
  EM_SPARC: 2,
  EM_386: 3,
  EM_68K: 4,
  EM_MIPS: 8,
  EM_PPC: 20,
  EM_ARM: 40,
  EM_SH: 42,
  EM_X86_64: 62,
  EM_XTENSA: 94,
  EM_TI_C6000: 140,
  EM_TI_PRU: 144,
  EM_HEXAGON: 164,
  EM_AARCH64: 183,
  EM_ARC_COMPACT2: 195,
  EM_RISCV: 243,
  EM_KVX: 256,
} as const;

const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [EM.EM_NONE, 'none'],
  [EM.EM_SPARC, 'SPARC'],
  [EM.EM_386, 'Intel 80386'],
  [EM.EM_68K, 'Motorola 68000'],
  [EM.EM_MIPS, 'MIPS'],
  [EM.EM_PPC, 'PowerPC'],
  [EM.EM_ARM, 'ARM'],
  [EM.EM_SH, 'SuperH'],
  [EM.EM_X86_64, 'x86-64'],
  [EM.EM_XTENSA, 'Xtensa'],
  [EM.EM_TI_C6000, 'TI C6000 DSP'],
  [EM.EM_TI_PRU, 'TI PRU'],
  [EM.EM_HEXAGON, 'Qualcomm Hexagon (QDSP6)'],
  [EM.EM_AARCH64, 'AArch64'],
  [EM.EM_ARC_COMPACT2, 'ARCv2'],
  [EM.EM_RISCV, 'RISC-V'],
  [EM.EM_KVX, 'Kalray VLIW (KVX)'],
]);

/** Human name of an e_machine value, e.g. "RISC-V", or "unknown (0x1234)". */
export function machineName(machine: number): string {
  return MACHINE_NAMES.get(machine) ?? `unknown (0x${machine.toString(16)})`;
}

/** Spec name of a p_type value, e.g. "PT_LOAD", or the value in hex. */
export function programTypeName(type: number): string {
  return nameOf(PT, type);
}

/** Spec name of an sh_type value, e.g. "SHT_NOBITS", or the value in hex. */
export function sectionTypeName(type: number): string {
  return nameOf(SHT, type);
}

function nameOf(table: Readonly<Record<string, number>>, value: number): string {
  for (const [name, v] of Object.entries(table)) if (v === value) return name;
  return `0x${value.toString(16)}`;
}
