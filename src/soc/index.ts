// Public surface of the virtual AMP SoC: the SoC itself with its cores and their platform driver,
// board descriptions (device trees: the embedded default board, .dtb/.dts files), the firmware that
// ships with the package, the deterministic scheduler, and the SoC behind the user-facing platform
// interface (VirtualSocProcessors, the same RemoteProcessors the Linux backend gives). Mirrors a
// platform driver such as stm32_rproc.c plus the board it drives.

export { VirtualSoc, type SocEvents, type VirtualSocOptions } from './virtual-soc.ts';
export { VirtualSocProcessors } from './soc-processors.ts';
export { SocCore, type SocCoreEvents, type SocCoreOptions } from './soc-core.ts';
export { boardFromFdt, type BoardSpec, type CarveoutRegion, type CoreKind, type CoreSpec } from './board.ts';
export { PREBUILT_FIRMWARE_DIRS, defaultFirmwareStore } from './default-firmware.ts';
export { describeFirmwareExit, type FirmwareExitCause } from './firmware-exit.ts';
export type { CoreExitCause, CoreFault } from './core-messages.ts';
export { parseFwOptionalTable } from './optional-rsc-table.ts';
export {
  DEFAULT_JS_WORK_NS,
  DEFAULT_QUANTUM_NS,
  DEFAULT_RV32_HZ,
  SocScheduler,
  type SchedulerStats,
  type SocSchedulerOptions,
} from './scheduler/soc-scheduler.ts';
export { manyCoreBoard } from './boards/many-cores.ts';
export * from './fdt/fdt-constants.ts';
export { baseNameOf, nodeNameProblem, propNameProblem, unitAddressOf } from './fdt/fdt-names.ts';
export { FdtNode, firstDifference, readCells, type RegEntry } from './fdt/fdt-node.ts';
export { Fdt, checkPhandles, type FdtOptions, type MemReserve, type PhandleArgs } from './fdt/fdt-tree.ts';
export { isFdtBlob, readFdt, readFdtHeader, type FdtHeader } from './fdt/fdt-reader.ts';
export { writeFdt } from './fdt/fdt-writer.ts';
export * from './fdt/fdt-builder.ts';
export {
  DTC_MISSING_MESSAGE,
  compileDts,
  decompileDtb,
  dtcAvailable,
  type DtcOptions,
  type DtsInput,
} from './fdt/dts-compile.ts';
export { loadBoard, loadBoardBlob } from './fdt/load-board.ts';
export {
  RPROC_TS_COMPATIBLE,
  describeRemoteprocs,
  reservedMemoryRegions,
  type MboxChannel,
  type RemoteprocNode,
  type ReservedRegion,
} from './fdt/fdt-remoteproc.ts';
export { defaultBoard, defaultBoardDtb } from './fdt/boards/default-board.ts';
