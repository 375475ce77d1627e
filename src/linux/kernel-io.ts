// Every file operation the Linux backend performs on kernel-provided files (sysfs, debugfs, /dev
// nodes, the firmware directory) goes through this one interface: node-kernel-io.ts does it with
// node:fs on a real system, and the tests substitute a simulated kernel, which (unlike a regular
// file) can refuse a write with the errno the kernel would return. Failures are thrown as Node
// errors carrying the errno name in `code` (EACCES, EBUSY, EINVAL, ...).

export interface DeviceFile {
  /**
   * One read(2) of at most `max` bytes on the O_NONBLOCK file: the bytes read, `null` when nothing
   * is there now (EAGAIN), and an empty array at end of file (a hung-up tty).
   */
  read(max: number): Promise<Uint8Array | null>;
  /** One write(2): the number of bytes the kernel took. */
  write(data: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

export interface KernelIo {
  /** The whole file (a sysfs attribute, a debugfs trace buffer). */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * One write(2) of `text` to an existing file opened O_WRONLY|O_TRUNC (what `echo -n text > path`
   * does, never creating the file); sysfs passes the bytes to the attribute's store() as one call.
   */
  writeFile(path: string, text: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /** The target of a symbolic link (sysfs `driver`, class and bus links). */
  readlink(path: string): Promise<string>;
  /** The canonical path, every link resolved (where a device sits in /sys/devices). */
  realpath(path: string): Promise<string>;
  /** Whether `path` exists (a dangling link does not). Other failures (EACCES) are thrown. */
  exists(path: string): Promise<boolean>;
  /** The permission bits (st_mode & 0o7777). */
  mode(path: string): Promise<number>;
  /** Put a regular file in place atomically (write aside, then rename), mode 0644. */
  installFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Open a device node O_RDWR|O_NONBLOCK|O_NOCTTY. */
  openDevice(path: string): Promise<DeviceFile>;
}

/** The errno name of a Node fs error (or of what a simulated kernel threw), if it has one. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = e.code;
  return typeof code === 'string' ? code : undefined;
}

/** An Error shaped like Node's fs errors, for simulated kernels. */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${path}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}
