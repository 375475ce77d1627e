// What the rpmsg remote keeps for one session: built on the queues the shared device-side vdev
// session validated at DRIVER_OK (src/remoteproc/virtio/vdev-device-session.ts), dropped at the next host
// reset: vring0 as TX, vring1 as RX, the name-service feature and TX buffers taken but not used yet.
// OpenAMP's rpmsg_virtio_device state between rpmsg_init_vdev and rpmsg_deinit_vdev.

import type { VdevQueues, VdevRing } from '../../remoteproc/virtio/vdev-rings.ts';
import { VIRTIO_RPMSG_F_NS } from '../rpmsg-wire.ts';

/** A TX chain taken from vring0: its head and its first writable buffer, clipped to bufSize. */
export interface TxSlot {
  readonly head: number;
  readonly buf: Uint8Array;
}

/** Everything built at one DRIVER_OK and dropped at the next reset. */
export interface Session extends VdevQueues {
  /** vring0: the remote sends here (the host's RX queue, buffers posted device-writable). */
  readonly tx: VdevRing;
  /** vring1: the remote receives here (the host's TX queue, buffers posted device-readable). */
  readonly rx: VdevRing;
  /** VIRTIO_RPMSG_F_NS negotiated. */
  readonly ns: boolean;
  /** TX chains taken from vring0 and not used yet (released zero-copy buffers go to the front). */
  readonly spare: TxSlot[];
  /** A TX buffer shorter than bufSize was reported already (once per session). */
  shortReported: boolean;
  /**
   * Per RX head: the payload view last handed to a callback (see RpmsgVirtioDevice.payloadOf). Per
   * session, so that no view of an earlier session's buffers is handed out again.
   */
  readonly rxPayloads: (Uint8Array | undefined)[];
}

export function openSession(queues: VdevQueues): Session {
  const [tx, rx] = queues.rings;
  return {
    ...queues,
    tx,
    rx,
    ns: ((queues.features >>> VIRTIO_RPMSG_F_NS) & 1) === 1,
    spare: [],
    shortReported: false,
    rxPayloads: new Array<Uint8Array | undefined>(rx.vq.num).fill(undefined),
  };
}
