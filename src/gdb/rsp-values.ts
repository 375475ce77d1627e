// Parsing and printing the values inside GDB remote protocol packets (GDB manual, "Packets"):
// hex numbers, hex-encoded bytes and text, thread ids (`p<pid>.<tid>` with multiprocess, else a
// plain id; -1 = all threads, 0 = any), and the error reply `E NN`. Nothing here throws: a value
// that does not parse is `undefined`, and the caller answers with an error packet.

import { ERRNO, isRprocError } from '../util/errors.ts';

/** A hex number of at most 8 digits (a 32-bit address or length); undefined otherwise. */
export function parseHex32(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) return undefined;
  return parseInt(text, 16) >>> 0;
}

/** A hex number that may be long (a length gdb asks for); clamped to `max`. */
export function parseHexClamped(text: string, max: number): number | undefined {
  if (!/^[0-9a-fA-F]{1,64}$/.test(text)) return undefined;
  const digits = text.replace(/^0+/, '');
  if (digits.length > 8) return max;
  return Math.min(parseInt(digits === '' ? '0' : digits, 16), max);
}

export function hexBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Hex pairs to bytes; undefined on an odd length or a non-hex digit. */
export function parseHexBytes(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function hexText(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

export function textOfHex(hex: string): string | undefined {
  const bytes = parseHexBytes(hex);
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
}

/** A thread id: a core's id (1..), ALL (-1) or ANY (0). */
export const THREAD_ALL = -1;
export const THREAD_ANY = 0;

/** `p1.2`, `p1.-1`, `2`, `-1`, `0`: the thread part; undefined when malformed. */
export function parseThreadId(text: string): number | undefined {
  let t = text;
  if (t.startsWith('p')) {
    const dot = t.indexOf('.');
    // A process id alone (`p1`) means all its threads.
    if (dot < 0) return /^p(-1|[0-9a-fA-F]{1,8})$/.test(t) ? THREAD_ALL : undefined;
    t = t.slice(dot + 1);
  }
  if (t === '-1') return THREAD_ALL;
  const n = parseHex32(t);
  return n === undefined || n > 0x7fff_ffff ? undefined : n;
}

export function threadIdText(tid: number): string {
  return tid.toString(16);
}

/** The error reply for an errno: `E` and two hex digits. */
export function errorReply(errno: number): string {
  return `E${(errno & 0xff).toString(16).padStart(2, '0')}`;
}

/** The error reply for whatever a request threw: its errno when it is ours, EIO otherwise. */
export function errorReplyOf(e: unknown): string {
  return errorReply(isRprocError(e) ? e.errno : ERRNO.EIO);
}
