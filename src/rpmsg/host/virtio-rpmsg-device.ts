// One rpmsg bus over one virtio device: the RX and TX buffer pools in device-visible memory, the
// two virtqueues (vring0 = remote → host, vring1 = host → remote), the endpoint address table, the
// name service at address 53 and the channels it creates. Mirrors struct virtproc_info and
// rpmsg_probe/rpmsg_send_offchannel_raw/rpmsg_recv_single/rpmsg_ns_cb of virtio_rpmsg_bus.c and
// rpmsg_ns.c. The remote is untrusted: every length it writes is validated before use.

import { ERRNO, RprocError, hex } from '../../util/errors.ts';
import type { VirtioDevice, DmaRegion } from '../../virtio/virtio-device.ts';
import type { VirtqueueDriver } from '../../virtio/vring-driver.ts';
import {
  RPMSG_ADDR_ANY,
  RPMSG_HDR_SIZE,
  RPMSG_MAX_NUM_BUFS,
  RPMSG_NS_ADDR,
  RPMSG_NS_CREATE,
  RPMSG_NS_DESTROY,
  RPMSG_RESERVED_ADDRESSES,
  VIRTIO_RPMSG_F_NS,
  decodeNsMsg,
  encodeNsMsg,
  readRpmsgHdr,
  writeRpmsgHdr,
} from '../rpmsg-wire.ts';
import { RpmsgChannel, type ChannelOwner } from './rpmsg-channel.ts';
import {
  RpmsgEndpoint,
  type EndpointTransport,
  type RpmsgRxCallback,
  type RxContext,
  type TxBuffer,
} from './rpmsg-endpoint.ts';

export interface RpmsgBufferConfig {
  /** Size of each host → remote buffer, header included (Linux: 512). */
  readonly txBufSize: number;
  /** Size of each remote → host buffer, header included (Linux: 512). */
  readonly rxBufSize: number;
}

export interface RpmsgDeviceStats {
  rx: number;
  tx: number;
  /** Messages dropped because a length the remote wrote was impossible. */
  rxMalformed: number;
  /** Messages to an address nobody listens on. */
  rxNoRecipient: number;
  /** Name-service messages that were not 40 bytes, or named an impossible channel. */
  nsMalformed: number;
  txKicks: number;
  rxKicks: number;
}

/** What the device reports to the host-wide registry. */
export interface RpmsgDeviceEvents {
  channelAdded(channel: RpmsgChannel): void;
  channelRemoved(channel: RpmsgChannel): void;
  error(device: VirtioRpmsgDevice, reason: string): void;
}

interface TxWaiter {
  resolve(): void;
  reject(e: RprocError): void;
  timer: NodeJS.Timeout | undefined;
}

export class VirtioRpmsgDevice implements EndpointTransport, ChannelOwner {
  readonly vdev: VirtioDevice;
  readonly stats: RpmsgDeviceStats = {
    rx: 0,
    tx: 0,
    rxMalformed: 0,
    rxNoRecipient: 0,
    nsMalformed: 0,
    txKicks: 0,
    rxKicks: 0,
  };
  readonly mtu: number;
  private readonly config: RpmsgBufferConfig;
  private readonly events: RpmsgDeviceEvents;
  private readonly rvq: VirtqueueDriver<number>;
  private readonly svq: VirtqueueDriver<number>;
  private readonly rxViews: Uint8Array[] = [];
  private readonly rxAddrs: bigint[] = [];
  private readonly txViews: Uint8Array[] = [];
  private readonly txAddrs: bigint[] = [];
  private readonly txPayloads: Uint8Array[] = [];
  /** TX buffers never used yet are handed out first, as Linux does (last_sbuf). */
  private lastSbuf = 0;
  /** TX buffers returned by the remote or released unused, ready for reuse. */
  private readonly txFree: number[] = [];
  private readonly txWaiters: TxWaiter[] = [];
  private readonly endpoints = new Map<number, RpmsgEndpoint>();
  private readonly channels: RpmsgChannel[] = [];
  private readonly dma: DmaRegion;
  private nsEnabled = false;
  private removedFlag = false;
  private brokenReason: string | undefined;

