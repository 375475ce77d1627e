// Public surface of the remoteproc core: allocating a remote processor with a platform's ops, its
// power-refcounted life cycle, crashes, recovery and coredumps, firmware lookup, the registry, the
// virtio transport and the sysfs/debugfs/cdev control views. Mirrors remoteproc_core.c,
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
export { RprocVirtio } from './rproc-virtio.ts';
export type { DevmemMapping, RprocIommu, TraceBuffer } from './resources.ts';
export { TypedEmitter, type EventMap } from './typed-emitter.ts';
export * from './control/index.ts';
