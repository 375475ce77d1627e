// The raw limits between the main thread and one worker thread, measured without any of our code
// (bench/README.md describes the method): an Atomics ping-pong — the main thread
// waiting with Atomics.waitAsync as our host does, or blocking in Atomics.wait, or spinning briefly
// first — and a single-producer single-consumer ring of 512-byte slots main → worker over a
// SharedArrayBuffer, with an EVENT_IDX-style doorbell (notify only on an idle → busy transition).

import { Worker } from 'node:worker_threads';

// Shared with bare-threads-worker.mjs.
const SLOTS = 256;
const SLOT = 512;
const DATA_OFF = 32768;
const HEAD = 16;
const PROD_EVENT = 17;
const TAIL = 48;
const CONS_EVENT = 49;
const LEN0 = 128;
const LSTRIDE = 16;
/** A producer blocked on a full ring asks to be woken once this many slots are free. */
const DELAY = 128;

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

/** p50 and p99 of samples in milliseconds, in microseconds. */
export function percentilesUs(samplesMs: Float64Array): Percentiles {
  const s = Float64Array.from(samplesMs).sort();
  const q = (p: number): number => (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN) * 1000;
  return { p50: q(0.5), p99: q(0.99) };
}

export class BareThreads {
  private readonly sab = new SharedArrayBuffer(DATA_OFF + SLOTS * SLOT);
  private readonly ia = new Int32Array(this.sab);
  private readonly worker: Worker;
  /** Ping-pong values keep growing across runs, so no run sees a stale value as its answer. */
  private base = 0;

  private constructor() {
    this.worker = new Worker(new URL('./bare-threads-worker.mjs', import.meta.url), {
      workerData: { sab: this.sab },
    });
  }

  static async start(): Promise<BareThreads> {
    const t = new BareThreads();
    await new Promise<void>((resolve, reject) => {
      t.worker.once('online', resolve);
      t.worker.once('error', reject);
    });
    return t;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private command(msg: object): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const onError = (e: unknown): void => {
        this.worker.off('message', onMessage);
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      const onMessage = (): void => {
        this.worker.off('error', onError);
        resolve();
      };
      this.worker.once('message', onMessage);
      this.worker.once('error', onError);
    });
    this.worker.postMessage(msg);
    return done;
  }

  private startPong(n: number, spin: number): { base: number; done: Promise<void> } {
    const base = this.base;
    this.base += 2 * n + 2;
    Atomics.store(this.ia, 0, base);
    return { base, done: this.command({ cmd: 'pong', spin, n, base }) };
  }

  /**
   * Round trips of the main thread waiting with Atomics.waitAsync (the event loop stays free, as in
   * our host's doorbell listener) against a worker sleeping in Atomics.wait (`workerSpin` 0) or
   * spinning that many polls first. Round-trip times in ms, the first `warmup` dropped.
   */
  async pingPongAsync(n: number, warmup: number, workerSpin = 0): Promise<Float64Array> {
    const total = n + warmup;
    const { base, done } = this.startPong(total, workerSpin);
    const ia = this.ia;
    const lat = new Float64Array(total);
    for (let k = 0; k < total; k++) {
      const t0 = performance.now();
      const v = base + 2 * k + 1;
      Atomics.store(ia, 0, v);
      Atomics.notify(ia, 0);
      while (Atomics.load(ia, 0) !== v + 1) {
        const r = Atomics.waitAsync(ia, 0, v);
        if (r.async) await r.value;
      }
      lat[k] = performance.now() - t0;
    }
    await done;
    return lat.subarray(warmup);
  }

  /**
   * The same with the main thread blocking: Atomics.wait after `mainSpin` polls (0 = the pure
   * sleep/wake ping-pong; 2000 on both sides = spin first, then sleep).
   */
  async pingPongBlocking(n: number, warmup: number, mainSpin = 0, workerSpin = 0): Promise<Float64Array> {
    const total = n + warmup;
    const { base, done } = this.startPong(total, workerSpin);
    // The worker's 'message' event must be handled before we block the main thread; it is
    // dispatched in the worker's own thread, so blocking here is safe once the command is posted.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const ia = this.ia;
    const lat = new Float64Array(total);
    for (let k = 0; k < total; k++) {
      const t0 = performance.now();
      const v = base + 2 * k + 1;
      Atomics.store(ia, 0, v);
      Atomics.notify(ia, 0);
      let s = 0;
      while (Atomics.load(ia, 0) !== v + 1) {
        if (++s > mainSpin) Atomics.wait(ia, 0, v);
      }
      lat[k] = performance.now() - t0;
    }
    await done;
    return lat.subarray(warmup);
  }

  /**
   * Messages per second through the ring, main thread producing `n` messages of `size` bytes,
   * the worker consuming (copying each out). The producer blocks in Atomics.wait when the ring is
   * full and asks to be woken after DELAY slots free up (virtqueue_enable_cb_delayed).
   */
  async ring(n: number, size: number): Promise<number> {
    const ia = this.ia;
    for (const w of [HEAD, TAIL]) Atomics.store(ia, w, 0);
    for (const w of [PROD_EVENT, CONS_EVENT]) Atomics.store(ia, w, -1);
    const done = this.command({ cmd: 'ring', n });
    await new Promise<void>((resolve) => setImmediate(resolve));
    const mem = new Uint8Array(this.sab);
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7 + 1) & 0xff;
    let head = 0;
    let tail = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (head - tail === SLOTS) tail = Atomics.load(ia, TAIL);
      while (head - tail === SLOTS) {
        Atomics.store(ia, PROD_EVENT, tail + DELAY - 1);
        const t2 = Atomics.load(ia, TAIL);
        if (t2 - tail < DELAY) Atomics.wait(ia, TAIL, t2);
        tail = Atomics.load(ia, TAIL);
      }
      const slot = head & (SLOTS - 1);
      mem.set(payload, DATA_OFF + slot * SLOT);
      ia[LEN0 + slot * LSTRIDE] = size;
      head++;
      const old = Atomics.exchange(ia, HEAD, head);
      // vring_need_event(cons_event, head, old)
      if ((head - 1 - Atomics.load(ia, CONS_EVENT)) >>> 0 < (head - old) >>> 0) Atomics.notify(ia, HEAD);
    }
    while (Atomics.load(ia, TAIL) !== n) Atomics.wait(ia, TAIL, Atomics.load(ia, TAIL), 1);
    const secs = (performance.now() - t0) / 1000;
    await done;
    return n / secs;
  }
}
