// Constants of the virtio console device in spec spelling: feature bits, the config space layout
// (struct virtio_console_config) and the queue roles of port 0 without VIRTIO_CONSOLE_F_MULTIPORT.
// Mirrors include/uapi/linux/virtio_console.h and the single-port path of
// drivers/char/virtio_console.c (virtio spec §5.3 "Console Device").

import { VIRTIO_ID_CONSOLE, VIRTIO_ID_RPROC_SERIAL } from '../rsc/rsc-constants.ts';

export { VIRTIO_ID_CONSOLE, VIRTIO_ID_RPROC_SERIAL };

/** Feature bit numbers (bit positions, not masks). */
export const VIRTIO_CONSOLE_F = {
  /** cols and rows of the config space are valid. */
  VIRTIO_CONSOLE_F_SIZE: 0,
  /** Several ports and the control queues (not implemented here: never negotiated). */
  VIRTIO_CONSOLE_F_MULTIPORT: 1,
  /** The driver may write one character into emerg_wr (Linux's driver does not negotiate it). */
  VIRTIO_CONSOLE_F_EMERG_WRITE: 2,
} as const;

export const { VIRTIO_CONSOLE_F_SIZE, VIRTIO_CONSOLE_F_MULTIPORT, VIRTIO_CONSOLE_F_EMERG_WRITE } =
  VIRTIO_CONSOLE_F;

/** struct virtio_console_config (packed, little-endian for a legacy device on an LE host). */
export const VIRTIO_CONSOLE_CONFIG = {
  size: 12,
  /** u16 */
  cols: 0,
  /** u16 */
  rows: 2,
  /** u32: valid with VIRTIO_CONSOLE_F_MULTIPORT. */
  max_nr_ports: 4,
  /** u32: valid with VIRTIO_CONSOLE_F_EMERG_WRITE. */
  emerg_wr: 8,
} as const;

/**
 * Queue indices of port 0 when MULTIPORT is not negotiated: the driver receives on receiveq
 * (it posts device-writable buffers the device fills) and sends on transmitq (device-readable
 * buffers the device consumes). Linux names them "input" and "output" in find_vqs.
 */
export const CONSOLE_RECEIVEQ = 0;
export const CONSOLE_TRANSMITQ = 1;

/** The device ids the console driver binds, rproc-serial first (the remoteproc case). */
export const CONSOLE_DEVICE_IDS = [VIRTIO_ID_RPROC_SERIAL, VIRTIO_ID_CONSOLE] as const;
