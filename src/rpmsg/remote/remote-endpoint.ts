// An rpmsg endpoint of the remote (device) role: a local address with a receive callback, an
// optional service name announced to the host, and the peer address it learns from the first
// message it receives. The state lives here; the sending and buffer work is the device's.
// Mirrors OpenAMP's struct rpmsg_endpoint and rpmsg_send/sendto/trysend/send_nocopy.

import { ERRNO, RprocError } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY } from '../rpmsg-wire.ts';
import type { RemoteSendOptions, RpmsgTxBuffer } from './remote-types.ts';

/**
 * Called for each message addressed to the endpoint. `data` is a view of the host's buffer: valid
 * only during the call (the buffer goes back to the host when the callback returns), unless the
 * callback calls holdRxBuffer(data); copy it (data.slice()) to keep it. The same buffer may come
 * back with a later message as the same view object (as OpenAMP passes the same pointer for the
 * same buffer). `src` is the sender's address (the host's channel endpoint, ≥ 1024 for a Linux
 * channel).
 */
export type RemoteEndpointCallback = (data: Uint8Array, src: number, ept: RemoteEndpoint) => void;

export interface RemoteEndpointOptions {
  /**
   * Service name, announced to the host with NS CREATE once the device is ready (≤ 31 bytes). The
   * Linux host binds a driver by it: "rpmsg-raw" → /dev/rpmsgN, "rpmsg-tty" → /dev/ttyRPMSGn.
   * No name: the endpoint is not announced.
   */
  readonly name?: string;
  /** Local address; default RPMSG_ADDR_ANY: the lowest free address ≥ 1024. */
  readonly addr?: number;
  /** A fixed peer address; default RPMSG_ADDR_ANY: learned from the first message received. */
  readonly dst?: number;
  readonly cb: RemoteEndpointCallback;
  /** The host destroyed the channel this endpoint was bound to (NS DESTROY naming it). */
  readonly onUnbind?: (ept: RemoteEndpoint) => void;
}

/** Mutable endpoint state shared with the device (which updates it); read-only to users. */
export interface EndpointState {
  /** The peer: the configured dst, or the address learned / bound since the last reset. */
  dst: number;
  /** The dst given at creation (restored at each reset). */
  readonly configuredDst: number;
  /** NS CREATE sent in the current session. */
  announced: boolean;
  destroyed: boolean;
}

/**
 * What an endpoint needs of its device (implemented by RpmsgVirtioDevice). The calls that return a
 * number return 0 or a negative errno: the status contract of OpenAMP's rpmsg_trysend,
 * rpmsg_sendto_nocopy, rpmsg_release_tx_buffer, rpmsg_hold_rx_buffer and rpmsg_release_rx_buffer
 * (docs/architecture.md, Errors), kept because they run per message.
 */
export interface EndpointOwner {
  readonly mtu: number;
  trySendFrom(ept: RemoteEndpoint, dst: number, data: Uint8Array): number;
  sendFrom(ept: RemoteEndpoint, dst: number, data: Uint8Array, options: RemoteSendOptions): Promise<void>;
  sendNoCopyFrom(ept: RemoteEndpoint, dst: number, buf: RpmsgTxBuffer, len: number): number;
  getTxBuffer(): RpmsgTxBuffer | undefined;
  releaseTxBuffer(buf: RpmsgTxBuffer): number;
  holdRxBuffer(data: Uint8Array): number;
  releaseRxBuffer(data: Uint8Array): number;
  destroyEndpoint(ept: RemoteEndpoint): void;
}

export class RemoteEndpoint {
  /** Local address (source of everything it sends). */
  readonly addr: number;
  /** Service name ('' when not announced). */
  readonly name: string;
  readonly cb: RemoteEndpointCallback;
  readonly onUnbind: ((ept: RemoteEndpoint) => void) | undefined;
  private readonly owner: EndpointOwner;
  private readonly state: EndpointState;

