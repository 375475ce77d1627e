// Types of the rpmsg remote (device) role: the options a firmware gives the device, its states, its
// counters, the zero-copy TX buffer handle and the timer hooks a deterministic scheduler replaces.
// The device itself is in rpmsg-virtio-device.ts; the shapes follow OpenAMP's rpmsg_virtio API.

import type {
  DeviceTranslate,
  VdevDeviceOptions,
  VdevDeviceState,
  VdevSessionCounters,
} from '../../remoteproc/virtio/vdev-device-session.ts';

/**
 * The remote's own address map: a view (never a copy) of `len` bytes at `addr`, or undefined when
 * [addr, addr + len) is not entirely mapped. Takes a u32 device address (table, vring da) or a u64
 * bus address (descriptor addr) as a bigint.
 */
export type RemoteTranslate = DeviceTranslate;

/** Timer hooks for send timeouts; a deterministic test scheduler passes its own. */
export interface RemoteTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The device's states (see VdevDeviceState); while `ready`, endpoints are announced and messages flow. */
export type RpmsgRemoteState = VdevDeviceState;

/** table, translate, translateBus, notify, onError and onStateChange: see VdevDeviceOptions. */
export interface RpmsgRemoteOptions extends VdevDeviceOptions {
  /** Which rpmsg vdev (RSC_VDEV with id 7) of the table, in table order; default 0. */
  readonly vdevIndex?: number;
  /**
   * Features this device will honour, as a u32 mask. What is offered is the table's dfeatures (the
   * firmware wrote them); what is used is dfeatures ∧ gfeatures ∧ this mask. Default: everything
   * this library implements: VIRTIO_RPMSG_F_NS (bit 0), VIRTIO_RING_F_INDIRECT_DESC (28),
   * VIRTIO_RING_F_EVENT_IDX (29).
   */
  readonly features?: number;
  /**
   * Size of one rpmsg buffer, header included: 512 (Linux's MAX_RPMSG_BUF_SIZE). It must match the
   * host's: it caps the payload (MTU = bufSize − 16) and host buffers shorter than it are reported.
   * 56..65551 (an NS message must fit; hdr.len is a u16).
   */
  readonly bufSize?: number;
  /** For messages: 'rpmsg-remote' by default. */
  readonly name?: string;
  /** A host announcement (NS CREATE to address 53) no local endpoint claimed. */
  readonly onNsBind?: (name: string, addr: number) => void;
  /** A host NS DESTROY no local endpoint was bound to. */
  readonly onNsUnbind?: (name: string, addr: number) => void;
  /** Default: the global setTimeout/clearTimeout. */
  readonly timers?: RemoteTimers;
}

/** handshakes, resets, configErrors, queueErrors, kicks...: see VdevSessionCounters. */
export interface RpmsgRemoteStats extends VdevSessionCounters {
  /** Messages delivered to an endpoint callback (NS messages excluded). */
  rxMessages: number;
  /** Messages for an address with no endpoint: dropped. */
  rxUnknownDst: number;
  /** RX chains too short for a header, or whose hdr.len exceeds the buffer: dropped. */
  rxMalformed: number;
  /** NS messages received from the host (valid ones). */
  nsReceived: number;
  /** Messages sent (NS messages included). */
  txMessages: number;
  nsSent: number;
  /** trySend/getTxBuffer calls that found no TX buffer (-ENOMEM). */
  txNoBuffer: number;
  /** TX chains the host offered that cannot carry a message (no writable room for a header, a
   * device-readable part, memory overlapping the rings or table): returned unused (used.len 0). */
  txBadBuffers: number;
  /** TX buffers shorter than bufSize (a buffer-size mismatch with the host). */
  txShortBuffers: number;
}

/**
 * A TX buffer lent by getTxBuffer(): write up to payload.length bytes into `payload`, then send it
 * with sendNoCopy (which gives it back to the host) or return it with releaseTxBuffer. The view is
 * host memory; it is invalid once sent, released, or the device reset.
 */
export interface RpmsgTxBuffer {
  readonly payload: Uint8Array;
}

export interface RemoteSendOptions {
  /** Reject with ETIMEDOUT when no TX buffer came within this many milliseconds. Default: wait. */
  readonly timeoutMs?: number;
  /** Reject with ECANCELED when aborted while waiting. */
  readonly signal?: AbortSignal;
}
