// The firmware side's view of its own resource table: find the rpmsg vdev entry (id 7) in the table
// the firmware was linked with, read its vring notify ids, and read the fields the host writes into
// the live table at run time (status, gfeatures, vring da/notifyid) at offsets fixed when the table
// was parsed. Plays the part of OpenAMP's handle_rsc_table/rproc_virtio_* accessors in device role.

import { ByteView } from '../../util/bytes.ts';
import { RprocError, hex } from '../../util/errors.ts';
import { FW_RSC_VDEV, FW_RSC_VDEV_VRING, vringOffset } from '../../rsc/rsc-layout.ts';
import { VIRTIO_ID_RPMSG } from '../../rsc/rsc-constants.ts';
import { parseRscTable } from '../../rsc/rsc-parse.ts';
import type { RscVdev } from '../../rsc/rsc-types.ts';
import { vringGeometryProblem } from '../../virtio/vring-layout.ts';

const OP = 'rpmsg-remote';

/** rpmsg uses exactly two vrings: vring0 = remote TX (host RX), vring1 = remote RX (host TX). */
export const RPMSG_VRING_TX = 0;
export const RPMSG_VRING_RX = 1;

/** Where the rpmsg vdev lies in the table and what the firmware itself wrote into it. */
export interface RpmsgVdevLocation {
  /** Position of the entry in the table's offset[]. */
  readonly entryIndex: number;
  /** Table offset of the vdev body (fw_rsc_vdev), the base of every field offset below. */
  readonly bodyOffset: number;
  /** num_of_vrings as parsed (≥ 2); never re-read from the live table. */
  readonly numOfVrings: number;
  readonly configLen: number;
  /** The features the firmware offers (dfeatures: firmware-owned). */
  readonly dfeatures: number;
  /** The vdev's own notifyid (Linux never assigns it). */
  readonly notifyId: number;
  /** The two rpmsg vrings as parsed: num/align are the firmware's; da/notifyId as they were then. */
  readonly vrings: readonly [RscVringGeometry, RscVringGeometry];
}

export interface RscVringGeometry {
  readonly num: number;
  readonly align: number;
  readonly da: number;
  readonly notifyId: number;
}

export interface FindRpmsgVdevOptions {
  /** Which RSC_VDEV entry with id 7 (VIRTIO_ID_RPMSG), counting from 0 in table order; default 0. */
  readonly vdevIndex?: number;
}

/**
 * Find the `vdevIndex`-th rpmsg vdev in a resource table (the live table view, or the bytes the
 * firmware was linked with). Problems elsewhere in the table are not this library's business; the
 * chosen entry itself must be decodable, have at least 2 vrings, and vring geometry a split ring can
 * use. Throws RprocError: ENODEV when there is no such entry, EINVAL when it is unusable.
 */
export function findRpmsgVdev(table: Uint8Array, options: FindRpmsgVdevOptions = {}): RpmsgVdevLocation {
  const want = options.vdevIndex ?? 0;
  if (!Number.isSafeInteger(want) || want < 0) {
    throw new RprocError('EINVAL', OP, `vdevIndex ${String(want)} is not a non-negative integer`);
  }
  // The live table is host-writable (Linux copies its edited table over ours before starting the
  // core): parseRscTable range-checks every offset and length, and we keep from it only where the
  // entry lies and what the firmware owns (dfeatures, num/align), re-checking the vring geometry.
  const parsed = parseRscTable(table);
  const rpmsg = parsed.entries.filter((e): e is RscVdev => e.kind === 'vdev' && e.id === VIRTIO_ID_RPMSG);
  const vdev = rpmsg[want];
  if (vdev === undefined) {
    const why = parsed.problems.find((p) => p.severity === 'error');
    throw new RprocError(
      'ENODEV',
      OP,
      `the resource table (${hex(table.length)} bytes) has ${rpmsg.length} rpmsg vdev entries (id ${VIRTIO_ID_RPMSG}), no entry ${want}` +
        (why === undefined ? '' : `; first table problem: ${why.message}`),
    );
  }
  const where = `rpmsg vdev (resource entry ${vdev.index} at offset ${hex(vdev.offset)})`;
  const [v0, v1] = vdev.vrings;
  if (vdev.numOfVrings < 2 || v0 === undefined || v1 === undefined) {
    throw new RprocError(
      'EINVAL',
      OP,
      `${where} declares ${vdev.numOfVrings} vrings; rpmsg needs 2 (TX and RX)`,
      { offset: vdev.bodyOffset + FW_RSC_VDEV.num_of_vrings },
    );
  }
  for (const [i, v] of [v0, v1].entries()) {
    const problem = vringGeometryProblem(v.num, v.align);
    if (problem !== undefined) {
      throw new RprocError('EINVAL', OP, `${where} vring ${i}: ${problem}`, {
        offset: vringOffset(vdev.bodyOffset, i),
      });
    }
  }
  const geometry = (v: { num: number; align: number; da: number; notifyId: number }): RscVringGeometry => ({
    num: v.num,
    align: v.align,
    da: v.da,
    notifyId: v.notifyId,
  });
  return {
    entryIndex: vdev.index,
    bodyOffset: vdev.bodyOffset,
    numOfVrings: vdev.numOfVrings,
    configLen: vdev.configLen,
    dfeatures: vdev.dfeatures,
    notifyId: vdev.notifyId,
    vrings: [geometry(v0), geometry(v1)],
  };
}

