// Sizes and offsets of a legacy split virtqueue in memory, exactly as include/uapi/linux/virtio_ring.h
// lays it out: descriptor table, available ring, then the used ring at the next `align` boundary.

export const VRING_DESC_SIZE = 16;
export const VRING_USED_ELEM_SIZE = 8;
/** remoteproc rounds each vring carveout up to a page (PAGE_ALIGN in rproc_alloc_vring). */
export const PAGE_SIZE = 4096;
/** Largest queue the virtio spec allows (the queue size field is 16 bits and must be a power of 2). */
export const VRING_MAX_NUM = 32768;

export interface VringLayout {
  readonly num: number;
  readonly align: number;
  readonly descOffset: number;
  readonly availOffset: number;
  readonly usedOffset: number;
  /** vring_size(num, align). */
  readonly size: number;
}

/**
 * The layout of a vring of `num` entries whose used ring is aligned to `align` (a power of two).
 * avail = flags, idx, ring[num], used_event; used = flags, idx, ring[num], avail_event.
 */
export function vringLayout(num: number, align: number): VringLayout {
  const descOffset = 0;
  const availOffset = VRING_DESC_SIZE * num;
  const availEnd = availOffset + 2 * (3 + num);
  const usedOffset = alignUp(availEnd, align);
  const size = usedOffset + 2 * 3 + VRING_USED_ELEM_SIZE * num;
  return { num, align, descOffset, availOffset, usedOffset, size };
}

export function vringSize(num: number, align: number): number {
  return vringLayout(num, align).size;
}

export function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}
