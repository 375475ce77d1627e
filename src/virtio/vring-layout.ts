// Sizes and offsets of a legacy split virtqueue in memory, exactly as include/uapi/linux/virtio_ring.h
// lays it out: descriptor table, available ring, then the used ring at the next `align` boundary.

export const VRING_DESC_SIZE = 16;
export const VRING_USED_ELEM_SIZE = 8;
/** remoteproc rounds each vring carveout up to a page (PAGE_ALIGN in rproc_alloc_vring). */
export const PAGE_SIZE = 4096;
/** Largest queue the virtio spec allows (the queue size field is 16 bits and must be a power of 2). */
export const VRING_MAX_NUM = 32768;

/** Alignment each part needs (VRING_DESC_ALIGN_SIZE & co. in virtio_ring.h). */
export const VRING_DESC_ALIGN_SIZE = 16;
export const VRING_AVAIL_ALIGN_SIZE = 2;
export const VRING_USED_ALIGN_SIZE = 4;

/** struct vring_desc: addr u64, len u32, flags u16, next u16 (byte offsets in a descriptor). */
export const VRING_DESC = { addr: 0, len: 8, flags: 12, next: 14 } as const;
/** struct vring_avail: flags u16, idx u16, ring[num] u16, then used_event u16 after the ring. */
export const VRING_AVAIL = { flags: 0, idx: 2, ring: 4 } as const;
/** struct vring_used: flags u16, idx u16, ring[num] of vring_used_elem, then avail_event u16. */
export const VRING_USED = { flags: 0, idx: 2, ring: 4 } as const;
/** struct vring_used_elem: id u32 (head of the chain), len u32 (bytes written into it). */
export const VRING_USED_ELEM = { id: 0, len: 4 } as const;

export interface VringLayout {
  readonly num: number;
  readonly align: number;
  readonly descOffset: number;
  readonly availOffset: number;
  readonly usedOffset: number;
  /** vring_size(num, align). */
  readonly size: number;
  /** avail.flags, avail.idx, avail.ring[0] and used_event (vring_used_event), from the ring start. */
  readonly availFlagsOffset: number;
  readonly availIdxOffset: number;
  readonly availRingOffset: number;
  readonly usedEventOffset: number;
  /** used.flags, used.idx, used.ring[0] and avail_event (vring_avail_event), from the ring start. */
  readonly usedFlagsOffset: number;
  readonly usedIdxOffset: number;
  readonly usedRingOffset: number;
  readonly availEventOffset: number;
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
  return {
    num,
    align,
    descOffset,
    availOffset,
    usedOffset,
    size,
    availFlagsOffset: availOffset + VRING_AVAIL.flags,
    availIdxOffset: availOffset + VRING_AVAIL.idx,
    availRingOffset: availOffset + VRING_AVAIL.ring,
    usedEventOffset: availOffset + VRING_AVAIL.ring + 2 * num,
    usedFlagsOffset: usedOffset + VRING_USED.flags,
    usedIdxOffset: usedOffset + VRING_USED.idx,
    usedRingOffset: usedOffset + VRING_USED.ring,
    availEventOffset: usedOffset + VRING_USED.ring + VRING_USED_ELEM_SIZE * num,
  };
}

export function vringSize(num: number, align: number): number {
  return vringLayout(num, align).size;
}

export function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

export function isPowerOfTwo(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && (value & (value - 1)) === 0 && value <= 0x8000_0000;
}

/**
 * Why (num, align) cannot describe a split vring, or undefined when it can: num a power of two in
 * 1..32768 (virtio spec §2.7), align a power of two (Linux only checks non-zero; the table
 * validator already refuses anything else).
 */
export function vringGeometryProblem(num: number, align: number): string | undefined {
  if (!isPowerOfTwo(num) || num > VRING_MAX_NUM) {
    return `vring num ${String(num)} is not a power of two in 1..${VRING_MAX_NUM}`;
  }
  if (!isPowerOfTwo(align)) return `vring align ${String(align)} is not a power of two`;
  return undefined;
}
