// The /dev/remoteproc<N> character device of one processor: write "start"/"stop"/"detach" (prefix
// match over the written bytes, no newline stripping), the shutdown-on-release ioctls, and the
// shutdown or detach a close performs when that per-processor flag is set.
// Mirrors drivers/remoteproc/remoteproc_cdev.c and include/uapi/linux/remoteproc_cdev.h.

import { RprocError, hex } from '../../util/errors.ts';
import type { Rproc } from '../rproc.ts';
import { RPROC_STATE } from '../rproc-state.ts';
import {
  asControlError,
  decodeText,
  printable,
  strncmpEquals,
  toBytes,
  type ControlInput,
} from './control-io.ts';

/** asm-generic/ioctl.h _IOC(dir, type, nr, size). */
function ioc(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}

const IOC_WRITE = 1;
const IOC_READ = 2;
const SIZEOF_S32 = 4;

export const RPROC_MAGIC = 0xb7;
/** _IOW(0xB7, 1, __s32): a non-zero s32 makes closing the device shut the processor down. */
export const RPROC_SET_SHUTDOWN_ON_RELEASE = ioc(IOC_WRITE, RPROC_MAGIC, 1, SIZEOF_S32);
/** _IOR(0xB7, 2, __s32): 0 or 1. */
export const RPROC_GET_SHUTDOWN_ON_RELEASE = ioc(IOC_READ, RPROC_MAGIC, 2, SIZEOF_S32);

/** The kernel's command buffer: longer writes are refused. */
export const CDEV_WRITE_MAX = 10;

/**
 * rproc->cdev_put_on_release. It belongs to the processor, not to a file or to an RprocCdev
 * object: whoever set it, any opener's close acts on it (TC-C06). Rproc has no such field, so it is
 * kept here, keyed by processor.
 */
const shutdownOnRelease = new WeakMap<Rproc, boolean>();

export class RprocCdev {
  readonly rproc: Rproc;

  constructor(rproc: Rproc) {
    this.rproc = rproc;
  }

  get path(): string {
    return `/dev/${this.rproc.devName}`;
  }

  /** The minor number: the processor's index. */
  get minor(): number {
    return this.rproc.index;
  }

  get shutdownOnRelease(): boolean {
    return shutdownOnRelease.get(this.rproc) ?? false;
  }

  /** open(2). Each call is a separate file, as separate processes opening the device would have. */
  open(): RprocCdevFile {
    return new RprocCdevFile(this.rproc);
  }
}

/** One open file on the character device. */
export class RprocCdevFile {
  readonly rproc: Rproc;
  private isClosed = false;

  constructor(rproc: Rproc) {
    this.rproc = rproc;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * rproc_cdev_write: 1..10 bytes, compared with strncmp over the written length, so "s"/"st" mean
   * start, "sto" means stop, and `echo start` (6 bytes with its "\n") is EINVAL. No state checks
   * (Linux since 2022): the power refcount decides. Resolves with the byte count.
   */
  async write(data: ControlInput): Promise<number> {
    const op = 'cdev-write';
    this.checkOpen(op);
    const bytes = toBytes(data);
    const n = bytes.length;
    if (n < 1 || n > CDEV_WRITE_MAX) {
      throw new RprocError('EINVAL', op, `write of ${n} bytes; 1 to ${CDEV_WRITE_MAX} are accepted`);
    }
    try {
      if (strncmpEquals(bytes, 'start', n)) await this.rproc.boot();
      else if (strncmpEquals(bytes, 'stop', n)) await this.rproc.shutdown();
      else if (strncmpEquals(bytes, 'detach', n)) await this.rproc.detach();
      else throw new RprocError('EINVAL', op, `Unrecognized option: "${printable(decodeText(bytes))}"`);
    } catch (e) {
      throw asControlError(e, op);
    }
    return n;
  }

  /**
   * rproc_device_ioctl. `arg` stands for the s32 behind the user pointer: SET reads it (missing is
   * EFAULT, as a bad pointer would be) and returns 0; GET returns the s32 the kernel would store.
   * Any other request is EINVAL. Requests are compared as unsigned 32-bit numbers.
   */
  ioctl(request: number, arg?: number): number {
    const op = 'cdev-ioctl';
    this.checkOpen(op);
    switch (request >>> 0) {
      case RPROC_SET_SHUTDOWN_ON_RELEASE:
        if (arg === undefined)
          throw new RprocError('EFAULT', op, 'RPROC_SET_SHUTDOWN_ON_RELEASE needs an s32');
        // The kernel reads an s32 and keeps !!param.
        shutdownOnRelease.set(this.rproc, (arg | 0) !== 0);
        return 0;
      case RPROC_GET_SHUTDOWN_ON_RELEASE:
        return (shutdownOnRelease.get(this.rproc) ?? false) ? 1 : 0;
      default:
        throw new RprocError('EINVAL', op, `Unsupported ioctl ${hex(request >>> 0)}`);
    }
  }

  /**
   * close(2) → rproc_cdev_release. With the flag set, a running processor is shut down (one power
   * reference; its failure is ignored, as in Linux) and an attached one detached (its failure is
   * what close reports). The flag stays set. The file is closed even when this rejects.
   */
  async close(): Promise<void> {
    const op = 'cdev-close';
    this.checkOpen(op);
    this.isClosed = true;
    if (!(shutdownOnRelease.get(this.rproc) ?? false)) return;
    const state = this.rproc.state;
    if (state === RPROC_STATE.RUNNING) {
      try {
        await this.rproc.shutdown();
      } catch {
        // Linux ignores rproc_shutdown's result here; the core has logged the failure.
      }
    } else if (state === RPROC_STATE.ATTACHED) {
      try {
        await this.rproc.detach();
      } catch (e) {
        throw asControlError(e, op);
      }
    }
  }

  /** A closed file descriptor: EBADF, as Linux says. */
  private checkOpen(op: string): void {
    if (this.isClosed) throw new RprocError('EBADF', op, 'the file is closed');
  }
}
