// rpmsg between the host (main thread) and a TypeScript remote on a js core (one worker thread),
// against the bare limits of this run between the main thread and one worker thread
// (bench/bare-threads.ts, measured once and shared by every bench):
//
//   rpmsg/rtt-1B-p50, -p99        echo round trip of a 1-byte message through the whole stack
//   rpmsg/rtt-496B-p50, -p99      the same with a full 496-byte payload
//                                 baseline: bare/pingpong-waitasync-p50 (-p99): the main thread
//                                 waiting in Atomics.waitAsync (as our host listens), the worker
//                                 sleeping in Atomics.wait — the sleep/wake round trip
//   rpmsg/throughput-496B         one-way host → remote, 496-byte messages (the 'sink' firmware
//                                 counts them and reports), msg/s; baseline: bare/ring-512B, the
//                                 SPSC ring of 512-byte slots with an EVENT_IDX-style doorbell
//
// Each round measures everything once, interleaved; a record is the median over the rounds (the
// note gives the min..max spread). RPMSG_BENCH_ROUNDS overrides the number of rounds.

import { percentilesUs, sharedBaselines } from './bare-threads.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';
import { bootEcho, bootSink, filled, median, spread, warnIfStale } from './soc-bench-support.ts';

const ROUNDS = Number(process.env['RPMSG_BENCH_ROUNDS'] ?? 5);
const RTT_N = 3000;
const RTT_WARMUP = 500;
const THROUGHPUT_N = 200_000;
const MSG = 496;

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
    const bare = await sharedBaselines();
    const echo = await bootEcho();
    const sink = await bootSink();
    const one = filled(1);
    const full = filled(MSG);
    const s: Series = {};
    try {
      // Warm every path (JIT on both threads, first touch of buffers) before anything is
      // recorded: the rpmsg path needs a few hundred thousand messages before V8 has optimised
      // it on both sides (the first 200k run at half the speed of the third).
      await echo.rtt(one, 3000, 0);
      await echo.rtt(full, 1000, 0);
      for (let i = 0; i < 3; i++) await sink.oneWay(full, THROUGHPUT_N);
      for (let r = 0; r < ROUNDS; r++) {
        const e1 = percentilesUs(await echo.rtt(one, RTT_N, RTT_WARMUP));
        push(s, 'rtt1-50', e1.p50);
        push(s, 'rtt1-99', e1.p99);
        const e496 = percentilesUs(await echo.rtt(full, RTT_N, RTT_WARMUP));
        push(s, 'rtt496-50', e496.p50);
        push(s, 'rtt496-99', e496.p99);
        push(s, 'sink', await sink.oneWay(full, THROUGHPUT_N));
      }
    } finally {
      await echo.soc.close();
      await sink.soc.close();
    }
    const m = (k: string): number => median(s[k] ?? []);
    const sp = (k: string, d = 1): string => spread(s[k] ?? [], d);
    const kmsg = (k: string): string =>
      spread(
        (s[k] ?? []).map((v) => v / 1000),
        0,
      );
    const records: BenchRecord[] = [
      record('rpmsg/rtt-1B-p50', m('rtt1-50'), bare.get('asyncP50'), 'µs', `rpmsg ${sp('rtt1-50')}`),
      record('rpmsg/rtt-1B-p99', m('rtt1-99'), bare.get('asyncP99'), 'µs', `rpmsg ${sp('rtt1-99')}`),
      record('rpmsg/rtt-496B-p50', m('rtt496-50'), bare.get('asyncP50'), 'µs', `rpmsg ${sp('rtt496-50')}`),
      record('rpmsg/rtt-496B-p99', m('rtt496-99'), bare.get('asyncP99'), 'µs', `rpmsg ${sp('rtt496-99')}`),
      // p99 against p50 of the same run: the tail the issue bounds at 4×.
      record('rpmsg/rtt-1B-tail', m('rtt1-99'), { name: 'rpmsg/rtt-1B-p50', value: m('rtt1-50') }, 'µs'),
      record('rpmsg/throughput-496B', m('sink'), bare.get('ring'), 'msg/s', `rpmsg ${kmsg('sink')} k`),
    ];
    return records;
  },
};

export default bench;
