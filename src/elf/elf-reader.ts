// Reads an ELF32/ELF64 firmware image of either byte order into exact, plain data and collects
// every problem it finds, each with its file offset; parseElf and elfSanityCheck are the strict
// entry points. Mirrors rproc_elf_sanity_check and rproc_elf_get_boot_addr of
// drivers/remoteproc/remoteproc_elf_loader.c, plus the stricter checks of docs/decisions.md.

import { rangeFits, type ByteView, type Endian } from '../util/bytes.ts';
import { hex, RprocError } from '../util/errors.ts';
import { Problems, problemToError } from '../util/problems.ts';
import {
  EHDR,
  EI,
  ELFCLASS,
  ELFDATA,
  ELF_STRUCT_SIZE,
  EV,
  PN_XNUM,
  SHDR,
  SHN,
  type ElfClass,
} from './elf-constants.ts';
import { readProgramHeaders } from './elf-program-headers.ts';
import { readSections } from './elf-section-headers.ts';
import {
  imageView,
  MAX_SAFE_BIGINT,
  readRawElfHeader,
  readRawSectionHeader,
  type RawElfHeader,
  type RawSectionHeader,
} from './elf-structs.ts';
import { ELF_PARSE_OP as OP, type ElfHeader, type ElfImage, type ElfReadResult } from './elf-types.ts';

export type { ElfImage, ElfReadResult } from './elf-types.ts';

const SANITY_OP = 'elf-sanity-check';
/** "\x7fELF" read as a big-endian word, so that a bad magic prints in file byte order. */
const ELF_MAGIC_BE = 0x7f454c46;

/**
 * Read an image, collecting every problem instead of stopping at the first. Never throws: an
 * image with errors is still returned with everything that could be read, for inspection tools.
 */
export function readElf(bytes: Uint8Array): ElfReadResult {
  const problems = new Problems();
  let image: ElfImage | undefined;
  try {
    image = readImage(bytes, problems);
  } catch (e) {
    // Every read is range-checked before it is made; a bounds error from ByteView here is a
    // missed check, reported rather than thrown so that readElf keeps its promise.
    if (!(e instanceof RprocError)) throw e;
    problems.add(e);
    image = undefined;
  }
  return { image, problems: problems.list };
}

/** Read an image and throw its first error as an RprocError; warnings do not throw. */
export function parseElf(bytes: Uint8Array): ElfImage {
  const { image, problems } = readElf(bytes);
  const first = problems.find((p) => p.severity === 'error');
  if (first !== undefined) throw problemToError(first);
  if (image === undefined) throw new RprocError('EINVAL', OP, 'unreadable ELF header');
  return image;
}

/** rproc_elf_get_boot_addr: the entry point, read before the resource table is parsed. */
export function elfBootAddr(image: ElfImage): bigint {
  return image.header.entry;
}

export interface ElfSanityCheckOptions {
  /** Byte order of the host the image must match; our virtual SoC is little-endian. */
  readonly hostEndian?: Endian;
}

/**
 * rproc_elf_sanity_check as one strict entry point: Linux's checks in Linux's order with
 * Linux-like messages (all EINVAL), then the first error of readElf's stricter checks (EINVAL, or
 * EOVERFLOW for a size no number can hold). Returns the image; readElf also gives the warnings.
 *
 * e_machine is deliberately not checked (TC-E22): the Linux core accepts any architecture and
 * leaves that check to the platform drivers that care; ours can compare header.machine.
 */
