// Byte layout of a flattened devicetree blob and the limits this project enforces when reading one.
// Mirrors the Devicetree Specification v0.4 chapter 5 ("Flattened Devicetree (DTB) Format") and the
// names used by Linux's scripts/dtc/libfdt/fdt.h; the limits are ours (the spec sets none).

/** The magic number at offset 0 of every blob, big-endian. */
export const FDT_MAGIC = 0xd00dfeed;

/** Structure-block tokens (spec §5.4.1). Each is a big-endian 32-bit word, 4-byte aligned. */
export const FDT_TOKEN = {
  FDT_BEGIN_NODE: 0x1,
  FDT_END_NODE: 0x2,
  FDT_PROP: 0x3,
  FDT_NOP: 0x4,
  FDT_END: 0x9,
} as const;

/** Byte offsets of the header fields (spec §5.2, struct fdt_header). */
export const FDT_HEADER = {
  magic: 0x00,
  totalsize: 0x04,
  off_dt_struct: 0x08,
  off_dt_strings: 0x0c,
  off_mem_rsvmap: 0x10,
  version: 0x14,
  last_comp_version: 0x18,
  boot_cpuid_phys: 0x1c,
  size_dt_strings: 0x20,
  size_dt_struct: 0x24,
} as const;

/** Header size of a version-16 blob (no size_dt_struct) and of a version-17 blob. */
export const FDT_V16_HEADER_SIZE = 0x24;
export const FDT_V17_HEADER_SIZE = 0x28;

/** We write version 17, readable by anything that reads 16 (what dtc writes by default). */
export const FDT_WRITE_VERSION = 17;
export const FDT_WRITE_LAST_COMP_VERSION = 16;
/** Oldest version we read (the first with an unnamed root and names without paths). */
export const FDT_MIN_READ_VERSION = 16;
/** A blob whose last_comp_version is above this needs a reader newer than ours. */
export const FDT_MAX_LAST_COMP_VERSION = 17;

/** One memory reservation entry: two big-endian u64 (address, size); the map ends with (0, 0). */
export const FDT_RESERVE_ENTRY_SIZE = 16;
/** The memory reservation block is 8-byte aligned, the structure block 4-byte aligned. */
export const FDT_RSVMAP_ALIGN = 8;
export const FDT_TAG_ALIGN = 4;

/**
 * Limits for untrusted blobs. Linux's unflatten_dt_nodes uses FDT_MAX_DEPTH 64; names are bounded
 * so that an error message or a path can never grow with garbage input.
 */
export const FDT_LIMITS = {
  maxDepth: 64,
  maxNameLength: 255,
  /** Cells per address or size value we decode (Linux's OF_MAX_ADDR_CELLS is 4). */
  maxCells: 4,
} as const;

/** Defaults when a bus node has no #address-cells / #size-cells (spec §2.3.5). */
export const FDT_DEFAULT_ADDRESS_CELLS = 2;
export const FDT_DEFAULT_SIZE_CELLS = 1;
