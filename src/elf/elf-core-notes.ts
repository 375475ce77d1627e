// ELF notes as a core file's PT_NOTE segment holds them (namesz, descsz, type, then the owner
// name and the descriptor, each padded to 4 bytes), and the process status debuggers read from
// Linux core files, elf_prstatus (NT_PRSTATUS: signal, pid, registers), in its 32-bit layout.
// Mirrors include/uapi/linux/elfcore.h and fs/binfmt_elf.c (writenote, fill_prstatus).

import { ByteView } from '../util/bytes.ts';
import { RprocError, hex } from '../util/errors.ts';

const OP = 'elf-note';

/** One note record. The owner name is written NUL-terminated ("CORE" → namesz 5). */
export interface ElfNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

/** Linux's core notes use 4-byte alignment in ELF32 and ELF64 files alike (fs/binfmt_elf.c). */
const NOTE_ALIGN = 4;

const pad4 = (n: number): number => (n + NOTE_ALIGN - 1) & ~(NOTE_ALIGN - 1);

/** Bytes `notes` take in a PT_NOTE segment. */
export function notesSize(notes: readonly ElfNote[]): number {
  let size = 0;
  for (const n of notes) size += 12 + pad4(new TextEncoder().encode(n.name).length + 1) + pad4(n.desc.length);
  return size;
}

/** The PT_NOTE segment's bytes for `notes`, little-endian (as every core file we write). */
export function encodeNotes(notes: readonly ElfNote[]): Uint8Array {
  const out = new Uint8Array(notesSize(notes));
  const view = new ByteView(out, 'le', { what: 'note segment', op: OP });
  let at = 0;
  for (const n of notes) {
    if (!Number.isInteger(n.type) || n.type < 0 || n.type > 0xffff_ffff)
      throw new RprocError('EINVAL', OP, `note "${n.name}" has type ${String(n.type)}, not a 32-bit number`);
    const name = new TextEncoder().encode(n.name);
    view.setU32(at, name.length + 1, 'n_namesz');
    view.setU32(at + 4, n.desc.length, 'n_descsz');
    view.setU32(at + 8, n.type, 'n_type');
    at += 12;
    view.setBytes(at, name, 'note name');
    at += pad4(name.length + 1);
    view.setBytes(at, n.desc, 'note descriptor');
    at += pad4(n.desc.length);
  }
  return out;
}

/**
 * The notes of a PT_NOTE segment's bytes. A record that runs past the end, or whose name is not
 * NUL-terminated, is an EINVAL naming its offset: core files come from crashed processors.
 */
export function parseNotes(bytes: Uint8Array): ElfNote[] {
  const view = new ByteView(bytes, 'le', { what: 'note segment', op: OP });
  const notes: ElfNote[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 12)
      throw new RprocError(
        'EINVAL',
        OP,
        `note at offset ${hex(at)} has ${bytes.length - at} bytes, fewer than its 12-byte header`,
      );
    const namesz = view.u32(at, 'n_namesz');
    const descsz = view.u32(at + 4, 'n_descsz');
    const type = view.u32(at + 8, 'n_type');
    const nameAt = at + 12;
    const descAt = nameAt + pad4(namesz);
    const end = descAt + pad4(descsz);
    if (end > bytes.length)
      throw new RprocError(
        'EINVAL',
        OP,
        `note at offset ${hex(at)} (namesz ${hex(namesz)}, descsz ${hex(descsz)}) runs past the segment end ${hex(bytes.length)}`,
      );
    let name = '';
    if (namesz > 0) {
      if (bytes[nameAt + namesz - 1] !== 0)
        throw new RprocError('EINVAL', OP, `note at offset ${hex(at)}: its name is not NUL-terminated`);
      name = new TextDecoder().decode(bytes.subarray(nameAt, nameAt + namesz - 1));
    }
    notes.push({ name, type, desc: bytes.slice(descAt, descAt + descsz) });
    at = end;
  }
  return notes;
}

/** The fields of elf_prstatus that a debugger uses. */
export interface Prstatus {
  /** The signal the "process" died of: pr_info.si_signo and pr_cursig. */
  readonly signal: number;
  /** pr_pid: the debugger's thread id ("LWP <pid>"); non-zero. */
  readonly pid: number;
  /** pr_reg, the architecture's elf_gregset_t, one 32-bit word per register. */
  readonly regs: ArrayLike<number>;
}

/** Offsets in the 32-bit elf_prstatus (4-byte longs and pids, 32-bit timevals). */
export const PRSTATUS32 = {
  pr_info: 0, // struct elf_siginfo { int si_signo, si_code, si_errno }
  pr_cursig: 12, // short, then 2 bytes of padding
  pr_sigpend: 16,
  pr_sighold: 20,
  pr_pid: 24,
  pr_ppid: 28,
  pr_pgrp: 32,
  pr_sid: 36,
  pr_utime: 40, // utime, stime, cutime, cstime: 4 × struct { long sec, usec }
  pr_reg: 72,
} as const;

/**
 * An elf_prstatus for a 32-bit Linux ABI: 72 bytes of process fields, pr_reg, then pr_fpvalid
 * (0: no NT_PRFPREG). For RV32 (pr_reg = 32 words) that is the 204 bytes bfd requires
 * (bfd/elfnn-riscv.c PRSTATUS_SIZE); for ARM (18 words) the 148 of bfd/elf32-arm.c.
 */
export function prstatus32(p: Prstatus): Uint8Array {
  const out = new Uint8Array(PRSTATUS32.pr_reg + 4 * p.regs.length + 4);
  const view = new ByteView(out, 'le', { what: 'elf_prstatus', op: OP });
  view.setU32(PRSTATUS32.pr_info, p.signal, 'si_signo');
  view.setU16(PRSTATUS32.pr_cursig, p.signal, 'pr_cursig');
  view.setU32(PRSTATUS32.pr_pid, p.pid, 'pr_pid');
  for (let i = 0; i < p.regs.length; i++)
    view.setU32(PRSTATUS32.pr_reg + 4 * i, (p.regs[i] ?? 0) >>> 0, 'pr_reg');
  return out;
}
