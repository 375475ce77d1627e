// The virtual SoC in deterministic mode (every core in the host thread under the SoC scheduler, on
// virtual time) as cores are added: the same boards and load as soc-scale (1–16 js cores running
// 'multi-echo', four endpoints each, every endpoint keeping a window of echoes in flight).
//
//   soc-sched/boot-per-core-N, soc-sched/echo-N, soc-sched/cpu-per-msg-N
//                               as in soc-scale, each against the 1-core figure of this mode: one
//                               thread does everything, so linear cost shows as ratios near 1 for
//                               cpu-per-msg and echo alike.
//   soc-sched/cpu-per-msg-vs-worker
//                               CPU per echo of the 1-core board in deterministic mode; baseline:
//                               the same board with its core in a worker thread, measured in this
//                               run. Below 1: no doorbell crosses a thread, so no futex wake-ups.
//
// Each board is booted and loaded SOC_SCALE_ROUNDS times (default 3); records are medians.

import { MULTI_ECHO_ENDPOINTS } from '../src/cpu/js/programs/multi-echo.ts';
import { record, type Bench } from './bench.ts';
import {
  SOC_SCHED_CORES,
  SOC_SCALE_ROUNDS,
  median,
  runBoard,
  scaleRecords,
  spread,
  warnIfStale,
  type ScaleSample,
} from './soc-bench-support.ts';

const bench: Bench = {
  name: 'soc-sched',
  description: `deterministic mode: boot and aggregate echo on 1–16 in-thread js cores (${MULTI_ECHO_ENDPOINTS} endpoints each), median of ${SOC_SCALE_ROUNDS}`,
  async run() {
    warnIfStale();
    await runBoard(1, 'scheduled');
    await runBoard(1, 'worker');
    const samples = new Map<number, ScaleSample[]>(SOC_SCHED_CORES.map((n) => [n, []]));
    const worker: number[] = [];
    for (let r = 0; r < SOC_SCALE_ROUNDS; r++) {
      for (const n of SOC_SCHED_CORES) samples.get(n)?.push(await runBoard(n, 'scheduled'));
      worker.push((await runBoard(1, 'worker')).cpuUsPerMsg);
    }
    const sched1 = (samples.get(1) ?? []).map((x) => x.cpuUsPerMsg);
    return [
      ...scaleRecords('soc-sched', samples),
      record(
        'soc-sched/cpu-per-msg-vs-worker',
        median(sched1),
        { name: 'soc-sched/cpu-per-msg-worker-1', value: median(worker) },
        'µs',
        `deterministic ${spread(sched1, 2)}, worker ${spread(worker, 2)}`,
      ),
    ];
  },
};

export default bench;
