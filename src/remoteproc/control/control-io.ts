// Byte-level parsing shared by the control files. What user space writes arrives as bytes, and the
// kernel's parsers look at bytes (NULs and newlines included), so the exact accept/reject rules live
// here once: sysfs_streq and strncmp from lib/string.c, kstrtouint_from_user from lib/kstrtox.c.

import { RprocError, isRprocError } from '../../util/errors.ts';
import type { Rproc } from '../rproc.ts';

/** A write's payload: text (encoded as UTF-8) or the raw bytes a program would pass to write(2). */
export type ControlInput = string | Uint8Array;

const NUL = 0;
const NEWLINE = 0x0a;

export function toBytes(input: ControlInput): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input;
}

/** The bytes up to the first NUL: what a kernel handler that treats the buffer as a C string sees. */
export function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(NUL);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/** Lenient UTF-8: names and messages built from user bytes never throw on bad encodings. */
export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** Byte i of an ASCII keyword, with the C string's terminating NUL past its end. */
function keywordByte(keyword: string, i: number): number {
  return i < keyword.length ? keyword.charCodeAt(i) : NUL;
}

/**
 * sysfs_streq: equal as C strings, except that exactly one trailing newline on either side is
 * ignored ("start\n" matches, "start\n\n" and "star" do not). Bytes after a NUL are never looked at.
 */
export function sysfsStreq(bytes: Uint8Array, keyword: string): boolean {
  const s = cString(bytes);
  let i = 0;
  while (i < s.length && s[i] === keywordByte(keyword, i)) i++;
  const a = s[i] ?? NUL;
  const b = keywordByte(keyword, i);
  if (a === b) return true;
  if (a === NUL && b === NEWLINE && i + 1 >= keyword.length) return true;
  return a === NEWLINE && i + 1 >= s.length && b === NUL;
}

/**
 * strncmp(buf, keyword, n) == 0, with `buf` holding at least n bytes. This is what makes the debugfs
 * and cdev commands prefix matches: only the n written bytes are compared, so "st" selects "start",
 * while a byte that is not in the keyword (such as an unstripped "\n") makes the match fail.
 */
export function strncmpEquals(buf: Uint8Array, keyword: string, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const a = buf[i] ?? NUL;
    if (a !== keywordByte(keyword, i)) return false;
    // Both strings ended here: strncmp stops comparing.
    if (a === NUL) return true;
  }
  return true;
}

/** kstrtouint_from_user's stack buffer: sign, 32 binary digits, a newline and the NUL. */
const KSTRTOUINT_BUF = 1 + 32 + 1 + 1;
const U64_LIMIT = 1n << 64n;

/**
 * kstrtouint_from_user(buf, count, 0): at most 34 bytes are looked at (as a C string); an optional
 * "+", then decimal, octal ("0" prefix) or hex ("0x" prefix followed by a hex digit), then at most
 * one "\n". Nothing else may follow. EINVAL for no digits or trailing bytes, ERANGE above 2^32 - 1.
 */
export function parseKernelUint(bytes: Uint8Array, op: string): number {
  const s = cString(bytes.subarray(0, Math.min(bytes.length, KSTRTOUINT_BUF - 1)));
  const text = decodeText(s);
  const at = (i: number): number => s[i] ?? NUL;
  let i = at(0) === 0x2b /* + */ ? 1 : 0;
  let base = 10;
  if (at(i) === 0x30 /* 0 */) {
    base = lower(at(i + 1)) === 0x78 /* x */ && digitValue(at(i + 2)) < 16 ? 16 : 8;
    if (base === 16) i += 2;
  }
  let value = 0n;
  let digits = 0;
  let overflow = false;
  for (; i < s.length; i++) {
    const v = digitValue(at(i));
    if (v >= base) break;
    value = value * BigInt(base) + BigInt(v);
    if (value >= U64_LIMIT) overflow = true;
    digits++;
  }
  if (overflow) throw new RprocError('ERANGE', op, `"${printable(text)}" does not fit in 64 bits`);
  if (digits === 0) throw new RprocError('EINVAL', op, `"${printable(text)}" is not an unsigned integer`);
  if (at(i) === NEWLINE) i++;
  if (i < s.length) {
    throw new RprocError('EINVAL', op, `"${printable(text)}" has trailing characters after the number`);
  }
  if (value > 0xffff_ffffn) throw new RprocError('ERANGE', op, `${value} does not fit in 32 bits`);
  return Number(value);
}

function lower(c: number): number {
  return c | 0x20;
}

/** The digit's value in any base up to 16, or 16 when the byte is not a hex digit. */
function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = lower(c);
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return 16;
}

/** User text inside an error message, with control characters made visible. */
export function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** Everything a control file throws is an RprocError; anything else an op threw becomes EIO. */
export function asControlError(e: unknown, op: string): RprocError {
  if (isRprocError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new RprocError('EIO', op, message, { cause: e });
}

/**
 * rproc_trigger_recovery as the control files call it: a no-op unless crashed, and its result is
 * ignored (Linux returns the byte count regardless). A failed recovery is still reported, through
 * the rproc's 'recovery' event and log.
 */
export async function triggerRecovery(rproc: Rproc): Promise<void> {
  try {
    await rproc.crash.recover();
  } catch {
    // Reported by the core; the write itself succeeds, as in Linux.
  }
}
