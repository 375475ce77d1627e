// The one source of the bare baselines every bench divides by: the raw limits between the main
// thread and one worker thread, measured without any of our code (bench/README.md describes the
// method) — an Atomics ping-pong (the main thread waiting with Atomics.waitAsync as our host does,
// or blocking in Atomics.wait, or both sides spinning briefly first), a single-producer
// single-consumer ring of 512-byte slots main → worker over a SharedArrayBuffer with an
// EVENT_IDX-style doorbell (notify only on an idle → busy transition), and the same ring's copies
// on one thread. sharedBaselines() measures them once per `npm run bench` process; bench/run.ts
// writes them as the `bare/...` records, and every record names the one it divides by.

import { Worker } from 'node:worker_threads';
import type { Baseline, BenchRecord } from './bench.ts';

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

/** Messages of the single-thread ring per measurement, and the burst between publications. */
const RING1T_SLOTS = 256;
const RING1T_BURST = 32;

/**
 * The bare SPSC ring on one thread: a burst of 512-byte messages copied in, head published with
 * Atomics.store (per message, or once per burst), then copied out and the tail published the same
 * way; messages per second. The like-for-like baseline of the single-thread virtqueue bench.
 */
export function ringSingleThread(count: number, publishEach: boolean, size = SLOT): number {
  const slots = new Uint8Array(new SharedArrayBuffer(RING1T_SLOTS * SLOT));
  // each slot's length word on its own 64-byte line; head [0] and tail [32] 128 bytes apart
  const lens = new Uint32Array(new SharedArrayBuffer(4 * RING1T_SLOTS * 16));
  const ctl = new Int32Array(new SharedArrayBuffer(256));
  const mask = RING1T_SLOTS - 1;
  const src = new Uint8Array(size);
  for (let i = 0; i < size; i++) src[i] = i & 0xff;
  const dst = new Uint8Array(size);
  let head = 0;
  let tail = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += RING1T_BURST) {
    // producer: space check against the consumer's published tail
    if (((head - Atomics.load(ctl, 32)) | 0) + RING1T_BURST > RING1T_SLOTS) throw new Error('ring full');
    for (let k = 0; k < RING1T_BURST; k++) {
      const slot = head & mask;
      slots.set(src, slot * SLOT);
      lens[slot * 16] = size;
      head = (head + 1) | 0;
      if (publishEach) Atomics.store(ctl, 0, head);
    }
    if (!publishEach) Atomics.store(ctl, 0, head);
    const h = Atomics.load(ctl, 0);
    while (tail !== h) {
      const slot = tail & mask;
      const len = lens[slot * 16] ?? 0;
      dst.set(slots.subarray(slot * SLOT, slot * SLOT + len));
      sink += dst[7] ?? 0;
      tail = (tail + 1) | 0;
      if (publishEach) Atomics.store(ctl, 32, tail);
    }
    if (!publishEach) Atomics.store(ctl, 32, tail);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink === 0) throw new Error('single-thread ring did nothing');
  return count / secs;
}

/** Names of the shared baselines, as records and as every other record's baselineName. */
export const BARE = {
  asyncP50: 'bare/pingpong-waitasync-p50',
  asyncP99: 'bare/pingpong-waitasync-p99',
  blockP50: 'bare/pingpong-blocking-p50',
  blockP99: 'bare/pingpong-blocking-p99',
  spinP50: 'bare/pingpong-spin-p50',
  spinP99: 'bare/pingpong-spin-p99',
  ring: 'bare/ring-512B',
  ring1t: 'bare/ring-512B-1-thread',
  ring1tBatched: 'bare/ring-512B-1-thread-batched',
} as const;

type BareKey = keyof typeof BARE;

/** 'quiet': the spinning ping-pong beats the sleeping one, so both threads had a CPU of their own. */
export type Regime = 'quiet' | 'loaded';

export interface Baselines {
  readonly get: (key: BareKey) => Baseline;
  readonly regime: Regime;
  readonly records: readonly BenchRecord[];
}

const BASELINE_ROUNDS = Number(process.env['BASELINE_ROUNDS'] ?? 5);
const PING_N = 5000;
const PING_WARMUP = 500;
const RING_N = 1_000_000;
const RING1T_N = 1_000_000;
/** Polls each side spins before Atomics.wait in the spin ping-pong. */
const SPIN_POLLS = 2000;

