// The kernel's refusals as the library's errors: the errno the kernel returned (EBUSY, EINVAL,
// ENOENT, EACCES, ...) kept as the code, with the file and the value written named in the message,
// and for permission problems the group or udev rule that would let a non-root user do it
// (docs/linux-boards.md "Permissions").

import { ERRNO, RprocError, type ErrnoName } from '../util/errors.ts';
import { errnoCode } from './kernel-io.ts';

export interface KernelOp {
  /** The RprocError op, e.g. 'linux-start'. */
  readonly op: string;
  /** What was being done, e.g. `writing "start" to /sys/class/remoteproc/remoteproc0/state`. */
  readonly doing: string;
  readonly path: string;
  /** Why the kernel may have said no, per errno (from the kernel source of that file). */
  readonly reasons?: Partial<Record<ErrnoName, string>>;
}

function isErrnoName(code: string): code is ErrnoName {
  return Object.prototype.hasOwnProperty.call(ERRNO, code);
}

/** Which permission fix to suggest for a path. */
export function permissionHint(path: string): string {
  if (/\/kernel\/debug(\/|$)/.test(path)) {
    return 'debugfs is root-only (mounted mode 0700): run as root';
  }
  if (/\/class\/remoteproc\/[^/]+\/(state|firmware|recovery|coredump)$/.test(path)) {
    return (
      'the remoteproc attributes are root-owned 0644: run as root, or let a group write them with a udev ' +
      'rule such as SUBSYSTEM=="remoteproc", RUN+="/bin/chgrp rproc /sys%p/state /sys%p/firmware ' +
      '/sys%p/recovery /sys%p/coredump", RUN+="/bin/chmod g+w /sys%p/state /sys%p/firmware ' +
      '/sys%p/recovery /sys%p/coredump" (docs/linux-boards.md)'
    );
  }
  if (/\/bus\/rpmsg\/(drivers\/[^/]+\/(un)?bind|drivers_probe)$/.test(path)) {
    return 'binding a driver to an rpmsg channel is root-only (the bind files are 0200)';
  }
  if (/\/bus\/rpmsg\/devices\/[^/]+\/driver_override$/.test(path)) {
    return 'driver_override is root-owned 0644: run as root';
  }
  if (/\/ttyRPMSG\d+$/.test(path)) {
    return 'add a udev rule such as KERNEL=="ttyRPMSG[0-9]*", GROUP="dialout", MODE="0660" and join that group';
  }
  if (/\/rpmsg\d+$/.test(path)) {
    return 'add a udev rule such as SUBSYSTEM=="rpmsg", KERNEL=="rpmsg[0-9]*", GROUP="rproc", MODE="0660" and join that group';
  }
  if (/\/remoteproc\d+$/.test(path)) {
    return 'add a udev rule such as SUBSYSTEM=="remoteproc", KERNEL=="remoteproc[0-9]*", GROUP="rproc", MODE="0660"';
  }
  if (/\/firmware_class\/parameters\/path$/.test(path)) {
    return 'the firmware_class.path parameter is root-owned 0644: run as root, or set it on the kernel command line';
  }
  return 'run as root, or give your group write access to the firmware directory (or point firmware_class.path at one it can write)';
}

/** The RprocError for a failed kernel file operation. */
export function kernelError(e: unknown, k: KernelOp): RprocError {
  if (e instanceof RprocError) return e;
  const raw = errnoCode(e);
  if (raw === undefined) {
    return new RprocError('EIO', k.op, `${k.doing}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  if (raw === 'EACCES' || raw === 'EPERM') {
    return new RprocError(raw, k.op, `${k.doing}: permission denied; ${permissionHint(k.path)}`, {
      cause: e,
    });
  }
  if (raw === 'EROFS') {
    return new RprocError(
      'EROFS',
      k.op,
      `${k.doing}: ${k.path} is on a read-only file system (sysfs mounted read-only, as in an unprivileged container)`,
      { cause: e },
    );
  }
  const code: ErrnoName = isErrnoName(raw) ? raw : 'EIO';
  const reason =
    k.reasons?.[code] ??
    (code === 'ENOENT' ? `${k.path} does not exist` : code === raw ? 'the kernel refused' : raw);
  return new RprocError(code, k.op, `${k.doing}: ${reason}`, { cause: e });
}