  constructor(vdev: VirtioDevice, config: RpmsgBufferConfig, events: RpmsgDeviceEvents) {
    this.vdev = vdev;
    this.config = config;
    this.events = events;
    this.mtu = config.txBufSize - RPMSG_HDR_SIZE;
    [this.rvq, this.svq] = this.createQueues();
    // Linux sizes the pool from the RX ring: 2 × num, at most 512 buffers, half each way.
    const numBufs = Math.min(this.rvq.num * 2, RPMSG_MAX_NUM_BUFS);
    const rxNum = numBufs / 2;
    const txNum = numBufs / 2;
    const total = rxNum * config.rxBufSize + txNum * config.txBufSize;
    this.dma = vdev.allocDma(total);
    for (let i = 0; i < rxNum; i++) {
      const off = i * config.rxBufSize;
      this.rxViews.push(this.dma.view.subarray(off, off + config.rxBufSize));
      this.rxAddrs.push(this.dma.addr + BigInt(off));
    }
    const txBase = rxNum * config.rxBufSize;
    for (let i = 0; i < txNum; i++) {
      const off = txBase + i * config.txBufSize;
      const view = this.dma.view.subarray(off, off + config.txBufSize);
      this.txViews.push(view);
      this.txPayloads.push(view.subarray(RPMSG_HDR_SIZE));
      this.txAddrs.push(this.dma.addr + BigInt(off));
    }
  }

  private createQueues(): [VirtqueueDriver<number>, VirtqueueDriver<number>] {
    const [rvq, svq] = this.vdev.findVqs<number>([
      { name: 'input', callback: () => this.onRx() },
      { name: 'output', callback: () => this.onTxDone() },
    ]);
    if (rvq === undefined || svq === undefined) {
      throw new RprocError('ENOMEM', 'rpmsg-probe', `${this.vdev.name}: rpmsg needs two virtqueues`);
    }
    return [rvq, svq];
  }

  get deviceName(): string {
    return this.vdev.name;
  }

  get removed(): boolean {
    return this.removedFlag;
  }

  get broken(): string | undefined {
    return this.brokenReason;
  }

  get channelList(): readonly RpmsgChannel[] {
    return this.channels;
  }

  /** rpmsg_probe after the queues: post every RX buffer, name service, DRIVER_OK, kick. */
  start(): void {
    for (let i = 0; i < this.rxViews.length; i++) {
      const err = this.rvq.addInbuf(this.rxAddrs[i] ?? 0n, this.config.rxBufSize, i);
      if (err !== 0) break; // the RX ring is smaller than the pool (num > 256): the rest wait
    }
    // TX-complete interrupts only while a sender waits for a buffer.
    this.svq.disableCb();
    if (this.vdev.hasFeature(VIRTIO_RPMSG_F_NS)) {
      this.nsEnabled = true;
      this.endpoints.set(
        RPMSG_NS_ADDR,
        new RpmsgEndpoint(this, RPMSG_NS_ADDR, (data, src) => this.onNs(data, src)),
      );
    }
    // DRIVER_OK first, then the RX kick: the remote's first look at the queues finds them ready.
    this.vdev.ready();
    this.kickRx();
    this.vdev.log('info', `${this.vdev.name}: rpmsg host is online`);
  }

  /** rpmsg_remove: every channel and endpoint goes, waiting senders fail, buffers are freed. */
  remove(reason: string): void {
    if (this.removedFlag) return;
    this.removedFlag = true;
    const error = new RprocError('EPIPE', 'rpmsg', `${this.vdev.name}: ${reason}`);
    for (const ch of this.channels.splice(0)) {
      ch.markRemoved();
      this.events.channelRemoved(ch);
    }
    for (const ept of [...this.endpoints.values()]) ept.markDestroyed(error);
    this.endpoints.clear();
    for (const w of this.txWaiters.splice(0)) this.settleWaiter(w, error);
    this.rvq.detachUnusedBufs();
    this.svq.detachUnusedBufs();
    this.dma.free();
  }

