// Bounds-checked, endian-aware access to a byte buffer. Every parser and builder in the project
// reads and writes through this class, so an offset computed from untrusted input can never reach
// a raw DataView: an out-of-range access is an RprocError that names the field, the offset and the
// end of the buffer, never a RangeError.

import { RprocError, hex, type ErrnoName } from './errors.ts';

export type Endian = 'le' | 'be';

const U32_MAX = 0xffff_ffff;

export interface ByteViewOptions {
  /** What the buffer is, for error messages: 'firmware image', 'resource table'. */
  readonly what: string;
  /** Operation reported in errors: 'elf-parse', 'rsc-parse'. */
  readonly op: string;
  /** Error code for out-of-range accesses (EINVAL for parsers). */
  readonly code?: ErrnoName;
}

export class ByteView {
  readonly bytes: Uint8Array;
  readonly endian: Endian;
  readonly what: string;
  readonly op: string;
  readonly code: ErrnoName;
  private readonly dv: DataView;
  private readonly le: boolean;

  constructor(bytes: Uint8Array, endian: Endian, options: ByteViewOptions) {
    this.bytes = bytes;
    this.endian = endian;
    this.le = endian === 'le';
    this.what = options.what;
    this.op = options.op;
    this.code = options.code ?? 'EINVAL';
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** A view of the same bytes with another endianness or description. */
  with(options: Partial<ByteViewOptions> & { endian?: Endian }): ByteView {
    return new ByteView(this.bytes, options.endian ?? this.endian, {
      what: options.what ?? this.what,
      op: options.op ?? this.op,
      code: options.code ?? this.code,
    });
  }

  /** True when [off, off + len) lies inside the buffer; safe for any numbers, including NaN. */
  fits(off: number, len: number): boolean {
    return (
      Number.isSafeInteger(off) &&
      Number.isSafeInteger(len) &&
      off >= 0 &&
      len >= 0 &&
      off <= this.bytes.length &&
      len <= this.bytes.length - off
    );
  }

  /** Throw unless [off, off + len) lies inside the buffer. */
  check(off: number, len: number, field: string): void {
    if (!this.fits(off, len)) {
      throw new RprocError(
        this.code,
        this.op,
        `${field} at offset ${hex(off)} (${len} bytes) runs past the end of the ${this.what} at ${hex(this.bytes.length)}`,
        { offset: off },
      );
    }
  }

  u8(off: number, field: string): number {
    this.check(off, 1, field);
    return this.dv.getUint8(off);
  }

  u16(off: number, field: string): number {
    this.check(off, 2, field);
    return this.dv.getUint16(off, this.le);
  }

  u32(off: number, field: string): number {
    this.check(off, 4, field);
    return this.dv.getUint32(off, this.le);
  }

  i32(off: number, field: string): number {
    this.check(off, 4, field);
    return this.dv.getInt32(off, this.le);
  }

  u64(off: number, field: string): bigint {
    this.check(off, 8, field);
    return this.dv.getBigUint64(off, this.le);
  }

  /** A 32- or 64-bit unsigned field as a bigint, by ELF class. */
  uword(off: number, is64: boolean, field: string): bigint {
    return is64 ? this.u64(off, field) : BigInt(this.u32(off, field));
  }

  /** A view (not a copy) of [off, off + len). */
  sub(off: number, len: number, field: string): Uint8Array {
    this.check(off, len, field);
    return this.bytes.subarray(off, off + len);
  }

  /** A copy of [off, off + len). */
  copy(off: number, len: number, field: string): Uint8Array {
    return this.sub(off, len, field).slice();
  }

  /**
   * A NUL-terminated string read from at most `max` bytes at `off` (never past the buffer end).
   * `terminated` tells whether a NUL was found within the bound; the text stops at the NUL or the bound.
   * Bytes outside printable ASCII are kept as \xNN escapes so that garbage names print safely.
   */
  cstring(off: number, max: number, field: string): { text: string; terminated: boolean } {
    if (!this.fits(off, 0)) this.check(off, 1, field);
    const end = Math.min(this.bytes.length, off + Math.max(0, max));
    let text = '';
    for (let i = off; i < end; i++) {
      const b = this.bytes[i] ?? 0;
      if (b === 0) return { text, terminated: true };
      text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    }
    return { text, terminated: false };
  }

  setU8(off: number, value: number, field: string): void {
    this.check(off, 1, field);
    this.dv.setUint8(off, value);
  }

  setU16(off: number, value: number, field: string): void {
    this.check(off, 2, field);
    this.dv.setUint16(off, value, this.le);
  }

  setU32(off: number, value: number, field: string): void {
    this.check(off, 4, field);
    if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
      throw new RprocError('EINVAL', this.op, `${field} value ${hex(value)} does not fit in 32 bits`, {
        offset: off,
      });
    }
    this.dv.setUint32(off, value, this.le);
  }

  setU64(off: number, value: bigint, field: string): void {
    this.check(off, 8, field);
    if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
      throw new RprocError('EINVAL', this.op, `${field} value ${hex(value)} does not fit in 64 bits`, {
        offset: off,
      });
    }
    this.dv.setBigUint64(off, value, this.le);
  }

  setUword(off: number, value: bigint, is64: boolean, field: string): void {
    if (is64) this.setU64(off, value, field);
    else this.setU32(off, toU32(value, field, this.op), field);
  }

  setBytes(off: number, src: Uint8Array, field: string): void {
    this.check(off, src.length, field);
    this.bytes.set(src, off);
  }

  /** Write `text` as a NUL-padded fixed-size field of `size` bytes (text must leave room for a NUL). */
  setCString(off: number, size: number, text: string, field: string): void {
    this.check(off, size, field);
    const encoded = new TextEncoder().encode(text);
    if (encoded.length >= size) {
      throw new RprocError(
        'EINVAL',
        this.op,
        `${field} "${text}" is ${encoded.length} bytes; it must be shorter than ${size} to keep its NUL`,
        { offset: off },
      );
    }
    this.bytes.fill(0, off, off + size);
    this.bytes.set(encoded, off);
  }
}

/** Convert a bigint to an unsigned 32-bit number, or throw EOVERFLOW naming the field. */
function toU32(value: bigint, field: string, op: string): number {
  if (value < 0n || value > 0xffff_ffffn) {
    throw new RprocError('EOVERFLOW', op, `${field} ${hex(value)} does not fit in 32 bits`);
  }
  return Number(value);
}

/** Overflow-free check that [off, off + len) lies within [0, size), all as bigints. */
export function rangeFits(off: bigint, len: bigint, size: bigint): boolean {
  return off >= 0n && len >= 0n && off <= size && len <= size - off;
}
