// The rpmsg character device (/dev/rpmsgN) as an object: an endpoint device created through the
// control device (rpmsg-ctrl.ts) with a name, a local address and a remote one; opening it creates
// the endpoint, and the open file reads one message per read (truncated to the reader's size, the
// rest discarded), writes one message per write, polls, and says EPIPE once the endpoint is gone.
// Mirrors drivers/rpmsg/rpmsg_char.c (rpmsg_eptdev_*), including O_NONBLOCK.

import { ERRNO, RprocError } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY } from '../rpmsg-wire.ts';
import type { RpmsgEndpoint, RxContext } from './rpmsg-endpoint.ts';
import { RxBacklog } from './rx-backlog.ts';
import type { VirtioRpmsgBus } from './virtio-rpmsg-bus.ts';

/** struct rpmsg_endpoint_info as the ioctls carry it (name cut to 31 characters). */
export interface RpmsgEndpointInfo {
  readonly name: string;
  readonly src: number;
  readonly dst: number;
}

/** poll() bits, Linux's EPOLL* values. */
export const POLL = { IN: 0x1, OUT: 0x4, ERR: 0x8, HUP: 0x10, RDNORM: 0x40 } as const;

/** _IO(0xb5, 0x2): destroy this endpoint device. */
export const RPMSG_DESTROY_EPT_IOCTL = 0xb502;

/**
 * Messages an open file copies and keeps for its reader, by default. Linux queues without bound
 * (rpmsg_ept_cb: an skb per message); a remote that floods a reader who does not read would then
 * grow the host without limit. Beyond this, messages stay in their RX buffers (held off the ring:
 * the remote runs short of buffers and slows down) up to the endpoint's share of the pool, and
 * beyond that new ones are dropped and counted; the oldest are kept.
 */
export const RPMSG_CHAR_QUEUE_LIMIT = 1024;

export interface RpmsgOpenFlags {
  /** O_NONBLOCK: read with nothing queued and write with no TX buffer fail with EAGAIN. */
  readonly nonblock?: boolean;
  /** Messages copied and queued for the reader at most; default RPMSG_CHAR_QUEUE_LIMIT. */
  readonly queueLimit?: number;
}

export class RpmsgEptDev {
  readonly info: RpmsgEndpointInfo;
  /** The N of /dev/rpmsgN. */
  readonly minor: number;
  private readonly device: VirtioRpmsgBus;
  private readonly onDestroyed: (dev: RpmsgEptDev) => void;
  private file: RpmsgEptFile | undefined;
  private destroyedFlag = false;

  /** @internal made by RpmsgCtrlDev */
  constructor(
    device: VirtioRpmsgBus,
    info: RpmsgEndpointInfo,
    minor: number,
    onDestroyed: (dev: RpmsgEptDev) => void,
  ) {
    this.device = device;
    this.info = info;
    this.minor = minor;
    this.onDestroyed = onDestroyed;
  }

  get name(): string {
    return `rpmsg${this.minor}`;
  }

  get destroyed(): boolean {
    return this.destroyedFlag;
  }

  /** rpmsg_eptdev_open: creates the endpoint at info.src (ANY: the next free address ≥ 1024). */
  open(flags: RpmsgOpenFlags = {}): RpmsgEptFile {
    if (this.destroyedFlag) throw new RprocError('ENODEV', 'rpmsg-char', `${this.name} has been destroyed`);
    if (this.file !== undefined) throw new RprocError('EBUSY', 'rpmsg-char', `${this.name} is already open`);
    const src = this.info.src === RPMSG_ADDR_ANY ? undefined : this.info.src;
    const file = new RpmsgEptFile(this, flags, (cb) => this.device.createEndpoint(cb, src));
    this.file = file;
    return file;
  }

  /** RPMSG_DESTROY_EPT_IOCTL; any other command is EINVAL, as in Linux. */
  ioctl(cmd: number): void {
    if (cmd !== RPMSG_DESTROY_EPT_IOCTL) {
      throw new RprocError(
        'EINVAL',
        'rpmsg-char',
        `${this.name}: unknown ioctl 0x${(cmd >>> 0).toString(16)}`,
      );
    }
    this.destroy();
  }

  /** Remove the device: an open file's endpoint goes, its reader gets EPIPE. */
  destroy(): void {
    if (this.destroyedFlag) return;
    this.destroyedFlag = true;
    this.file?.hangUp();
    this.onDestroyed(this);
  }

  /** @internal the open file was closed */
  released(file: RpmsgEptFile): void {
    if (this.file === file) this.file = undefined;
  }
}

interface Reader {
  readonly size: number;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (e: RprocError) => void;
}

/** An open /dev/rpmsgN. */
export class RpmsgEptFile {
  readonly nonblock: boolean;
  readonly queueLimit: number;
  private readonly dev: RpmsgEptDev;
  private ept: RpmsgEndpoint | undefined;
  private readonly queue: Uint8Array[] = [];
  private readonly backlog: RxBacklog;
  private readers: Reader[] = [];

