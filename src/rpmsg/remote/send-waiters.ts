// The senders of the rpmsg remote device waiting for a TX buffer (or for the host to come up): a
// FIFO of promises settled by the device's service loop, with optional timeouts and abort signals.
// The blocking half of OpenAMP's rpmsg_send (which busy-waits instead) and Linux's rpmsg_send.

import { RprocError, type ErrnoName } from '../../util/errors.ts';
import type { RemoteEndpoint } from './remote-endpoint.ts';
import type { RemoteSendOptions, RemoteTimers } from './remote-types.ts';

export interface Waiter {
  readonly ept: RemoteEndpoint;
  readonly dst: number;
  /** A copy of the caller's bytes, taken when the send had to wait. */
  readonly data: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: RprocError) => void;
  timer: unknown;
  cleanup: (() => void) | undefined;
}

export class SendWaiters {
  private list: Waiter[] = [];
  private readonly timers: RemoteTimers;
  private readonly makeError: (code: ErrnoName, detail: string) => RprocError;

  constructor(timers: RemoteTimers, makeError: (code: ErrnoName, detail: string) => RprocError) {
    this.timers = timers;
    this.makeError = makeError;
  }

  get length(): number {
    return this.list.length;
  }

  /** The oldest waiter, still queued. */
  first(): Waiter | undefined {
    return this.list[0];
  }

  /** Remove the oldest waiter and settle it (resolve, or reject with `error`). */
  completeFirst(error?: RprocError): void {
    const w = this.list.shift();
    if (w !== undefined) this.settle(w, error);
  }

  /**
   * Queue a send; the promise settles when the device sends it or gives up. `queued` runs once the
   * waiter is in the list (the device arms its notifications and retries there). Rejects at once
   * for a bad timeout (EINVAL) or an already aborted signal (ECANCELED).
   */
  wait(
    ept: RemoteEndpoint,
    dst: number,
    data: Uint8Array,
    options: RemoteSendOptions,
    queued: () => void,
  ): Promise<void> {
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      return Promise.reject(
        this.makeError('EINVAL', `timeoutMs ${String(timeoutMs)} is not a non-negative number`),
      );
    }
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(this.makeError('ECANCELED', 'send aborted'));
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        ept,
        dst,
        data: data.slice(),
        resolve,
        reject,
        timer: undefined,
        cleanup: undefined,
      };
      if (timeoutMs !== undefined) {
        w.timer = this.timers.setTimeout(() => {
          w.timer = undefined;
          this.drop(w, this.makeError('ETIMEDOUT', `no TX buffer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      if (signal !== undefined) {
        const onAbort = (): void => this.drop(w, this.makeError('ECANCELED', 'send aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.list.push(w);
      queued();
    });
  }

  /** Reject every waiter (a reset, a stopped queue, close). */
  rejectAll(code: ErrnoName, why: string): void {
    const all = this.list;
    this.list = [];
    for (const w of all) this.settle(w, this.makeError(code, why));
  }

  /** Reject the waiters of one endpoint (destroyed). */
  rejectFor(ept: RemoteEndpoint, code: ErrnoName, why: string): void {
    const mine = this.list.filter((w) => w.ept === ept);
    if (mine.length === 0) return;
    this.list = this.list.filter((w) => w.ept !== ept);
    for (const w of mine) this.settle(w, this.makeError(code, why));
  }

  private drop(w: Waiter, e: RprocError): void {
    const i = this.list.indexOf(w);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.settle(w, e);
  }

  private settle(w: Waiter, e?: RprocError): void {
    if (w.timer !== undefined) {
      this.timers.clearTimeout(w.timer);
      w.timer = undefined;
    }
    w.cleanup?.();
    if (e === undefined) w.resolve();
    else w.reject(e);
  }
}
