// The device side of a virtio console (rproc-serial, id 11, or console, id 3) for firmware on a
// remote core: polls its vdev's status for DRIVER_OK, builds the device side of receiveq (vring0:
// the host's receive buffers, which we fill) and transmitq (vring1: the host's output, which we
// consume) from the live table, queues written bytes until host buffers take them, and hands host
// output to onData listeners. A host reset (status back to 0) sends it back to waiting. Everything
// the host writes is validated; service() never throws. The console counterpart of
// src/rpmsg/remote/rpmsg-virtio-device.ts (OpenAMP's VIRTIO_DEV_DEVICE role; virtio spec §5.3).

import { DeviceDiagnostics, errorText } from '../virtio/device-diagnostics.ts';
import { ERRNO, RprocError, hex } from '../util/errors.ts';
import { FW_RSC_ADDR_ANY } from '../rsc/rsc-constants.ts';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from '../virtio/vring-constants.ts';
import { VirtqueueDevice, type DeviceChain } from '../virtio/vring-device.ts';
import { vringSize } from '../virtio/vring-layout.ts';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FAILED } from '../virtio/virtio-device.ts';
import { CONSOLE_DEVICE_IDS, CONSOLE_RECEIVEQ, CONSOLE_TRANSMITQ } from './console-constants.ts';
import { LiveVdevFields, findVdev, type VdevLocation } from './vdev-locate.ts';

const OP = 'console-device';
const U32_MAX = 0xffff_ffff;

/** Transport features this device implements (a u32 mask). No console feature bits: port 0 only. */
export const CONSOLE_DEVICE_SUPPORTED_FEATURES =
  ((1 << VIRTIO_RING_F_INDIRECT_DESC) | (1 << VIRTIO_RING_F_EVENT_IDX)) >>> 0;

export const CONSOLE_DEFAULT_TX_QUEUE_LIMIT = 64 * 1024;

/** The core's address map: a view of `len` bytes at `addr`, or undefined when not entirely mapped. */
export type ConsoleTranslate = (addr: bigint | number, len: number) => Uint8Array | undefined;

/**
 * - `wait-driver-ok`: polling the status byte; writes are queued.
 * - `ready`: queues built; bytes flow both ways.
 * - `invalid`: DRIVER_OK was seen with an unusable vring setup; waiting for a host reset.
 * - `closed`: close() was called.
 */
export type ConsoleDeviceState = 'wait-driver-ok' | 'ready' | 'invalid' | 'closed';

export interface ConsoleDeviceOptions {
  /** The live resource table: its device address and size (translated once), or a view of it. */
  readonly table: { readonly da: number | bigint; readonly size: number } | Uint8Array;
  /** Device address → view: the table and the vrings are resolved through it. */
  readonly translate: ConsoleTranslate;
  /** Bus (descriptor) address → view; default `translate` (PA = DA). */
  readonly translateBus?: ConsoleTranslate;
  /** Ring the host's doorbell for a vring's notify id. */
  readonly notify: (notifyId: number) => void;
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
  readonly onError?: (reason: string) => void;
  readonly onStateChange?: (state: ConsoleDeviceState) => void;
}

export interface ConsoleDeviceStats {
  handshakes: number;
  resets: number;
  /** DRIVER_OK seen with an unusable vring setup. */
  configErrors: number;
  /** Queues stopped by a host protocol violation. */
  queueErrors: number;
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
  callbackErrors: number;
  kicks: number;
  kicksSuppressed: number;
  internalErrors: number;
}

export type ConsoleDataCallback = (data: Uint8Array) => void;

interface Ring {
  readonly label: string;
  readonly vq: VirtqueueDevice;
  readonly notifyId: number;
  readonly memory: Uint8Array;
  broken: string | undefined;
  dirty: boolean;
}

interface Session {
  /** vring0: the host's receive buffers (device-writable): what we write fills them. */
  readonly receiveq: Ring;
  /** vring1: the host's output (device-readable): what we read. */
  readonly transmitq: Ring;
  readonly features: number;
}

