// The rpmsg tty driver: every channel named "rpmsg-tty" becomes a byte stream, as Linux makes it a
// /dev/ttyRPMSGn (at most 32 of them, n the lowest free). What the remote sends is read as bytes
// (message boundaries are not kept, and an empty message carries nothing and is dropped and
// counted); what is written is cut into messages of at most the MTU; when the channel goes away
// the stream ends, as a tty hangs up. Mirrors drivers/tty/rpmsg_tty.c.
//
// Input is bounded: the stream buffers up to its highWaterMark (16 KiB by default); beyond it a
// message stays in its RX buffer, held off the ring (the remote runs short of buffers: the
// backpressure virtio allows), up to the endpoint's share of held buffers; beyond that it is
// dropped and counted (Linux's tty flip buffer drops what does not fit too, "Trunc buffer").

import { Duplex } from 'node:stream';
import { RprocError } from '../../util/errors.ts';
import { TypedEmitter } from '../../util/typed-emitter.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { RxContext } from './rpmsg-endpoint.ts';
import type { RpmsgDriver } from './rpmsg-host.ts';
import { RxBacklog } from './rx-backlog.ts';

export const RPMSG_TTY_NAME = 'rpmsg-tty';
/** Linux's MAX_TTY_RPMSG: ttyRPMSG0..31. */
export const RPMSG_TTY_MAX_PORTS = 32;
/** Bytes a port buffers for its reader before it holds RX buffers instead. */
export const RPMSG_TTY_HIGH_WATER_MARK = 16 * 1024;

/** One /dev/ttyRPMSGn. */
export class RpmsgTtyPort extends Duplex {
  /** The n of ttyRPMSGn. */
  readonly index: number;
  readonly channel: RpmsgChannel;
  /** Empty messages from the remote, dropped (rpmsg_tty_cb refuses them with EINVAL). */
  emptyMessages = 0;
  /** Messages that arrived after the reader closed the stream (discarded). */
  discarded = 0;
  private readonly backlog: RxBacklog;
  /** push() said the reader is behind: hold or drop until _read asks for more. */
  private behind = false;
  private hungUp = false;

  constructor(channel: RpmsgChannel, index: number, highWaterMark = RPMSG_TTY_HIGH_WATER_MARK) {
    super({ allowHalfOpen: false, readableHighWaterMark: highWaterMark });
    this.channel = channel;
    this.index = index;
    this.backlog = new RxBacklog(this.path, () => channel.ept);
  }

  get path(): string {
    return `ttyRPMSG${this.index}`;
  }

  /** Messages dropped because the reader was behind by more than the port holds. */
  get dropped(): number {
    return this.backlog.dropped;
  }

  /** Messages waiting in held RX buffers. */
  get held(): number {
    return this.backlog.length;
  }

  /** @internal a message from the remote */
  receive(data: Uint8Array, ctx: RxContext): void {
    if (data.length === 0) {
      this.emptyMessages++;
      return;
    }
    if (this.destroyed || this.hungUp) {
      this.discarded++;
      return;
    }
    // Behind the reader (or others wait before it): keep it in its buffer, or drop it.
    if (this.behind || this.backlog.length > 0) {
      this.backlog.offer(data, ctx);
      return;
    }
    // The RX buffer goes back to the remote after the callback: push a copy.
    if (!this.push(Buffer.from(data))) this.behind = true;
  }