  // ---- endpoints and channels -----------------------------------------------------------

  /** rpmsg_create_ept: `addr` undefined or ANY takes the lowest free address ≥ 1024. */
  createEndpoint(
    callback: RpmsgRxCallback | undefined,
    addr?: number,
    channel?: RpmsgChannel,
  ): RpmsgEndpoint {
    if (this.removedFlag) throw new RprocError('ENODEV', 'rpmsg-create-ept', `${this.vdev.name} is gone`);
    let a = addr ?? RPMSG_ADDR_ANY;
    if (a === RPMSG_ADDR_ANY) {
      a = RPMSG_RESERVED_ADDRESSES;
      while (this.endpoints.has(a)) a++;
    } else if (this.endpoints.has(a)) {
      throw new RprocError('EBUSY', 'rpmsg-create-ept', `address ${a} is already taken on ${this.vdev.name}`);
    }
    const ept = new RpmsgEndpoint(this, a, callback, channel);
    this.endpoints.set(a, ept);
    return ept;
  }

  destroyEndpoint(ept: RpmsgEndpoint): void {
    if (this.endpoints.get(ept.addr) === ept) this.endpoints.delete(ept.addr);
    ept.markDestroyed(new RprocError('EPIPE', 'rpmsg', `endpoint ${ept.addr} destroyed`));
  }

  /** Announce a local service to the remote (NS CREATE from `ept`), if the remote supports NS. */
  announce(name: string, ept: RpmsgEndpoint, destroy = false): number {
    if (!this.nsEnabled) return -ERRNO.EOPNOTSUPP;
    return this.trySendRaw(
      ept.addr,
      RPMSG_NS_ADDR,
      encodeNsMsg({ name, addr: ept.addr, flags: destroy ? RPMSG_NS_DESTROY : RPMSG_NS_CREATE }),
    );
  }

  private onNs(data: Uint8Array, src: number): void {
    const msg = decodeNsMsg(data);
    if (msg === undefined) {
      this.stats.nsMalformed++;
      this.vdev.log(
        'warn',
        `${this.vdev.name}: malformed ns msg (${data.length} bytes from ${src}, expected 40)`,
      );
      return;
    }
    if (msg.addr === RPMSG_ADDR_ANY || msg.addr === RPMSG_NS_ADDR || msg.name === '') {
      this.stats.nsMalformed++;
      this.vdev.log(
        'warn',
        `${this.vdev.name}: ns msg names an impossible channel "${msg.name}" at ${hex(msg.addr)}`,
      );
      return;
    }
    if ((msg.flags & RPMSG_NS_DESTROY) !== 0) {
      const ch = this.channels.find((c) => c.name === msg.name && c.dst === msg.addr);
      if (ch === undefined) {
        this.vdev.log(
          'warn',
          `${this.vdev.name}: rpmsg_destroy_channel failed: no channel "${msg.name}" at ${msg.addr}`,
        );
        return;
      }
      this.removeChannel(ch, `the remote destroyed channel "${msg.name}"`);
      return;
    }
    if (this.channels.some((c) => c.name === msg.name && c.dst === msg.addr)) {
      this.vdev.log('warn', `${this.vdev.name}: channel ${msg.name}:${msg.addr} already exist`);
      return;
    }
    const ch = new RpmsgChannel(this, msg.name, msg.addr);
    this.channels.push(ch);
    this.events.channelAdded(ch);
  }

  private removeChannel(ch: RpmsgChannel, reason: string): void {
    const i = this.channels.indexOf(ch);
    if (i >= 0) this.channels.splice(i, 1);
    ch.markRemoved();
    const ept = ch.ept;
    if (ept !== undefined) {
      if (this.endpoints.get(ept.addr) === ept) this.endpoints.delete(ept.addr);
      ept.markDestroyed(new RprocError('EPIPE', 'rpmsg', reason));
    }
    this.events.channelRemoved(ch);
  }

  // ---- sending ---------------------------------------------------------------------------

