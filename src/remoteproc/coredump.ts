// Crash dumps: the segments to dump, the three modes (disabled / enabled / inline) and the ELF
// core they produce, delivered to listeners as an RprocCoredump. Mirrors rproc_coredump(),
// rproc_coredump_add_segment/_add_custom_segment/_set_elf_info in remoteproc_coredump.c; the notes
// (the processor's registers, from the platform's coredumpNotes op) are our addition.

import { writeFile } from 'node:fs/promises';
import { RprocError, hex } from '../util/errors.ts';
import { coreLayout, writeCoreHeaders, type CoreSpec } from '../elf/elf-core-writer.ts';
import type { ElfClass } from '../elf/elf-constants.ts';
import type { ElfNote } from '../elf/elf-core-notes.ts';
import type { CoredumpMode } from './rproc-state.ts';

const OP = 'coredump';

/** Fill `dest` with `segment`'s bytes starting `offset` bytes into the segment. */
export type DumpFn = (segment: DumpSegment, offset: number, dest: Uint8Array) => void;

export interface DumpSegment {
  readonly da: bigint;
  readonly size: number;
  /** Custom reader (rproc_coredump_add_custom_segment); default: daToVa. */
  readonly dump?: DumpFn;
  /** Free-form tag a platform attaches (Linux: priv). */
  readonly priv?: unknown;
}

export interface CoredumpElfInfo {
  readonly class: ElfClass;
  readonly machine: number;
}

/** A finished or streaming dump, as a listener of the 'coredump' event receives it. */
export interface RprocCoredump {
  readonly mode: Exclude<CoredumpMode, 'disabled'>;
  /** Size of the whole ELF core file. */
  readonly size: number;
  /** Bytes [offset, offset + length) of the core file (clamped to its end). */
  read(offset: number, length: number): Uint8Array;
  /** The whole file. */
  bytes(): Uint8Array;
  /**
   * Done with the dump. In inline mode recovery waits for this (or for the timeout), because the
   * bytes are read straight from the stopped processor's memory, which reloading would overwrite.
   */
  release(): void;
}

export async function writeCoredumpFile(dump: RprocCoredump, path: string): Promise<void> {
  await writeFile(path, dump.bytes());
}

/** Translate for reading a dump; undefined leaves 0xff filler, as Linux does. */
export type DumpDaToVa = (da: bigint, len: number) => Uint8Array | undefined;

/**
 * Build the dump of `segments`, with `notes` (copied now, whatever the mode) in a PT_NOTE. Enabled
 * mode copies everything now; inline mode serves the segments from device memory on demand.
 * Returns undefined when there is nothing to dump.
 */
export function buildCoredump(
  mode: CoredumpMode,
  info: CoredumpElfInfo,
  entry: bigint,
  segments: readonly DumpSegment[],
  daToVa: DumpDaToVa,
  onRelease: () => void,
  notes: readonly ElfNote[] = [],
): RprocCoredump | undefined {
  if (mode === 'disabled' || segments.length === 0) return undefined;
  const spec: CoreSpec = { class: info.class, machine: info.machine, entry, segments, notes };
  const layout = coreLayout(spec);
  const header = new Uint8Array(layout.headerSize);
  writeCoreHeaders(spec, header);

  const readSegment = (index: number, offset: number, dest: Uint8Array): void => {
    const seg = segments[index];
    if (seg === undefined) return;
    if (seg.dump !== undefined) {
      seg.dump(seg, offset, dest);
      return;
    }
    const src = daToVa(seg.da + BigInt(offset), dest.length);
    if (src === undefined || src.length < dest.length) dest.fill(0xff);
    else dest.set(src.subarray(0, dest.length));
  };

  const readRange = (offset: number, length: number): Uint8Array => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RprocError('EINVAL', OP, `bad dump read at ${hex(offset)} of ${hex(length)} bytes`);
    }
    const end = Math.min(layout.totalSize, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    if (out.length === 0) return out;
    // Header bytes, then each segment that overlaps [offset, end).
    if (offset < layout.headerSize) out.set(header.subarray(offset, Math.min(end, layout.headerSize)), 0);
    segments.forEach((seg, i) => {
      const segStart = layout.offsets[i] ?? 0;
      const segEnd = segStart + seg.size;
      const from = Math.max(offset, segStart);
      const to = Math.min(end, segEnd);
      if (from >= to) return;
      readSegment(i, from - segStart, out.subarray(from - offset, to - offset));
    });
    return out;
  };

  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    onRelease();
  };

  if (mode === 'enabled') {
    const whole = readRange(0, layout.totalSize);
    return {
      mode,
      size: layout.totalSize,
      read: (offset, length) => whole.slice(offset, offset + length),
      bytes: () => whole,
      release,
    };
  }
  return {
    mode,
    size: layout.totalSize,
    read: (offset, length) => {
      if (released) throw new RprocError('ENODATA', OP, 'inline coredump was already released');
      return readRange(offset, length);
    },
    bytes: () => {
      if (released) throw new RprocError('ENODATA', OP, 'inline coredump was already released');
      return readRange(0, layout.totalSize);
    },
    release,
  };
}
