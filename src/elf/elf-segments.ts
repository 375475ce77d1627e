// PT_LOAD segments as Linux loads them (device address = p_paddr) and the loader that copies them
// into device memory through daToVa, zero-filling each up to p_memsz.
// Mirrors rproc_elf_load_segments of drivers/remoteproc/remoteproc_elf_loader.c.

import { rangeFits } from '../util/bytes.ts';
import { hex, RprocError } from '../util/errors.ts';
import { ELF_STRUCT_SIZE, PHDR, PT } from './elf-constants.ts';
import type { ElfImage } from './elf-types.ts';
import { imageView, MAX_SAFE_BIGINT, readRawProgramHeader } from './elf-structs.ts';

const OP = 'elf-load';

/**
 * Translate [da, da + len) to a view of device memory that covers the whole range within one
 * region, or undefined (rproc_da_to_va). Must return a view into the target memory, never a copy,
 * and must have no side effects: the loader translates every segment before writing any.
 */
export type DaToVa = (da: bigint, len: number) => Uint8Array | undefined;

export interface LoadSegment {
  /** Index of the program header in the table. */
  readonly index: number;
  /** Device address the segment is loaded at: p_paddr, the load address, as in Linux. */
  readonly da: bigint;
  readonly vaddr: bigint;
  readonly fileOffset: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly flags: number;
  /** A view of the segment's p_filesz bytes in the image. */
  readonly data: Uint8Array;
}

/**
 * The PT_LOAD headers in header order, each checked as Linux checks it before loading (filesz ≤
 * memsz, file bytes inside the image, memsz representable). Reads the program header table from
 * the image bytes itself, as Linux does, so it also sees headers readElf could not list.
 */
export function loadSegments(image: ElfImage): LoadSegment[] {
  const { header: h, bytes } = image;
  const view = imageView(bytes, h.endian, OP);
  const entrySize = ELF_STRUCT_SIZE[h.class].phdr;
  if (h.phnum > 0 && !view.fits(h.phoff, h.phnum * entrySize)) {
    throw new RprocError(
      'EINVAL',
      OP,
      `program header table at ${hex(h.phoff)} (${h.phnum} × ${entrySize} bytes) runs past the end of the image at ${hex(bytes.length)}`,
      { offset: h.phoff },
    );
  }
  const fileSize = BigInt(bytes.length);
  const f = PHDR[h.class];
  const segments: LoadSegment[] = [];
  for (let index = 0; index < h.phnum; index++) {
    const at = h.phoff + index * entrySize;
    const raw = readRawProgramHeader(view, h.class, at);
    if (raw.type !== PT.PT_LOAD) continue;
    const where = `program header ${index} at ${hex(at)}`;
    if (raw.filesz > raw.memsz) {
      throw new RprocError(
        'EINVAL',
        OP,
        `bad phdr filesz ${hex(raw.filesz)} memsz ${hex(raw.memsz)} (${where})`,
        {
          offset: at + f.p_filesz,
        },
      );
    }
    // Linux adds in u64, so an ELF64 p_offset near 2^64 wraps past its check (TC-E14); bigint cannot wrap.
    if (!rangeFits(raw.offset, raw.filesz, fileSize)) {
      throw new RprocError(
        'EINVAL',
        OP,
        `truncated fw: need ${hex(raw.offset + raw.filesz)} avail ${hex(fileSize)} (${where}: p_offset ${hex(raw.offset)}, p_filesz ${hex(raw.filesz)})`,
        { offset: at + f.p_offset },
      );
    }
    if (raw.memsz > MAX_SAFE_BIGINT) {
      throw new RprocError('EOVERFLOW', OP, `p_memsz ${hex(raw.memsz)} is too large to handle (${where})`, {
        offset: at + f.p_memsz,
      });
    }
    const fileOffset = Number(raw.offset);
    const filesz = Number(raw.filesz);
    segments.push({
      index,
      da: raw.paddr,
      vaddr: raw.vaddr,
      fileOffset,
      filesz,
      memsz: Number(raw.memsz),
      flags: raw.flags,
      data: view.sub(fileOffset, filesz, 'segment data'),
    });
  }
  return segments;
}

/**
 * Load every PT_LOAD segment: copy p_filesz bytes to daToVa(p_paddr, p_memsz) and zero the rest up
 * to p_memsz, in header order, so that where segments overlap the later one wins (TC-E19).
 *
 * Linux copies segment by segment and stops at the first bad one, leaving the earlier ones
 * written. We check and translate every segment first and only then copy, so a failing image
 * leaves device memory untouched. The range [da, da + memsz) must translate even when memsz is 0,
 * as in Linux (TC-E16).
 */
export function loadElfSegments(image: ElfImage, daToVa: DaToVa): void {
  const placed = loadSegments(image).map((segment) => {
    const target = daToVa(segment.da, segment.memsz);
    if (target === undefined || target.length < segment.memsz) {
      const got = target === undefined ? '' : ` (daToVa returned only ${hex(target.length)} bytes)`;
      throw new RprocError(
        'EINVAL',
        OP,
        `bad phdr da ${hex(segment.da)} mem ${hex(segment.memsz)}${got} (program header ${segment.index})`,
      );
    }
    return { segment, target: target.subarray(0, segment.memsz) };
  });
  for (const { segment, target } of placed) {
    target.set(segment.data, 0);
    target.fill(0, segment.filesz);
  }
}
