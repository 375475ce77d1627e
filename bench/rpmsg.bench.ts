// rpmsg between the host (main thread) and a TypeScript remote on a js core (one worker thread),
// next to the raw limits measured in the same run between the main thread and one worker thread
// (bench/bare-threads.ts):
//
//   rpmsg/rtt-1B-p50, -p99        echo round trip of a 1-byte message through the whole stack
//   rpmsg/rtt-496B-p50, -p99      the same with a full 496-byte payload
//                                 baseline: the bare Atomics ping-pong with the main thread waiting
//                                 in Atomics.waitAsync (as our host listens) and the worker
//                                 sleeping in Atomics.wait — the sleep/wake round trip
//   rpmsg/throughput-496B         one-way host → remote, 496-byte messages (the 'sink' firmware
//                                 counts them and reports), msg/s; baseline: the bare SPSC ring of
//                                 512-byte slots with an EVENT_IDX-style doorbell
//   rpmsg/bare-pingpong-blocking  for comparison: the ping-pong with the main thread blocking in
//                                 Atomics.wait (p50 and p99, against the waitAsync ones)
//   rpmsg/bare-pingpong-spin      for comparison: both sides spin ≤ 2000 polls before sleeping
//
// Each round measures everything once, interleaved; a record is the median over the rounds (the
// note gives the min..max spread). RPMSG_BENCH_ROUNDS overrides the number of rounds.

import { ERRNO } from '../src/util/errors.ts';
import type { RpmsgEndpoint } from '../src/rpmsg/host/rpmsg-endpoint.ts';
import type { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { BareThreads, percentilesUs } from './bare-threads.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';
import { makeSoc, median, spread, warnIfStale } from './soc-bench-support.ts';

const ROUNDS = Number(process.env['RPMSG_BENCH_ROUNDS'] ?? 5);
const RTT_N = 3000;
const RTT_WARMUP = 500;
const PING_N = 5000;
const PING_WARMUP = 500;
const RING_N = 1_000_000;
const THROUGHPUT_N = 200_000;
const MSG = 496;

interface Echo {
  readonly soc: VirtualSoc;
  readonly ept: RpmsgEndpoint;
  /** Round-trip times in ms of `n` echoes of `payload` after `warmup` untimed ones. */
  rtt(payload: Uint8Array, n: number, warmup: number): Promise<Float64Array>;
}

async function bootEcho(): Promise<Echo> {
  const soc = await makeSoc(1, 'rpmsg-echo');
  const core = soc.cores[0];
  if (core === undefined) throw new Error('no core');
  await core.rproc.boot();
  const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: core.rproc });
  let waiting: (() => void) | undefined;
  const ept = ch.open(() => {
    const w = waiting;
    waiting = undefined;
    w?.();
  });
  return {
    soc,
    ept,
    async rtt(payload, n, warmup) {
      const lat = new Float64Array(n + warmup);
      for (let k = 0; k < n + warmup; k++) {
        const t0 = performance.now();
        const reply = new Promise<void>((resolve) => (waiting = resolve));
        const rc = ept.trySend(payload);
        if (rc !== 0) throw new Error(`echo send failed (${rc})`);
        await reply;
        lat[k] = performance.now() - t0;
      }
      return lat.subarray(warmup);
    },
  };
}

interface Sink {
  readonly soc: VirtualSoc;
  /** Messages per second of `n` one-way sends of `payload`, until the remote reports them all. */
  oneWay(payload: Uint8Array, n: number): Promise<number>;
}

async function bootSink(): Promise<Sink> {
  const soc = await makeSoc(1, 'sink');
  const core = soc.cores[0];
  if (core === undefined) throw new Error('no core');
  await core.rproc.boot();
  const ch = await soc.rpmsg.waitForChannel('rpmsg-sink', { rproc: core.rproc });
  let waiting: ((text: string) => void) | undefined;
  const ept = ch.open((data) => {
    const w = waiting;
    waiting = undefined;
    w?.(new TextDecoder().decode(data));
  });
  const enc = new TextEncoder();
  return {
    soc,
    async oneWay(payload, n) {
      await ept.send(enc.encode('reset'));
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const rc = ept.trySend(payload);
        if (rc === -ERRNO.ENOMEM) await ept.send(payload);
        else if (rc !== 0) throw new Error(`sink send failed (${rc})`);
      }
      const reply = new Promise<string>((resolve) => (waiting = resolve));
      await ept.send(enc.encode('report'));
      const report = JSON.parse(await reply) as { messages: number; bytes: number };
      const secs = (performance.now() - t0) / 1000;
      if (report.messages !== n || report.bytes !== n * payload.length) {
        throw new Error(`sink counted ${report.messages} messages / ${report.bytes} bytes, sent ${n}`);
      }
      return n / secs;
    },
  };
}

