// The one error class of the project: a stable Linux errno name, its number, the operation that
// failed and a message that names the offending value (in hex) and where it was found.
// Mirrors the kernel habit of returning -EINVAL & co. from every remoteproc entry point.

/** Linux errno numbers (asm-generic/errno-base.h, errno.h) for the codes this project uses. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  EPIPE: 32,
  ERANGE: 34,
  ENOSYS: 38,
  ENODATA: 61,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ENETRESET: 102,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  ECANCELED: 125,
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** Format a number as lower-case hex with a 0x prefix (negative numbers keep their sign). */
export function hex(value: number | bigint): string {
  if (typeof value === 'bigint')
    return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
  if (!Number.isFinite(value)) return String(value);
  return value < 0 ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

export interface RprocErrorOptions {
  /** Byte offset (in the file, table or memory named by the message) where the problem was found. */
  readonly offset?: number;
  readonly cause?: unknown;
}

export class RprocError extends Error {
  override readonly name = 'RprocError';
  readonly code: ErrnoName;
  readonly errno: number;
  /** The operation that failed, e.g. 'elf-sanity-check', 'rsc-parse', 'boot'. */
  readonly op: string;
  /** The message without the leading code, for callers that print the code themselves. */
  readonly detail: string;
  readonly offset: number | undefined;

  constructor(code: ErrnoName, op: string, detail: string, options: RprocErrorOptions = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = ERRNO[code];
    this.op = op;
    this.detail = detail;
    this.offset = options.offset;
  }

  /** Linux-style negative return value, e.g. -22 for EINVAL. */
  get negErrno(): number {
    return -this.errno;
  }
}

export function isRprocError(e: unknown, code?: ErrnoName): e is RprocError {
  return e instanceof RprocError && (code === undefined || e.code === code);
}
