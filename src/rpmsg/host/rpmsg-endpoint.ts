// An rpmsg endpoint on the host: a local address with a receive callback, and the send family
// (send/sendTo blocking with a timeout, trySend/trySendTo non-blocking, zero-copy TX buffers).
// Mirrors struct rpmsg_endpoint and rpmsg_send*/rpmsg_trysend* of drivers/rpmsg/rpmsg_core.c.

import { RprocError, ERRNO } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY } from '../rpmsg-wire.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';

/**
 * Handed to a receive callback: hold() keeps the RX buffer (the data view stays valid, the buffer
 * stays off the ring) until the returned function is called (idempotent). Only inside the callback:
 * afterwards it throws EINVAL.
 */
export interface RxContext {
  hold(): () => void;
}

/** `data` is a view into the RX buffer, valid only during the call unless ctx.hold() was called. */
export type RpmsgRxCallback = (data: Uint8Array, src: number, ctx: RxContext) => void;

/**
 * A TX buffer taken for zero-copy sending: fill `payload`, then sendNoCopy (which gives it back to
 * the pool if it fails) or releaseTxBuffer, exactly once.
 */
export interface TxBuffer {
  /** The payload area (MTU bytes). */
  readonly payload: Uint8Array;
  /** @internal index in the device's TX pool */
  readonly index: number;
}

export interface SendOptions {
  /**
   * Give up after this long waiting for a TX buffer (ETIMEDOUT); default 15 s like Linux (which says
   * ERESTARTSYS). Infinity (or anything beyond 2^31 − 1 ms) waits as long as it takes.
   */
  readonly timeoutMs?: number;
}

/** What an endpoint needs from the rpmsg device it lives on. */
export interface EndpointTransport {
  readonly mtu: number;
  /** Non-blocking raw send: 0 or a negative errno (rpmsg_send_offchannel_raw with wait false). */
  trySendRaw(src: number, dst: number, data: Uint8Array): number;
  /** Blocking raw send: resolves when queued, rejects with RprocError. */
  sendRaw(src: number, dst: number, data: Uint8Array, timeoutMs: number): Promise<void>;
  getTxBuffer(): TxBuffer | undefined;
  sendNoCopy(buf: TxBuffer, src: number, dst: number, len: number): number;
  releaseTxBuffer(buf: TxBuffer): void;
  destroyEndpoint(ept: RpmsgEndpoint): void;
  /** RX buffers one endpoint's reader may hold (RxContext.hold) while it is behind. */
  readonly rxHeldPerEndpoint: number;
  /** A reader of `ept` dropped a message: count it in the device's stats and say so (rate-limited). */
  noteDropped(ept: RpmsgEndpoint, queue: string, total: number): void;
}

export const DEFAULT_SEND_TIMEOUT_MS = 15_000;

export class RpmsgEndpoint {
  readonly addr: number;
  /** The channel this is the default endpoint of, if any. */
  readonly channel: RpmsgChannel | undefined;
  private readonly transport: EndpointTransport;
  private callback: RpmsgRxCallback | undefined;
  private destroyedFlag = false;
  private readonly destroyListeners: ((reason: RprocError) => void)[] = [];

  constructor(
    transport: EndpointTransport,
    addr: number,
    callback: RpmsgRxCallback | undefined,
    channel?: RpmsgChannel,
  ) {
    this.transport = transport;
    this.addr = addr;
    this.callback = callback;
    this.channel = channel;
  }

  get destroyed(): boolean {
    return this.destroyedFlag;
  }

  /** rpmsg_get_mtu. */
  get mtu(): number {
    return this.transport.mtu;
  }

  /** RX buffers a reader of this endpoint may hold while it is behind (rx-backlog.ts). */
  get rxHeldLimit(): number {
    return this.transport.rxHeldPerEndpoint;
  }

  /** @internal a reader of this endpoint dropped a message (its bounded queue was full) */
  noteDropped(queue: string, total: number): void {
    this.transport.noteDropped(this, queue, total);
  }

  /** The channel's remote address, or ANY for an endpoint without a channel. */
  get dst(): number {
    return this.channel?.dst ?? RPMSG_ADDR_ANY;
  }

  /** @internal called by the device for every message addressed to this endpoint */
  deliver(data: Uint8Array, src: number, ctx: RxContext): void {
    this.callback?.(data, src, ctx);
  }

  setCallback(callback: RpmsgRxCallback | undefined): void {
    this.callback = callback;
  }

  /** rpmsg_send: to the channel's remote address, waiting for a TX buffer if none is free. */
  send(data: Uint8Array, options?: SendOptions): Promise<void> {
    return this.sendTo(this.dst, data, options);
  }

  /**
   * rpmsg_sendto. Rejects with EINVAL (bad address or timeout), EMSGSIZE, ETIMEDOUT (no TX buffer
   * within timeoutMs, counted from the call), EIO (the remote broke a ring) or EPIPE (endpoint or
   * device gone). Blocked senders are served in the order they called.
   */
  sendTo(dst: number, data: Uint8Array, options?: SendOptions): Promise<void> {
    if (this.destroyedFlag) return Promise.reject(gone(this.addr));
    return this.transport.sendRaw(this.addr, dst, data, options?.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS);
  }

  /** rpmsg_trysend: 0, or -ENOMEM when no TX buffer is free, -EMSGSIZE, -EINVAL, -EIO, -EPIPE. */
  trySend(data: Uint8Array): number {
    return this.trySendTo(this.dst, data);
  }

  /** rpmsg_trysendto: as trySend, to `dst`. */
  trySendTo(dst: number, data: Uint8Array): number {
    if (this.destroyedFlag) return -ERRNO.EPIPE;
    return this.transport.trySendRaw(this.addr, dst, data);
  }

  /** Zero-copy: a free TX buffer to fill, or undefined when none is free. */
  getTxBuffer(): TxBuffer | undefined {
    return this.destroyedFlag ? undefined : this.transport.getTxBuffer();
  }

  /**
   * Send `len` bytes already written into `buf.payload`: 0, or a negative errno (the buffer is then
   * back in the pool): -EINVAL (not a buffer lent and still unsent, bad len or address), -EMSGSIZE,
   * -ENOMEM (the TX ring is full), -EIO (device broken), -EPIPE (endpoint gone).
   */
  sendNoCopy(buf: TxBuffer, len: number, dst: number = this.dst): number {
    if (this.destroyedFlag) {
      this.transport.releaseTxBuffer(buf);
      return -ERRNO.EPIPE;
    }
    return this.transport.sendNoCopy(buf, this.addr, dst, len);
  }

  releaseTxBuffer(buf: TxBuffer): void {
    this.transport.releaseTxBuffer(buf);
  }

  /** Called once when the endpoint goes away (destroy, channel removal, remote crash). */
  onDestroy(listener: (reason: RprocError) => void): void {
    if (this.destroyedFlag) listener(gone(this.addr));
    else this.destroyListeners.push(listener);
  }

  /** rpmsg_destroy_ept. */
  destroy(): void {
    this.transport.destroyEndpoint(this);
  }

  /** @internal the device removed it */
  markDestroyed(reason: RprocError): void {
    if (this.destroyedFlag) return;
    this.destroyedFlag = true;
    this.callback = undefined;
    for (const l of this.destroyListeners.splice(0)) l(reason);
  }
}

function gone(addr: number): RprocError {
  return new RprocError('EPIPE', 'rpmsg-send', `endpoint ${addr} has been destroyed`);
}