  constructor(owner: EndpointOwner, addr: number, options: RemoteEndpointOptions, state: EndpointState) {
    this.owner = owner;
    this.addr = addr;
    this.name = options.name ?? '';
    this.cb = options.cb;
    this.onUnbind = options.onUnbind;
    this.state = state;
  }

  /** The peer address, or RPMSG_ADDR_ANY while unknown (OpenAMP's is_rpmsg_ept_ready is dst ≠ ANY). */
  get dst(): number {
    return this.state.dst;
  }

  get ready(): boolean {
    return this.state.dst !== RPMSG_ADDR_ANY && !this.state.destroyed;
  }

  /** NS CREATE went out in the current session. */
  get announced(): boolean {
    return this.state.announced;
  }

  get destroyed(): boolean {
    return this.state.destroyed;
  }

  /** Largest payload: bufSize − 16 (496 with Linux's buffers). */
  get mtu(): number {
    return this.owner.mtu;
  }

  /**
   * Send to the peer without waiting. 0, or a negative errno: -ENOTCONN (peer not learned yet),
   * -EMSGSIZE, -EPIPE (destroyed), -EAGAIN (host not ready), -ENOMEM (no TX buffer), -EIO (TX queue
   * stopped on a host protocol violation), -ESHUTDOWN (device closed).
   */
  trySend(data: Uint8Array): number {
    if (this.state.dst === RPMSG_ADDR_ANY && !this.state.destroyed) return -ERRNO.ENOTCONN;
    return this.owner.trySendFrom(this, this.state.dst, data);
  }

  /** Send to `dst` without waiting; as trySend, plus -EINVAL for dst = RPMSG_ADDR_ANY. */
  trySendTo(dst: number, data: Uint8Array): number {
    return this.owner.trySendFrom(this, dst, data);
  }

  /**
   * Send to the peer, waiting for a TX buffer (and for the host to be ready) if needed. Rejects with
   * an RprocError: ENOTCONN, EMSGSIZE, EPIPE, EIO, ETIMEDOUT, ECANCELED, ECONNRESET (the host reset
   * the device while waiting), ESHUTDOWN. `data` is copied if the send has to wait.
   */
  send(data: Uint8Array, options: RemoteSendOptions = {}): Promise<void> {
    if (this.state.dst === RPMSG_ADDR_ANY && !this.state.destroyed) {
      return Promise.reject(
        new RprocError(
          'ENOTCONN',
          'rpmsg-send',
          `endpoint ${this.addr} has no peer yet: it learns one from the first message it receives`,
        ),
      );
    }
    return this.owner.sendFrom(this, this.state.dst, data, options);
  }

  /** send() to an explicit destination. */
  sendTo(dst: number, data: Uint8Array, options: RemoteSendOptions = {}): Promise<void> {
    return this.owner.sendFrom(this, dst, data, options);
  }

  /** Borrow a TX buffer to fill in place (see RpmsgTxBuffer); undefined when none is available. */
  getTxBuffer(): RpmsgTxBuffer | undefined {
    return this.owner.getTxBuffer();
  }

  /** Send `len` bytes already written into buf.payload, to `dst` (default: the peer). 0 or -errno. */
  sendNoCopy(buf: RpmsgTxBuffer, len: number, dst: number = this.state.dst): number {
    if (dst === RPMSG_ADDR_ANY && !this.state.destroyed) return -ERRNO.ENOTCONN;
    return this.owner.sendNoCopyFrom(this, dst, buf, len);
  }

  releaseTxBuffer(buf: RpmsgTxBuffer): number {
    return this.owner.releaseTxBuffer(buf);
  }

  /** Inside the callback: keep `data` (and its host buffer) past the callback until releaseRxBuffer. */
  holdRxBuffer(data: Uint8Array): number {
    return this.owner.holdRxBuffer(data);
  }

  releaseRxBuffer(data: Uint8Array): number {
    return this.owner.releaseRxBuffer(data);
  }

  /** Remove the endpoint; sends NS DESTROY if it was announced. Idempotent. */
  destroy(): void {
    this.owner.destroyEndpoint(this);
  }
}
