// The serial line into a core's UART: a single-producer single-consumer byte ring in the core's
// block of device words (core-block.ts UART_RX_*). The host appends what the user typed (push) and
// rings the core; the core's UART model takes bytes as its receiver has room (take). Lock-free: the
// bytes are written before HEAD moves and read before TAIL moves, and Atomics' sequentially
// consistent stores and loads order them across the threads.

import { CORE_WORD, UART_RX_RING_BYTES, type CoreBlock } from './core-block.ts';

/**
 * What take() returns when the ring is empty: one zero-length array, not a new one per call — the
 * rv32 UART polls the ring at every interrupt-line update (every mailbox read of an rpmsg echo).
 */
const NO_BYTES = new Uint8Array(0);

export class UartRxRing {
  private readonly block: CoreBlock;
  private readonly bytes: Uint8Array;

  constructor(block: CoreBlock) {
    this.block = block;
    const { words } = block;
    const at = words.byteOffset + 4 * (block.base + CORE_WORD.UART_RX_RING);
    this.bytes = new Uint8Array(words.buffer, at, UART_RX_RING_BYTES);
  }

  /**
   * Bytes in the ring. HEAD and TAIL live in device words outside the core's address space: only
   * this class writes them (host and core runtime), never firmware. A count out of range can only
   * come from a ring the host reset under a running core; it reads as empty.
   */
  get used(): number {
    const n = (this.block.load(CORE_WORD.UART_RX_HEAD) - this.block.load(CORE_WORD.UART_RX_TAIL)) >>> 0;
    return n <= UART_RX_RING_BYTES ? n : 0;
  }

  get free(): number {
    return UART_RX_RING_BYTES - this.used;
  }

  /** Host side: append as much of `data` as fits; returns how many bytes went in. */
  push(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    if (n === 0) return 0;
    const head = this.block.load(CORE_WORD.UART_RX_HEAD) >>> 0;
    for (let i = 0; i < n; i++) this.bytes[(head + i) % UART_RX_RING_BYTES] = data[i] ?? 0;
    this.block.store(CORE_WORD.UART_RX_HEAD, (head + n) | 0);
    return n;
  }

  /** Core side: remove and return up to `max` bytes. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.used);
    if (n <= 0) return NO_BYTES;
    const tail = this.block.load(CORE_WORD.UART_RX_TAIL) >>> 0;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.bytes[(tail + i) % UART_RX_RING_BYTES] ?? 0;
    this.block.store(CORE_WORD.UART_RX_TAIL, (tail + n) | 0);
    return out;
  }

  /** Host side, with no core running: forget whatever is in the ring. */
  clear(): void {
    this.block.store(CORE_WORD.UART_RX_TAIL, this.block.load(CORE_WORD.UART_RX_HEAD));
  }
}
