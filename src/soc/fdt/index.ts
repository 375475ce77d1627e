// The flattened-device-tree layer of the virtual SoC: read, write, build, compile and load board
// descriptions (Devicetree Specification v0.4 chapter 5; Linux's drivers/of and scripts/dtc).

export * from './fdt-constants.ts';
export { baseNameOf, nodeNameProblem, propNameProblem, unitAddressOf } from './fdt-names.ts';
export { FdtNode, bytesEqual, firstDifference, readCells, type RegEntry } from './fdt-node.ts';
export {
  Fdt,
  MAX_PHANDLE_ARGS,
  checkPhandles,
  type FdtOptions,
  type MemReserve,
  type PhandleArgs,
} from './fdt-tree.ts';
export { isFdtBlob, readFdt, readFdtHeader, type FdtHeader } from './fdt-reader.ts';
export { writeFdt } from './fdt-writer.ts';
export * from './fdt-builder.ts';
export {
  DTC_MISSING_MESSAGE,
  compileDts,
  decompileDtb,
  dtcAvailable,
  type DtcOptions,
  type DtsInput,
} from './dts-compile.ts';
export { loadBoard, loadBoardBlob } from './load-board.ts';
export {
  RPROC_TS_COMPATIBLE,
  describeRemoteproc,
  describeRemoteprocs,
  reservedMemoryRegions,
  type MboxChannel,
  type RemoteprocNode,
  type ReservedRegion,
} from './fdt-remoteproc.ts';
export { defaultBoard, defaultBoardDtb } from './boards/default-board.ts';
