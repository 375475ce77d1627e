// The receive side of an endpoint whose messages are pushed to it (the virtual SoC's endpoints):
// a bounded FIFO that `receive()` takes from, waiting with an optional timeout, and that ends with
// an error (EPIPE when the channel goes) after what was queued has been read. A remote that floods
// the host fills the queue to its bound; the rest is dropped and counted, never buffered without end.

import { RprocError } from '../util/errors.ts';

/** Messages held for a reader that is not reading; more are dropped and counted. */
export const DEFAULT_QUEUE_LIMIT = 1024;

interface Waiter {
  resolve(data: Uint8Array): void;
  reject(error: RprocError): void;
}

export class MessageQueue {
  private readonly items: Uint8Array[] = [];
  private readonly waiters: Waiter[] = [];
  private ended: RprocError | undefined;
  private readonly limit: number;
  /** Messages dropped because the queue was full. */
  dropped = 0;

  constructor(limit = DEFAULT_QUEUE_LIMIT) {
    this.limit = limit;
  }

  get length(): number {
    return this.items.length;
  }

  get done(): boolean {
    return this.ended !== undefined;
  }

  push(data: Uint8Array): void {
    if (this.ended !== undefined) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(data);
      return;
    }
    if (this.items.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.items.push(data);
  }

  /** No more messages: waiting readers and later ones get `reason` once the queue is drained. */
  end(reason: RprocError): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  receive(timeoutMs?: number, what = 'a message'): Promise<Uint8Array> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        resolve: (data) => {
          if (timer !== undefined) clearTimeout(timer);
          resolve(data);
        },
        reject: (error) => {
          if (timer !== undefined) clearTimeout(timer);
          reject(error);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new RprocError('ETIMEDOUT', 'receive', `no ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }
}

/** Every message of `receive` until it fails with EPIPE (the end) or another error (thrown). */
export async function* messagesOf(receive: () => Promise<Uint8Array>): AsyncIterableIterator<Uint8Array> {
  for (;;) {
    let data: Uint8Array;
    try {
      data = await receive();
    } catch (e) {
      if (e instanceof RprocError && e.code === 'EPIPE') return;
      throw e;
    }
    yield data;
  }
}
