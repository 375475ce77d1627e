// The virtual SoC as cores are added: boards of 1, 2, 4, 8 and 16 js cores (manyCoreBoard), each
// core with its own vdev running the 'multi-echo' firmware (four echo endpoints), all echoing at
// once. Per board:
//
//   soc-scale/boot-per-core-N   ms from "boot every core" (in parallel) until all 4·N channels are
//                               announced, divided by N; baseline: the same for 1 core. Cost that
//                               grows linearly with the cores keeps the ratio at or below 1.
//   soc-scale/echo-N            aggregate echoes per second with every endpoint of every core
//                               keeping WINDOW messages in flight; baseline: the 1-core figure.
//                               The CPUs do not grow with N, so the aggregate cannot grow with
//                               N either: linear cost shows as a ratio that stays near 1.
//   soc-scale/cpu-per-msg-N     CPU time of the whole process (host and every core thread, from
//                               process.cpuUsage) per echo, µs; baseline: the 1-core figure. The
//                               hardware-independent view of the same question (ratio ≈ 1: each
//                               message costs the same however many cores there are).
//
// Each board is booted and loaded ROUNDS times (SOC_SCALE_ROUNDS, default 3); records are medians,
// notes give the min..max spread. The cores run with the SoC's default coreThreads (one thread per
// core while cores + 1 <= os.availableParallelism(), CPUs - 1 shared group threads beyond);
// SOC_CORE_THREADS overrides it (e.g. 64: a thread per core, as before core groups).

import { MULTI_ECHO_ENDPOINTS } from '../src/cpu/js/programs/multi-echo.ts';
import type { Bench } from './bench.ts';
import {
  SOC_CORE_THREADS,
  SOC_SCALE_CORES,
  SOC_SCALE_ROUNDS,
  runBoard,
  scaleRecords,
  warnIfStale,
  type ScaleSample,
} from './soc-bench-support.ts';

const bench: Bench = {
  name: 'soc-scale',
  description: `boot and aggregate echo throughput on 1–16 js cores in worker threads (${MULTI_ECHO_ENDPOINTS} endpoints each, coreThreads ${SOC_CORE_THREADS ?? 'default'}), median of ${SOC_SCALE_ROUNDS}`,
  async run() {
    warnIfStale();
    // One untimed 1-core board first: module loading and JIT warm-up are not core costs.
    await runBoard(1, 'worker');
    const samples = new Map<number, ScaleSample[]>(SOC_SCALE_CORES.map((n) => [n, []]));
    for (let r = 0; r < SOC_SCALE_ROUNDS; r++)
      for (const n of SOC_SCALE_CORES) samples.get(n)?.push(await runBoard(n, 'worker'));
    return scaleRecords('soc-scale', samples);
  },
};

export default bench;
