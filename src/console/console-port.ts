// Port 0 of one virtio console device, host side, as a Node Duplex byte stream: reads are the bytes
// the remote wrote into the receive buffers we posted on receiveq, writes go out on transmitq in
// chunks of at most one TX buffer, waiting for buffers to come back. Backpressure runs end to end:
// while the reader is behind, used receive buffers are left on the ring (so the remote runs out of
// buffers), and a write completes only once every chunk is posted. Mirrors the single-port path of
// drivers/char/virtio_console.c (fill_queue, get_inbuf, __send_to_port, reclaim_consumed_buffers).

import { Duplex } from 'node:stream';
import { RprocError } from '../util/errors.ts';
import type { DmaRegion, VirtioDevice } from '../virtio/virtio-device.ts';
import type { VirtqueueDriver } from '../virtio/vring-driver.ts';
import { VIRTIO_CONSOLE_CONFIG, VIRTIO_CONSOLE_F_SIZE, VIRTIO_ID_CONSOLE } from './console-constants.ts';

/** Buffer pools of one port; counts are capped by the ring sizes. */
export interface ConsoleBufferConfig {
  /** Bytes per receive buffer (remote → host); Linux uses a page. */
  readonly rxBufSize: number;
  readonly rxBufCount: number;
  /** Bytes per transmit buffer: the largest chunk one write is cut into. */
  readonly txBufSize: number;
  readonly txBufCount: number;
}

export interface ConsolePortStats {
  /** Bytes and buffers received from the remote. */
  rxBytes: number;
  rxBuffers: number;
  /** Used receive buffers reporting 0 bytes (re-posted, nothing delivered). */
  rxEmpty: number;
  /** Used receive buffers whose length exceeded the buffer (clamped by the ring layer, counted here). */
  rxMalformed: number;
  /** Bytes received after the stream was closed by its user (the device keeps running). */
  rxDiscarded: number;
  /** Bytes and buffers sent to the remote. */
  txBytes: number;
  txBuffers: number;
  rxKicks: number;
  txKicks: number;
}

/** What the port reports to its owner (the console host). */
export interface ConsolePortOwner {
  broken(port: VirtioConsolePort, reason: string): void;
}

export interface ConsoleSize {
  readonly cols: number;
  readonly rows: number;
}

interface PendingWrite {
  readonly data: Uint8Array;
  off: number;
  readonly callback: (error?: Error | null) => void;
}

const OP = 'virtio-console';

/**
 * A console port. Created by the console driver at probe (the device is up when the host's 'port'
 * event fires); ended when the device goes away (remote stopped or crashed: EPIPE) or breaks a
 * queue (EIO). The stream ends with that RprocError as its 'error' when someone listens for errors
 * (for await, pipeline, on('error')); otherwise it just closes, with the error in `endError`: a
 * port nobody watches must not take the host process down when its remote stops.
 */
export class VirtioConsolePort extends Duplex {
  readonly vdev: VirtioDevice;
  /** vport<N>p0, as Linux names the character device of port 0 of virtio<N>. */
  readonly name: string;
  readonly deviceId: number;
  /** cols/rows from the config space when VIRTIO_CONSOLE_F_SIZE was negotiated (console id 3). */
  readonly size: ConsoleSize | undefined;
  readonly stats: ConsolePortStats = {
    rxBytes: 0,
    rxBuffers: 0,
    rxEmpty: 0,
    rxMalformed: 0,
    rxDiscarded: 0,
    txBytes: 0,
    txBuffers: 0,
    rxKicks: 0,
    txKicks: 0,
  };
  private readonly config: ConsoleBufferConfig;
  private readonly owner: ConsolePortOwner;
  private readonly rvq: VirtqueueDriver<number>;
  private readonly svq: VirtqueueDriver<number>;
  private readonly dma: DmaRegion;
  private readonly rxViews: Uint8Array[] = [];
  private readonly rxAddrs: bigint[] = [];
  private readonly txViews: Uint8Array[] = [];
  private readonly txAddrs: bigint[] = [];
  /** TX buffer indices free for reuse (never used ones first, then those the remote returned). */
  private readonly txFree: number[] = [];
  private pending: PendingWrite | undefined;
  private readPaused = false;
  private draining = false;
  private pumping = false;
  private lenClampedSeen = 0;
  private detachedFlag = false;
  private brokenError: RprocError | undefined;
  private endErrorValue: RprocError | undefined;