/** The notify ids the host assigned to the rpmsg vrings (what a doorbell carries). */
export interface RpmsgNotifyIds {
  /** vring0: the remote kicks it after sending; the host kicks it after posting RX buffers. */
  readonly tx: number;
  /** vring1: the host kicks it after sending; the remote kicks it after returning buffers. */
  readonly rx: number;
  /** The vdev's own notifyid (firmware-chosen; Linux does not use it). */
  readonly vdev: number;
}

/**
 * Read the notify ids of the rpmsg vrings from the live table. Linux writes them before it starts
 * the core, so they are final when the firmware runs (unlike vring da, final only at DRIVER_OK).
 */
export function readRpmsgNotifyIds(table: Uint8Array, options: FindRpmsgVdevOptions = {}): RpmsgNotifyIds {
  const loc = findRpmsgVdev(table, options);
  return { tx: loc.vrings[0].notifyId, rx: loc.vrings[1].notifyId, vdev: loc.notifyId };
}

/** One vring's fields as the host left them in the live table; raw, to be validated by the caller. */
export interface LiveVring {
  readonly da: number;
  readonly align: number;
  readonly num: number;
  readonly notifyId: number;
}

/**
 * Reads the host-written fields of one vdev entry from the live table, at the offsets found when the
 * table was parsed. The layout (body offset, number of vrings) is fixed at construction and never
 * re-read, so a host rewriting num_of_vrings cannot move what we read; every read is bounds-checked
 * against the table view (the offsets were inside it at parse time and the view does not change).
 * The values themselves are whatever the host wrote: callers validate them before use.
 */
export class LiveVdev {
  private readonly table: Uint8Array;
  private readonly view: ByteView;
  private readonly loc: RpmsgVdevLocation;
  private readonly statusOffset: number;

  constructor(table: Uint8Array, loc: RpmsgVdevLocation) {
    this.table = table;
    this.loc = loc;
    this.view = new ByteView(table, 'le', { what: 'live resource table', op: OP });
    this.statusOffset = loc.bodyOffset + FW_RSC_VDEV.status;
    // The one check that makes every later read in range: the whole fixed part and both vrings.
    this.view.check(loc.bodyOffset, vringOffset(0, 2), 'rpmsg vdev entry');
  }

  /**
   * The virtio status byte (host-written, polled). An atomic load, so that on a SharedArrayBuffer it
   * is a fresh read each time (never hoisted out of a polling loop) and orders our later reads of
   * gfeatures and vring fields after it. Any byte value is safe: callers only test bits.
   */
  status(): number {
    return Atomics.load(this.table, this.statusOffset);
  }

  /** gfeatures (host-written at finalize_features): any u32; callers mask it with what was offered. */
  gfeatures(): number {
    return this.view.u32(this.loc.bodyOffset + FW_RSC_VDEV.gfeatures, 'gfeatures');
  }

  /** vring i's fields (da and notifyid host-written; num and align may have been overwritten too). */
  vring(i: number): LiveVring {
    const base = vringOffset(this.loc.bodyOffset, i);
    const V = FW_RSC_VDEV_VRING;
    return {
      da: this.view.u32(base + V.da, 'vring da'),
      align: this.view.u32(base + V.align, 'vring align'),
      num: this.view.u32(base + V.num, 'vring num'),
      notifyId: this.view.u32(base + V.notifyid, 'vring notifyid'),
    };
  }
}
