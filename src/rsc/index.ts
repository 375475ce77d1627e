// Public surface of the resource-table layer: constants, layouts, parser/validator, builder,
// write-back accessor and dumps, in one import. Mirrors include/linux/rsc_table.h and the
// resource-table part of drivers/remoteproc/remoteproc_core.c.

export * from './rsc-constants.ts';
export * from './rsc-layout.ts';
export type * from './rsc-types.ts';
export { parseRscTable, checkRscTable, type RscParseOptions } from './rsc-parse.ts';
export { buildRscTable, type RscBuildOptions } from './rsc-build.ts';
export { RscTableWriter, type VdevLayout, type CarveoutWriteBack } from './rsc-writer.ts';
export {
  formatRscTable,
  rscTableToJson,
  type RscFormatOptions,
  type RscTableJson,
  type RscEntryJson,
  type RscProblemJson,
} from './rsc-format.ts';
