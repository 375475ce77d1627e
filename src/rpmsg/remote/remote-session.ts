// One session of the rpmsg remote device: what it builds from the live resource table when it sees
// DRIVER_OK (negotiated features, the device side of vring0 and vring1) and drops at the next host
// reset. Here the host's vring setup is read once and validated before anything uses it, as OpenAMP's
// rproc_virtio_create_vdev/rpmsg_init_vdev read it after their DRIVER_OK wait (peers.md §2.3).

import { errorText } from '../../virtio/device-diagnostics.ts';
import { hex } from '../../util/errors.ts';
import { FW_RSC_ADDR_ANY } from '../../rsc/rsc-constants.ts';
import { VirtqueueDevice, type VringTranslate } from '../../virtio/vring-device.ts';
import { vringSize } from '../../virtio/vring-layout.ts';
import { VIRTIO_RPMSG_F_NS } from '../rpmsg-wire.ts';
import type { LiveVdev, RpmsgVdevLocation } from './rpmsg-vdev-locate.ts';

const U32_MAX = 0xffff_ffff;

/** One of the two queues of a session. */
export interface Ring {
  readonly label: string;
  readonly vq: VirtqueueDevice;
  readonly notifyId: number;
  /** The ring's memory (vring_size bytes at the validated da). */
  readonly memory: Uint8Array;
  /** Why this queue stopped (a host protocol violation); sticky until the next reset. */
  broken: string | undefined;
  /** Used entries pushed since the last kick decision. */
  dirty: boolean;
}

/** A TX chain taken from vring0: its head and its first writable buffer, clipped to bufSize. */
export interface TxSlot {
  readonly head: number;
  readonly buf: Uint8Array;
}

/** Everything built at one DRIVER_OK and dropped at the next reset. */
export interface Session {
  /** vring0: the remote sends here (the host's RX queue, buffers posted device-writable). */
  readonly tx: Ring;
  /** vring1: the remote receives here (the host's TX queue, buffers posted device-readable). */
  readonly rx: Ring;
  /** dfeatures ∧ gfeatures ∧ what the device supports. */
  readonly features: number;
  /** VIRTIO_RPMSG_F_NS negotiated. */
  readonly ns: boolean;
  /** TX chains taken from vring0 and not used yet (released zero-copy buffers go to the front). */
  readonly spare: TxSlot[];
  /** A TX buffer shorter than bufSize was reported already (once per session). */
  shortReported: boolean;
}

export interface SessionParams {
  readonly live: LiveVdev;
  readonly location: RpmsgVdevLocation;
  /** The table view, which no vring may overlap. */
  readonly table: Uint8Array;
  /** For queue names in messages. */
  readonly name: string;
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

export { errorText };

/** Read and validate the host's setup from the live table: a session, or why it is unusable. */
export function buildSession(p: SessionParams): Session | string {
  // gfeatures is host-written: masked with what the firmware offered (dfeatures, our own copy from
  // parse time) and what we implement, so the host cannot switch on anything else.
  const features = (p.live.gfeatures() & p.location.dfeatures & p.supported) >>> 0;
  const tx = mapRing(p, 0, features);
  if (typeof tx === 'string') return tx;
  const rx = mapRing(p, 1, features);
  if (typeof rx === 'string') return rx;
  if (tx.notifyId === rx.notifyId) return `vring0 and vring1 have the same notify id ${hex(tx.notifyId)}`;
  // Rings that share bytes with each other or with the table would corrupt one another as soon as
  // either side writes; refused rather than discovered later as "random" ring violations.
  if (overlaps(tx.memory, rx.memory)) return 'vring0 and vring1 overlap';
  if (overlaps(tx.memory, p.table) || overlaps(rx.memory, p.table))
    return 'a vring overlaps the resource table';
  return {
    tx,
    rx,
    features,
    ns: ((features >>> VIRTIO_RPMSG_F_NS) & 1) === 1,
    spare: [],
    shortReported: false,
  };
}

function mapRing(p: SessionParams, i: 0 | 1, features: number): Ring | string {
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
  if (v.da % parsed.align !== 0)
    return `vring${i} da ${hex(v.da)} is not aligned to its align ${hex(parsed.align)}`;
  // The notify id is only ever passed back to notify(); the "freed" marker means there is none.
  if (v.notifyId === U32_MAX) return `vring${i} notifyid is 0xffffffff (unassigned)`;
  const size = vringSize(parsed.num, parsed.align);
  // The ring must lie entirely in memory we can see: the translator bounds [da, da + size).
  const memory = p.translate(v.da, size);
  if (memory?.length !== size) {
    return `vring${i} at da ${hex(v.da)} (${hex(size)} bytes for num ${parsed.num}, align ${parsed.align}) is outside the remote's memory`;
  }
  const label = i === 0 ? 'vring0 (tx)' : 'vring1 (rx)';
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
