// Test helpers for the FDT layer: a hand assembler for blobs (independent of fdt-writer.ts, and
// able to produce every malformed layout the malformed-input tests need), the committed test boards
// (test/fixtures/fdt) and the default board's sources,
// and the dtc availability check shared by the tests that compare with dtc.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needTools } from './cross-tools.ts';
import { ByteView } from '../../src/util/bytes.ts';
import { RprocError } from '../../src/util/errors.ts';
import { FDT_HEADER, FDT_MAGIC, FDT_TOKEN } from '../../src/soc/fdt/fdt-constants.ts';

const TESTDATA = join(import.meta.dirname, '..', 'fixtures', 'fdt');
const BOARDS = join(import.meta.dirname, '..', '..', 'src', 'soc', 'fdt', 'boards');
export const AMP_BOARD_DTS = join(TESTDATA, 'amp-board.dts');
export const AMP_BOARD_DTB = join(TESTDATA, 'amp-board.dtb');
export const DEFAULT_BOARD_DTS = join(BOARDS, 'default-board.dts');
export const DEFAULT_BOARD_DTB = join(BOARDS, 'default-board.dtb');

export function ampBoardBytes(): Uint8Array {
  return new Uint8Array(readFileSync(AMP_BOARD_DTB));
}

/** node:test's `skip` option: false when dtc is there, else the reason (CI requires dtc). */
export const skipWithoutDtc: string | false = needTools({ dtc: ['dtc'] }).skip;

/** Builds a structure block word by word, including layouts the writer would never produce. */
export class StructAssembler {
  private readonly out: number[] = [];

  /** Current byte offset in the structure block. */
  get offset(): number {
    return this.out.length;
  }

  private push(b: Uint8Array | readonly number[], pad: boolean): this {
    this.out.push(...b);
    while (pad && this.out.length % 4 !== 0) this.out.push(0);
    return this;
  }

  /** A big-endian word at the current offset (which need not be aligned). */
  word(w: number): this {
    return this.push([(w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff], false);
  }

  begin(name: string): this {
    return this.word(FDT_TOKEN.FDT_BEGIN_NODE).push([...new TextEncoder().encode(name), 0], true);
  }

  /** A name without its NUL and without padding (for the unterminated-name case). */
  beginUnterminated(name: string): this {
    return this.word(FDT_TOKEN.FDT_BEGIN_NODE).push(new TextEncoder().encode(name), false);
  }

  endNode(): this {
    return this.word(FDT_TOKEN.FDT_END_NODE);
  }

  prop(nameoff: number, value: Uint8Array | readonly number[], lengthOverride?: number): this {
    return this.word(FDT_TOKEN.FDT_PROP)
      .word(lengthOverride ?? value.length)
      .word(nameoff)
      .push(value, true);
  }

  /** A property whose value is not padded, so that the next token is misaligned. */
  propUnpadded(nameoff: number, value: readonly number[]): this {
    return this.word(FDT_TOKEN.FDT_PROP).word(value.length).word(nameoff).push(value, false);
  }

  nop(): this {
    return this.word(FDT_TOKEN.FDT_NOP);
  }

  end(): this {
    return this.word(FDT_TOKEN.FDT_END);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** A strings block: `offsets` maps each name to its offset. */
export function stringsBlock(...names: string[]): { bytes: Uint8Array; offsets: Map<string, number> } {
  const offsets = new Map<string, number>();
  const out: number[] = [];
  for (const n of names) {
    offsets.set(n, out.length);
    out.push(...new TextEncoder().encode(n), 0);
  }
  return { bytes: Uint8Array.from(out), offsets };
}

export interface AssembleOptions {
  readonly struct: Uint8Array;
  readonly strings: Uint8Array;
  readonly memReserve?: readonly (readonly [bigint, bigint])[];
  readonly version?: number;
  readonly bootCpuidPhys?: number;
  /** Header fields to overwrite after layout (by FDT_HEADER name). */
  readonly header?: Partial<Record<keyof typeof FDT_HEADER, number>>;
  /** Bytes appended after totalsize (the buffer is larger than the blob). */
  readonly slack?: number;
}

/** Lay out header, reservation map, structure and strings blocks like dtc; version 16 or 17. */
export function assembleDtb(o: AssembleOptions): Uint8Array {
  const version = o.version ?? 17;
  const headerSize = version >= 17 ? 0x28 : 0x24;
  const rsvOff = Math.ceil(headerSize / 8) * 8;
  const rsv = o.memReserve ?? [];
  const structOff = rsvOff + (rsv.length + 1) * 16;
  const stringsOff = structOff + o.struct.length;
  const total = stringsOff + o.strings.length;
  const v = new ByteView(new Uint8Array(total + (o.slack ?? 0)), 'be', { what: 'test blob', op: 'test' });
  const fields: Record<keyof typeof FDT_HEADER, number> = {
    magic: FDT_MAGIC,
    totalsize: total,
    off_dt_struct: structOff,
    off_dt_strings: stringsOff,
    off_mem_rsvmap: rsvOff,
    version,
    last_comp_version: 16,
    boot_cpuid_phys: o.bootCpuidPhys ?? 0,
    size_dt_strings: o.strings.length,
    size_dt_struct: o.struct.length,
    ...o.header,
  };
  for (const [k, off] of Object.entries(FDT_HEADER) as [keyof typeof FDT_HEADER, number][]) {
    if (off + 4 <= headerSize) v.setU32(off, fields[k], k);
  }
  rsv.forEach(([a, s], i) => {
    v.setU64(rsvOff + i * 16, a, 'rsv address');
    v.setU64(rsvOff + i * 16 + 8, s, 'rsv size');
  });
  v.setBytes(structOff, o.struct, 'struct');
  v.setBytes(stringsOff, o.strings, 'strings');
  return v.bytes;
}

/** Overwrite a big-endian u32 at `off` in a copy of `bytes`. */
export function withU32(bytes: Uint8Array, off: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new ByteView(copy, 'be', { what: 'blob', op: 'test' }).setU32(off, value >>> 0, 'patch');
  return copy;
}

export function u32At(bytes: Uint8Array, off: number): number {
  return new ByteView(bytes, 'be', { what: 'blob', op: 'test' }).u32(off, 'field');
}

/** The RprocError `fn` throws (fails the test if it throws anything else or nothing). */
function rprocErrorOf(fn: () => unknown): RprocError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RprocError) return e;
    throw e;
  }
  assert.fail('expected an RprocError, nothing was thrown');
}

export async function rprocErrorOfAsync(fn: () => Promise<unknown>): Promise<RprocError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof RprocError) return e;
    throw e;
  }
  assert.fail('expected an RprocError, nothing was thrown');
}

/** Assert `fn` throws RprocError `code` (EINVAL by default) with a message matching `message`. */
export function assertFdtError(fn: () => unknown, message: RegExp, code = 'EINVAL'): RprocError {
  const e = rprocErrorOf(fn);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  return e;
}
