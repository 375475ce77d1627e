// The device side of a vdev's two vrings, built from the live resource table when the device sees
// DRIVER_OK: read the host's vring setup (da, notifyid, and num/align it may have overwritten)
// once, validate it, map both rings and negotiate features. Plays the part of OpenAMP's
// rproc_virtio_create_vdev / rpmsg_init_vdev reading the table after their DRIVER_OK wait
// (OpenAMP's rproc_virtio_create_vdev; the table layout is rsc_table.h's fw_rsc_vdev_vring).

import { hex, type RprocError } from '../../util/errors.ts';
import { FW_RSC_ADDR_ANY } from '../../rsc/rsc-constants.ts';
import { errorText } from '../../virtio/device-diagnostics.ts';
import { VirtqueueDevice, type VringTranslate } from '../../virtio/vring-device.ts';
import { vringSize } from '../../virtio/vring-layout.ts';
import type { LiveVdevFields, VdevLocation } from './vdev-locate.ts';

const U32_MAX = 0xffff_ffff;

/** One of a vdev's two queues, device side. */
export interface VdevRing {
  readonly label: string;
  readonly vq: VirtqueueDevice;
  readonly notifyId: number;
  /** The ring's memory (vring_size bytes at the validated da). */
  readonly memory: Uint8Array;
  /** Why this queue stopped (EIO naming the host's protocol violation); sticky until the next reset. */
  broken: RprocError | undefined;
  /** Used entries pushed since the last kick decision. */
  dirty: boolean;
}

/** What one handshake yields: both queues and the negotiated features. */
export interface VdevQueues {
  /** vring0 and vring1, in table order. */
  readonly rings: readonly [VdevRing, VdevRing];
  /** dfeatures ∧ gfeatures ∧ what the device supports. */
  readonly features: number;
}

export interface VdevRingParams {
  readonly live: LiveVdevFields;
  readonly location: VdevLocation;
  /** The table view, which no vring may overlap. */
  readonly table: Uint8Array;
  /** For queue names in messages. */
  readonly name: string;
  /** Names of vring0 and vring1 in messages: 'vring0 (tx)'. */
  readonly labels: readonly [string, string];
  /** The memory the device sees, for messages: "the remote's memory". */
  readonly memoryName: string;
  /** Feature mask the device implements. */
  readonly supported: number;
  /** Device address → view, never throwing (undefined when unmapped). */
  readonly translate: (da: number, len: number) => Uint8Array | undefined;
  /** Descriptor (bus) address → view, for the queues. */
  readonly translateBus: VringTranslate;
}

/** Whether two views share bytes of the same backing buffer (aliasing through one mapping). */
export function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

/** Read and validate the host's setup from the live table: both queues, or why it is unusable. */
export function mapVdevRings(p: VdevRingParams): VdevQueues | string {
  // gfeatures is host-written: masked with what the firmware offered (dfeatures, our own copy from
  // parse time) and what we implement, so the host cannot switch on anything else.
  const features = (p.live.gfeatures() & p.location.dfeatures & p.supported) >>> 0;
  const r0 = mapRing(p, 0, features);
  if (typeof r0 === 'string') return r0;
  const r1 = mapRing(p, 1, features);
  if (typeof r1 === 'string') return r1;
  if (r0.notifyId === r1.notifyId) return `vring0 and vring1 have the same notify id ${hex(r0.notifyId)}`;
  // Rings that share bytes with each other or with the table would corrupt one another as soon as
  // either side writes; refused rather than discovered later as "random" ring violations.
  if (overlaps(r0.memory, r1.memory)) return 'vring0 and vring1 overlap';
  if (overlaps(r0.memory, p.table) || overlaps(r1.memory, p.table)) {
    return 'a vring overlaps the resource table';
  }
  return { rings: [r0, r1], features };
}

function mapRing(p: VdevRingParams, i: 0 | 1, features: number): VdevRing | string {
  const parsed = p.location.vrings[i];
  // da and notifyid are host-written, num and align firmware-written but in host-writable memory:
  // all four are read once here, into locals, and validated before any is used.
  const v = p.live.vring(i);
  // Both sides must compute the same layout; a host that changed num/align disagrees with us, so we
  // refuse instead of guessing. Only the parse-time values (validated geometry) are used below.
  if (v.num !== parsed.num || v.align !== parsed.align) {
    return `vring${i} num/align ${hex(v.num)}/${hex(v.align)} differ from the firmware's ${hex(parsed.num)}/${hex(parsed.align)}`;
  }
  if (v.da === FW_RSC_ADDR_ANY) return `vring${i} da is still FW_RSC_ADDR_ANY: the host did not place it`;
  // Linux computes the used ring's offset on the absolute address: the base must be aligned for
  // both sides to agree on where the used ring is.
  if (v.da % parsed.align !== 0) {
    return `vring${i} da ${hex(v.da)} is not aligned to its align ${hex(parsed.align)}`;
  }
  // The notify id is only ever passed back to notify(); the "freed" marker means there is none.
  if (v.notifyId === U32_MAX) return `vring${i} notifyid is 0xffffffff (unassigned)`;
  const size = vringSize(parsed.num, parsed.align);
  // The ring must lie entirely in memory we can see: the translator bounds [da, da + size).
  const memory = p.translate(v.da, size);
  if (memory?.length !== size) {
    return `vring${i} at da ${hex(v.da)} (${hex(size)} bytes for num ${parsed.num}, align ${parsed.align}) is outside ${p.memoryName}`;
  }
  const label = p.labels[i];
  let vq: VirtqueueDevice;
  try {
    // Nothing is written into the ring here: the host initialised it (and may have posted already).
    vq = new VirtqueueDevice({
      memory,
      num: parsed.num,
      align: parsed.align,
      features,
      name: `${p.name} ${label}`,
      translate: p.translateBus,
    });
  } catch (e) {
    // mapVring's own checks (4-byte alignment of the view, little-endian host, packed rings).
    return `vring${i} at da ${hex(v.da)}: ${errorText(e)}`;
  }
  return { label, vq, notifyId: v.notifyId, memory, broken: undefined, dirty: false };
}
