// Typed-array views over the memory of one split vring, shared by the driver and the device side:
// geometry checks, the little-endian requirement, and the two ways an index word is published —
// plain stores for a private ArrayBuffer, sequentially consistent Atomics for a SharedArrayBuffer.
//
// Why Atomics only on the index (and event/flag) words: the producer writes descriptors, avail or
// used ring slots and buffer contents with plain stores, then publishes the index with
// Atomics.store; the consumer reads the index with Atomics.load and only then reads what the index
// covers with plain loads. In the JavaScript memory model an SC atomic load that reads the value of
// an SC atomic store synchronizes with it, so every plain write before the store happens-before
// every plain read after the load (this is virtio's "write the entries, wmb, write idx" / "read
// idx, rmb, read the entries"). The notification words need the other fence virtio uses (mb): a
// side stores its index, then loads the peer's event index or flags; the peer stores its event
// index, then loads our index. Only SC atomics on both sides forbid the outcome where both loads
// see old values (a lost wake-up), so those words go through Atomics too. Everything else is plain:
// Atomics.store costs a locked instruction (xchg on x86) and one per batch is enough. A private
// ArrayBuffer cannot be seen by another thread, so it uses plain accesses throughout.
//
// A peer that ignores this discipline (a hostile remote scribbling concurrently) can make us read
// torn or stale values; JavaScript gives racy plain reads some value of the right type, never
// undefined behaviour, and every value read here is validated before it is used.

import { RprocError, hex } from '../util/errors.ts';
import { vringGeometryProblem, vringLayout, type VringLayout } from './vring-layout.ts';
import {
  VIRTIO_F_RING_PACKED,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  hasFeature,
  type VirtioFeatures,
} from './vring-constants.ts';

/** Typed arrays read and write the host's byte order; the rings are little-endian (legacy virtio on LE). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface VringMemoryOptions {
  /** The vring's memory: vring_size(num, align) bytes or more, 4-byte aligned, possibly in a SharedArrayBuffer. */
  readonly memory: Uint8Array;
  /** Queue size: a power of two in 1..32768. */
  readonly num: number;
  /** Used-ring alignment: a power of two. */
  readonly align: number;
  /** Negotiated feature bits (a u32 word such as the vdev entry's gfeatures, or a bigint). */
  readonly features?: VirtioFeatures;
  /** For messages: 'vdev0vring0', 'rpmsg-rx'. */
  readonly name?: string;
}

/** Word views and word indices of one vring (indices count in elements of the named array). */
export interface VringMap {
  readonly name: string;
  readonly layout: VringLayout;
  readonly num: number;
  readonly mask: number;
  readonly shared: boolean;
  readonly eventIdx: boolean;
  readonly indirect: boolean;
  readonly notifyOnEmpty: boolean;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly dv: DataView;
  /** True when used.ring elements are 4-byte aligned (align ≥ 4), so u32 can address them. */
  readonly usedAligned: boolean;
  readonly availFlags: number;
  readonly availIdx: number;
  readonly availRing: number;
  readonly usedEvent: number;
  readonly usedFlags: number;
  readonly usedIdx: number;
  /** In u32 elements when usedAligned, otherwise a byte offset for dv. */
  readonly usedRing: number;
  readonly availEvent: number;
}

/** Validate the geometry and memory of a vring and build its views; throws RprocError (not a hot path). */
export function mapVring(options: VringMemoryOptions, op: string): VringMap {
  const { memory, num, align } = options;
  const name = options.name ?? 'vring';
  const features = options.features ?? 0;
  const geometry = vringGeometryProblem(num, align);
  if (geometry !== undefined) throw new RprocError('EINVAL', op, `${name}: ${geometry}`);
  if (!HOST_LITTLE_ENDIAN) {
    throw new RprocError('EOPNOTSUPP', op, `${name}: split rings are only supported on little-endian hosts`);
  }
  if (hasFeature(features, VIRTIO_F_RING_PACKED)) {
    throw new RprocError(
      'EOPNOTSUPP',
      op,
      `${name}: VIRTIO_F_RING_PACKED is negotiated; only split rings exist here`,
    );
  }
  const layout = vringLayout(num, align);
  if (memory.byteLength < layout.size) {
    throw new RprocError(
      'EINVAL',
      op,
      `${name}: ring memory is ${hex(memory.byteLength)} bytes, vring_size(${num}, ${align}) needs ${hex(layout.size)}`,
    );
  }
  if (memory.byteOffset % 4 !== 0) {
    throw new RprocError(
      'EINVAL',
      op,
      `${name}: ring memory at byte offset ${hex(memory.byteOffset)} is not 4-byte aligned`,
    );
  }
  const { buffer, byteOffset } = memory;
  const usedAligned = layout.usedRingOffset % 4 === 0;
  return {
    name,
    layout,
    num,
    mask: num - 1,
    shared: buffer instanceof SharedArrayBuffer,
    eventIdx: hasFeature(features, VIRTIO_RING_F_EVENT_IDX),
    indirect: hasFeature(features, VIRTIO_RING_F_INDIRECT_DESC),
    notifyOnEmpty: hasFeature(features, VIRTIO_F_NOTIFY_ON_EMPTY),
    u16: new Uint16Array(buffer, byteOffset, layout.size >>> 1),
    u32: new Uint32Array(buffer, byteOffset, layout.size >>> 2),
    dv: new DataView(buffer, byteOffset, layout.size),
    usedAligned,
    availFlags: layout.availFlagsOffset >>> 1,
    availIdx: layout.availIdxOffset >>> 1,
    availRing: layout.availRingOffset >>> 1,
    usedEvent: layout.usedEventOffset >>> 1,
    usedFlags: layout.usedFlagsOffset >>> 1,
    usedIdx: layout.usedIdxOffset >>> 1,
    usedRing: usedAligned ? layout.usedRingOffset >>> 2 : layout.usedRingOffset,
    availEvent: layout.availEventOffset >>> 1,
  };
}

/** Load a u16 index/event/flags word: SC atomic on shared memory (see the file comment), plain otherwise. */
export function load16(u16: Uint16Array, index: number, shared: boolean): number {
  return shared ? Atomics.load(u16, index) : (u16[index] ?? 0);
}

/** Store a u16 index/event/flags word: SC atomic on shared memory (see the file comment), plain otherwise. */
export function store16(u16: Uint16Array, index: number, value: number, shared: boolean): void {
  if (shared) Atomics.store(u16, index, value);
  else u16[index] = value;
}