let measured: Promise<Baselines> | undefined;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function measure(): Promise<Baselines> {
  const bare = await BareThreads.start();
  const samples = new Map<BareKey, number[]>();
  const push = (k: BareKey, v: number): void => {
    const list = samples.get(k);
    if (list === undefined) samples.set(k, [v]);
    else list.push(v);
  };
  try {
    // Warm both threads' code (and first touches of the buffers) before anything is recorded.
    await bare.pingPongAsync(2000, 0);
    await bare.pingPongBlocking(2000, 0, SPIN_POLLS, SPIN_POLLS);
    await bare.ring(500_000, SLOT);
    ringSingleThread(200_000, true);
    ringSingleThread(200_000, false);
    for (let r = 0; r < BASELINE_ROUNDS; r++) {
      const pa = percentilesUs(await bare.pingPongAsync(PING_N, PING_WARMUP));
      push('asyncP50', pa.p50);
      push('asyncP99', pa.p99);
      const pb = percentilesUs(await bare.pingPongBlocking(PING_N, PING_WARMUP));
      push('blockP50', pb.p50);
      push('blockP99', pb.p99);
      const ps = percentilesUs(await bare.pingPongBlocking(PING_N, PING_WARMUP, SPIN_POLLS, SPIN_POLLS));
      push('spinP50', ps.p50);
      push('spinP99', ps.p99);
      push('ring', await bare.ring(RING_N, SLOT));
      push('ring1t', ringSingleThread(RING1T_N, true));
      push('ring1tBatched', ringSingleThread(RING1T_N, false));
    }
  } finally {
    await bare.close();
  }
  const value = (k: BareKey): number => median(samples.get(k) ?? []);
  const spreadOf = (k: BareKey): string => {
    const xs = samples.get(k) ?? [];
    const d = k.startsWith('ring') ? 0 : 2;
    const scale = k.startsWith('ring') ? 1 / 1000 : 1;
    return `${(Math.min(...xs) * scale).toFixed(d)}..${(Math.max(...xs) * scale).toFixed(d)}${k.startsWith('ring') ? ' k' : ''}`;
  };
  const get = (k: BareKey): Baseline => ({ name: BARE[k], value: value(k) });
  const regime: Regime = value('spinP50') < 0.5 * value('blockP50') ? 'quiet' : 'loaded';
  const what: Record<BareKey, [string, string]> = {
    asyncP50: ['µs', 'main thread in Atomics.waitAsync, worker in Atomics.wait'],
    asyncP99: ['µs', 'the same, p99'],
    blockP50: ['µs', 'both threads in Atomics.wait'],
    blockP99: ['µs', 'the same, p99'],
    spinP50: ['µs', `both spin ≤ ${SPIN_POLLS} polls, then Atomics.wait; regime ${regime}`],
    spinP99: ['µs', 'the same, p99'],
    ring: ['msg/s', 'SPSC ring main → worker, EVENT_IDX-style doorbell'],
    ring1t: ['msg/s', 'the ring on one thread, publish per message'],
    ring1tBatched: ['msg/s', `the ring on one thread, publish per ${RING1T_BURST}`],
  };
  const self = (k: BareKey): BenchRecord => {
    const [unit, note] = what[k];
    return {
      name: BARE[k],
      value: value(k),
      unit,
      baseline: value(k),
      baselineName: BARE[k],
      ratio: 1,
      note: `${note}; median of ${BASELINE_ROUNDS}, ${spreadOf(k)}`,
    };
  };
  const records: BenchRecord[] = (Object.keys(BARE) as BareKey[]).map(self);
  // The regime as a ratio: about 1 when spinning does not help (a thread waited for a CPU).
  records.push({
    name: 'bare/regime-spin-vs-blocking',
    value: value('spinP50'),
    unit: 'µs',
    baseline: value('blockP50'),
    baselineName: BARE.blockP50,
    ratio: value('spinP50') / value('blockP50'),
    note: `${regime}: below 0.5 both threads had a CPU each`,
  });
  return { get, regime, records };
}

/** The bare baselines of this run, measured on first use and shared by every bench after it. */
export function sharedBaselines(): Promise<Baselines> {
  measured ??= measure();
  return measured;
}

/** The baseline records if some bench measured them in this process, else undefined. */
export function measuredBaselines(): Promise<Baselines> | undefined {
  return measured;
}