export function elfSanityCheck(bytes: Uint8Array, options: ElfSanityCheckOptions = {}): ElfImage {
  const hostEndian = options.hostEndian ?? 'le';
  const size = bytes.length;
  const fail = (detail: string, offset: number): RprocError =>
    new RprocError('EINVAL', SANITY_OP, detail, { offset });

  const ehdr32 = ELF_STRUCT_SIZE[32].ehdr;
  if (size < ehdr32) {
    throw fail(`image is too small (${hex(size)} bytes, an ELF32 header needs ${hex(ehdr32)})`, 0);
  }
  const ident = imageView(bytes, 'be', SANITY_OP);
  const magic = ident.u32(EI.EI_MAG0, 'magic');
  if (magic !== ELF_MAGIC_BE) throw fail(`image is corrupted (bad magic ${hex(magic)})`, EI.EI_MAG0);
  const classByte = ident.u8(EI.EI_CLASS, 'e_ident[EI_CLASS]');
  const elfClass = classFromIdent(classByte);
  if (elfClass === undefined) throw fail(`unsupported class ${hex(classByte)}`, EI.EI_CLASS);
  const ehdrSize = ELF_STRUCT_SIZE[elfClass].ehdr;
  if (size < ehdrSize) {
    throw fail(`image is too small (${hex(size)} bytes, an ELF64 header needs ${hex(ehdrSize)})`, 0);
  }
  const dataByte = ident.u8(EI.EI_DATA, 'e_ident[EI_DATA]');
  const endian = endianFromIdent(dataByte);
  if (endian === undefined) {
    throw fail(
      `unsupported firmware endianness: EI_DATA ${hex(dataByte)} is neither ELFDATA2LSB nor ELFDATA2MSB`,
      EI.EI_DATA,
    );
  }
  if (endian !== hostEndian) {
    throw fail(
      `unsupported firmware endianness: ${endianName(endian)} image on a ${endianName(hostEndian)} host`,
      EI.EI_DATA,
    );
  }

  const raw = readRawElfHeader(imageView(bytes, endian, SANITY_OP), elfClass);
  const f = EHDR[elfClass];
  const shdrSize = ELF_STRUCT_SIZE[elfClass].shdr;
  // Linux only asks for the first section header; readElf below checks the whole table.
  if (!rangeFits(raw.shoff, BigInt(shdrSize), BigInt(size))) {
    throw fail(
      `image is too small: section header at e_shoff ${hex(raw.shoff)} (${hex(shdrSize)} bytes) ` +
        `runs past the end of the image at ${hex(size)}`,
      f.e_shoff,
    );
  }
  if (raw.phnum === 0) throw fail('no loadable segments (e_phnum is 0)', f.e_phnum);
  if (raw.phoff > BigInt(size)) {
    throw fail(
      `firmware size is too small: e_phoff ${hex(raw.phoff)} is past the end of the image at ${hex(size)}`,
      f.e_phoff,
    );
  }

  const { image, problems } = readElf(bytes);
  const first = problems.find((p) => p.severity === 'error');
  if (first !== undefined) {
    throw new RprocError(
      first.code,
      SANITY_OP,
      first.message,
      first.offset === undefined ? {} : { offset: first.offset },
    );
  }
  if (image === undefined) throw fail('unreadable ELF header', 0);
  return image;
}

// ---------------------------------------------------------------------------------------------

interface Ident {
  readonly class: ElfClass;
  readonly endian: Endian;
}

function classFromIdent(value: number): ElfClass | undefined {
  if (value === ELFCLASS.ELFCLASS32) return 32;
  if (value === ELFCLASS.ELFCLASS64) return 64;
  return undefined;
}

function endianFromIdent(value: number): Endian | undefined {
  if (value === ELFDATA.ELFDATA2LSB) return 'le';
  if (value === ELFDATA.ELFDATA2MSB) return 'be';
  return undefined;
}

function endianName(endian: Endian): string {
  return endian === 'le' ? 'little-endian' : 'big-endian';
}

