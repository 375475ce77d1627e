// What a hostile core costs a healthy one: the default board, the js rpmsg-echo on rproc1 (the
// healthy core, 8 echoes of 64 bytes in flight) and the hostile firmware (firmware/hostile) on the
// rv32 core rproc0. The echo rate is measured with rproc0 running the same firmware quietly (the
// baseline), then while it floods the name service with 100,000 announcements, then while it rings
// the host's doorbell in a loop; ratio = during the attack / quiet, all in one run. Beside the rate,
// the process's CPU time (every thread: host, both cores) per healthy echo, attack / quiet: what
// the attack costs in CPU, a figure that waiting for a CPU on a loaded machine moves much less.

import { readFileSync } from 'node:fs';
import '../src/cpu/core-kinds.ts';
import { defaultFirmwareStore } from '../src/soc/default-firmware.ts';
import { patchElfU32 } from '../src/elf/elf-patch.ts';
import type { RpmsgChannel } from '../src/rpmsg/host/rpmsg-channel.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';
import { SOC_CORE_THREADS, median, sleep, spread, warnIfStale } from './soc-bench-support.ts';

const SC_NONE = 0;
const SC_NS_FLOOD = 4;
const SC_DOORBELL_STORM = 13;
const WINDOW = 8;
const ROUNDS = Number(process.env['HOSTILE_BENCH_ROUNDS'] ?? 5);
const MEASURE_MS = 1000;

const HOSTILE = readFileSync(new URL('../firmware/prebuilt/hostile.elf', import.meta.url));

interface EchoFigures {
  /** Echoes per second. */
  readonly rate: number;
  /** CPU time of the whole process (all threads) per echo, µs. */
  readonly cpuUs: number;
}

/** Echoes per second on `ch` while `during` runs, and the process's CPU time per echo. */
async function echoRate(ch: RpmsgChannel, during: () => Promise<void>): Promise<EchoFigures> {
  const ept = ch.open();
  let replies = 0;
  let inFlight = 0;
  let running = true;
  let wake: (() => void) | undefined;
  ept.setCallback(() => {
    replies++;
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  });
  const payload = new Uint8Array(64).fill(0x42);
  const live = (): boolean => running;
  const pump = (async () => {
    while (live()) {
      while (inFlight >= WINDOW && live()) await new Promise<void>((r) => (wake = r));
      if (!live()) break;
      inFlight++;
      await ept.send(payload);
    }
  })();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r0 = replies;
  await during();
  const n = replies - r0;
  const rate = (n * 1000) / (performance.now() - t0);
  const cpu = process.cpuUsage(c0);
  const cpuUs = (cpu.user + cpu.system) / Math.max(1, n);
  running = false;
  wake?.();
  await pump;
  while (inFlight > 0) await sleep(1);
  return { rate, cpuUs };
}

type Pairs = readonly (readonly [number, number])[];

interface Figures {
  /** Per round: the attack's echo rate, and the mean of the quiet rates measured just before and after it. */
  readonly flood: Pairs;
  readonly storm: Pairs;
  /** The same for CPU µs per echo. */
  readonly floodCpu: Pairs;
  readonly stormCpu: Pairs;
  readonly floodMs: number;
}

/**
 * Every round: quiet, NS flood, quiet, doorbell storm, quiet — each attack compared with the quiet
 * windows on either side of it, so that both see the same load on a shared machine.
 */