  private takeTxIndex(): number | undefined {
    if (this.lastSbuf < this.txViews.length) return this.lastSbuf++;
    const free = this.txFree.pop();
    if (free !== undefined) return free;
    // Reclaim what the remote has returned on the TX queue's used ring (validated there).
    const used = this.svq.takeUsed();
    if (used === undefined) this.checkTxQueue();
    return used;
  }

  private checkSend(src: number, dst: number, len: number): number {
    if (this.removedFlag) return -ERRNO.EPIPE;
    if (this.brokenReason !== undefined) return -ERRNO.EIO;
    if (src === RPMSG_ADDR_ANY || dst === RPMSG_ADDR_ANY) return -ERRNO.EINVAL;
    if (len > this.mtu) return -ERRNO.EMSGSIZE;
    return 0;
  }

  trySendRaw(src: number, dst: number, data: Uint8Array): number {
    const err = this.checkSend(src, dst, data.length);
    if (err !== 0) return err;
    const index = this.takeTxIndex();
    if (index === undefined) return -ERRNO.ENOMEM;
    const payload = this.txPayloads[index];
    if (payload === undefined) return -ERRNO.EIO;
    payload.set(data);
    return this.post(index, src, dst, data.length);
  }

  async sendRaw(src: number, dst: number, data: Uint8Array, timeoutMs: number): Promise<void> {
    for (;;) {
      const err = this.trySendRaw(src, dst, data);
      if (err === 0) return;
      if (err !== -ERRNO.ENOMEM) throw sendError(err, this.vdev.name, data.length, this.mtu);
      await this.waitTxBuffer(timeoutMs);
    }
  }

  getTxBuffer(): TxBuffer | undefined {
    if (this.removedFlag || this.brokenReason !== undefined) return undefined;
    const index = this.takeTxIndex();
    const payload = index === undefined ? undefined : this.txPayloads[index];
    return index === undefined || payload === undefined
      ? undefined
      : { payload: payload.subarray(0, this.mtu), index };
  }

  sendNoCopy(buf: TxBuffer, src: number, dst: number, len: number): number {
    const err = this.checkSend(src, dst, len);
    if (err !== 0) {
      this.releaseTxBuffer(buf);
      return err;
    }
    return this.post(buf.index, src, dst, len);
  }

  releaseTxBuffer(buf: TxBuffer): void {
    this.txFree.push(buf.index);
    this.wakeTxWaiter();
  }

  private post(index: number, src: number, dst: number, len: number): number {
    const view = this.txViews[index];
    const addr = this.txAddrs[index];
    if (view === undefined || addr === undefined) return -ERRNO.EIO;
    writeRpmsgHdr(view, src, dst, len);
    const err = this.svq.addOutbuf(addr, RPMSG_HDR_SIZE + len, index);
    if (err !== 0) {
      // Unlike Linux (which loses the buffer here), keep it for the next sender.
      this.txFree.push(index);
      return err === -ERRNO.ENOSPC ? -ERRNO.ENOMEM : err;
    }
    this.stats.tx++;
    if (this.svq.kick()) this.stats.txKicks++;
    return 0;
  }

