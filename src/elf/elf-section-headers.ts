// Reads the section header table and the section names of an image whose ELF header has been
// read: table inside the file with the right entry size, e_shstrndx in range, every name inside
// the string table and NUL-terminated there, every section with file bytes inside the file.
// Linux's find_table checks none of this (TC-E09, TC-E10, TC-E11); we check all of it.

import { rangeFits, type ByteView } from '../util/bytes.ts';
import { hex } from '../util/errors.ts';
import type { Problems } from '../util/problems.ts';
import { EHDR, ELF_STRUCT_SIZE, SHDR, SHN, SHT } from './elf-constants.ts';
import { MAX_SAFE_BIGINT, readRawSectionHeader, type RawSectionHeader } from './elf-structs.ts';
import { ELF_PARSE_OP as OP, type ElfHeader, type ElfSection } from './elf-types.ts';

/**
 * The section headers by index, or [] when the table is absent or unusable; every problem found
 * is recorded. `rawShnum` is e_shnum as stored, for the message about a missing table.
 */
export function readSections(view: ByteView, h: ElfHeader, rawShnum: number, p: Problems): ElfSection[] {
  const f = EHDR[h.class];
  const entrySize = ELF_STRUCT_SIZE[h.class].shdr;
  if (h.shoff === 0) {
    // A section-less image (e_shoff = e_shnum = 0, any e_shentsize) is valid (TC-E12).
    if (rawShnum !== 0) {
      p.error('EINVAL', OP, `e_shnum is ${rawShnum} but e_shoff is 0 (no section header table)`, f.e_shoff);
    }
    return [];
  }
  let usable = true;
  if (h.shentsize !== entrySize) {
    p.error(
      'EINVAL',
      OP,
      `e_shentsize ${hex(h.shentsize)} at ${hex(f.e_shentsize)} is not the ELF${h.class} section header size ${hex(entrySize)}`,
      f.e_shentsize,
    );
    usable = false;
  }
  // Section 0 must fit even when the count is 0: it may hold the extended count, and Linux
  // checks that the first section header fits.
  const entries = Math.max(h.shnum, 1);
  if (!view.fits(h.shoff, entries * entrySize)) {
    p.error(
      'EINVAL',
      OP,
      `section header table at ${hex(h.shoff)} (${entries} × ${entrySize} bytes) runs past the end of the image at ${hex(view.length)}`,
      h.shoff,
    );
    usable = false;
  }
  if (!usable || h.shnum === 0) return [];

  const raws: RawSectionHeader[] = [];
  for (let index = 0; index < h.shnum; index++) {
    raws.push(readRawSectionHeader(view, h.class, h.shoff + index * entrySize));
  }
  const names = readSectionNames(view, h, raws, p);

  const fileSize = BigInt(view.length);
  const fo = SHDR[h.class];
  let allRepresentable = true;
  const sections: ElfSection[] = [];
  for (const [index, raw] of raws.entries()) {
    const at = h.shoff + index * entrySize;
    const name = names[index] ?? '';
    const what = `section ${index}${name === '' ? '' : ` "${name}"`} (header at ${hex(at)})`;
    if (occupiesFile(raw.type)) {
      if (!rangeFits(raw.offset, raw.size, fileSize)) {
        p.error(
          'EINVAL',
          OP,
          `${what}: sh_offset ${hex(raw.offset)} + sh_size ${hex(raw.size)} = ${hex(raw.offset + raw.size)} runs past the end of the image at ${hex(fileSize)}`,
          at + fo.sh_offset,
        );
      }
    } else if (raw.offset > MAX_SAFE_BIGINT || raw.size > MAX_SAFE_BIGINT) {
      p.error(
        'EOVERFLOW',
        OP,
        `${what}: sh_offset ${hex(raw.offset)} or sh_size ${hex(raw.size)} is too large to handle`,
        at + fo.sh_offset,
      );
    }
    if (raw.offset > MAX_SAFE_BIGINT || raw.size > MAX_SAFE_BIGINT) {
      allRepresentable = false;
      continue;
    }
    sections.push({
      index,
      headerOffset: at,
      name,
      nameOffset: raw.name,
      type: raw.type,
      flags: raw.flags,
      addr: raw.addr,
      offset: Number(raw.offset),
      size: Number(raw.size),
      link: raw.link,
      info: raw.info,
      addralign: raw.addralign,
      entsize: raw.entsize,
    });
  }
  // Sections are referred to by index (sh_link, st_shndx, e_shstrndx): a list with holes would
  // misdirect every such reference, so an inexact header makes the whole table unlisted.
  return allRepresentable ? sections : [];
}

/** SHT_NOBITS occupies no file bytes, and SHT_NULL headers have undefined contents. */
function occupiesFile(type: number): boolean {
  return type !== SHT.SHT_NOBITS && type !== SHT.SHT_NULL;
}

/** Names of all sections ('' where unreadable), with one problem per unreadable name. */
function readSectionNames(
  view: ByteView,
  h: ElfHeader,
  raws: readonly RawSectionHeader[],
  p: Problems,
): string[] {
  const f = EHDR[h.class];
  const unnamed = raws.map(() => '');
  if (h.shstrndx === SHN.SHN_UNDEF) {
    p.warn(
      'EINVAL',
      OP,
      'e_shstrndx is SHN_UNDEF: sections have no names (a resource table cannot be found)',
      f.e_shstrndx,
    );
    return unnamed;
  }
  const strtab = raws[h.shstrndx];
  if (strtab === undefined) {
    p.error(
      'EINVAL',
      OP,
      `e_shstrndx ${hex(h.shstrndx)} at ${hex(f.e_shstrndx)} is not below the section count ${hex(raws.length)}`,
      f.e_shstrndx,
    );
    return unnamed;
  }
  const strtabAt = h.shoff + h.shstrndx * ELF_STRUCT_SIZE[h.class].shdr;
  if (strtab.type === SHT.SHT_NOBITS) {
    p.error(
      'EINVAL',
      OP,
      `section name string table (section ${h.shstrndx}, header at ${hex(strtabAt)}) is SHT_NOBITS: it has no bytes in the file`,
      strtabAt,
    );
    return unnamed;
  }
  if (strtab.type !== SHT.SHT_STRTAB) {
    p.warn(
      'EINVAL',
      OP,
      `section name string table (section ${h.shstrndx}, header at ${hex(strtabAt)}) has type ${hex(strtab.type)}, not SHT_STRTAB`,
      strtabAt,
    );
  }
  // Out-of-file string tables are reported with the other section ranges; here they just mean no names.
  if (!rangeFits(strtab.offset, strtab.size, BigInt(view.length))) return unnamed;
  const strOffset = Number(strtab.offset);
  const strSize = Number(strtab.size);
  const where = `the section name string table (section ${h.shstrndx}, ${hex(strSize)} bytes at ${hex(strOffset)})`;
  const nameField = SHDR[h.class].sh_name;

  return raws.map((raw, index) => {
    const at = h.shoff + index * ELF_STRUCT_SIZE[h.class].shdr + nameField;
    if (raw.name >= strSize) {
      p.error(
        'EINVAL',
        OP,
        `section ${index}: sh_name ${hex(raw.name)} at ${hex(at)} is outside ${where}`,
        at,
      );
      return '';
    }
    const { text, terminated } = view.cstring(strOffset + raw.name, strSize - raw.name, 'section name');
    if (!terminated) {
      p.error(
        'EINVAL',
        OP,
        `section ${index}: the name at sh_name ${hex(raw.name)} is not NUL-terminated within ${where}`,
        strOffset + raw.name,
      );
      return '';
    }
    return text;
  });
}
