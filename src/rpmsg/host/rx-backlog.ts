// What a host-side reader of an endpoint does with messages it cannot take yet: keep them in their
// RX buffers (held off the ring, so that the remote runs short of buffers and slows down — the
// backpressure virtio allows), up to a bound per endpoint; beyond it drop them, counted. Linux's
// rpmsg_char queues an skb per message without any bound (rpmsg_ept_cb) and rpmsg_tty pushes into
// the tty flip buffer, dropping what does not fit; this is the bounded middle both readers here use.

import type { RpmsgEndpoint, RxContext } from './rpmsg-endpoint.ts';

interface Held {
  readonly data: Uint8Array;
  readonly release: () => void;
}

export class RxBacklog {
  /** Messages dropped because the reader's queue and its share of held buffers were full. */
  dropped = 0;
  private readonly held: (Held | undefined)[] = [];
  private head = 0;
  private readonly label: string;
  private readonly ept: () => RpmsgEndpoint | undefined;

  /** `label` names the queue in diagnostics (ttyRPMSG0, rpmsg3, ...); `ept` the endpoint it reads. */
  constructor(label: string, ept: () => RpmsgEndpoint | undefined) {
    this.label = label;
    this.ept = ept;
  }

  /** Messages waiting in held buffers. */
  get length(): number {
    return this.held.length - this.head;
  }

  /**
   * From inside the receive callback: keep `data` in its RX buffer if the endpoint's share of held
   * buffers allows (true), else drop it, count it and say so (false). `data` stays valid until
   * take() or clear() releases it.
   */
  offer(data: Uint8Array, ctx: RxContext): boolean {
    const ept = this.ept();
    const limit = ept?.rxHeldLimit ?? 0;
    if (this.length < limit) {
      this.held.push({ data, release: ctx.hold() });
      return true;
    }
    this.dropped++;
    if (ept !== undefined) ept.noteDropped(this.label, this.dropped);
    return false;
  }

  /** The oldest held message, copied out; its buffer goes back to the remote. */
  take(): Uint8Array | undefined {
    const h = this.held[this.head];
    if (h === undefined) return undefined;
    this.held[this.head] = undefined;
    this.head++;
    if (this.head === this.held.length) {
      this.held.length = 0;
      this.head = 0;
    }
    const copy = h.data.slice();
    h.release();
    return copy;
  }

  /** Every held message, copied out, buffers given back (the endpoint is going away). */
  takeAll(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let m = this.take(); m !== undefined; m = this.take()) out.push(m);
    return out;
  }

  /** Give every held buffer back unread (the reader closed). */
  clear(): void {
    for (let i = this.head; i < this.held.length; i++) this.held[i]?.release();
    this.held.length = 0;
    this.head = 0;
  }
}
