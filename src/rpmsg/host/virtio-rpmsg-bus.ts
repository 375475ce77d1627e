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
import type { RpmsgTap } from './rpmsg-tap.ts';
import { NsPacer, RPMSG_DEFAULT_NS_REFUSED_PER_SEC } from './ns-pacer.ts';
import { SpinBudget } from '../../util/spin-budget.ts';

/** Messages one RX interrupt handles before the rest wait for the next turn (Linux NAPI's weight). */
const RX_BUDGET = 64;

/**
 * How long a blocking send watches the TX queue's used ring before it sleeps on the TX-complete
 * interrupt, µs at most (adapted by SpinBudget, never below the minimum); see RpmsgHostOptions.
 */
const RPMSG_DEFAULT_TX_POLL_MAX_US = 50;
const TX_POLL_MIN_US = 4;

/** Channels one device may have (name-service announcements beyond are refused); see RpmsgHostOptions. */
export const RPMSG_DEFAULT_MAX_CHANNELS = 1024;

export interface RpmsgBufferConfig {
  /** Size of each host → remote buffer, header included (Linux: 512). */
  readonly txBufSize: number;
  /** Size of each remote → host buffer, header included (Linux: 512). */
  readonly rxBufSize: number;
  /** Channels the remote may announce on this device; default RPMSG_DEFAULT_MAX_CHANNELS. */
  readonly maxChannels?: number;
  /** RX buffers one endpoint's reader may hold; default a quarter of the device's RX buffers. */
  readonly rxHeldPerEndpoint?: number;
  /**
   * Refused name-service messages whose buffers go back at once, per second (after a burst of a
   * tenth of that); beyond, their buffers are held and returned at this rate (ns-pacer.ts). Default
   * RPMSG_DEFAULT_NS_REFUSED_PER_SEC.
   */
  readonly nsRefusedPerSecond?: number;
  /** A blocking send's poll of the used ring before it sleeps, µs (0: never); default RPMSG_DEFAULT_TX_POLL_MAX_US. */
  readonly txPollMaxUs?: number;
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
  /** Name-service messages refused: CREATE of an existing channel, DESTROY of an unknown one. */
  nsRefused: number;
  /** NS CREATEs refused because the device already has maxChannels channels. */
  nsOverLimit: number;
  /** Refused name-service messages whose RX buffer was held: the remote was over its NS budget. */
  nsPaced: number;
  /** Messages an endpoint's reader dropped because its queue was full (bounded queues). */
  rxDropped: number;
  txKicks: number;
  rxKicks: number;
  /** Blocking sends that found no TX buffer and saw one come back while polling the used ring. */
  txPollHits: number;
  /** Blocking sends that found no TX buffer and slept on the TX-complete interrupt. */
  txSleeps: number;
}

/** What the device reports to the host-wide registry. */
export interface RpmsgDeviceEvents {
  channelAdded(channel: RpmsgChannel): void;
  channelRemoved(channel: RpmsgChannel): void;
  error(device: VirtioRpmsgBus, reason: string): void;
}

interface TxWaiter {
  /** Arrival order of its send: the list is kept sorted by it. */
  readonly ticket: number;
  resolve(): void;
  reject(e: RprocError): void;
  timer: NodeJS.Timeout | undefined;
}

