// Flag and feature-bit constants of legacy split virtqueues in spec spelling, and the event-index
// test both sides use to decide whether to notify. Mirrors include/uapi/linux/virtio_ring.h and
// virtio_config.h (virtio 1.x spec §2.7 "Split Virtqueues").

/** Descriptor flags (struct vring_desc.flags). */
export const VRING_DESC_F = {
  /** The buffer continues in the descriptor named by `next`. */
  VRING_DESC_F_NEXT: 1,
  /** The device writes into this buffer (otherwise it only reads it). */
  VRING_DESC_F_WRITE: 2,
  /** The buffer holds a table of descriptors (needs VIRTIO_RING_F_INDIRECT_DESC). */
  VRING_DESC_F_INDIRECT: 4,
} as const;

export const { VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT } = VRING_DESC_F;

/** used.flags: the device asks the driver not to kick when it adds buffers (ignored with EVENT_IDX). */
export const VRING_USED_F_NO_NOTIFY = 1;
/** avail.flags: the driver asks the device not to interrupt when it uses buffers (ignored with EVENT_IDX). */
export const VRING_AVAIL_F_NO_INTERRUPT = 1;

/** Transport feature bit numbers (bit positions, not masks). */
export const VIRTIO_F = {
  VIRTIO_F_NOTIFY_ON_EMPTY: 24,
  VIRTIO_F_ANY_LAYOUT: 27,
  VIRTIO_RING_F_INDIRECT_DESC: 28,
  VIRTIO_RING_F_EVENT_IDX: 29,
  /** Cannot be negotiated through a remoteproc vdev entry (32-bit feature words): always legacy. */
  VIRTIO_F_VERSION_1: 32,
  /** remoteproc clears it at finalize_features; the split-ring code here refuses it. */
  VIRTIO_F_RING_PACKED: 34,
} as const;

export const {
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_F_VERSION_1,
  VIRTIO_F_RING_PACKED,
} = VIRTIO_F;

/** Negotiated feature bits as a mask: a u32 word from the vdev entry, or a 64-bit bigint. */
export type VirtioFeatures = number | bigint;

/** Whether feature bit `bit` is set in `features` (a u32 number or a 64-bit bigint). */
export function hasFeature(features: VirtioFeatures, bit: number): boolean {
  if (typeof features === 'bigint') return ((features >> BigInt(bit)) & 1n) === 1n;
  // A number mask is a u32 word: bits 32 and up cannot be expressed in it.
  return bit < 32 && ((features >>> bit) & 1) === 1;
}

/** The mask of one feature bit, as a bigint (bits 32+ do not fit in a u32 word). */
export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/**
 * vring_need_event: whether moving an index from `oldIdx` to `newIdx` crosses the other side's
 * event index `eventIdx`, i.e. whether the other side asked to be notified for one of the entries
 * in (oldIdx, newIdx]. All three are free-running u16 values; the arithmetic wraps at 65536.
 */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
