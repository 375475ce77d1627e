// Public surface of the ELF layer: the reader with Linux's sanity checks, segment loading through
// a da-to-va translation, the .resource_table lookup, symbols, the core-file writer and the image
// builder. Mirrors drivers/remoteproc/remoteproc_elf_loader.c (and the ELF core layout of
// remoteproc_coredump.c).

export * from './elf-constants.ts';
export type { ElfHeader, ElfImage, ElfProgramHeader, ElfReadResult, ElfSection } from './elf-types.ts';
export { elfBootAddr, elfSanityCheck, parseElf, readElf, type ElfSanityCheckOptions } from './elf-reader.ts';
export { loadElfSegments, loadSegments, type DaToVa, type LoadSegment } from './elf-segments.ts';
export {
  RSC_TABLE_SECTION_NAME,
  findLoadedResourceTable,
  findResourceTable,
  loadResourceTableCopy,
  loadResourceTableCopyOptional,
  type CachedResourceTable,
  type RscTableLookup,
} from './elf-rsc-table.ts';
export {
  formatSymbolized,
  readSymbols,
  symbolize,
  type ElfSymbol,
  type ElfSymbolTable,
  type Symbolized,
} from './elf-symbols.ts';
export {
  coreLayout,
  writeCoreHeaders,
  type CoreLayout,
  type CoreSegment,
  type CoreSpec as ElfCoreSpec,
} from './elf-core-writer.ts';
export {
  buildElf,
  type ElfSpec,
  type SectionSpec,
  type SegmentSpec,
  type SymbolSpec,
} from './elf-builder.ts';