export class VirtioRpmsgBus implements EndpointTransport, ChannelOwner {
  readonly vdev: VirtioDevice;
  readonly stats: RpmsgDeviceStats = {
    rx: 0,
    tx: 0,
    rxMalformed: 0,
    rxNoRecipient: 0,
    nsMalformed: 0,
    nsRefused: 0,
    nsOverLimit: 0,
    nsPaced: 0,
    rxDropped: 0,
    txKicks: 0,
    rxKicks: 0,
    txPollHits: 0,
    txSleeps: 0,
  };
  readonly mtu: number;
  /** Traffic observer (tracing, fault injection); set through RpmsgHost.tap. */
  tap: RpmsgTap | undefined;
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
  /** Zero-copy buffers handed out by getTxBuffer and not yet sent or released. */
  private readonly txLent = new Set<TxBuffer>();
  /** Senders waiting for a TX buffer, oldest send first. */
  private readonly txWaiters: TxWaiter[] = [];
  private nextTicket = 0;
  private readonly endpoints = new Map<number, RpmsgEndpoint>();
  /** Dynamic addresses below this are all taken (a hint, so that allocation is not a scan). */
  private freeHint = RPMSG_RESERVED_ADDRESSES;
  /** Channels by (remote address, name): what an NS message names, found in O(1). */
  private readonly channels = new Map<string, RpmsgChannel>();
  /** Channels by name, oldest first: what a lookup by name finds. */
  private readonly byName = new Map<string, Set<RpmsgChannel>>();
  /** Most channels (maxChannels) and RX buffers one endpoint may hold. */
  readonly maxChannels: number;
  readonly rxHeldPerEndpoint: number;
  private readonly dma: DmaRegion;
  private nsEnabled = false;
  /** Paces the buffers of refused name-service messages back to the remote. */
  private readonly nsPacer: NsPacer;
  /** The RX queue had more than RX_BUDGET messages: the rest are taken in a later turn. */
  private rxPassDueFlag = false;
  private removedFlag = false;
  private brokenError: RprocError | undefined;
  /** How long a blocked sender polls the used ring before it sleeps (a budget of 0 µs never polls). */
  private readonly txPoll: SpinBudget;

