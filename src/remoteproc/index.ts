// Public surface of the remoteproc core: allocating a remote processor with a platform's ops, its
// power-refcounted life cycle, crashes, recovery and coredumps, firmware lookup, the registry, the
// virtio transport (host side, and the vdev/vring helpers a remote's device side uses) and the
// sysfs/debugfs/cdev control views. Mirrors remoteproc_core.c,
// remoteproc_virtio.c, remoteproc_coredump.c and include/linux/remoteproc.h.

export {
  Rproc,
  rprocAlloc,
  type CrashDetail,
  type LogLevel,
  type RprocAllocOptions,
  type RprocEvents,
} from './rproc.ts';
export type { LoadedRscTable, RprocOps } from './rproc-ops.ts';
export * from './rproc-state.ts';
export { FirmwareStore, type Firmware } from './firmware-store.ts';
export { RprocRegistry, defaultRegistry } from './rproc-registry.ts';
export { ELF_DEFAULT_OPS, elfImageOf } from './elf-defaults.ts';
export {
  CarveoutList,
  MEM_ENTRY_NAME_MAX,
  MemEntry,
  type DmaAllocator,
  type DmaBuffer,
  type MemEntryInit,
} from './carveouts.ts';
export {
  buildCoredump,
  writeCoredumpFile,
  type CoredumpElfInfo,
  type DumpFn,
  type DumpSegment,
  type RprocCoredump,
} from './coredump.ts';
export type { RprocSubdev } from './subdev.ts';
export { RprocVdev, type RprocVdevInit, type RprocVring, type VdevHooks } from './vdev.ts';
export type { RprocCrashControl } from './rproc-crash.ts';
export type { RprocCoredumpControl } from './rproc-coredump.ts';
export type { RprocResourceView } from './rproc-resource-view.ts';
export type { DevmemMapping, RprocIommu, TraceBuffer } from './resources.ts';
export { RprocVirtio } from './virtio/rproc-virtio.ts';
export {
  LiveVdevFields,
  findVdev,
  hasVdev,
  type FindVdevOptions,
  type LiveVringFields,
  type VdevLocation,
  type VringGeometry,
} from './virtio/vdev-locate.ts';
export { mapVdevRings, type VdevQueues, type VdevRing, type VdevRingParams } from './virtio/vdev-rings.ts';
export {
  VdevDeviceSession,
  type DeviceTranslate,
  type VdevDeviceRole,
  type VdevDeviceSessionOptions,
  type VdevDeviceState,
  type VdevDropCause,
  type VdevSessionCounters,
} from './virtio/vdev-device-session.ts';
export { TypedEmitter, type EventMap } from '../util/typed-emitter.ts';
export { type ControlInput } from './control/control-io.ts';
export {
  RprocSysfs,
  SYSFS_ATTRS,
  SYSFS_WRITE_MAX,
  type RprocSysfsOptions,
  type SysfsAttr,
} from './control/sysfs.ts';
export {
  RprocDebugfs,
  DEBUGFS_FILES,
  DEBUGFS_RECOVERY_MAX,
  DEBUGFS_COREDUMP_MAX,
  type DebugfsFile,
  type RprocDebugfsOptions,
} from './control/debugfs.ts';
export {
  RprocCdev,
  RprocCdevFile,
  RPROC_MAGIC,
  RPROC_SET_SHUTDOWN_ON_RELEASE,
  RPROC_GET_SHUTDOWN_ON_RELEASE,
  CDEV_WRITE_MAX,
} from './control/cdev.ts';
