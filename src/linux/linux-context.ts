// What every part of the Linux backend shares: the kernel-facing I/O, the paths, the polling
// intervals, and the two primitives everything else is built from — read an attribute (its text
// without the trailing "\n") and write a value (once, exactly, no newline; the kernel's refusal
// mapped to an RprocError naming the file and the value).

import { release } from 'node:os';
import type { ErrnoName } from '../util/errors.ts';
import type { BackoffOptions } from './backoff.ts';
import { kernelError } from './kernel-errors.ts';
import type { KernelIo } from './kernel-io.ts';
import { NodeKernelIo } from './node-kernel-io.ts';
import { attrText } from './sysfs-values.ts';
import { SysfsLayout, type LinuxRoots } from './sysfs-layout.ts';

export interface LinuxOptions extends LinuxRoots {
  /** The kernel-facing file operations (default: node:fs). Tests pass a simulated kernel. */
  readonly io?: KernelIo;
  /**
   * How often `state` is re-read while someone listens for state or crash events: `minMs` after a
   * change or a write of ours, doubling while nothing changes up to `maxMs` (default 25..1000 ms).
   */
  readonly statePoll?: BackoffOptions;
  /** How often /sys/bus/rpmsg/devices is re-read while waiting for a channel (default 25..500 ms). */
  readonly channelPoll?: BackoffOptions;
  /** How often an O_NONBLOCK device is read again while a receive waits (default 1..50 ms). */
  readonly readPoll?: BackoffOptions;
  /** How long to wait for /dev/rpmsgN to appear after binding rpmsg_chrdev (default 2000 ms). */
  readonly devNodeTimeoutMs?: number;
  /** Where to install firmware files (default: firmware_class.path if set, else /lib/firmware). */
  readonly firmwareDir?: string;
  /** The kernel release for the firmware search path in messages (default: os.release()). */
  readonly kernelRelease?: string;
  /**
   * Write start/stop/detach to /dev/remoteprocN instead of sysfs `state` (for drivers that make
   * sysfs read-only). Off by default: closing that device shuts the processor down if another
   * program set RPROC_SET_SHUTDOWN_ON_RELEASE on it (remoteproc_cdev.c rproc_cdev_release).
   */
  readonly cdev?: boolean;
}

export const DEFAULT_STATE_POLL: BackoffOptions = { minMs: 25, maxMs: 1000 };
export const DEFAULT_CHANNEL_POLL: BackoffOptions = { minMs: 25, maxMs: 500 };
export const DEFAULT_READ_POLL: BackoffOptions = { minMs: 1, maxMs: 50 };

export class LinuxContext {
  readonly io: KernelIo;
  readonly layout: SysfsLayout;
  readonly statePoll: BackoffOptions;
  readonly channelPoll: BackoffOptions;
  readonly readPoll: BackoffOptions;
  readonly devNodeTimeoutMs: number;
  readonly firmwareDir: string | undefined;
  readonly kernelRelease: string;
  readonly cdev: boolean;

  constructor(options: LinuxOptions = {}) {
    this.io = options.io ?? new NodeKernelIo();
    this.layout = new SysfsLayout(options);
    this.statePoll = options.statePoll ?? DEFAULT_STATE_POLL;
    this.channelPoll = options.channelPoll ?? DEFAULT_CHANNEL_POLL;
    this.readPoll = options.readPoll ?? DEFAULT_READ_POLL;
    this.devNodeTimeoutMs = options.devNodeTimeoutMs ?? 2000;
    this.firmwareDir = options.firmwareDir;
    this.kernelRelease = options.kernelRelease ?? release();
    this.cdev = options.cdev ?? false;
  }

  /** A sysfs/debugfs attribute's text without its trailing newline. */
  async read(path: string, op: string): Promise<string> {
    try {
      return attrText(await this.io.readFile(path));
    } catch (e) {
      throw kernelError(e, { op, doing: `reading ${path}`, path });
    }
  }

  /**
   * Write `value` to `path` as `echo -n value > path` does. `reasons` says what each errno means
   * for this file (from the kernel source), for the message.
   */
  async write(
    path: string,
    value: string,
    op: string,
    reasons?: Partial<Record<ErrnoName, string>>,
  ): Promise<void> {
    try {
      await this.io.writeFile(path, value);
    } catch (e) {
      throw kernelError(e, {
        op,
        doing: `writing ${JSON.stringify(value)} to ${path}`,
        path,
        ...(reasons === undefined ? {} : { reasons }),
      });
    }
  }
}
