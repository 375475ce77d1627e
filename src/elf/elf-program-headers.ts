// Reads the program header table of an image whose ELF header has been read: the table must lie
// inside the file with the right entry size, and every PT_LOAD must have p_filesz <= p_memsz and
// its file bytes inside the file. Mirrors the header walk of rproc_elf_load_segments
// (remoteproc_elf_loader.c), with the checks Linux lacks (TC-E07, TC-E08, TC-E13, TC-E14).

import { rangeFits, type ByteView } from '../util/bytes.ts';
import { hex } from '../util/errors.ts';
import type { Problems } from '../util/problems.ts';
import { EHDR, ELF_STRUCT_SIZE, PHDR, PT, programTypeName } from './elf-constants.ts';
import { MAX_SAFE_BIGINT, readRawProgramHeader } from './elf-structs.ts';
import { ELF_PARSE_OP as OP, type ElfHeader, type ElfProgramHeader } from './elf-types.ts';

/**
 * The program headers in table order, or [] when the table is unusable; every problem found is
 * recorded. A header with a 64-bit field no safe integer can hold is left out (see ElfImage).
 */
export function readProgramHeaders(view: ByteView, h: ElfHeader, p: Problems): ElfProgramHeader[] {
  if (h.phnum === 0) return [];
  const f = EHDR[h.class];
  const entrySize = ELF_STRUCT_SIZE[h.class].phdr;
  let usable = true;
  if (h.phoff === 0) {
    p.error('EINVAL', OP, `e_phnum is ${h.phnum} but e_phoff is 0 (no program header table)`, f.e_phoff);
    usable = false;
  }
  // Linux strides by the structure size and never reads e_phentsize; a different value means the
  // producer laid the table out differently, so every field we would read could be misplaced.
  if (h.phentsize !== entrySize) {
    p.error(
      'EINVAL',
      OP,
      `e_phentsize ${hex(h.phentsize)} at ${hex(f.e_phentsize)} is not the ELF${h.class} program header size ${hex(entrySize)}`,
      f.e_phentsize,
    );
    usable = false;
  }
  // Checked before a single header is read or allocated: e_phnum 0xffff in a tiny file costs nothing.
  if (!view.fits(h.phoff, h.phnum * entrySize)) {
    p.error(
      'EINVAL',
      OP,
      `program header table at ${hex(h.phoff)} (${h.phnum} × ${entrySize} bytes) runs past the end of the image at ${hex(view.length)}`,
      h.phoff,
    );
    usable = false;
  }
  if (!usable) return [];

  const fileSize = BigInt(view.length);
  const fo = PHDR[h.class];
  const headers: ElfProgramHeader[] = [];
  for (let index = 0; index < h.phnum; index++) {
    const at = h.phoff + index * entrySize;
    const raw = readRawProgramHeader(view, h.class, at);
    const what = `program header ${index} (${programTypeName(raw.type)} at ${hex(at)})`;
    const representable =
      raw.offset <= MAX_SAFE_BIGINT && raw.filesz <= MAX_SAFE_BIGINT && raw.memsz <= MAX_SAFE_BIGINT;
    if (raw.type === PT.PT_LOAD) {
      if (raw.filesz > raw.memsz) {
        p.error(
          'EINVAL',
          OP,
          `${what}: p_filesz ${hex(raw.filesz)} is larger than p_memsz ${hex(raw.memsz)}`,
          at + fo.p_filesz,
        );
      }
      if (!rangeFits(raw.offset, raw.filesz, fileSize)) {
        p.error(
          'EINVAL',
          OP,
          `${what}: p_offset ${hex(raw.offset)} + p_filesz ${hex(raw.filesz)} = ${hex(raw.offset + raw.filesz)} runs past the end of the image at ${hex(fileSize)}`,
          at + fo.p_offset,
        );
      }
      if (raw.memsz > MAX_SAFE_BIGINT) {
        p.error(
          'EOVERFLOW',
          OP,
          `${what}: p_memsz ${hex(raw.memsz)} is too large to handle`,
          at + fo.p_memsz,
        );
      }
    } else if (!representable) {
      // Garbage in a header the loader skips must not fail the image (TC-E18); it is only left out.
      p.warn(
        'EOVERFLOW',
        OP,
        `${what}: p_offset ${hex(raw.offset)}, p_filesz ${hex(raw.filesz)} or p_memsz ${hex(raw.memsz)} is too large to be a file offset or size; header not listed`,
        at,
      );
    }
    if (!representable) continue;
    headers.push({
      index,
      headerOffset: at,
      type: raw.type,
      flags: raw.flags,
      offset: Number(raw.offset),
      vaddr: raw.vaddr,
      paddr: raw.paddr,
      filesz: Number(raw.filesz),
      memsz: Number(raw.memsz),
      align: raw.align,
    });
  }
  return headers;
}
