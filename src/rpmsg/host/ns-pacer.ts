// Backpressure on a name service that creates nothing: the RX buffers of name-service messages the
// host refuses (over the channel limit, duplicates, DESTROYs of unknown channels, malformed) go back
// to the remote at a bounded rate — a burst, then `perSecond` — and beyond it stay off the ring until
// the budget refills. A remote announcing names in a loop then runs short of buffers and waits for
// them (the protocol's own backpressure) instead of making the host, and its own thread, do the
// work. Linux's rpmsg_recv_single re-posts every buffer at once; NAPI's budget bounds work likewise.

import type { RxContext } from './rpmsg-endpoint.ts';

/** Refused name-service messages a device may send per second, in the long run, by default. */
export const RPMSG_DEFAULT_NS_REFUSED_PER_SEC = 5000;
/** How often held buffers are given back, ms. */
const TICK_MS = 10;

export class NsPacer {
  private readonly perMs: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  /** Releases of held buffers, oldest first (a FIFO with a head index). */
  private readonly held: (() => void)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `perSecond` buffers back a second after a burst of a tenth of a second's worth (at least 1). */
  constructor(perSecond: number, now: () => number = () => performance.now()) {
    this.perMs = perSecond / 1000;
    this.burst = Math.max(1, Math.ceil(perSecond / 10));
    this.tokens = this.burst;
    this.now = now;
    this.last = now();
  }

  /** Buffers held now. */
  get holding(): number {
    return this.held.length - this.head;
  }

  /**
   * From inside the name service's receive callback: a refused message. Returns whether its buffer
   * is held (the remote is over its budget) rather than going back at once.
   */
  refused(ctx: RxContext): boolean {
    this.refill();
    // Earlier messages still wait: this one waits behind them, in order.
    if (this.holding === 0 && this.tokens >= 1) {
      this.tokens--;
      return false;
    }
    this.held.push(ctx.hold());
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      // Held buffers alone do not keep the process alive.
      this.timer.unref();
    }
    return true;
  }

  /** Give every held buffer back and stop (the device goes away, or the pacer is dropped). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (let i = this.head; i < this.held.length; i++) this.held[i]?.();
    this.held.length = 0;
    this.head = 0;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.perMs);
    this.last = t;
  }

  private tick(): void {
    this.refill();
    while (this.tokens >= 1 && this.head < this.held.length) {
      const release = this.held[this.head];
      this.held[this.head++] = (): void => undefined;
      this.tokens--;
      release?.();
    }
    if (this.head === this.held.length) {
      this.held.length = 0;
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
