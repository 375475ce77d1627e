// The package's main entry point ('remoteproc-ts'): what most programs need from every layer —
// remote processors and their ops, firmware lookup, rpmsg channels and endpoints, the virtual SoC
// and its boards, the error class. Each layer has a fuller entry point of its own
// ('remoteproc-ts/elf', '/rsc', '/remoteproc', '/virtio', '/rpmsg', '/console', '/soc', '/testing').
// Importing it registers the built-in core kinds (js, rv32), so that a VirtualSoc runs out of the box.

import './cpu/core-kinds.ts';

export { ERRNO, RprocError, hex, isRprocError, type ErrnoName } from './util/errors.ts';
export { parseElf, readElf, elfSanityCheck } from './elf/index.ts';
export { parseRscTable, buildRscTable, formatRscTable } from './rsc/index.ts';
export {
  COREDUMP_MODE,
  FirmwareStore,
  RPROC_FATAL_ERROR,
  RPROC_MMUFAULT,
  RPROC_STATE,
  RPROC_WATCHDOG,
  Rproc,
  RprocRegistry,
  defaultRegistry,
  rprocAlloc,
  type CoredumpMode,
  type CrashDetail,
  type Firmware,
  type RprocAllocOptions,
  type RprocCoredump,
  type RprocCrashType,
  type RprocEvents,
  type RprocOps,
  type RprocState,
} from './remoteproc/index.ts';
export {
  RPMSG_ADDR_ANY,
  RPMSG_MTU,
  RpmsgChannel,
  RpmsgEndpoint,
  RpmsgHost,
  endpointStream,
  type RpmsgRxCallback,
} from './rpmsg/index.ts';
export {
  PREBUILT_FIRMWARE_DIRS,
  SocScheduler,
  VirtualSoc,
  defaultBoard,
  defaultFirmwareStore,
  loadBoard,
  type SocEvents,
  type VirtualSocOptions,
} from './soc/index.ts';
