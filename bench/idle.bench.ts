// What an idle core costs: a booted board whose cores wait for messages that never come. The whole
// process's CPU time (host thread and every core thread, process.cpuUsage) over IDLE_MS of
// wall-clock, divided by the cores, as a percentage of one vCPU — against the target of
// 1 % per core. The same interval with no SoC at all gives the process's own floor.
//
//   idle/cpu-per-core-default   the default board: the C echo firmware on the rv32 core and the
//                               js rpmsg-echo, both booted with their channels up
//   idle/cpu-per-core-js-N      a many-core board of N js cores (multi-echo), all booted
//   idle/cpu-empty-process      no SoC: the bench process alone, in % of a vCPU (baseline: the target)

import { defaultFirmwareStore } from '../src/soc/default-firmware.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { MULTI_ECHO_ENDPOINTS } from '../src/cpu/js/programs/multi-echo.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';
import { makeSoc, median, sleep, spread, warnIfStale } from './soc-bench-support.ts';
import '../src/cpu/core-kinds.ts';

const IDLE_MS = Number(process.env['IDLE_BENCH_MS'] ?? 3000);
const ROUNDS = Number(process.env['IDLE_BENCH_ROUNDS'] ?? 3);
/** Let boot-time work (translation, V8 optimisation, adaptive spin budgets) settle first. */
const SETTLE_MS = 1000;
/**
 * After a board's boot: also past the collection of what boot left, which V8's memory reducer
 * makes some seconds after boot (when, and what it costs: bench/README.md, idle): a one-off of
 * boot, not what an idle core costs.
 */
const BOOT_SETTLE_MS = Number(process.env['IDLE_BENCH_BOOT_SETTLE_MS'] ?? 10_000);
const TARGET = { name: 'target/idle-cpu-per-core', value: 1 } as const;
const MANY = [16, 64];

/** % of one vCPU the whole process used over IDLE_MS, divided by `cores`. */
async function idlePercent(cores: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(IDLE_MS);
  const cpu = process.cpuUsage(c0);
  const wallUs = (performance.now() - t0) * 1000;
  return (100 * (cpu.user + cpu.system)) / wallUs / cores;
}

async function defaultBoard(): Promise<number[]> {
  const soc = new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware: { rproc0: 'echo.elf', rproc1: 'rpmsg-echo' },
  });
  try {
    await soc.start();
    await Promise.all([soc.rproc('rproc0').boot(), soc.rproc('rproc1').boot()]);
    await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 20_000 });
    await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1', timeoutMs: 20_000 });
    await sleep(BOOT_SETTLE_MS);
    const xs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) xs.push(await idlePercent(2));
    return xs;
  } finally {
    await soc.close();
  }
}

async function manyCores(n: number): Promise<number[]> {
  const soc = await makeSoc(n, 'multi-echo');
  try {
    await Promise.all(soc.cores.map((c) => c.rproc.boot()));
    const deadline = Date.now() + 60_000;
    while (soc.rpmsg.channels.length < n * MULTI_ECHO_ENDPOINTS) {
      if (Date.now() > deadline) throw new Error(`${n} cores: channels did not come up in 60 s`);
      await sleep(20);
    }
    await sleep(BOOT_SETTLE_MS);
    const xs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) xs.push(await idlePercent(n));
    return xs;
  } finally {
    await soc.close();
  }
}

const bench: Bench = {
  name: 'idle',
  description: `process CPU per idle booted core over ${IDLE_MS} ms, % of a vCPU (target < 1 %), median of ${ROUNDS}`,
  async run() {
    warnIfStale();
    await sleep(SETTLE_MS);
    const empty: number[] = [];
    for (let r = 0; r < ROUNDS; r++) empty.push(await idlePercent(1));
    const records: BenchRecord[] = [
      record('idle/cpu-empty-process', median(empty), TARGET, '%', `no SoC: ${spread(empty, 3)}`),
    ];
    const d = await defaultBoard();
    records.push(
      record('idle/cpu-per-core-default', median(d), TARGET, '%', `rv32 C echo + js echo: ${spread(d, 3)}`),
    );
    for (const n of MANY) {
      const xs = await manyCores(n);
      records.push(record(`idle/cpu-per-core-js-${n}`, median(xs), TARGET, '%', spread(xs, 3)));
    }
    return records;
  },
};

export default bench;
