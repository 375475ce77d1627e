// Types of the rpmsg remote (device) role: the options a firmware gives the device, its states, its
// counters, the zero-copy TX buffer handle and the timer hooks a deterministic scheduler replaces.
// The device itself is in rpmsg-virtio-device.ts; the shapes follow OpenAMP's rpmsg_virtio API.

/**
 * The remote's own address map: a view (never a copy) of `len` bytes at `addr`, or undefined when
 * [addr, addr + len) is not entirely mapped. Takes a u32 device address (table, vring da) or a u64
 * bus address (descriptor addr) as a bigint.
 */
export type RemoteTranslate = (addr: bigint | number, len: number) => Uint8Array | undefined;

/** Timer hooks for send timeouts; a deterministic test scheduler passes its own. */
export interface RemoteTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * - `wait-driver-ok`: polling the vdev status byte for DRIVER_OK (nothing touches the rings).
 * - `ready`: queues built from the live table; endpoints announced; messages flow.
 * - `invalid`: DRIVER_OK was seen but the host's vring setup failed validation; waiting for the
 *   host to reset the device (status without DRIVER_OK) before trying again.
 * - `closed`: close() was called; the device does nothing more.
 */
export type RpmsgRemoteState = 'wait-driver-ok' | 'ready' | 'invalid' | 'closed';

export interface RpmsgRemoteOptions {
  /**
   * The live resource table: its device address and size (translated once through `translate`, like
   * a linker symbol the firmware knows), or a view of it.
   */
  readonly table: { readonly da: number | bigint; readonly size: number } | Uint8Array;
  /** Device address → memory view: the table and the vrings (vring da) are resolved through it. */
  readonly translate: RemoteTranslate;
  /**
   * Bus address → memory view for descriptor addresses (the host's DMA addresses: physical
   * addresses on this SoC). Default: `translate` (PA = DA, the usual MCU case).
   */
  readonly translateBus?: RemoteTranslate;
  /** Ring the host's doorbell for a vring's notify id (mailbox write / rproc_vq_interrupt). */
  readonly notify: (notifyId: number) => void;
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
  /** Every error the device records (host protocol violations, callback exceptions), as text. */
  readonly onError?: (reason: string) => void;
  readonly onStateChange?: (state: RpmsgRemoteState) => void;
  /** A host announcement (NS CREATE to address 53) no local endpoint claimed. */
  readonly onNsBind?: (name: string, addr: number) => void;
  /** A host NS DESTROY no local endpoint was bound to. */
  readonly onNsUnbind?: (name: string, addr: number) => void;
  /** Default: the global setTimeout/clearTimeout. */
  readonly timers?: RemoteTimers;
}

export interface RpmsgRemoteStats {
  /** Successful DRIVER_OK handshakes (queues built). */
  handshakes: number;
  /** READY → wait-driver-ok transitions (the host reset or stopped the device). */
  resets: number;
  /** Handshakes refused: the host's vring setup was invalid. */
  configErrors: number;
  /** Queues that stopped on a host protocol violation (bad avail ring, descriptors, ...). */
  queueErrors: number;
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
  /** Exceptions thrown by endpoint callbacks or user hooks (caught). */
  callbackErrors: number;
  /** Notifications sent to the host, and decisions the host's suppression flags turned into none. */
  kicks: number;
  kicksSuppressed: number;
  /** Exceptions caught by service()'s backstop (a bug here or in a translator). */
  internalErrors: number;
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