function readImage(bytes: Uint8Array, p: Problems): ElfImage | undefined {
  const ident = readIdent(bytes, p);
  if (ident === undefined) return undefined;
  const view = imageView(bytes, ident.endian, OP);
  const raw = readRawElfHeader(view, ident.class);
  const f = EHDR[ident.class];

  // A table offset that is not a safe integer cannot locate anything in any file: there is no
  // exact number to put in the header, so the header counts as unusable.
  let offsetsUsable = true;
  for (const [field, value, at] of [
    ['e_phoff', raw.phoff, f.e_phoff],
    ['e_shoff', raw.shoff, f.e_shoff],
  ] as const) {
    if (value > MAX_SAFE_BIGINT) {
      p.error(
        'EINVAL',
        OP,
        `${field} ${hex(value)} at ${hex(at)} is past the end of the image at ${hex(bytes.length)}`,
        at,
      );
      offsetsUsable = false;
    }
  }
  if (!offsetsUsable) return undefined;

  warnOnVersions(raw, ident.class, p);
  const header = resolveHeader(view, ident, raw, p);
  const programHeaders = readProgramHeaders(view, header, p);
  const sections = readSections(view, header, raw.shnum, p);
  return { bytes, header, programHeaders, sections };
}

function readIdent(bytes: Uint8Array, p: Problems): Ident | undefined {
  const size = bytes.length;
  const ehdr32 = ELF_STRUCT_SIZE[32].ehdr;
  if (size < ehdr32) {
    p.error('EINVAL', OP, `image is too small (${hex(size)} bytes, an ELF32 header needs ${hex(ehdr32)})`, 0);
    return undefined;
  }
  const view = imageView(bytes, 'be', OP);
  let usable = true;
  const magic = view.u32(EI.EI_MAG0, 'magic');
  if (magic !== ELF_MAGIC_BE) {
    p.error('EINVAL', OP, `bad magic ${hex(magic)} at 0x0 (expected ${hex(ELF_MAGIC_BE)}, "\\x7fELF")`, 0);
    usable = false;
  }
  const classByte = view.u8(EI.EI_CLASS, 'e_ident[EI_CLASS]');
  const elfClass = classFromIdent(classByte);
  if (elfClass === undefined) {
    p.error(
      'EINVAL',
      OP,
      `unsupported class ${hex(classByte)} at e_ident[EI_CLASS] ${hex(EI.EI_CLASS)} (expected 1 = ELFCLASS32 or 2 = ELFCLASS64)`,
      EI.EI_CLASS,
    );
    usable = false;
  }
  const dataByte = view.u8(EI.EI_DATA, 'e_ident[EI_DATA]');
  const endian = endianFromIdent(dataByte);
  if (endian === undefined) {
    p.error(
      'EINVAL',
      OP,
      `unsupported data encoding ${hex(dataByte)} at e_ident[EI_DATA] ${hex(EI.EI_DATA)} (expected 1 = ELFDATA2LSB or 2 = ELFDATA2MSB)`,
      EI.EI_DATA,
    );
    usable = false;
  }
  if (elfClass === 64 && size < ELF_STRUCT_SIZE[64].ehdr) {
    p.error(
      'EINVAL',
      OP,
      `image is too small (${hex(size)} bytes, an ELF64 header needs ${hex(ELF_STRUCT_SIZE[64].ehdr)})`,
      0,
    );
    usable = false;
  }
  if (!usable || elfClass === undefined || endian === undefined) return undefined;
  return { class: elfClass, endian };
}

function warnOnVersions(raw: RawElfHeader, elfClass: ElfClass, p: Problems): void {
  const f = EHDR[elfClass];
  if (raw.identVersion !== EV.EV_CURRENT) {
    p.warn(
      'EINVAL',
      OP,
      `e_ident[EI_VERSION] is ${hex(raw.identVersion)} at ${hex(EI.EI_VERSION)}, not EV_CURRENT (1)`,
      EI.EI_VERSION,
    );
  }
  if (raw.version !== EV.EV_CURRENT) {
    p.warn(
      'EINVAL',
      OP,
      `e_version is ${hex(raw.version)} at ${hex(f.e_version)}, not EV_CURRENT (1)`,
      f.e_version,
    );
  }
  const ehdrSize = ELF_STRUCT_SIZE[elfClass].ehdr;
  if (raw.ehsize !== ehdrSize) {
    p.warn(
      'EINVAL',
      OP,
      `e_ehsize is ${hex(raw.ehsize)} at ${hex(f.e_ehsize)}, not the ELF${elfClass} header size ${hex(ehdrSize)}`,
      f.e_ehsize,
    );
  }
}