  constructor(vdev: VirtioDevice, config: RpmsgBufferConfig, events: RpmsgDeviceEvents) {
    this.vdev = vdev;
    this.config = config;
    this.events = events;
    this.mtu = config.txBufSize - RPMSG_HDR_SIZE;
    [this.rvq, this.svq] = this.createQueues();
    if (this.rvq.num !== this.svq.num) {
      // Linux only WARNs; the pool is sized from the RX ring, and post() copes with a TX ring that
      // has fewer descriptors than there are TX buffers.
      vdev.log(
        'warn',
        `${vdev.name}: rpmsg vrings differ in size (vring0 ${this.rvq.num}, vring1 ${this.svq.num}); buffers are sized from vring0`,
      );
    }
    // Linux sizes the pool from the RX ring: 2 × num, at most 512 buffers, half each way.
    const numBufs = Math.min(this.rvq.num * 2, RPMSG_MAX_NUM_BUFS);
    const rxNum = numBufs / 2;
    const txNum = numBufs / 2;
    this.maxChannels = config.maxChannels ?? RPMSG_DEFAULT_MAX_CHANNELS;
    this.rxHeldPerEndpoint = Math.min(rxNum, config.rxHeldPerEndpoint ?? Math.max(1, rxNum >> 2));
    this.nsPacer = new NsPacer(config.nsRefusedPerSecond ?? RPMSG_DEFAULT_NS_REFUSED_PER_SEC);
    const pollMax = config.txPollMaxUs ?? RPMSG_DEFAULT_TX_POLL_MAX_US;
    this.txPoll = new SpinBudget(Math.min(TX_POLL_MIN_US, pollMax), pollMax);
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

  /** Why the bus stopped (EIO naming how the remote broke a queue), or undefined. */
  get broken(): RprocError | undefined {
    return this.brokenError;
  }

  /** Messages are waiting for a later RX pass (a burst beyond RX_BUDGET). */
  get rxPassDue(): boolean {
    return this.rxPassDueFlag;
  }

  /** Every live channel, oldest first. */
  get channelList(): readonly RpmsgChannel[] {
    return [...this.channels.values()];
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** The oldest live channel named `name` on this device (O(1)). */
  channel(name: string): RpmsgChannel | undefined {
    const set = this.byName.get(name);
    return set === undefined ? undefined : set.values().next().value;
  }

  /** RX buffers in the device's pool. */
  get rxBuffers(): number {
    return this.rxViews.length;
  }

  /** Buffers the remote holds: RX buffers posted on vring0 and not yet back, TX messages on vring1 not yet reclaimed. */
  get ringUse(): { readonly rx: number; readonly tx: number } {
    return { rx: this.rvq.numInFlight, tx: this.svq.numInFlight };
  }

  /** rpmsg_probe after the queues: post every RX buffer, name service, DRIVER_OK, kick. */
  start(): void {
    for (let i = 0; i < this.rxViews.length; i++) {
      const err = this.rvq.addInbuf(this.rxAddrs[i] ?? 0n, this.config.rxBufSize, i);
      if (err !== 0) break; // the RX ring is smaller than the pool (num > 256): the rest wait
    }
    // Publish avail.idx now, as Linux's virtqueue_add does on every add: a remote that starts
    // using the rings as soon as it sees DRIVER_OK must find every RX buffer there.
    this.rvq.flush();
    // TX-complete interrupts only while a sender waits for a buffer.
    this.svq.disableCb();
    if (this.vdev.hasFeature(VIRTIO_RPMSG_F_NS)) {
      this.nsEnabled = true;
      this.endpoints.set(
        RPMSG_NS_ADDR,
        new RpmsgEndpoint(this, RPMSG_NS_ADDR, (data, src, ctx) => this.onNs(data, src, ctx)),
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
    this.nsPacer.close();
    const error = new RprocError('EPIPE', 'rpmsg', `${this.vdev.name}: ${reason}`);
    const channels = [...this.channels.values()];
    this.channels.clear();
    this.byName.clear();
    for (const ch of channels) {
      ch.markRemoved();
      this.events.channelRemoved(ch);
    }
    for (const ept of [...this.endpoints.values()]) {
      ept.markDestroyed(error);
      if (ept.addr !== RPMSG_NS_ADDR) this.tap?.endpoint(this, ept.addr, 'destroy', ept.channel);
    }
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
    if (!Number.isInteger(a) || a < 0 || a > RPMSG_ADDR_ANY) {
      throw new RprocError('EINVAL', 'rpmsg-create-ept', `endpoint address ${String(a)} is not a u32`);
    }
    if (a === RPMSG_ADDR_ANY) {
      // The lowest free address ≥ 1024, as idr_alloc gives Linux; every one below the hint is taken.
      a = this.freeHint;
      while (this.endpoints.has(a)) a++;
      this.freeHint = a + 1;
    } else if (this.endpoints.has(a)) {
      throw new RprocError('EBUSY', 'rpmsg-create-ept', `address ${a} is already taken on ${this.vdev.name}`);
    }
    const ept = new RpmsgEndpoint(this, a, callback, channel);
    this.endpoints.set(a, ept);
    this.tap?.endpoint(this, a, 'create', channel);
    return ept;
  }

  destroyEndpoint(ept: RpmsgEndpoint): void {
    this.forgetEndpoint(ept);
    ept.markDestroyed(new RprocError('EPIPE', 'rpmsg', `endpoint ${ept.addr} destroyed`));
  }

  private forgetEndpoint(ept: RpmsgEndpoint): void {
    if (this.endpoints.get(ept.addr) !== ept) return;
    this.endpoints.delete(ept.addr);
    this.tap?.endpoint(this, ept.addr, 'destroy', ept.channel);
    if (ept.addr >= RPMSG_RESERVED_ADDRESSES && ept.addr < this.freeHint) this.freeHint = ept.addr;
  }

  /** An endpoint's reader dropped a message (its queue was full): counted, and said (rate-limited). */
  noteDropped(ept: RpmsgEndpoint, queue: string, total: number): void {
    this.stats.rxDropped++;
    this.vdev.warn(
      'rx-dropped',
      () =>
        `${this.vdev.name}: ${queue} (endpoint ${ept.addr}) is full: message dropped, ${total} so far (the reader is not reading)`,
    );
  }

  /**
   * Announce a local service to the remote (NS CREATE from `ept`), if the remote supports NS: 0, or
   * -EOPNOTSUPP without VIRTIO_RPMSG_F_NS, as rpmsg_ns's announce returns a status.
   */
  announce(name: string, ept: RpmsgEndpoint, destroy = false): number {
    if (!this.nsEnabled) return -ERRNO.EOPNOTSUPP;
    return this.trySendRaw(
      ept.addr,
      RPMSG_NS_ADDR,
      encodeNsMsg({ name, addr: ept.addr, flags: destroy ? RPMSG_NS_DESTROY : RPMSG_NS_CREATE }),
    );
  }

  private onNs(data: Uint8Array, src: number, ctx: RxContext): void {
    // A refused message's buffer goes back within the device's name-service budget (ns-pacer.ts).
    if (!this.nsCreates(data, src) && this.nsPacer.refused(ctx)) this.stats.nsPaced++;
  }

  /** Handle a name-service message; false when it was refused (nothing created or destroyed). */
  private nsCreates(data: Uint8Array, src: number): boolean {
    const msg = decodeNsMsg(data);
    if (msg === undefined) {
      this.stats.nsMalformed++;
      this.vdev.warn(
        'ns-malformed',
        () =>
          `${this.vdev.name}: malformed ns msg (${hex(data.length)} bytes from ${hex(src)}, expected 0x28)`,
      );
      return false;
    }
    if (msg.addr === RPMSG_ADDR_ANY || msg.addr === RPMSG_NS_ADDR || msg.name === '') {
      this.stats.nsMalformed++;
      this.vdev.warn(
        'ns-malformed',
        () => `${this.vdev.name}: ns msg names an impossible channel "${msg.name}" at ${hex(msg.addr)}`,
      );
      return false;
    }
    // The name is remote-written: decodeNsMsg cut it to 31 bytes; it is only a map key and a label.
    const key = channelKey(msg.name, msg.addr);
    const existing = this.channels.get(key);
    if ((msg.flags & RPMSG_NS_DESTROY) !== 0) {
      if (existing === undefined) {
        this.stats.nsRefused++;
        this.vdev.warn(
          'ns-refused',
          () =>
            `${this.vdev.name}: rpmsg_destroy_channel failed: no channel "${msg.name}" at ${hex(msg.addr)}`,
        );
        return false;
      }
      this.removeChannel(existing, `the remote destroyed channel "${msg.name}"`);
      return true;
    }
    if (existing !== undefined) {
      this.stats.nsRefused++;
      this.vdev.warn(
        'ns-refused',
        () => `${this.vdev.name}: channel ${msg.name}:${hex(msg.addr)} already exist`,
      );
      return false;
    }
    if (this.channels.size >= this.maxChannels) {
      // Linux has no limit; a remote announcing names in a loop would grow the host without one.
      this.stats.nsOverLimit++;
      this.vdev.warn(
        'ns-limit',
        () =>
          `${this.vdev.name}: channel "${msg.name}" at ${hex(msg.addr)} refused: the device has ${this.maxChannels} channels, its limit (${this.stats.nsOverLimit} refused so far)`,
      );
      return false;
    }
    const ch = new RpmsgChannel(this, msg.name, msg.addr);
    this.channels.set(key, ch);
    let named = this.byName.get(msg.name);
    if (named === undefined) this.byName.set(msg.name, (named = new Set()));
    named.add(ch);
    this.events.channelAdded(ch);
    return true;
  }

  private removeChannel(ch: RpmsgChannel, reason: string): void {
    const key = channelKey(ch.name, ch.dst);
    if (this.channels.get(key) === ch) this.channels.delete(key);
    const named = this.byName.get(ch.name);
    if (named !== undefined && named.delete(ch) && named.size === 0) this.byName.delete(ch.name);
    ch.markRemoved();
    const ept = ch.ept;
    if (ept !== undefined) {
      this.forgetEndpoint(ept);
      ept.markDestroyed(new RprocError('EPIPE', 'rpmsg', reason));
    }
    this.events.channelRemoved(ch);
  }

  // ---- sending ---------------------------------------------------------------------------

  private takeTxIndex(): number | undefined {
    if (this.tap?.txStarved?.(this) === true) return undefined;
    if (this.lastSbuf < this.txViews.length) return this.lastSbuf++;
    const free = this.txFree.pop();
    if (free !== undefined) return free;
    // Reclaim what the remote has returned on the TX queue's used ring (validated there).
    return this.reclaimOne();
  }

  /** One buffer back from the TX queue's used ring (its descriptor freed), or undefined. */
  private reclaimOne(): number | undefined {
    const used = this.svq.takeUsed();
    if (used === undefined) this.checkTxQueue();
    return used;
  }

  private checkSend(src: number, dst: number, len: number): number {
    if (this.removedFlag) return -ERRNO.EPIPE;
    if (this.brokenError !== undefined) return -ERRNO.EIO;
    if (src === RPMSG_ADDR_ANY || dst === RPMSG_ADDR_ANY) return -ERRNO.EINVAL;
    if (
      !Number.isInteger(src) ||
      !Number.isInteger(dst) ||
      src < 0 ||
      dst < 0 ||
      src > RPMSG_ADDR_ANY ||
      dst > RPMSG_ADDR_ANY
    )
      return -ERRNO.EINVAL;
    if (!Number.isInteger(len) || len < 0) return -ERRNO.EINVAL;
    if (len > this.mtu) return -ERRNO.EMSGSIZE;
    return 0;
  }

  /** rpmsg_send_offchannel_raw without waiting: 0, or a negative errno (the hot path's status). */
  trySendRaw(src: number, dst: number, data: Uint8Array): number {
    const bad = this.checkSend(src, dst, data.length);
    if (bad !== 0) return bad;
    const index = this.takeTxIndex();
    if (index === undefined) return -ERRNO.ENOMEM;
    const payload = this.txPayloads[index];
    if (payload === undefined) return -ERRNO.EIO;
    payload.set(data);
    const err = this.post(index, src, dst, data.length);
    // Unlike Linux (which loses the buffer when the ring refuses it), keep it for the next sender.
    if (err !== 0) this.txFree.push(index);
    return err;
  }

  async sendRaw(src: number, dst: number, data: Uint8Array, timeoutMs: number): Promise<void> {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
      throw new RprocError(
        'EINVAL',
        'rpmsg-send',
        `timeoutMs ${String(timeoutMs)} is not a non-negative number`,
      );
    }
    // One deadline for the whole send, however many times a returned buffer goes to someone else.
    const deadline = performance.now() + timeoutMs;
    // Blocked senders go in the order they came: a new one queues behind those already waiting, and
    // a woken one that finds no buffer keeps its place (so pipelined sends keep their order).
    const ticket = this.nextTicket++;
    if (this.txWaiters.length > 0 && this.checkSend(src, dst, data.length) === 0) {
      await this.waitTxBuffer(ticket, deadline, timeoutMs);
    }
    for (;;) {
      const err = this.trySendRaw(src, dst, data);
      if (err === 0) return;
      if (err !== -ERRNO.ENOMEM) {
        throw sendError(err, {
          device: this.vdev.name,
          src,
          dst,
          len: data.length,
          mtu: this.mtu,
          broken: this.brokenError,
        });
      }
      // The first try may have found the TX queue broken (a used entry that fails validation):
      // the next one says so (EIO) instead of waiting for buffers that cannot come.
      if (this.brokenError !== undefined) continue;
      if (this.pollTxReturn(deadline)) {
        this.stats.txPollHits++;
        continue;
      }
      this.stats.txSleeps++;
      await this.waitTxBuffer(ticket, deadline, timeoutMs);
    }
  }

  /**
   * Watch the TX queue's used ring for a while before sleeping on its interrupt: a remote on
   * another thread that is draining the ring returns buffers every few dozen messages, and seeing
   * them here costs a few loads where the interrupt costs both threads a futex round trip (the
   * remote's notify and this thread's wake-up through the event loop) — a streaming sender that
   * sleeps at every empty pool leaves both sides taking turns instead of working at once. True when
   * a buffer came back. Only the first waiter polls (later ones queue behind it, in order), and the
   * budget adapts (SpinBudget): a remote that does not answer in time, say one that shares this
   * thread, soon makes it sleep at once.
   */
  private pollTxReturn(deadline: number): boolean {
    const poll = this.txPoll;
    if (this.txWaiters.length > 0) return false;
    if (poll.current === 0) {
      poll.slept();
      return false;
    }
    const now = performance.now();
    // A send out of time (timeoutMs 0) only tries: its failure says nothing about the remote.
    if (deadline <= now) return false;
    const end = Math.min(deadline, now + poll.current / 1000);
    do {
      if (this.svq.moreUsed()) {
        poll.hit();
        return true;
      }
    } while (performance.now() < end);
    poll.miss();
    return false;
  }

  getTxBuffer(): TxBuffer | undefined {
    if (this.removedFlag || this.brokenError !== undefined) return undefined;
    const index = this.takeTxIndex();
    const payload = index === undefined ? undefined : this.txPayloads[index];
    if (index === undefined || payload === undefined) return undefined;
    const buf: TxBuffer = { payload: payload.subarray(0, this.mtu), index };
    this.txLent.add(buf);
    return buf;
  }

  /** Send a buffer from getTxBuffer; on any failure it goes back to the pool (-EINVAL if not lent). */
  sendNoCopy(buf: TxBuffer, src: number, dst: number, len: number): number {
    // Only a buffer lent by this device and not yet sent or released: posting one twice would
    // hand the same memory to two messages.
    if (!this.txLent.delete(buf)) return -ERRNO.EINVAL;
    let err = this.checkSend(src, dst, len);
    if (err === 0) err = this.post(buf.index, src, dst, len);
    if (err !== 0) this.giveBack(buf.index);
    return err;
  }

  releaseTxBuffer(buf: TxBuffer): void {
    // A second release (or a buffer of another device) is ignored: the pool must not get it twice.
    if (this.txLent.delete(buf)) this.giveBack(buf.index);
  }

  private giveBack(index: number): void {
    this.txFree.push(index);
    this.wakeTxWaiters();
  }

  /** Header, post, kick: 0, -ENOMEM (no descriptor free and none came back), -EIO (queue broken). */
  private post(index: number, src: number, dst: number, len: number): number {
    const view = this.txViews[index];
    const addr = this.txAddrs[index];
    if (view === undefined || addr === undefined) return -ERRNO.EIO;
    // The TX ring may have fewer descriptors than the pool has buffers (TC-M12: vring sizes
    // differ): take a returned buffer off the used ring to free one.
    if (this.svq.numFree === 0) {
      const back = this.reclaimOne();
      if (back !== undefined) this.txFree.push(back);
    }
    writeRpmsgHdr(view, src, dst, len);
    const err = this.svq.addOutbuf(addr, RPMSG_HDR_SIZE + len, index);
    if (err !== 0) return err === -ERRNO.ENOSPC ? -ERRNO.ENOMEM : -ERRNO.EIO;
    this.stats.tx++;
    this.tap?.tx(this, src, dst, len);
    if (this.svq.kick()) this.stats.txKicks++;
    return 0;
  }

  private waitTxBuffer(ticket: number, deadline: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: TxWaiter = { ticket, resolve, reject, timer: undefined };
      const expire = (): void => {
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
      };
      const left = deadline - performance.now();
      if (left <= 0) {
        expire();
        return;
      }
      // Beyond setTimeout's range (2^31 − 1 ms, about 24.8 days) means: wait as long as it takes.
      if (left <= 0x7fff_ffff) waiter.timer = setTimeout(expire, Math.ceil(left));
      let at = this.txWaiters.length;
      while (at > 0 && (this.txWaiters[at - 1]?.ticket ?? 0) > ticket) at--;
      this.txWaiters.splice(at, 0, waiter);
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

  /** The TX queue's interrupt: take back what the remote returned (validating it), wake senders. */
  private onTxDone(): void {
    for (let i = this.svq.takeUsed(); i !== undefined; i = this.svq.takeUsed()) this.txFree.push(i);
    this.checkTxQueue();
    this.wakeTxWaiters();
  }

  /**
   * Wake the oldest waiting senders, one per free buffer (Linux wakes every sleeper; waking one per
   * interrupt would leave the others asleep when one interrupt brings several buffers back, and
   * waking all makes a long queue retry on every interrupt). A woken sender that finds its buffer
   * taken waits again in its place.
   */
  private wakeTxWaiters(): void {
    if (this.txWaiters.length === 0) return;
    const free = this.txFree.length + (this.txViews.length - this.lastSbuf);
    for (const w of this.txWaiters.splice(0, Math.max(1, free))) this.settleWaiter(w);
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
    // A pass is already due (a flood was cut short): it will take these too, in order.
    if (this.rxPassDueFlag) return;
    let consumed = 0;
    for (;;) {
      if (consumed >= RX_BUDGET) {
        // NAPI's weight: one remote's burst is handled in slices, so that the other cores' messages
        // (and everything else the host does) get their turns in between.
        this.rxPassDueFlag = true;
        setImmediate(() => {
          this.rxPassDueFlag = false;
          if (!this.removedFlag) this.onRx();
        });
        break;
      }
      const clamped = this.rvq.stats.lenClamped;
      const index = this.rvq.takeUsed();
      if (index === undefined) break;
      consumed++;
      if (this.rvq.stats.lenClamped !== clamped) {
        // used.len beyond the buffer (TC-M01): the remote claims to have written more than we gave
        // it. Linux drops it and loses the buffer; we drop it and re-post the buffer.
        this.stats.rxMalformed++;
        this.vdev.warn(
          'rx-malformed',
          () => `${this.vdev.name}: inbound msg too big: ${this.rvq.lastWarning ?? ''}`,
        );
        this.repost(index);
        continue;
      }
      if (!this.receiveOne(index, this.rvq.usedLen)) this.repost(index);
    }
    const broken = this.rvq.broken;
    if (broken !== undefined && this.brokenError === undefined) this.markBroken(broken);
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
      this.vdev.warn(
        'rx-malformed',
        () =>
          `${this.vdev.name}: inbound message of ${hex(usedLen)} bytes (used.len) is shorter than its 0x10-byte header`,
      );
      return false;
    }
    const hdr = readRpmsgHdr(buf);
    if (hdr.len > usedLen - RPMSG_HDR_SIZE) {
      this.stats.rxMalformed++;
      this.vdev.warn(
        'rx-malformed',
        () =>
          `${this.vdev.name}: inbound msg too big: hdr.len ${hex(hdr.len)} in a ${hex(usedLen)}-byte buffer`,
      );
      return false;
    }
    this.stats.rx++;
    this.tap?.rx(this, hdr.src, hdr.dst, hdr.len);
    const ept = this.endpoints.get(hdr.dst);
    if (ept === undefined) {
      this.stats.rxNoRecipient++;
      // Rate-limited, as Linux's dev_warn_ratelimited: a remote flooding unknown addresses must
      // not flood the log.
      this.vdev.warn(
        'rx-no-recipient',
        () =>
          `${this.vdev.name}: msg received with no recipient: dst ${hex(hdr.dst)} from ${hex(hdr.src)} (${this.stats.rxNoRecipient} so far)`,
      );
      return false;
    }
    let held = false;
    let inCallback = true;
    const ctx: RxContext = {
      hold: () => {
        // After the callback the buffer is back on the ring: holding it then would post it twice.
        if (!inCallback) {
          throw new RprocError('EINVAL', 'rpmsg-rx', 'hold() is only possible inside the receive callback');
        }
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
    } finally {
      inCallback = false;
    }
    return held;
  }

  private repost(index: number): void {
    if (this.removedFlag) return;
    this.rvq.addInbuf(this.rxAddrs[index] ?? 0n, this.config.rxBufSize, index);
  }

  private kickRx(): void {
    // A reader releasing a held buffer after the device went away has nothing to kick.
    if (this.removedFlag) return;
    if (this.rvq.kick()) this.stats.rxKicks++;
  }

  private markBroken(broken: RprocError): void {
    this.brokenError = broken;
    this.vdev.log('error', `${this.vdev.name}: virtqueue broken: ${broken.detail}`);
    this.events.error(this, broken.detail);
    // A ring protocol violation: the device needs a reset, the processor a restart (crash report).
    this.vdev.fatal(broken.detail);
    for (const w of this.txWaiters.splice(0))
      this.settleWaiter(w, new RprocError('EIO', 'rpmsg', broken.detail, { cause: broken }));
  }

  /** Called when the TX queue reports a violation during reclaim. */
  checkTxQueue(): void {
    const broken = this.svq.broken;
    if (broken !== undefined && this.brokenError === undefined) this.markBroken(broken);
  }
}

/** Map key of a channel: its remote address and name (the address first: names may hold any byte). */
function channelKey(name: string, addr: number): string {
  return `${addr}:${name}`;
}

interface SendContext {
  readonly device: string;
  readonly src: number;
  readonly dst: number;
  readonly len: number;
  readonly mtu: number;
  readonly broken: RprocError | undefined;
}

function sendError(err: number, c: SendContext): RprocError {
  switch (-err) {
    case ERRNO.EMSGSIZE:
      return new RprocError(
        'EMSGSIZE',
        'rpmsg-send',
        `${c.len}-byte message is larger than the MTU ${c.mtu} of ${c.device}`,
      );
    case ERRNO.EINVAL:
      return new RprocError(
        'EINVAL',
        'rpmsg-send',
        `invalid send on ${c.device}: src ${hex(c.src)}, dst ${hex(c.dst)} (neither may be ANY 0xffffffff), ${c.len} bytes`,
      );
    case ERRNO.EPIPE:
      return new RprocError('EPIPE', 'rpmsg-send', `${c.device} is gone`);
    case ERRNO.EIO:
      return new RprocError(
        'EIO',
        'rpmsg-send',
        c.broken === undefined
          ? `send on ${c.device} failed`
          : `${c.device} is broken until the remote restarts: ${c.broken.detail}`,
        c.broken === undefined ? {} : { cause: c.broken },
      );
    default:
      return new RprocError('EIO', 'rpmsg-send', `send on ${c.device} failed (${err})`);
  }
}
