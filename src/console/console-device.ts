// The device side of a virtio console (rproc-serial, id 11, or console, id 3) for firmware on a
// remote core: over the shared device-side vdev session (DRIVER_OK wait, validated receiveq =
// vring0, the host's receive buffers, which we fill, and transmitq = vring1, the host's output,
// which we consume; host resets), queues written bytes until host buffers take them and hands host
// output to onData listeners. Everything the host writes is validated; service() never throws.
// The console counterpart of src/rpmsg/remote/rpmsg-virtio-device.ts (virtio spec §5.3).

import { ERRNO, RprocError, hex } from '../util/errors.ts';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from '../virtio/vring-constants.ts';
import type { DeviceChain } from '../virtio/vring-device.ts';
import {
  VdevDeviceSession,
  type DeviceTranslate,
  type VdevDeviceOptions,
  type VdevDeviceState,
  type VdevSessionCounters,
} from '../remoteproc/virtio/vdev-device-session.ts';
import { findVdev, type VdevLocation } from '../remoteproc/virtio/vdev-locate.ts';
import { overlaps, type VdevQueues, type VdevRing } from '../remoteproc/virtio/vdev-rings.ts';
import { CONSOLE_DEVICE_IDS, CONSOLE_RECEIVEQ, CONSOLE_TRANSMITQ } from './console-constants.ts';

const OP = 'console-device';

/** Transport features this device implements (a u32 mask). No console feature bits: port 0 only. */
export const CONSOLE_DEVICE_SUPPORTED_FEATURES =
  ((1 << VIRTIO_RING_F_INDIRECT_DESC) | (1 << VIRTIO_RING_F_EVENT_IDX)) >>> 0;

export const CONSOLE_DEFAULT_TX_QUEUE_LIMIT = 64 * 1024;

/** The core's address map: a view of `len` bytes at `addr`, or undefined when not entirely mapped. */
export type ConsoleTranslate = DeviceTranslate;

/**
 * - `wait-driver-ok`: polling the status byte; writes are queued.
 * - `ready`: queues built; bytes flow both ways.
 * - `invalid`: DRIVER_OK was seen with an unusable vring setup; waiting for a host reset.
 * - `closed`: close() was called.
 */
export type ConsoleDeviceState = VdevDeviceState;

/** table, translate, translateBus, notify, onError and onStateChange: see VdevDeviceOptions. */
export interface ConsoleDeviceOptions extends VdevDeviceOptions {
  /** Accepted device ids; default rproc-serial (11) and console (3). */
  readonly deviceIds?: readonly number[];
  /** Which matching vdev entry, in table order; default 0. */
  readonly vdevIndex?: number;
  /** Features honoured (u32 mask); default CONSOLE_DEVICE_SUPPORTED_FEATURES. */
  readonly features?: number;
  /** Bytes write() queues at most while host buffers are missing; default 64 KiB. */
  readonly txQueueLimit?: number;
  /**
   * Host output is taken only while fewer than this many written bytes wait (flow control for
   * firmware that answers its input, such as an echo); default txQueueLimit / 2, Infinity: off.
   */
  readonly rxThrottle?: number;
  /** For messages; default 'console'. */
  readonly name?: string;
}

/** handshakes, resets, configErrors, queueErrors, kicks...: see VdevSessionCounters. */
export interface ConsoleDeviceStats extends VdevSessionCounters {
  /** Bytes and chains received from the host (transmitq). */
  rxBytes: number;
  rxChains: number;
  /** Bytes and host buffers filled (receiveq). */
  txBytes: number;
  txChains: number;
  /** Host receive chains unusable (a device-readable part, or lying over the rings or the table): returned empty. */
  txBadBuffers: number;
  /** write() calls that could queue only part of their bytes (or none). */
  txQueueFull: number;
}

export type ConsoleDataCallback = (data: Uint8Array) => void;

interface Session extends VdevQueues {
  /** vring0: the host's receive buffers (device-writable): what we write fills them. */
  readonly receiveq: VdevRing;
  /** vring1: the host's output (device-readable): what we read. */
  readonly transmitq: VdevRing;
}

/**
 * One console device, as firmware sees it. Poll-driven like the rpmsg device: call service() after
 * every doorbell (and once at start); it returns the work done (0 = idle: sleep until the next
 * doorbell). write() and the onData callbacks may be used from anywhere, including inside a callback.
 */
