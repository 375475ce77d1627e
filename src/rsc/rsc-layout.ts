// Byte layouts of the resource table: struct sizes and field offsets (offsetof) of the table header,
// fw_rsc_hdr and each entry body, all packed u32 fields unless noted. Mirrors the struct definitions
// in include/linux/rsc_table.h; the parser, the builder and the writer all take offsets from here.

/** struct resource_table: ver, num, reserved[2], then offset[num]. */
export const RESOURCE_TABLE = {
  size: 16,
  ver: 0,
  num: 4,
  reserved0: 8,
  reserved1: 12,
  offset: 16,
} as const;

/** struct fw_rsc_hdr: the type word in front of every entry body. */
export const FW_RSC_HDR = {
  size: 4,
  type: 0,
} as const;

/** struct fw_rsc_carveout (body only, without fw_rsc_hdr). */
export const FW_RSC_CARVEOUT = {
  size: 52,
  da: 0,
  pa: 4,
  len: 8,
  flags: 12,
  reserved: 16,
  name: 20,
} as const;

/** struct fw_rsc_devmem (body only): the same fields and offsets as a carveout. */
export const FW_RSC_DEVMEM = {
  size: 52,
  da: 0,
  pa: 4,
  len: 8,
  flags: 12,
  reserved: 16,
  name: 20,
} as const;

/** struct fw_rsc_trace (body only). */
export const FW_RSC_TRACE = {
  size: 44,
  da: 0,
  len: 4,
  reserved: 8,
  name: 12,
} as const;

/** struct fw_rsc_vdev (body only); `size` is the fixed part before vring[] and the config space. */
export const FW_RSC_VDEV = {
  size: 24,
  id: 0,
  notifyid: 4,
  dfeatures: 8,
  gfeatures: 12,
  config_len: 16,
  /** u8 */
  status: 20,
  /** u8 */
  num_of_vrings: 21,
  /** u8[2] */
  reserved: 22,
  vring: 24,
} as const;

/** struct fw_rsc_vdev_vring. */
export const FW_RSC_VDEV_VRING = {
  size: 20,
  da: 0,
  align: 4,
  num: 8,
  notifyid: 12,
  pa: 16,
} as const;

/** Bytes taken by the header and offset[] of a table with `num` entries (exact for any u32 num). */
export function rscTableHeaderSize(num: number): number {
  return RESOURCE_TABLE.size + 4 * num;
}

/** Table offset of offset[i]. */
export function rscOffsetSlot(i: number): number {
  return RESOURCE_TABLE.offset + 4 * i;
}

/** Table offset of vring[i] of the vdev whose body starts at `vdevBodyOffset`. */
export function vringOffset(vdevBodyOffset: number, i: number): number {
  return vdevBodyOffset + FW_RSC_VDEV.vring + FW_RSC_VDEV_VRING.size * i;
}

/** Table offset of the config space of a vdev body with `numOfVrings` vrings. */
export function vdevConfigOffset(vdevBodyOffset: number, numOfVrings: number): number {
  return vringOffset(vdevBodyOffset, numOfVrings);
}

/**
 * Body size of a vdev entry. Computed in doubles: with num_of_vrings ≤ 255 and config_len < 2^32 the
 * sum stays far below 2^53, so the config_len = 0xffffffff case that wraps Linux's u32 arithmetic
 * cannot wrap here.
 */
export function vdevBodySize(numOfVrings: number, configLen: number): number {
  return FW_RSC_VDEV.size + FW_RSC_VDEV_VRING.size * numOfVrings + configLen;
}