  private waitTxBuffer(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: TxWaiter = { resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        const i = this.txWaiters.indexOf(waiter);
        if (i >= 0) this.txWaiters.splice(i, 1);
        this.updateTxCb();
        reject(
          new RprocError(
            'ETIMEDOUT',
            'rpmsg-send',
            `${this.vdev.name}: no TX buffer came back within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.txWaiters.push(waiter);
      this.updateTxCb();
      // A buffer may have come back between the failed try and enabling the callback.
      if (this.svq.moreUsed()) this.onTxDone();
    });
  }

  /** TX-complete interrupts are wanted only while someone waits (Linux: sleepers counter). */
  private updateTxCb(): void {
    if (this.txWaiters.length > 0) this.svq.enableCb();
    else this.svq.disableCb();
  }

  private onTxDone(): void {
    this.wakeTxWaiter();
  }

  private wakeTxWaiter(): void {
    const w = this.txWaiters.shift();
    if (w === undefined) return;
    this.settleWaiter(w);
    this.updateTxCb();
  }

  private settleWaiter(w: TxWaiter, error?: RprocError): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (error === undefined) w.resolve();
    else w.reject(error);
  }

  // ---- receiving -------------------------------------------------------------------------

  /** The RX queue's interrupt: handle every used buffer, re-post it, kick once. */
  private onRx(): void {
    let consumed = 0;
    for (;;) {
      const index = this.rvq.takeUsed();
      if (index === undefined) break;
      consumed++;
      if (!this.receiveOne(index, this.rvq.usedLen)) this.repost(index);
    }
    const broken = this.rvq.broken;
    if (broken !== undefined && this.brokenReason === undefined) this.markBroken(broken);
    if (consumed > 0) this.kickRx();
  }

  /** Returns true when the buffer is held by a receiver (it will be re-posted on release). */
  private receiveOne(index: number, usedLen: number): boolean {
    const buf = this.rxViews[index];
    if (buf === undefined) return false;
    // usedLen is remote-written but was clamped by the ring layer to the buffer we posted
    // (rxBufSize); the header is remote-written: hdr.len must fit in what the remote says it wrote.
    if (usedLen < RPMSG_HDR_SIZE) {
      this.stats.rxMalformed++;
      this.vdev.log(
        'warn',
        `${this.vdev.name}: inbound message of ${usedLen} bytes is shorter than its header`,
      );
      return false;
    }
    const hdr = readRpmsgHdr(buf);
    if (hdr.len > usedLen - RPMSG_HDR_SIZE) {
      this.stats.rxMalformed++;
      this.vdev.log(
        'warn',
        `${this.vdev.name}: inbound msg too big: hdr.len ${hex(hdr.len)} in a ${hex(usedLen)}-byte buffer`,
      );
      return false;
    }
    this.stats.rx++;
    const ept = this.endpoints.get(hdr.dst);
    if (ept === undefined) {
      this.stats.rxNoRecipient++;
      return false;
    }
    let held = false;
    const ctx: RxContext = {
      hold: () => {
        held = true;
        let released = false;
        return () => {
          if (released) return;
          released = true;
          this.repost(index);
          this.kickRx();
        };
      },
    };
    try {
      ept.deliver(buf.subarray(RPMSG_HDR_SIZE, RPMSG_HDR_SIZE + hdr.len), hdr.src, ctx);
    } catch (e) {
      this.vdev.log(
        'error',
        `${this.vdev.name}: endpoint ${ept.addr} callback threw: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return held;
  }

  private repost(index: number): void {
    if (this.removedFlag) return;
    this.rvq.addInbuf(this.rxAddrs[index] ?? 0n, this.config.rxBufSize, index);
  }

  private kickRx(): void {
    if (this.rvq.kick()) this.stats.rxKicks++;
  }

  private markBroken(reason: string): void {
    this.brokenReason = reason;
    this.vdev.log('error', `${this.vdev.name}: virtqueue broken: ${reason}`);
    this.events.error(this, reason);
    for (const w of this.txWaiters.splice(0)) this.settleWaiter(w, new RprocError('EIO', 'rpmsg', reason));
  }

  /** Called when the TX queue reports a violation during reclaim. */
  checkTxQueue(): void {
    const broken = this.svq.broken;
    if (broken !== undefined && this.brokenReason === undefined) this.markBroken(broken);
  }
}

function sendError(err: number, device: string, len: number, mtu: number): RprocError {
  switch (-err) {
    case ERRNO.EMSGSIZE:
      return new RprocError(
        'EMSGSIZE',
        'rpmsg-send',
        `${len}-byte message is larger than the MTU ${mtu} of ${device}`,
      );
    case ERRNO.EINVAL:
      return new RprocError('EINVAL', 'rpmsg-send', `invalid address (ANY) for a send on ${device}`);
    case ERRNO.EPIPE:
      return new RprocError('EPIPE', 'rpmsg-send', `${device} is gone`);
    default:
      return new RprocError('EIO', 'rpmsg-send', `send on ${device} failed (${err})`);
  }
}
