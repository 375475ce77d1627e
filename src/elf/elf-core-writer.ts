// Writes an ELF core file (ET_CORE, program headers only) of a remote processor's memory, laid
// out as Linux's rproc_coredump() does: header, one PT_LOAD per segment (p_vaddr = p_paddr = da,
// RWX, align 0) and the segment bytes back to back. Mirrors remoteproc_coredump.c; the optional
// PT_NOTE (the processor's registers) goes first, as fs/binfmt_elf.c puts it in a process core.

import { ByteView } from '../util/bytes.ts';
import { RprocError, hex } from '../util/errors.ts';
import {
  EHDR,
  ELFCLASS,
  ELFDATA,
  ELFMAG,
  ELF_STRUCT_SIZE,
  EI,
  ET,
  EV,
  PF,
  PHDR,
  PT,
  type ElfClass,
} from './elf-constants.ts';
import { encodeNotes, type ElfNote } from './elf-core-notes.ts';

const OP = 'coredump';

export interface CoreSegment {
  readonly da: bigint;
  readonly size: number;
}

export interface CoreLayout {
  /** Everything before the first segment's bytes: ELF header, program headers, notes. */
  readonly headerSize: number;
  /** File offset of the PT_NOTE segment's bytes (when there are notes) and their size. */
  readonly notesOffset: number;
  readonly notesSize: number;
  /** File offset of each segment's bytes, in order. */
  readonly offsets: readonly number[];
  readonly totalSize: number;
}

export interface CoreSpec {
  readonly class: ElfClass;
  readonly machine: number;
  readonly entry: bigint;
  readonly segments: readonly CoreSegment[];
  /**
   * Notes for a PT_NOTE segment (e.g. NT_PRSTATUS with the registers, so that gdb shows where
   * the processor stopped). Linux's rproc_coredump() writes none; without notes the file is
   * byte for byte what it writes.
   */
  readonly notes?: readonly ElfNote[];
}

/** Where every part of the dump goes; the whole file is `totalSize` bytes. */
export function coreLayout(spec: CoreSpec): CoreLayout {
  const sizes = ELF_STRUCT_SIZE[spec.class];
  const notes = encodeNotes(spec.notes ?? []);
  const phnum = spec.segments.length + (notes.length > 0 ? 1 : 0);
  const notesOffset = sizes.ehdr + sizes.phdr * phnum;
  const headerSize = notesOffset + notes.length;
  const offsets: number[] = [];
  let offset = headerSize;
  for (const s of spec.segments) {
    offsets.push(offset);
    offset += s.size;
    if (!Number.isSafeInteger(offset))
      throw new RprocError('EOVERFLOW', OP, `dump segment at da ${hex(s.da)} makes the dump too large`);
  }
  return { headerSize, notesOffset, notesSize: notes.length, offsets, totalSize: offset };
}

/**
 * The ELF header, program headers and notes of a core file, written into `out` (at least
 * coreLayout(spec).headerSize bytes). Always little-endian: Linux hard-codes ELFDATA2LSB here.
 */
export function writeCoreHeaders(spec: CoreSpec, out: Uint8Array): CoreLayout {
  const layout = coreLayout(spec);
  const is64 = spec.class === 64;
  const view = new ByteView(out, 'le', { what: 'core file', op: OP });
  const e = EHDR[spec.class];
  const sizes = ELF_STRUCT_SIZE[spec.class];
  view.check(0, layout.headerSize, 'core headers');
  out.fill(0, 0, layout.headerSize);
  ELFMAG.forEach((b, i) => view.setU8(i, b, 'e_ident magic'));
  view.setU8(EI.EI_CLASS, is64 ? ELFCLASS.ELFCLASS64 : ELFCLASS.ELFCLASS32, 'EI_CLASS');
  view.setU8(EI.EI_DATA, ELFDATA.ELFDATA2LSB, 'EI_DATA');
  view.setU8(EI.EI_VERSION, EV.EV_CURRENT, 'EI_VERSION');
  view.setU16(e.e_type, ET.ET_CORE, 'e_type');
  view.setU16(e.e_machine, spec.machine, 'e_machine');
  view.setU32(e.e_version, EV.EV_CURRENT, 'e_version');
  view.setUword(e.e_entry, spec.entry, is64, 'e_entry');
  view.setUword(e.e_phoff, BigInt(sizes.ehdr), is64, 'e_phoff');
  view.setU16(e.e_ehsize, sizes.ehdr, 'e_ehsize');
  view.setU16(e.e_phentsize, sizes.phdr, 'e_phentsize');
  const notes = encodeNotes(spec.notes ?? []);
  const first = notes.length > 0 ? 1 : 0;
  const phnum = spec.segments.length + first;
  if (phnum > 0xffff) throw new RprocError('E2BIG', OP, `${phnum} program headers; ELF allows 0xffff`);
  view.setU16(e.e_phnum, phnum, 'e_phnum');
  const p = PHDR[spec.class];
  if (notes.length > 0) {
    // fill_elf_note_phdr(): no address, no memory image, 4-byte alignment.
    const at = sizes.ehdr;
    view.setU32(at + p.p_type, PT.PT_NOTE, 'p_type');
    view.setUword(at + p.p_offset, BigInt(layout.notesOffset), is64, 'p_offset');
    view.setUword(at + p.p_filesz, BigInt(notes.length), is64, 'p_filesz');
    view.setUword(at + p.p_align, 4n, is64, 'p_align');
    view.setBytes(layout.notesOffset, notes, 'notes');
  }
  spec.segments.forEach((s, i) => {
    const at = sizes.ehdr + (first + i) * sizes.phdr;
    const offset = layout.offsets[i] ?? 0;
    view.setU32(at + p.p_type, PT.PT_LOAD, 'p_type');
    view.setU32(at + p.p_flags, PF.PF_R | PF.PF_W | PF.PF_X, 'p_flags');
    view.setUword(at + p.p_offset, BigInt(offset), is64, 'p_offset');
    view.setUword(at + p.p_vaddr, s.da, is64, 'p_vaddr');
    view.setUword(at + p.p_paddr, s.da, is64, 'p_paddr');
    view.setUword(at + p.p_filesz, BigInt(s.size), is64, 'p_filesz');
    view.setUword(at + p.p_memsz, BigInt(s.size), is64, 'p_memsz');
  });
  return layout;
}