async function measure(coreThreads: number | undefined): Promise<Figures> {
  const soc = new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    ...(coreThreads === undefined ? {} : { coreThreads }),
  });
  let runs = 0;
  const hostile = soc.rproc('rproc0');
  const boot = async (scenario: number): Promise<void> => {
    const name = `hostile-bench-${++runs}.elf`;
    soc.firmwareStore.add(
      name,
      patchElfU32(patchElfU32(HOSTILE, 'hostile_scenario', scenario), 'hostile_run', runs),
    );
    await hostile.setFirmware(name);
    await hostile.boot();
  };
  try {
    await soc.start();
    await soc.rproc('rproc1').setFirmware('rpmsg-echo');
    await soc.rproc('rproc1').boot();
    const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1', timeoutMs: 20_000 });
    const quiet = async (): Promise<EchoFigures> => {
      await boot(SC_NONE);
      await soc.rpmsg.waitForChannel('hostile-echo', { rproc: hostile, timeoutMs: 20_000 });
      const rate = await echoRate(ch, () => sleep(MEASURE_MS));
      await hostile.shutdown();
      return rate;
    };
    // Warm-up: V8 optimises the echo path on both sides.
    await echoRate(ch, () => sleep(1000));
    const flood: [number, number][] = [];
    const storm: [number, number][] = [];
    const floodCpu: [number, number][] = [];
    const stormCpu: [number, number][] = [];
    const mean = (a: number, b: number): number => (a + b) / 2;
    let floodMs = 0;
    let before = await quiet();
    for (let round = 0; round < ROUNDS; round++) {
      await boot(SC_NS_FLOOD);
      const t0 = performance.now();
      const f = await echoRate(ch, async () => {
        // The whole flood: until the trace says it is done (100,000 announcements).
        while (!/ns flood done/.test(hostile.resources.readTrace(0) ?? '')) await sleep(10);
      });
      floodMs = performance.now() - t0;
      await hostile.shutdown();
      const between = await quiet();
      flood.push([f.rate, mean(before.rate, between.rate)]);
      floodCpu.push([f.cpuUs, mean(before.cpuUs, between.cpuUs)]);

      await boot(SC_DOORBELL_STORM);
      const s = await echoRate(ch, () => sleep(MEASURE_MS));
      await hostile.shutdown();
      const after = await quiet();
      storm.push([s.rate, mean(between.rate, after.rate)]);
      stormCpu.push([s.cpuUs, mean(between.cpuUs, after.cpuUs)]);
      before = after;
    }
    return { flood, storm, floodCpu, stormCpu, floodMs };
  } finally {
    await soc.close();
  }
}

function records(suffix: string, what: string, f: Figures): BenchRecord[] {
  const ratios = (xs: Pairs): number[] => xs.map(([v, q]) => v / q);
  const cpu = (name: string, xs: Pairs, attack: string): BenchRecord =>
    record(
      `hostile/${name}-cpu-per-echo${suffix}`,
      median(xs.map(([v]) => v)),
      { name: `hostile/quiet-cpu-per-echo${suffix}`, value: median(xs.map(([, q]) => q)) },
      'µs',
      `${what}: CPU time of the whole process (host and both cores) per healthy echo during ${attack} vs quiet; per-round ratios ${spread(ratios(xs), 2)}`,
    );
  return [
    record(
      `hostile/ns-flood-echo${suffix}`,
      median(f.flood.map(([v]) => v)),
      { name: `hostile/quiet-echo${suffix}`, value: median(f.flood.map(([, q]) => q)) },
      'msg/s',
      `${what}: healthy echoes during a 100,000-name flood (${Math.round(f.floodMs)} ms) vs quiet around it; per-round ratios ${spread(ratios(f.flood), 2)}`,
    ),
    record(
      `hostile/doorbell-storm-echo${suffix}`,
      median(f.storm.map(([v]) => v)),
      { name: `hostile/quiet-echo${suffix}`, value: median(f.storm.map(([, q]) => q)) },
      'msg/s',
      `${what}: healthy echoes during a doorbell storm vs quiet around it; per-round ratios ${spread(ratios(f.storm), 2)}`,
    ),
    cpu('ns-flood', f.floodCpu, 'the flood'),
    cpu('doorbell-storm', f.stormCpu, 'a storm'),
  ];
}

const bench: Bench = {
  name: 'hostile',
  description:
    "a healthy js core's echo rate while the rv32 core floods the name service / storms the doorbell, vs quiet",
  async run() {
    warnIfStale();
    // The board's default threads (on 2 CPUs: both cores in one group thread), then a thread each.
    const shared = await measure(SOC_CORE_THREADS);
    const own = await measure(2);
    return [
      ...records(
        '',
        SOC_CORE_THREADS === undefined ? 'default core threads' : `${SOC_CORE_THREADS} core threads`,
        shared,
      ),
      ...records('-own-threads', 'a thread per core', own),
    ];
  },
};

export default bench;