/**
 * Resolve gABI extended numbering: with more than 0xfeff sections e_shnum is 0 and section 0's
 * sh_size holds the count, e_shstrndx is SHN_XINDEX and section 0's sh_link holds the index; with
 * 0xffff or more program headers e_phnum is PN_XNUM and section 0's sh_info holds the count.
 * (Linux reads e_phnum and e_shnum literally; no firmware needs this, but a reader should not
 * misread a valid file.) When the real value cannot be read the raw field is kept with an error.
 */
function resolveHeader(view: ByteView, ident: Ident, raw: RawElfHeader, p: Problems): ElfHeader {
  const f = EHDR[ident.class];
  const shoff = Number(raw.shoff);
  const needsSection0 = raw.shnum === 0 || raw.shstrndx === SHN.SHN_XINDEX || raw.phnum === PN_XNUM;
  const section0 =
    shoff !== 0 && needsSection0 ? readSectionZero(view, ident.class, shoff, raw.shentsize) : undefined;
  const cannotRead =
    shoff === 0 ? 'there is no section header table (e_shoff is 0)' : 'section header 0 cannot be read';

  let phnum = raw.phnum;
  if (raw.phnum === PN_XNUM) {
    if (section0 === undefined) {
      p.error(
        'EINVAL',
        OP,
        `e_phnum at ${hex(f.e_phnum)} is PN_XNUM (0xffff) but ${cannotRead} to hold the real count`,
        f.e_phnum,
      );
    } else {
      phnum = section0.info;
    }
  }

  let shnum = raw.shnum;
  if (raw.shnum === 0 && shoff !== 0 && section0 !== undefined) {
    if (section0.size === 0n) {
      p.warn(
        'EINVAL',
        OP,
        `e_shoff is ${hex(shoff)} but e_shnum and section 0's sh_size are both 0: no sections`,
        f.e_shnum,
      );
    } else if (section0.size > MAX_SAFE_BIGINT) {
      p.error(
        'EINVAL',
        OP,
        `extended section count ${hex(section0.size)} in section 0's sh_size at ${hex(shoff + SHDR[ident.class].sh_size)} cannot fit in the image`,
        shoff + SHDR[ident.class].sh_size,
      );
    } else {
      shnum = Number(section0.size);
    }
  }

  let shstrndx = raw.shstrndx;
  if (raw.shstrndx === SHN.SHN_XINDEX) {
    if (section0 === undefined) {
      p.error(
        'EINVAL',
        OP,
        `e_shstrndx at ${hex(f.e_shstrndx)} is SHN_XINDEX (0xffff) but ${cannotRead} to hold the real index`,
        f.e_shstrndx,
      );
      shstrndx = SHN.SHN_UNDEF;
    } else {
      shstrndx = section0.link;
    }
  }

  return {
    class: ident.class,
    endian: ident.endian,
    identVersion: raw.identVersion,
    osabi: raw.osabi,
    abiVersion: raw.abiVersion,
    type: raw.type,
    machine: raw.machine,
    version: raw.version,
    entry: raw.entry,
    phoff: Number(raw.phoff),
    shoff,
    flags: raw.flags,
    ehsize: raw.ehsize,
    phentsize: raw.phentsize,
    phnum,
    shentsize: raw.shentsize,
    shnum,
    shstrndx,
  };
}

function readSectionZero(
  view: ByteView,
  elfClass: ElfClass,
  shoff: number,
  shentsize: number,
): RawSectionHeader | undefined {
  const size = ELF_STRUCT_SIZE[elfClass].shdr;
  // The table checks report a wrong entry size or a table past the end; here it only means
  // "cannot be read".
  if (shentsize !== size || !view.fits(shoff, size)) return undefined;
  return readRawSectionHeader(view, elfClass, shoff);
}
