// Finds the ".resource_table" section of a firmware image and checks its 16-byte header exactly
// as Linux does, and provides the cached (copied) and loaded (translated) views of the table.
// Mirrors find_table, rproc_elf_load_rsc_table and rproc_elf_find_loaded_rsc_table of
// drivers/remoteproc/remoteproc_elf_loader.c. The entries are the rsc layer's business.

import { hex, RprocError } from '../util/errors.ts';
import { problemToError, type Problem } from '../util/problems.ts';
import { SHDR, SHT } from './elf-constants.ts';
import type { ElfImage, ElfSection } from './elf-types.ts';
import type { DaToVa } from './elf-segments.ts';
import { imageView } from './elf-structs.ts';

const OP = 'elf-rsc-table';

/** The section name Linux looks for, compared as a whole C string. */
export const RSC_TABLE_SECTION_NAME = '.resource_table';

/** struct resource_table { u32 ver; u32 num; u32 reserved[2]; u32 offset[num]; } */
const RSC_TABLE_HEADER = { ver: 0, num: 4, reserved0: 8, reserved1: 12, offset: 16 } as const;
const RSC_TABLE_HEADER_SIZE = 16;
const RSC_TABLE_OFFSET_SIZE = 4;
const RSC_TABLE_VERSION = 1;

export type RscTableLookup =
  | {
      readonly status: 'found';
      readonly section: ElfSection;
      readonly fileOffset: number;
      readonly size: number;
      /** A view of the table's bytes in the image (not a copy). */
      readonly bytes: Uint8Array;
      /** sh_addr: where the loaded table lives in device memory. */
      readonly da: bigint;
    }
  | { readonly status: 'absent' }
  | { readonly status: 'invalid'; readonly problem: Problem; readonly section: ElfSection };

/**
 * find_table: the first section named exactly ".resource_table", then its header checks. As in
 * Linux, a first match with bad contents is "invalid" even if a later section of the same name
 * would be valid (TC-R07). Sections whose names could not be read are named '' and never match.
 */
export function findResourceTable(image: ElfImage): RscTableLookup {
  const section = image.sections.find((s) => s.name === RSC_TABLE_SECTION_NAME);
  if (section === undefined) return { status: 'absent' };
  const invalid = (message: string, offset: number): RscTableLookup => ({
    status: 'invalid',
    section,
    problem: { severity: 'error', code: 'EINVAL', op: OP, offset, message },
  });
  const shdr = SHDR[image.header.class];
  const { offset, size } = section;

  // Linux would read the file bytes at sh_offset anyway; they are not the section's bytes.
  if (section.type === SHT.SHT_NOBITS) {
    return invalid(
      `resource table section ${section.index} is SHT_NOBITS: it has no bytes in the file`,
      section.headerOffset + shdr.sh_type,
    );
  }
  const view = imageView(image.bytes, image.header.endian, OP);
  // Section offsets and sizes are exact safe integers, so this sum cannot wrap, in ELF32 or ELF64.
  if (!view.fits(offset, size)) {
    return invalid(
      `resource table truncated: sh_offset ${hex(offset)} + sh_size ${hex(size)} = ${hex(offset + size)} ` +
        `runs past the end of the image at ${hex(image.bytes.length)}`,
      section.headerOffset + shdr.sh_offset,
    );
  }
  if (size < RSC_TABLE_HEADER_SIZE) {
    return invalid(
      `header-less resource table: sh_size ${hex(size)} is smaller than the ${hex(RSC_TABLE_HEADER_SIZE)}-byte table header`,
      section.headerOffset + shdr.sh_size,
    );
  }
  const ver = view.u32(offset + RSC_TABLE_HEADER.ver, 'resource table ver');
  if (ver !== RSC_TABLE_VERSION) {
    return invalid(
      `unsupported fw ver ${hex(ver)} at ${hex(offset + RSC_TABLE_HEADER.ver)} (expected 1)`,
      offset,
    );
  }
  const reserved0 = view.u32(offset + RSC_TABLE_HEADER.reserved0, 'resource table reserved[0]');
  const reserved1 = view.u32(offset + RSC_TABLE_HEADER.reserved1, 'resource table reserved[1]');
  if (reserved0 !== 0 || reserved1 !== 0) {
    return invalid(
      `non zero reserved bytes: reserved[0] ${hex(reserved0)}, reserved[1] ${hex(reserved1)} at ${hex(offset + RSC_TABLE_HEADER.reserved0)}`,
      offset + RSC_TABLE_HEADER.reserved0,
    );
  }
  const num = view.u32(offset + RSC_TABLE_HEADER.num, 'resource table num');
  // num ≤ 2^32 − 1, so the sum stays far below 2^53: no 32-bit wrap at num = 0x40000000 (TC-R05).
  const needed = RSC_TABLE_HEADER.offset + RSC_TABLE_OFFSET_SIZE * num;
  if (needed > size) {
    return invalid(
      `resource table incomplete: num ${hex(num)} at ${hex(offset + RSC_TABLE_HEADER.num)} needs ${hex(needed)} bytes, the section has ${hex(size)}`,
      offset + RSC_TABLE_HEADER.num,
    );
  }
  return {
    status: 'found',
    section,
    fileOffset: offset,
    size,
    bytes: view.sub(offset, size, 'resource table'),
    da: section.addr,
  };
}

/** The host-side copy of the table (rproc->cached_table) with its size and load address. */
export interface CachedResourceTable {
  /** A copy of the section's bytes: edits never reach the image. */
  readonly table: Uint8Array;
  readonly size: number;
  /** sh_addr of the section, where the loaded copy will be found after loading. */
  readonly da: bigint;
}

/**
 * rproc_elf_load_rsc_table, the default parse_fw: the table is mandatory, so an image without one
 * fails with EINVAL, as does an invalid one.
 */
export function loadResourceTableCopy(image: ElfImage): CachedResourceTable {
  const table = loadResourceTableCopyOptional(image);
  if (table === undefined) {
    throw new RprocError(
      'EINVAL',
      OP,
      `no resource table: the image has no "${RSC_TABLE_SECTION_NAME}" section`,
    );
  }
  return table;
}

/**
 * The same for drivers that accept table-less images (TC-E12): undefined when the image has no
 * ".resource_table" section; an invalid table still fails with EINVAL.
 */
export function loadResourceTableCopyOptional(image: ElfImage): CachedResourceTable | undefined {
  const lookup = findResourceTable(image);
  switch (lookup.status) {
    case 'absent':
      return undefined;
    case 'invalid':
      throw problemToError(lookup.problem);
    case 'found':
      return {
        table: imageView(image.bytes, image.header.endian, OP).copy(
          lookup.fileOffset,
          lookup.size,
          'resource table',
        ),
        size: lookup.size,
        da: lookup.da,
      };
  }
}

/**
 * rproc_elf_find_loaded_rsc_table: after loading, the table in device memory at the section's
 * sh_addr (not a program header address), or undefined when there is no valid table or the range
 * does not translate (TC-R09: the boot goes on, but the firmware never sees the host's updates).
 */
export function findLoadedResourceTable(image: ElfImage, daToVa: DaToVa): Uint8Array | undefined {
  const lookup = findResourceTable(image);
  if (lookup.status !== 'found') return undefined;
  const target = daToVa(lookup.da, lookup.size);
  if (target === undefined || target.length < lookup.size) return undefined;
  return target.subarray(0, lookup.size);
}