  /** find_vqs and buffer allocation; throws RprocError (the probe fails) when either fails. */
  constructor(vdev: VirtioDevice, name: string, config: ConsoleBufferConfig, owner: ConsolePortOwner) {
    super({ allowHalfOpen: true });
    this.vdev = vdev;
    this.name = name;
    this.deviceId = vdev.deviceId;
    this.config = config;
    this.owner = owner;
    const [rvq, svq] = vdev.findVqs<number>([
      { name: 'input', callback: () => this.drainRx() },
      { name: 'output', callback: () => this.pumpTx() },
    ]);
    if (rvq === undefined || svq === undefined) {
      throw new RprocError('ENOMEM', 'console-probe', `${vdev.name}: the console needs two virtqueues`);
    }
    this.rvq = rvq;
    this.svq = svq;
    const rxNum = Math.min(config.rxBufCount, rvq.num);
    const txNum = Math.min(config.txBufCount, svq.num);
    this.dma = vdev.allocDma(rxNum * config.rxBufSize + txNum * config.txBufSize);
    for (let i = 0; i < rxNum; i++) {
      const off = i * config.rxBufSize;
      this.rxViews.push(this.dma.view.subarray(off, off + config.rxBufSize));
      this.rxAddrs.push(this.dma.addr + BigInt(off));
    }
    const txBase = rxNum * config.rxBufSize;
    for (let i = 0; i < txNum; i++) {
      const off = txBase + i * config.txBufSize;
      this.txViews.push(this.dma.view.subarray(off, off + config.txBufSize));
      this.txAddrs.push(this.dma.addr + BigInt(off));
    }
    // Popped from the end: lowest index first.
    for (let i = txNum - 1; i >= 0; i--) this.txFree.push(i);
    this.size = this.readSize();
  }

  /** The processor this port belongs to. */
  get parentName(): string {
    return this.vdev.parentName;
  }

  /** The device went away (remote stopped or crashed); the stream has ended. */
  get detached(): boolean {
    return this.detachedFlag;
  }

  /** Why a queue stopped (EIO naming how the remote broke the ring protocol), or undefined. */
  get broken(): RprocError | undefined {
    return this.brokenError;
  }

  /** The error the port ended with (EPIPE: device gone; EIO: queue broken), or undefined. */
  get endError(): RprocError | undefined {
    return this.endErrorValue;
  }

  /** RX buffers posted, then DRIVER_OK, then the kick (virtcons_probe's order). */
  start(): void {
    for (let i = 0; i < this.rxViews.length; i++) {
      if (this.rvq.addInbuf(this.rxAddrs[i] ?? 0n, this.config.rxBufSize, i) !== 0) break;
    }
    this.rvq.flush();
    // TX-complete interrupts only while a write waits for buffers.
    this.svq.disableCb();
    this.vdev.ready();
    if (this.rvq.kick()) this.stats.rxKicks++;
  }

  /** The driver's remove: buffers reclaimed and freed, the stream ended with EPIPE. */
  detach(reason: string): void {
    if (this.detachedFlag) return;
    this.detachedFlag = true;
    this.rvq.detachUnusedBufs();
    this.svq.detachUnusedBufs();
    this.dma.free();
    this.endWith(new RprocError('EPIPE', OP, `${this.name} (${this.parentName}): ${reason}`));
  }

  private endWith(error: RprocError): void {
    this.endErrorValue ??= error;
    if (this.destroyed) return;
    this.destroy(this.listenerCount('error') > 0 ? error : undefined);
  }

