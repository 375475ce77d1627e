// The rpmsg remote's view of its own resource table: the rpmsg vdev entry (id 7) and the notify ids
// the host assigned its vrings, on top of the generic device-side table walk and live-field reader
// of src/remoteproc/virtio/vdev-locate.ts. Plays the part of OpenAMP's handle_rsc_table/rproc_virtio_*
// accessors in device role for rpmsg_virtio.c.

import { VIRTIO_ID_RPMSG } from '../../rsc/rsc-constants.ts';
import { findVdev, type VdevLocation } from '../../remoteproc/virtio/vdev-locate.ts';

const OP = 'rpmsg-remote';

/** Where the rpmsg vdev lies in the table and what the firmware itself wrote into it. */
export type RpmsgVdevLocation = VdevLocation;

export interface FindRpmsgVdevOptions {
  /** Which RSC_VDEV entry with id 7 (VIRTIO_ID_RPMSG), counting from 0 in table order; default 0. */
  readonly vdevIndex?: number;
}

/**
 * Find the `vdevIndex`-th rpmsg vdev in a resource table (the live table view, or the bytes the
 * firmware was linked with); see findVdev for what is checked. Throws RprocError: ENODEV when there
 * is no such entry, EINVAL when it is unusable.
 */
export function findRpmsgVdev(table: Uint8Array, options: FindRpmsgVdevOptions = {}): RpmsgVdevLocation {
  return findVdev(table, {
    ids: [VIRTIO_ID_RPMSG],
    ...(options.vdevIndex === undefined ? {} : { index: options.vdevIndex }),
    what: 'rpmsg vdev',
    op: OP,
    indexName: 'vdevIndex',
    needsTwo: 'rpmsg needs 2 (TX and RX)',
  });
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