  /**
   * @internal the channel went away: end of file for the reader once it has read what came before,
   * EPIPE for writers.
   */
  hangUp(): void {
    if (this.hungUp) return;
    this.hungUp = true;
    // Held messages are copied out now: their buffers are about to be freed.
    for (const m of this.backlog.takeAll()) this.push(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
    this.push(null);
  }

  override _read(): void {
    this.behind = false;
    while (this.backlog.length > 0) {
      const m = this.backlog.take();
      if (m === undefined) break;
      if (!this.push(Buffer.from(m.buffer, m.byteOffset, m.byteLength))) {
        this.behind = true;
        return;
      }
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The reader is gone: what is held goes back to the remote unread.
    this.backlog.clear();
    callback(error);
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const bytes =
      chunk instanceof Uint8Array
        ? chunk
        : typeof chunk === 'string'
          ? Buffer.from(chunk, encoding)
          : undefined;
    if (bytes === undefined) {
      callback(new RprocError('EINVAL', 'rpmsg-tty', 'write bytes or a string'));
      return;
    }
    this.sendAll(bytes).then(
      () => callback(),
      (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
    );
  }

  /** rpmsg_tty_write sends at most one MTU per call and the tty layer calls again: the same here. */
  private async sendAll(bytes: Uint8Array): Promise<void> {
    const ept = this.channel.ept;
    if (ept === undefined || ept.destroyed)
      throw new RprocError('EPIPE', 'rpmsg-tty', `${this.path} hung up`);
    for (let off = 0; off < bytes.length; off += ept.mtu) {
      await ept.send(bytes.subarray(off, Math.min(bytes.length, off + ept.mtu)));
    }
  }
}

export interface RpmsgTtyEvents extends Record<string, unknown> {
  /** A port appeared (the remote announced "rpmsg-tty") or hung up. */
  port: { readonly action: 'add' | 'remove'; readonly port: RpmsgTtyPort };
}

export interface RpmsgTtyOptions {
  /** Ports at most (ttyRPMSG0..max-1); channels beyond are refused. Default 32, as Linux. */
  readonly maxPorts?: number;
  /** Bytes each port buffers for its reader (the stream's readableHighWaterMark); default 16 KiB. */
  readonly highWaterMark?: number;
}

/** The driver: register it with RpmsgHost.registerDriver (VirtualSoc does). */
export class RpmsgTtyDriver extends TypedEmitter<RpmsgTtyEvents> implements RpmsgDriver {
  readonly names: readonly string[] = [RPMSG_TTY_NAME];
  readonly maxPorts: number;
  private readonly highWaterMark: number;
  private readonly byChannel = new Map<RpmsgChannel, RpmsgTtyPort>();
  private readonly used = new Set<number>();
  /** "rpmsg-tty" channels refused because maxPorts ports existed. */
  refused = 0;

  constructor(options: RpmsgTtyOptions = {}) {
    super();
    this.maxPorts = options.maxPorts ?? RPMSG_TTY_MAX_PORTS;
    this.highWaterMark = options.highWaterMark ?? RPMSG_TTY_HIGH_WATER_MARK;
    for (const [name, v] of [
      ['maxPorts', this.maxPorts],
      ['highWaterMark', this.highWaterMark],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RprocError('EINVAL', 'rpmsg-tty', `${name} ${String(v)} is not a positive integer`);
    }
  }

  get ports(): readonly RpmsgTtyPort[] {
    return [...this.byChannel.values()];
  }

  readonly callback = (channel: RpmsgChannel, data: Uint8Array, _src: number, ctx: RxContext): void => {
    this.byChannel.get(channel)?.receive(data, ctx);
  };

  probe(channel: RpmsgChannel): void {
    // The lowest free index, as idr_alloc gives Linux: a remote that destroys and re-creates its
    // channel gets its ttyRPMSGn back.
    let index = 0;
    while (this.used.has(index)) index++;
    if (index >= this.maxPorts) {
      this.refused++;
      channel.warn(
        'tty-limit',
        `${channel.deviceName}: no tty for it: all ${this.maxPorts} ttyRPMSG ports are in use (${this.refused} refused so far)`,
      );
      throw new RprocError('ENOSPC', 'rpmsg-tty', `all ${this.maxPorts} ttyRPMSG ports are in use`);
    }
    const port = new RpmsgTtyPort(channel, index, this.highWaterMark);
    this.used.add(index);
    this.byChannel.set(channel, port);
    channel.ept?.onDestroy(() => this.remove(channel));
    this.emit('port', { action: 'add', port });
  }

  remove(channel: RpmsgChannel): void {
    const port = this.byChannel.get(channel);
    if (port === undefined) return;
    this.byChannel.delete(channel);
    this.used.delete(port.index);
    port.hangUp();
    this.emit('port', { action: 'remove', port });
  }

  /** Resolves with the next port to appear (or the first one there is). */
  waitForPort(timeoutMs = 5000): Promise<RpmsgTtyPort> {
    const first = this.ports[0];
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('port', onPort);
        reject(
          new RprocError('ETIMEDOUT', 'rpmsg-tty', `no ${RPMSG_TTY_NAME} channel within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onPort = (e: RpmsgTtyEvents['port']): void => {
        if (e.action !== 'add') return;
        clearTimeout(timer);
        this.off('port', onPort);
        resolve(e.port);
      };
      this.on('port', onPort);
    });
  }
}