  private readSize(): ConsoleSize | undefined {
    if (this.deviceId !== VIRTIO_ID_CONSOLE || !this.vdev.hasFeature(VIRTIO_CONSOLE_F_SIZE)) return undefined;
    // Config space is remote-written: configGet bounds the read by config_len (undefined when the
    // entry is too short) and returns a copy; any u16 values are just reported.
    const bytes = this.vdev.configGet(VIRTIO_CONSOLE_CONFIG.cols, 4);
    if (bytes === undefined) return undefined;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      cols: dv.getUint16(VIRTIO_CONSOLE_CONFIG.cols, true),
      rows: dv.getUint16(VIRTIO_CONSOLE_CONFIG.rows, true),
    };
  }

  // ---- remote → host ----------------------------------------------------------------------

  override _read(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.drainRx();
  }

  /** receiveq's interrupt (and _read after a pause): take used buffers while the reader keeps up. */
  private drainRx(): void {
    if (this.draining || this.detachedFlag) return;
    this.draining = true;
    let consumed = 0;
    try {
      // A stream its user closed keeps draining (and discarding): the remote must not stall.
      while (!this.readPaused || this.destroyed) {
        // The used ring is remote-written: takeUsed checks the id against what we posted (a bad
        // one breaks the queue, see checkBroken) and clamps the length to the posted buffer.
        const index = this.rvq.takeUsed();
        if (index === undefined) break;
        consumed++;
        this.receiveOne(index, this.rvq.usedLen);
      }
    } finally {
      this.draining = false;
    }
    this.noteClamps();
    if (consumed > 0 && this.rvq.kick()) this.stats.rxKicks++;
    this.checkBroken(this.rvq);
  }

  private receiveOne(index: number, usedLen: number): void {
    const buf = this.rxViews[index];
    if (buf === undefined) return;
    // usedLen is remote-written, but the ring layer clamped it to the length we posted for this
    // buffer (rxBufSize), so the slice stays inside our own buffer. The bytes are the remote's
    // data, never interpreted: copied out before the buffer goes back to the remote.
    const data = Buffer.from(buf.subarray(0, usedLen));
    this.repost(index);
    if (usedLen === 0) {
      this.stats.rxEmpty++;
      return;
    }
    if (this.destroyed) {
      this.stats.rxDiscarded += usedLen;
      return;
    }
    this.stats.rxBytes += usedLen;
    this.stats.rxBuffers++;
    if (!this.push(data)) this.readPaused = true;
  }

  private repost(index: number): void {
    this.rvq.addInbuf(this.rxAddrs[index] ?? 0n, this.config.rxBufSize, index);
  }

  /** Used lengths the ring layer clamped since the last look: counted and logged as malformed. */
  private noteClamps(): void {
    const clamped = this.rvq.stats.lenClamped;
    if (clamped === this.lenClampedSeen) return;
    this.stats.rxMalformed += clamped - this.lenClampedSeen;
    this.lenClampedSeen = clamped;
    this.vdev.warn('console-rx-len', this.rvq.lastWarning ?? `${this.name}: receive length clamped`);
  }

  // ---- host → remote ----------------------------------------------------------------------

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const data = chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk));
    this.startWrite(data, callback);
  }

  override _writev(
    chunks: { chunk: unknown; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const parts = chunks.map(({ chunk }) =>
      chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk)),
    );
    this.startWrite(Buffer.concat(parts), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A console has no end-of-stream on the wire: ending our side only stops our writes.
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const w = this.pending;
    this.pending = undefined;
    w?.callback(error ?? this.endErrorValue ?? new RprocError('EPIPE', OP, `${this.name} was closed`));
    callback(error);
  }

  private startWrite(data: Uint8Array, callback: (error?: Error | null) => void): void {
    if (this.detachedFlag || this.brokenError !== undefined) {
      // The stream was destroyed when this happened, so Node fails the write without 'error'.
      callback(this.endErrorValue ?? new RprocError('EIO', OP, `${this.name} is gone`));
      return;
    }
    this.pending = { data, off: 0, callback };
    this.pumpTx();
  }

  /**
   * Post pending writes as far as TX buffers allow: finish them, or wait for transmitq's interrupt.
   * A completed write's callback may start the next write synchronously (Node hands buffered
   * chunks to _writev from inside it): that one is pumped by the same loop.
   */
  private pumpTx(): void {
    if (this.pumping || this.detachedFlag) return;
    this.pumping = true;
    try {
      for (let w = this.pending; w !== undefined; w = this.pending) {
        if (!this.pumpOne(w)) return;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** True when `w` completed (its callback ran); false when it waits for buffers or the port broke. */
  private pumpOne(w: PendingWrite): boolean {
    for (;;) {
      let posted = 0;
      while (w.off < w.data.length) {
        const index = this.takeTxIndex();
        if (index === undefined) break;
        const view = this.txViews[index];
        const addr = this.txAddrs[index];
        if (view === undefined || addr === undefined) break; // cannot happen: indices are ours
        const n = Math.min(this.config.txBufSize, w.data.length - w.off);
        view.set(w.data.subarray(w.off, w.off + n));
        if (this.svq.addOutbuf(addr, n, index) !== 0) {
          // Only a broken queue refuses (the pool never exceeds the ring): keep the buffer.
          this.txFree.push(index);
          break;
        }
        w.off += n;
        posted++;
        this.stats.txBytes += n;
        this.stats.txBuffers++;
      }
      if (posted > 0 && this.svq.kick()) this.stats.txKicks++;
      if (this.checkBroken(this.svq)) return false;
      if (w.off >= w.data.length) {
        this.pending = undefined;
        this.svq.disableCb();
        w.callback();
        return true;
      }
      // Out of buffers: wait for the interrupt, unless some came back meanwhile.
      if (this.svq.enableCb()) return false;
    }
  }

  private takeTxIndex(): number | undefined {
    const free = this.txFree.pop();
    if (free !== undefined) return free;
    // What the remote returned on transmitq, validated by the ring layer (its length is ignored:
    // the buffers were device-readable).
    return this.svq.takeUsed();
  }

  /** A queue the remote broke stops the port: reported once, the stream ends with EIO. */
  private checkBroken(vq: VirtqueueDriver<number>): boolean {
    const broken = vq.broken;
    if (broken === undefined) return false;
    if (this.brokenError !== undefined) return true;
    this.brokenError = broken;
    this.vdev.log('error', `${this.name}: virtqueue broken: ${broken.detail}`);
    this.owner.broken(this, broken.detail);
    // A ring protocol violation: the device needs a reset, the processor a restart.
    this.vdev.fatal(broken.detail);
    // Destroyed first, so that _destroy fails the pending write without a second 'error'.
    this.endWith(new RprocError('EIO', OP, `${this.name}: ${broken.detail}`, { cause: broken }));
    return true;
  }
}