  /** @internal opened by RpmsgEptDev */
  constructor(
    dev: RpmsgEptDev,
    flags: RpmsgOpenFlags,
    create: (cb: (data: Uint8Array, src: number, ctx: RxContext) => void) => RpmsgEndpoint,
  ) {
    this.dev = dev;
    this.nonblock = flags.nonblock === true;
    this.queueLimit = flags.queueLimit ?? RPMSG_CHAR_QUEUE_LIMIT;
    if (!Number.isSafeInteger(this.queueLimit) || this.queueLimit < 1) {
      throw new RprocError(
        'EINVAL',
        'rpmsg-char',
        `queueLimit ${String(flags.queueLimit)} is not a positive integer`,
      );
    }
    this.backlog = new RxBacklog(dev.name, () => this.ept);
    const ept = create((data, _src, ctx) => this.receive(data, ctx));
    ept.onDestroy(() => this.hangUp());
    this.ept = ept;
  }

  /** Messages dropped because the reader let the queue and its held buffers fill up. */
  get dropped(): number {
    return this.backlog.dropped;
  }

  /** Messages waiting in held RX buffers (behind the queue). */
  get held(): number {
    return this.backlog.length;
  }

  /** The endpoint's local address (info.src, or the one picked for ANY); undefined once gone. */
  get addr(): number | undefined {
    return this.ept?.addr;
  }

  /** Messages waiting to be read (copied, and held in RX buffers). */
  get queued(): number {
    return this.queue.length + this.backlog.length;
  }

  /**
   * read(): the next message, cut to `size` bytes (the rest of it is discarded, as Linux does).
   * Waits for one unless O_NONBLOCK (then EAGAIN); EPIPE once the endpoint is gone and nothing is
   * queued. Concurrent reads are served in call order.
   */
  read(size: number): Promise<Uint8Array> {
    if (!Number.isInteger(size) || size < 0) {
      return Promise.reject(
        new RprocError('EINVAL', 'rpmsg-char', `read size ${String(size)} is not a byte count`),
      );
    }
    const next = this.queue.shift() ?? this.backlog.take();
    if (next !== undefined) {
      // Room in the queue again: the oldest held message moves into it, its buffer back to the remote.
      const held = this.backlog.take();
      if (held !== undefined) this.queue.push(held);
      return Promise.resolve(next.subarray(0, size));
    }
    if (this.ept === undefined) return Promise.reject(this.pipe());
    if (this.nonblock) {
      return Promise.reject(new RprocError('EAGAIN', 'rpmsg-char', `${this.dev.name}: no message queued`));
    }
    return new Promise((resolve, reject) => this.readers.push({ size, resolve, reject }));
  }

  /**
   * write(): one message to info.dst, resolving with its length. Blocking writes wait for a TX
   * buffer (up to rpmsg_send's 15 s, then ETIMEDOUT); O_NONBLOCK ones fail with EAGAIN when none is
   * free (Linux passes on rpmsg_trysend's ENOMEM; EAGAIN is what a non-blocking write means, and
   * what TC-M11 of docs/malformed-input-cases.md asks for). EMSGSIZE above the MTU, EPIPE once the endpoint is gone.
   */
  async write(data: Uint8Array): Promise<number> {
    const ept = this.ept;
    if (ept === undefined) throw this.pipe();
    const dst = this.dev.info.dst;
    if (!this.nonblock) {
      await ept.sendTo(dst, data);
      return data.length;
    }
    const rc = ept.trySendTo(dst, data);
    if (rc === 0) return data.length;
    if (rc === -ERRNO.ENOMEM)
      throw new RprocError('EAGAIN', 'rpmsg-char', `${this.dev.name}: no TX buffer free`);
    // Any other failure does not depend on buffers: the blocking send fails the same way at once,
    // with rpmsg_send's full error (EMSGSIZE with the MTU, EIO with why the device broke, ...).
    await ept.sendTo(dst, data, { timeoutMs: 0 });
    return data.length;
  }

  /** poll(): POLL.IN|RDNORM with a message queued, POLL.OUT with a TX buffer free, POLL.ERR once gone. */
  poll(): number {
    const ept = this.ept;
    const readable = this.queued > 0 ? POLL.IN | POLL.RDNORM : 0;
    if (ept === undefined) return POLL.ERR | readable;
    let mask = readable;
    // Taking a buffer and giving it straight back leaves the pool as it was.
    const buf = ept.getTxBuffer();
    if (buf !== undefined) {
      ept.releaseTxBuffer(buf);
      mask |= POLL.OUT;
    }
    return mask;
  }

  /** release(): destroys the endpoint and drops what was queued; waiting reads fail with EPIPE. */
  close(): void {
    const ept = this.ept;
    this.backlog.clear();
    this.hangUp();
    ept?.destroy();
    this.queue.length = 0;
    this.dev.released(this);
  }

  /** @internal the endpoint or its device went away */
  hangUp(): void {
    if (this.ept === undefined) return;
    // What is held is copied out now (its buffers are about to be freed): still readable.
    for (const m of this.backlog.takeAll()) this.queue.push(m);
    this.ept = undefined;
    const readers = this.readers;
    this.readers = [];
    for (const r of readers) r.reject(this.pipe());
  }

  private receive(data: Uint8Array, ctx: RxContext): void {
    // The RX buffer goes back to the remote after this callback: keep a copy.
    const reader = this.readers.shift();
    if (reader !== undefined) {
      reader.resolve(data.slice(0, reader.size));
      return;
    }
    if (this.queue.length >= this.queueLimit || this.backlog.length > 0) {
      this.backlog.offer(data, ctx);
      return;
    }
    this.queue.push(data.slice());
  }

  private pipe(): RprocError {
    return new RprocError('EPIPE', 'rpmsg-char', `${this.dev.name}: the endpoint is gone`);
  }
}
