// The host's end of a core's serial line: bytes for the core's UART receiver (stdin of `rproc run
// --uart-stdin`, a test typing into a firmware shell). What fits goes into the core's receive ring
// at once and the core is woken; the rest waits here, in order, and moves in as the core's UART
// takes bytes — so nothing the host sends is ever dropped, as with a QEMU chardev, whose input
// waits until the UART can receive.

import { RprocError } from '../util/errors.ts';
import type { UartRxRing } from './uart-rx-ring.ts';

/** How the core's execution lets the host's bytes through. */
export interface UartInputPort {
  /** Wake the core: its receive ring has new bytes. */
  poke(): void;
  /**
   * Call `pump` again once the core may have taken bytes (a host timer for a worker, the next tick
   * of the scheduler in deterministic mode, so that bytes move in at reproducible virtual times).
   */
  retry(pump: () => void): void;
}

interface Pending {
  readonly bytes: Uint8Array;
  offset: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export class UartInput {
  private readonly ring: UartRxRing;
  private readonly port: UartInputPort;
  private readonly queue: Pending[] = [];
  private retrying = false;
  private closed = false;

  constructor(ring: UartRxRing, port: UartInputPort) {
    this.ring = ring;
    this.port = port;
  }

  /** Bytes sent but not yet taken by the core's UART (waiting here or in the ring). */
  get pending(): number {
    let n = this.ring.used;
    for (const p of this.queue) n += p.bytes.length - p.offset;
    return n;
  }

  /**
   * Send `data` down the line; resolves once every byte is in the core's receive ring (the UART
   * takes them from there as its FIFO has room). Sends are delivered in call order.
   */
  send(data: Uint8Array | string): Promise<void> {
    if (this.closed) return Promise.reject(new RprocError('ESHUTDOWN', 'uart-input', 'the SoC is closed'));
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data.slice();
    if (bytes.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) =>
      this.queue.push({ bytes, offset: 0, resolve, reject }),
    );
    this.pump();
    return done;
  }

  /** Move what waits into the ring, as far as it has room; wake the core if anything moved. */
  private pump(): void {
    let moved = 0;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head === undefined) break;
      const n = this.ring.push(head.bytes.subarray(head.offset));
      head.offset += n;
      moved += n;
      if (head.offset < head.bytes.length) break;
      this.queue.shift();
      head.resolve();
    }
    if (moved > 0) this.port.poke();
    if (this.queue.length > 0 && !this.retrying) {
      this.retrying = true;
      this.port.retry(() => {
        this.retrying = false;
        if (!this.closed) this.pump();
      });
    }
  }

  /** The SoC is closing: what still waits is dropped and its senders told so. */
  close(): void {
    this.closed = true;
    for (const p of this.queue.splice(0))
      p.reject(
        new RprocError(
          'ESHUTDOWN',
          'uart-input',
          `${p.bytes.length - p.offset} bytes not delivered: the SoC closed`,
        ),
      );
  }
}