export class VirtioConsoleDevice {
  readonly name: string;
  readonly location: VdevLocation;
  readonly txQueueLimit: number;
  readonly rxThrottle: number;
  readonly stats: ConsoleDeviceStats = {
    handshakes: 0,
    resets: 0,
    configErrors: 0,
    queueErrors: 0,
    rxBytes: 0,
    rxChains: 0,
    txBytes: 0,
    txChains: 0,
    txBadBuffers: 0,
    txQueueFull: 0,
    callbackErrors: 0,
    kicks: 0,
    kicksSuppressed: 0,
    internalErrors: 0,
  };

  private readonly listeners = new Set<ConsoleDataCallback>();
  /** Written bytes not yet in a host buffer: copies, consumed from the front. */
  private readonly queue: Uint8Array[] = [];
  private queueHeadOff = 0;
  private queued = 0;
  private readonly vdev: VdevDeviceSession<Session>;
  private readonly chain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };

  /** Throws RprocError when the options or the firmware's own table are unusable. */
  constructor(options: ConsoleDeviceOptions) {
    this.name = options.name ?? 'console';
    const limit = options.txQueueLimit ?? CONSOLE_DEFAULT_TX_QUEUE_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RprocError('EINVAL', OP, `txQueueLimit ${String(limit)} is not a positive integer`);
    }
    this.txQueueLimit = limit;
    const throttle = options.rxThrottle ?? Math.max(1, Math.floor(limit / 2));
    if (!(throttle === Infinity || (Number.isSafeInteger(throttle) && throttle >= 1))) {
      throw new RprocError(
        'EINVAL',
        OP,
        `rxThrottle ${String(throttle)} is not a positive integer or Infinity`,
      );
    }
    this.rxThrottle = throttle;
    this.vdev = new VdevDeviceSession<Session>({
      name: this.name,
      op: OP,
      device: options,
      locate: (table) =>
        findVdev(table, {
          ids: options.deviceIds ?? CONSOLE_DEVICE_IDS,
          ...(options.vdevIndex === undefined ? {} : { index: options.vdevIndex }),
          what: 'console vdev',
          op: OP,
        }),
      entryName: 'vdev entry',
      supported: (options.features ?? CONSOLE_DEVICE_SUPPORTED_FEATURES) >>> 0,
      labels: ['vring0 (receiveq)', 'vring1 (transmitq)'],
      memoryName: "the core's memory",
      stats: this.stats,
      // write() from a hook inside a batch must not start a service round under it.
      exclusiveBatches: true,
      role: {
        open: (q) => {
          // No kicks for reposted receive buffers unless bytes wait for them (armNotifications).
          q.rings[CONSOLE_RECEIVEQ].vq.disableNotify();
          return { ...q, receiveq: q.rings[CONSOLE_RECEIVEQ], transmitq: q.rings[CONSOLE_TRANSMITQ] };
        },
        work: (s) => this.fillHostBuffers(s) + this.takeHostOutput(s),
        arm: (s) => this.armNotifications(s),
        dropped: (cause) => {
          if (cause !== 'close') return;
          this.queue.length = 0;
          this.queued = 0;
          this.queueHeadOff = 0;
        },
      },
    });
    this.location = this.vdev.location;
  }

  private get session(): Session | undefined {
    return this.vdev.session;
  }

  get state(): ConsoleDeviceState {
    return this.vdev.state;
  }

  /** The virtio device id of the vdev this device serves (11 or 3). */
  get deviceId(): number {
    return this.location.id;
  }

  /** Negotiated features while ready, else 0. */
  get features(): number {
    return this.vdev.features;
  }

  /** Written bytes waiting for host buffers. */
  get pendingBytes(): number {
    return this.queued;
  }

  /** Bytes write() would accept now. */
  get writable(): number {
    return this.txQueueLimit - this.queued;
  }

  get lastError(): string | undefined {
    return this.vdev.diag.lastError;
  }

  /** Why a queue stopped (EIO naming the host's violation), per queue, while ready. */
  get queueErrors(): {
    readonly receiveq: RprocError | undefined;
    readonly transmitq: RprocError | undefined;
  } {
    return { receiveq: this.session?.receiveq.broken, transmitq: this.session?.transmitq.broken };
  }

  /** Notify ids of receiveq (vring0) and transmitq (vring1): validated while ready, else as the table holds them. */
  notifyIds(): { readonly receiveq: number; readonly transmitq: number } {
    const [receiveq, transmitq] = this.vdev.notifyIds();
    return { receiveq, transmitq };
  }

  /**
   * Queue `bytes` for the host (copied) and send what host buffers allow now. Non-blocking, like a
   * trySend: returns how many bytes were accepted (fewer than bytes.length when the queue is full,
   * 0 when it is), or -ESHUTDOWN once closed. Bytes queued while the host is not ready (or between a
   * host reset and the next handshake) go out after the handshake.
   */
  write(bytes: Uint8Array | string): number {
    if (this.state === 'closed') return -ERRNO.ESHUTDOWN;
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    if (data.length === 0) return 0;
    const n = Math.min(data.length, this.txQueueLimit - this.queued);
    if (n < data.length) this.stats.txQueueFull++;
    if (n === 0) return 0;
    this.queue.push(data.slice(0, n));
    this.queued += n;
    this.flushOutside();
    return n;
  }

  /**
   * Call `cb` with every chunk of host output, in order. The view is host memory, valid only during
   * the call (copy what you keep). Returns a function that removes the listener.
   */
  onData(cb: ConsoleDataCallback): () => void {
    this.listeners.add(cb);
    return () => {
      this.listeners.delete(cb);
    };
  }

  /** Do all pending work; returns the amount done (0 = idle). Never throws. */
  service(): number {
    return this.vdev.service();
  }

  /** Start over as if the host had reset the device (the next service() handshakes again). */
  restart(): void {
    this.vdev.restart();
  }

  /** Stop for good: queued bytes are dropped, nothing more is written to the rings. */
  close(): void {
    this.vdev.close();
  }

  // ---- device → host: fill the host's receive buffers --------------------------------------

  private throttled(): boolean {
    return this.queued >= this.rxThrottle;
  }

  private fillHostBuffers(s: Session): number {
    const ring = s.receiveq;
    let n = 0;
    // Each pass takes one avail entry: the device queue never lets more than num be pending.
    for (let tries = 0; this.queued > 0 && ring.broken === undefined && tries <= ring.vq.num; tries++) {
      // The avail ring and descriptors are host-written: getAvail validates indices, links, flags
      // and lengths and resolves every buffer through our translator (undefined + error otherwise).
      const chain = ring.vq.getAvail(this.chain);
      if (chain === undefined) {
        this.vdev.checkRing(s, ring);
        break;
      }
      const problem = this.unusableRxChain(s, chain);
      if (problem !== undefined) {
        this.stats.txBadBuffers++;
        if (ring.vq.pushUsed(chain.head, 0) === 0) ring.dirty = true;
        this.vdev.diag.report(`receive buffer ${hex(chain.head)} ${problem}; returned empty`);
        continue;
      }
      // Validated by VirtqueueDevice (each view is exactly its len bytes of memory we can see) and
      // above (all device-writable, clear of the rings and the table): we write our bytes there.
      let written = 0;
      for (const b of chain.buffers) {
        written += this.dequeueInto(b.view);
        if (this.queued === 0) break;
      }
      // written ≤ chain.writable: each buffer took at most its own length.
      if (ring.vq.pushUsed(chain.head, written) !== 0) {
        this.vdev.internalError(new Error(`receiveq head ${hex(chain.head)} was not in flight`));
        return n;
      }
      ring.dirty = true;
      this.stats.txBytes += written;
      this.stats.txChains++;
      n++;
    }
    return n;
  }

  /** Why a chain of receiveq cannot carry our bytes, or undefined. */
  private unusableRxChain(s: Session, chain: DeviceChain): string | undefined {
    if (chain.readable > 0) {
      return `has ${chain.readable} device-readable bytes; receiveq carries device-writable buffers only`;
    }
    for (const b of chain.buffers) {
      if (
        overlaps(b.view, s.receiveq.memory) ||
        overlaps(b.view, s.transmitq.memory) ||
        overlaps(b.view, this.vdev.table)
      ) {
        return `at ${hex(b.addr)} lies over the vrings or the resource table`;
      }
    }
    return undefined;
  }

  /** Move queued bytes into `dst`; returns how many. */
  private dequeueInto(dst: Uint8Array): number {
    let off = 0;
    while (off < dst.length && this.queue.length > 0) {
      const head = this.queue[0];
      if (head === undefined) break;
      const take = Math.min(dst.length - off, head.length - this.queueHeadOff);
      dst.set(head.subarray(this.queueHeadOff, this.queueHeadOff + take), off);
      off += take;
      this.queueHeadOff += take;
      if (this.queueHeadOff === head.length) {
        this.queue.shift();
        this.queueHeadOff = 0;
      }
    }
    this.queued -= off;
    return off;
  }

  // ---- host → device: the host's output ------------------------------------------------------

  private takeHostOutput(s: Session): number {
    const ring = s.transmitq;
    const budget = 4 * ring.vq.num;
    let n = 0;
    while (n < budget && ring.broken === undefined && this.session === s && !this.throttled()) {
      // Host-written avail ring and descriptors, validated and resolved by getAvail (see above).
      const chain = ring.vq.getAvail(this.chain);
      if (chain === undefined) {
        this.vdev.checkRing(s, ring);
        break;
      }
      n++;
      const head = chain.head;
      // Validated by VirtqueueDevice: every buffer's view is exactly its len bytes of memory we can
      // see, readable ones first; `readable` is their sum. The bytes are the host's data, handed
      // over uninterpreted (gathered into a copy when the chain has several readable buffers).
      const data = this.gatherReadable(chain);
      if (data.length > 0) {
        this.stats.rxBytes += data.length;
        this.stats.rxChains++;
        // Delivered before the buffer goes back: the host may reuse it once it sees it used.
        for (const cb of this.listeners) this.vdev.diag.userHook(() => cb(data), 'onData callback');
      }
      // used.len 0: the device wrote nothing into device-readable buffers (the driver ignores it).
      if (ring.vq.pushUsed(head, 0) !== 0) {
        this.vdev.internalError(new Error(`transmitq head ${hex(head)} was not in flight`));
        return n;
      }
      ring.dirty = true;
    }
    return n;
  }

  private gatherReadable(chain: DeviceChain): Uint8Array {
    const first = chain.buffers[0];
    if (first === undefined || first.write) return new Uint8Array(0);
    if (first.len === chain.readable) return first.view;
    const out = new Uint8Array(chain.readable);
    let off = 0;
    for (const b of chain.buffers) {
      if (b.write) break;
      out.set(b.view, off);
      off += b.len;
    }
    return out;
  }

  // ---- notifications ---------------------------------------------------------------------------

  /**
   * Ask for the host's kicks where we need them: on transmitq unless throttled, on receiveq only
   * while bytes wait for buffers. True when nothing arrived meanwhile that no kick will announce.
   */
  private armNotifications(s: Session): boolean {
    let quiet = true;
    const { receiveq, transmitq } = s;
    if (transmitq.broken === undefined) {
      if (this.throttled()) {
        transmitq.vq.disableNotify();
      } else if (!transmitq.vq.enableNotify()) {
        quiet = false;
      }
    }
    if (receiveq.broken === undefined) {
      if (this.queued > 0) {
        if (!receiveq.vq.enableNotify()) quiet = false;
      } else {
        receiveq.vq.disableNotify();
      }
    }
    // enableNotify loads the host-written avail.idx through VirtqueueDevice, which accepts it only
    // within num of what we took (else it records a violation, picked up here).
    this.vdev.checkRing(s, transmitq);
    this.vdev.checkRing(s, receiveq);
    return quiet;
  }

  /** For write() outside service(): fill what buffers allow, arm receiveq, kick. */
  private flushOutside(): void {
    this.vdev.batch((s) => {
      for (let round = 0; round < 4 && this.session === s; round++) {
        this.fillHostBuffers(s);
        this.vdev.flushKicks(s);
        if (s.receiveq.broken !== undefined) break;
        if (this.queued === 0) {
          s.receiveq.vq.disableNotify();
          break;
        }
        // avail.idx (host-written) is validated by VirtqueueDevice; a violation is picked up below.
        if (s.receiveq.vq.enableNotify()) break;
      }
      this.vdev.checkRing(s, s.receiveq);
    });
  }
}
