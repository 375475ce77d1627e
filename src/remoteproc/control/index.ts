// The user-space control surface of a remote processor: the sysfs attributes, the debugfs files and
// the character device, each a text/bytes view over one Rproc with Linux's parsing and errno codes.
// Mirrors drivers/remoteproc/remoteproc_sysfs.c, remoteproc_debugfs.c and remoteproc_cdev.c.

export { type ControlInput } from './control-io.ts';
export { RprocSysfs, SYSFS_ATTRS, SYSFS_WRITE_MAX, type RprocSysfsOptions, type SysfsAttr } from './sysfs.ts';
export {
  RprocDebugfs,
  DEBUGFS_FILES,
  DEBUGFS_RECOVERY_MAX,
  DEBUGFS_COREDUMP_MAX,
  type DebugfsFile,
  type RprocDebugfsOptions,
} from './debugfs.ts';
export {
  RprocCdev,
  RprocCdevFile,
  RPROC_MAGIC,
  RPROC_SET_SHUTDOWN_ON_RELEASE,
  RPROC_GET_SHUTDOWN_ON_RELEASE,
  CDEV_WRITE_MAX,
} from './cdev.ts';