function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
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

  private readonly options: ConsoleDeviceOptions;
  private readonly table: Uint8Array;
  private readonly live: LiveVdevFields;
  private readonly supported: number;
  private readonly listeners = new Set<ConsoleDataCallback>();
  private stateValue: ConsoleDeviceState = 'wait-driver-ok';
  private session: Session | undefined;
  /** Written bytes not yet in a host buffer: copies, consumed from the front. */
  private readonly queue: Uint8Array[] = [];
  private queueHeadOff = 0;
  private queued = 0;
  private servicing = false;
  private readonly diag: DeviceDiagnostics;
  private readonly chain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };

  /** Throws RprocError when the options or the firmware's own table are unusable. */
  constructor(options: ConsoleDeviceOptions) {
    this.options = options;
    this.name = options.name ?? 'console';
    this.diag = new DeviceDiagnostics(this.name, this.stats, options.onError);
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
    this.supported = (options.features ?? CONSOLE_DEVICE_SUPPORTED_FEATURES) >>> 0;
    this.table = this.resolveTable(options.table);
    this.location = findVdev(this.table, {
      ids: options.deviceIds ?? CONSOLE_DEVICE_IDS,
      ...(options.vdevIndex === undefined ? {} : { index: options.vdevIndex }),
      what: 'console vdev',
      op: OP,
    });
    this.live = new LiveVdevFields(this.table, this.location, OP);
  }

  private resolveTable(table: ConsoleDeviceOptions['table']): Uint8Array {
    if (table instanceof Uint8Array) return table;
    const { da, size } = table;
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RprocError('EINVAL', OP, `resource table size ${String(size)} is not a positive integer`);
    }
    const view = this.diag.safeTranslate(this.options.translate, da, size);
    if (view?.length !== size) {
      throw new RprocError(
        'EFAULT',
        OP,
        `resource table at da ${hex(da)} (${hex(size)} bytes) is outside the core's memory map`,
      );
    }
    return view;
  }

  get state(): ConsoleDeviceState {
    return this.stateValue;
  }

  /** The virtio device id of the vdev this device serves (11 or 3). */
  get deviceId(): number {
    return this.location.id;
  }

  /** Negotiated features while ready, else 0. */
  get features(): number {
    return this.session?.features ?? 0;
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
    return this.diag.lastError;
  }

  /** Why a queue stopped, per queue, while ready. */
  get queueErrors(): { readonly receiveq: string | undefined; readonly transmitq: string | undefined } {
    return { receiveq: this.session?.receiveq.broken, transmitq: this.session?.transmitq.broken };
  }

  /** Notify ids of receiveq (vring0) and transmitq (vring1): validated while ready, else as the table holds them. */
  notifyIds(): { readonly receiveq: number; readonly transmitq: number } {
    const s = this.session;
    if (s !== undefined) return { receiveq: s.receiveq.notifyId, transmitq: s.transmitq.notifyId };
    // Host-written and unvalidated here: only reported (for doorbell routing), never used to index.
    return { receiveq: this.live.vring(0).notifyId, transmitq: this.live.vring(1).notifyId };
  }

  /**
   * Queue `bytes` for the host (copied) and send what host buffers allow now. Non-blocking, like a
   * trySend: returns how many bytes were accepted (fewer than bytes.length when the queue is full,
   * 0 when it is), or -ESHUTDOWN once closed. Bytes queued while the host is not ready (or between a
   * host reset and the next handshake) go out after the handshake.
   */
  write(bytes: Uint8Array | string): number {
    if (this.stateValue === 'closed') return -ERRNO.ESHUTDOWN;
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
    if (this.servicing || this.stateValue === 'closed') return 0;
    this.servicing = true;
    try {
      return this.serviceOnce();
    } catch (e) {
      this.internalError(e);
      return 1;
    } finally {
      this.servicing = false;
      const s = this.session;
      if (s !== undefined) {
        try {
          this.flushKicks(s);
        } catch (e) {
          this.internalError(e);
        }
      }
    }
  }

  /** Start over as if the host had reset the device (the next service() handshakes again). */
  restart(): void {
    if (this.stateValue === 'closed') return;
    if (this.session !== undefined) this.resetSession();
    else this.setState('wait-driver-ok');
  }

  /** Stop for good: queued bytes are dropped, nothing more is written to the rings. */
  close(): void {
    if (this.stateValue === 'closed') return;
    this.session = undefined;
    this.queue.length = 0;
    this.queued = 0;
    this.queueHeadOff = 0;
    this.setState('closed');
  }

  // ---------------------------------------------------------------------------------------------

  private serviceOnce(): number {
    let work = 0;
    const up = this.hostUp();
    if (this.session !== undefined && !up) {
      this.resetSession();
      work++;
    } else if (this.stateValue === 'invalid' && !up) {
      this.setState('wait-driver-ok');
      work++;
    }
    if (this.stateValue === 'wait-driver-ok' && up) {
      this.handshake();
      work++;
    }
    const s = this.session;
    if (s === undefined) return work;
    // A few rounds: arming notifications may reveal buffers no kick will announce.
    for (let round = 0; round < 4; round++) {
      work += this.fillHostBuffers(s) + this.takeHostOutput(s);
      this.flushKicks(s);
      if (this.session !== s) break; // closed or reset from a callback
      if (this.armNotifications(s)) break;
      if (round === 3) work++;
    }
    return work;
  }

  /**
   * DRIVER_OK set and FAILED clear. The status byte is host-written and may hold anything; only
   * these two bits are looked at.
   */
  private hostUp(): boolean {
    const status = this.live.status();
    return (status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (status & VIRTIO_CONFIG_S_FAILED) === 0;
  }

  private setState(state: ConsoleDeviceState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    const hook = this.options.onStateChange;
    if (hook !== undefined) this.diag.userHook(() => hook(state), 'onStateChange');
  }

  private handshake(): void {
    const built = this.buildSession();
    if (typeof built === 'string') {
      this.stats.configErrors++;
      this.diag.report(`DRIVER_OK seen but the host's vring setup is invalid: ${built}; waiting for a reset`);
      this.setState('invalid');
      return;
    }
    // No kicks for reposted receive buffers unless bytes wait for them (armNotifications).
    built.receiveq.vq.disableNotify();
    this.session = built;
    this.stats.handshakes++;
    this.setState('ready');
  }

  private resetSession(): void {
    this.stats.resets++;
    this.session = undefined;
    this.setState('wait-driver-ok');
  }

  /** Read and validate the host's setup from the live table: a session, or why it is unusable. */
  private buildSession(): Session | string {
    // gfeatures is host-written: masked with what the firmware offered (its own dfeatures, kept
    // from parse time) and what we implement, so the host cannot switch on anything else.
    const features = (this.live.gfeatures() & this.location.dfeatures & this.supported) >>> 0;
    const receiveq = this.mapRing(CONSOLE_RECEIVEQ, features);
    if (typeof receiveq === 'string') return receiveq;
    const transmitq = this.mapRing(CONSOLE_TRANSMITQ, features);
    if (typeof transmitq === 'string') return transmitq;
    if (receiveq.notifyId === transmitq.notifyId) {
      return `vring0 and vring1 have the same notify id ${hex(receiveq.notifyId)}`;
    }
    if (overlaps(receiveq.memory, transmitq.memory)) return 'vring0 and vring1 overlap';
    if (overlaps(receiveq.memory, this.table) || overlaps(transmitq.memory, this.table)) {
      return 'a vring overlaps the resource table';
    }
    return { receiveq, transmitq, features };
  }

  private mapRing(i: 0 | 1, features: number): Ring | string {
    const parsed = this.location.vrings[i];
    // da and notifyid are host-written, num and align firmware-written in host-writable memory:
    // all four are read once into locals and validated before use; only the parse-time num/align
    // (validated geometry) size anything.
    const v = this.live.vring(i);
    if (v.num !== parsed.num || v.align !== parsed.align) {
      return `vring${i} num/align ${hex(v.num)}/${hex(v.align)} differ from the firmware's ${hex(parsed.num)}/${hex(parsed.align)}`;
    }
    if (v.da === FW_RSC_ADDR_ANY) return `vring${i} da is still FW_RSC_ADDR_ANY: the host did not place it`;
    if (v.da % parsed.align !== 0)
      return `vring${i} da ${hex(v.da)} is not aligned to its align ${hex(parsed.align)}`;
    if (v.notifyId === U32_MAX) return `vring${i} notifyid is 0xffffffff (unassigned)`;
    const size = vringSize(parsed.num, parsed.align);
    // The translator bounds [da, da + size): the ring lies entirely in memory we can see.
    const memory = this.diag.safeTranslate(this.options.translate, v.da, size);
    if (memory?.length !== size) {
      return `vring${i} at da ${hex(v.da)} (${hex(size)} bytes) is outside the core's memory`;
    }
    const label = i === CONSOLE_RECEIVEQ ? 'vring0 (receiveq)' : 'vring1 (transmitq)';
    const translateBus = this.options.translateBus ?? this.options.translate;
    try {
      const vq = new VirtqueueDevice({
        memory,
        num: parsed.num,
        align: parsed.align,
        features,
        name: `${this.name} ${label}`,
        translate: (addr, len) => this.diag.safeTranslate(translateBus, addr, len),
      });
      return { label, vq, notifyId: v.notifyId, memory, broken: undefined, dirty: false };
    } catch (e) {
      return `vring${i} at da ${hex(v.da)}: ${errorText(e)}`;
    }
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
        this.checkRing(ring);
        break;
      }
      const problem = this.unusableRxChain(s, chain);
      if (problem !== undefined) {
        this.stats.txBadBuffers++;
        if (ring.vq.pushUsed(chain.head, 0) === 0) ring.dirty = true;
        this.diag.report(`receive buffer ${hex(chain.head)} ${problem}; returned empty`);
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
        this.internalError(new Error(`receiveq head ${hex(chain.head)} was not in flight`));
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
        overlaps(b.view, this.table)
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
        this.checkRing(ring);
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
        for (const cb of this.listeners) this.diag.userHook(() => cb(data), 'onData callback');
      }
      // used.len 0: the device wrote nothing into device-readable buffers (the driver ignores it).
      if (ring.vq.pushUsed(head, 0) !== 0) {
        this.internalError(new Error(`transmitq head ${hex(head)} was not in flight`));
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

  private flushKicks(s: Session): void {
    this.kickRing(s.receiveq);
    this.kickRing(s.transmitq);
  }

  private kickRing(ring: Ring): void {
    if (!ring.dirty) return;
    ring.dirty = false;
    // kickPrepare publishes used.idx, then reads the host's avail.flags / used_event: any value
    // there only decides whether we notify.
    if (!ring.vq.kickPrepare()) {
      this.stats.kicksSuppressed++;
      return;
    }
    this.stats.kicks++;
    try {
      this.options.notify(ring.notifyId);
    } catch (e) {
      this.stats.callbackErrors++;
      this.diag.report(`notify(${ring.notifyId}) threw: ${errorText(e)}`);
    }
  }

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
    this.checkRing(transmitq);
    this.checkRing(receiveq);
    return quiet;
  }

  /** For write() outside service(): fill what buffers allow, arm receiveq, kick. */
  private flushOutside(): void {
    const s = this.session;
    if (s === undefined || this.servicing || !this.hostUp()) return;
    this.servicing = true;
    try {
      for (let round = 0; round < 4 && this.session === s; round++) {
        this.fillHostBuffers(s);
        this.flushKicks(s);
        if (s.receiveq.broken !== undefined) break;
        if (this.queued === 0) {
          s.receiveq.vq.disableNotify();
          break;
        }
        // avail.idx (host-written) is validated by VirtqueueDevice; a violation is picked up below.
        if (s.receiveq.vq.enableNotify()) break;
      }
      this.checkRing(s.receiveq);
    } catch (e) {
      this.internalError(e);
    } finally {
      this.servicing = false;
      if (this.session === s) this.flushKicks(s);
    }
  }

  // ---- errors ----------------------------------------------------------------------------------

  private checkRing(ring: Ring): void {
    if (ring.broken !== undefined || ring.vq.error === undefined) return;
    ring.broken = ring.vq.error;
    this.stats.queueErrors++;
    this.diag.report(`${ring.broken}; ${ring.label} stopped until the host resets the device`);
  }

  private internalError(e: unknown): void {
    this.stats.internalErrors++;
    const why = `internal error: ${errorText(e)}`;
    const s = this.session;
    if (s !== undefined) {
      s.receiveq.broken ??= why;
      s.transmitq.broken ??= why;
    }
    this.diag.report(why);
  }
}
