// Run by rpmsg-one-vcpu.bench.ts under `taskset -c N`, so that this process's threads share one
// vCPU (the shared-vCPU regime, made on purpose instead of waiting for a loaded machine): the bare
// SPSC ring of bench/bare-threads.ts and the rpmsg sink (bench/soc-bench-support.ts), alternated
// round by round, each its own thread beside the main one. Prints one JSON line,
// {"ring": [msg/s per round], "sink": [msg/s per round]}.

import { BareThreads } from './bare-threads.ts';
import { bootSink, filled } from './soc-bench-support.ts';

const ROUNDS = Number(process.env['RPMSG_BENCH_ROUNDS'] ?? 5);
const RING_N = 1_000_000;
const SINK_N = 200_000;
const SLOT = 512;
const MSG = 496;

const bare = await BareThreads.start();
const sink = await bootSink();
const payload = filled(MSG);
const out: { ring: number[]; sink: number[] } = { ring: [], sink: [] };
try {
  // Warm both paths first (V8's optimising compiler on both threads), as the other benches do.
  await bare.ring(500_000, SLOT);
  for (let i = 0; i < 3; i++) await sink.oneWay(payload, SINK_N);
  for (let r = 0; r < ROUNDS; r++) {
    out.ring.push(await bare.ring(RING_N, SLOT));
    out.sink.push(await sink.oneWay(payload, SINK_N));
  }
} finally {
  await bare.close();
  await sink.soc.close();
}
console.log(JSON.stringify(out));
