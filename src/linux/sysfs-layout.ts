// Where the kernel puts what the backend reads and writes, under a sysfs root and a /dev root that
// default to /sys and /dev and can point at a recorded or fake tree. Paths as registered by
// remoteproc_sysfs.c (class "remoteproc"), remoteproc_debugfs.c (debugfs dir "remoteproc", one
// remoteprocN dir per processor), remoteproc_cdev.c (/dev/remoteprocN), rpmsg_core.c (bus "rpmsg"),
// rpmsg_char.c (class "rpmsg", /dev/rpmsgN), rpmsg_tty.c (ttyRPMSGn) and
// drivers/base/firmware_loader/main.c (module parameter firmware_class.path).

import { join } from 'node:path';

export interface LinuxRoots {
  /** Where sysfs is mounted (default /sys); debugfs is expected at <sysfs>/kernel/debug. */
  readonly sysfs?: string;
  /** Where device nodes are (default /dev). */
  readonly dev?: string;
}

/** The sysfs attributes of a remote processor (rproc_attrs in remoteproc_sysfs.c). */
export type RprocAttr = 'name' | 'state' | 'firmware' | 'recovery' | 'coredump';

/** The rpmsg bus device attributes (rpmsg_dev_attrs in rpmsg_core.c). */
export type RpmsgAttr = 'name' | 'src' | 'dst' | 'announce' | 'driver_override' | 'modalias';

/** The rpmsg drivers user space binds channels to (their .drv.name). */
export const RPMSG_CHRDEV_DRIVER = 'rpmsg_chrdev';
export const RPMSG_TTY_DRIVER = 'rpmsg_tty';

/** The firmware search path request_firmware() walks after firmware_class.path (fw_path[]). */
export function defaultFirmwareDirs(release: string): string[] {
  return [
    `/lib/firmware/updates/${release}`,
    '/lib/firmware/updates',
    `/lib/firmware/${release}`,
    '/lib/firmware',
  ];
}

export class SysfsLayout {
  readonly sysfs: string;
  readonly dev: string;

  constructor(roots: LinuxRoots = {}) {
    this.sysfs = roots.sysfs ?? '/sys';
    this.dev = roots.dev ?? '/dev';
  }

  /** /sys/class/remoteproc: one link per processor, remoteprocN → its device directory. */
  get remoteprocClass(): string {
    return join(this.sysfs, 'class', 'remoteproc');
  }

  rproc(device: string): string {
    return join(this.remoteprocClass, device);
  }

  rprocAttr(device: string, attr: RprocAttr): string {
    return join(this.rproc(device), attr);
  }

  /** /dev/remoteprocN (CONFIG_REMOTEPROC_CDEV): minor = the rproc index, name = the device name. */
  rprocCdev(device: string): string {
    return join(this.dev, device);
  }

  get debugfs(): string {
    return join(this.sysfs, 'kernel', 'debug');
  }

  /** /sys/kernel/debug/remoteproc/remoteprocN (rproc_create_debug_dir). */
  debugDir(device: string): string {
    return join(this.debugfs, 'remoteproc', device);
  }

  /** trace0, trace1, ...: one per RSC_TRACE entry while the processor runs (rproc_handle_trace). */
  trace(device: string, index: number): string {
    return join(this.debugDir(device), `trace${index}`);
  }

  /** debugfs `crash`: write a crash type to have rproc_report_crash() called (rproc_crash_write). */
  crash(device: string): string {
    return join(this.debugDir(device), 'crash');
  }

  /** /sys/bus/rpmsg/devices: one link per channel, named "<parent>.<name>.<src>.<dst>". */
  get rpmsgDevices(): string {
    return join(this.sysfs, 'bus', 'rpmsg', 'devices');
  }

  rpmsgDevice(id: string): string {
    return join(this.rpmsgDevices, id);
  }

  rpmsgAttr(id: string, attr: RpmsgAttr): string {
    return join(this.rpmsgDevice(id), attr);
  }

  /** The link to the bound driver, absent while none is bound. */
  rpmsgDriverLink(id: string): string {
    return join(this.rpmsgDevice(id), 'driver');
  }

  /**
   * A class device a driver made on top of the channel sits in a "glue" directory named after its
   * class inside the channel's directory (get_device_parent in drivers/base/core.c): rpmsg/rpmsgN
   * for rpmsg_char's endpoint device, tty/ttyRPMSGn for rpmsg_tty.
   */
  rpmsgClassDir(id: string, cls: 'rpmsg' | 'tty'): string {
    return join(this.rpmsgDevice(id), cls);
  }

  rpmsgDriver(driver: string): string {
    return join(this.sysfs, 'bus', 'rpmsg', 'drivers', driver);
  }

  /** drivers/base/bus.c bind_store / unbind_store: write a device name (root only, 0200). */
  rpmsgBind(driver: string): string {
    return join(this.rpmsgDriver(driver), 'bind');
  }

  rpmsgUnbind(driver: string): string {
    return join(this.rpmsgDriver(driver), 'unbind');
  }

  /** /sys/module/firmware_class/parameters/path: the first directory request_firmware() tries. */
  get firmwarePathParam(): string {
    return join(this.sysfs, 'module', 'firmware_class', 'parameters', 'path');
  }

  devNode(name: string): string {
    return join(this.dev, name);
  }
}