function filled(n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 13 + 5) & 0xff;
  return p;
}

interface Series {
  [key: string]: number[];
}

function push(s: Series, key: string, v: number): void {
  (s[key] ??= []).push(v);
}

const bench: Bench = {
  name: 'rpmsg',
  description: `rpmsg host ↔ js core (one worker) vs bare Atomics ping-pong and SPSC ring, median of ${ROUNDS} rounds`,
  async run() {
    warnIfStale();
    const bare = await BareThreads.start();
    const echo = await bootEcho();
    const sink = await bootSink();
    const one = filled(1);
    const full = filled(MSG);
    const s: Series = {};
    try {
      // Warm every path (JIT on both threads, first touch of buffers) before anything is
      // recorded: the rpmsg path needs a few hundred thousand messages before V8 has optimised
      // it on both sides (the first 200k run at half the speed of the third).
      await bare.pingPongAsync(2000, 0);
      await bare.ring(500_000, MSG);
      await echo.rtt(one, 3000, 0);
      await echo.rtt(full, 1000, 0);
      for (let i = 0; i < 3; i++) await sink.oneWay(full, THROUGHPUT_N);
      for (let r = 0; r < ROUNDS; r++) {
        const pa = percentilesUs(await bare.pingPongAsync(PING_N, PING_WARMUP));
        push(s, 'async50', pa.p50);
        push(s, 'async99', pa.p99);
        const pb = percentilesUs(await bare.pingPongBlocking(PING_N, PING_WARMUP));
        push(s, 'block50', pb.p50);
        push(s, 'block99', pb.p99);
        const ps = percentilesUs(await bare.pingPongBlocking(PING_N, PING_WARMUP, 2000, 2000));
        push(s, 'spin50', ps.p50);
        push(s, 'spin99', ps.p99);
        const e1 = percentilesUs(await echo.rtt(one, RTT_N, RTT_WARMUP));
        push(s, 'rtt1-50', e1.p50);
        push(s, 'rtt1-99', e1.p99);
        const e496 = percentilesUs(await echo.rtt(full, RTT_N, RTT_WARMUP));
        push(s, 'rtt496-50', e496.p50);
        push(s, 'rtt496-99', e496.p99);
        push(s, 'ring', await bare.ring(RING_N, MSG));
        push(s, 'sink', await sink.oneWay(full, THROUGHPUT_N));
      }
    } finally {
      await echo.soc.close();
      await sink.soc.close();
      await bare.close();
    }
    const m = (k: string): number => median(s[k] ?? []);
    const sp = (k: string, d = 1): string => spread(s[k] ?? [], d);
    const kmsg = (k: string): string =>
      spread(
        (s[k] ?? []).map((v) => v / 1000),
        0,
      );
    const records: BenchRecord[] = [
      record(
        'rpmsg/rtt-1B-p50',
        m('rtt1-50'),
        m('async50'),
        'µs',
        `rpmsg ${sp('rtt1-50')} vs waitAsync ping-pong ${sp('async50')}`,
      ),
      record(
        'rpmsg/rtt-1B-p99',
        m('rtt1-99'),
        m('async99'),
        'µs',
        `rpmsg ${sp('rtt1-99')} vs ${sp('async99')}`,
      ),
      record('rpmsg/rtt-496B-p50', m('rtt496-50'), m('async50'), 'µs', `rpmsg ${sp('rtt496-50')}`),
      record('rpmsg/rtt-496B-p99', m('rtt496-99'), m('async99'), 'µs', `rpmsg ${sp('rtt496-99')}`),
      record(
        'rpmsg/throughput-496B',
        m('sink'),
        m('ring'),
        'msg/s',
        `rpmsg ${kmsg('sink')} k vs bare ring ${kmsg('ring')} k`,
      ),
      record(
        'rpmsg/bare-pingpong-blocking-p50',
        m('block50'),
        m('async50'),
        'µs',
        `main blocks in Atomics.wait ${sp('block50')}`,
      ),
      record('rpmsg/bare-pingpong-blocking-p99', m('block99'), m('async99'), 'µs', sp('block99')),
      record(
        'rpmsg/bare-pingpong-spin-p50',
        m('spin50'),
        m('async50'),
        'µs',
        `both spin ≤2000 polls ${sp('spin50', 2)}`,
      ),
      record('rpmsg/bare-pingpong-spin-p99', m('spin99'), m('async99'), 'µs', sp('spin99', 2)),
    ];
    return records;
  },
};

export default bench;
