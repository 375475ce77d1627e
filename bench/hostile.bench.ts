// What a hostile core costs a healthy one: the default board, the js rpmsg-echo on rproc1 (the
// healthy core, 8 echoes of 64 bytes in flight) and the hostile firmware (firmware/hostile) on the
// rv32 core rproc0. The echo rate is measured with rproc0 running the same firmware quietly (the
// baseline), then while it floods the name service with 100,000 announcements, then while it rings
// the host's doorbell in a loop; ratio = during the attack / quiet, all in one run.

import { readFileSync } from 'node:fs';
import { defaultFirmwareStore } from '../src/cli/soc-setup.ts';
import { patchElfU32 } from '../src/elf/elf-patch.ts';
import type { RpmsgChannel } from '../src/rpmsg/host/rpmsg-channel.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { record, type Bench } from './bench.ts';
import { SOC_CORE_THREADS, median, sleep, spread, warnIfStale } from './soc-bench-support.ts';

const SC_NONE = 0;
const SC_NS_FLOOD = 4;
const SC_DOORBELL_STORM = 13;
const WINDOW = 8;
const ROUNDS = Number(process.env['HOSTILE_BENCH_ROUNDS'] ?? 3);
const MEASURE_MS = 1500;

const HOSTILE = readFileSync(new URL('../firmware/prebuilt/hostile.elf', import.meta.url));

/** Echoes per second on `ch` while `during` runs (at least `minMs`). */
async function echoRate(ch: RpmsgChannel, during: () => Promise<void>): Promise<number> {
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
  const r0 = replies;
  await during();
  const rate = ((replies - r0) * 1000) / (performance.now() - t0);
  running = false;
  wake?.();
  await pump;
  while (inFlight > 0) await sleep(1);
  return rate;
}

const bench: Bench = {
  name: 'hostile',
  description:
    "a healthy js core's echo rate while the rv32 core floods the name service / storms the doorbell, vs quiet",
  async run() {
    warnIfStale();
    const soc = new VirtualSoc({
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      ...(SOC_CORE_THREADS === undefined ? {} : { coreThreads: SOC_CORE_THREADS }),
    });
    let runs = 0;
    const boot = async (scenario: number): Promise<void> => {
      const name = `hostile-bench-${++runs}.elf`;
      soc.firmwareStore.add(
        name,
        patchElfU32(patchElfU32(HOSTILE, 'hostile_scenario', scenario), 'hostile_run', runs),
      );
      await soc.rproc('rproc0').setFirmware(name);
      await soc.rproc('rproc0').boot();
    };
    try {
      await soc.start();
      await soc.rproc('rproc1').setFirmware('rpmsg-echo');
      await soc.rproc('rproc1').boot();
      const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1', timeoutMs: 20_000 });
      const hostile = soc.rproc('rproc0');
      // Warm-up: V8 optimises the echo path on both sides.
      await echoRate(ch, () => sleep(1000));
      const quiet: number[] = [];
      const flood: number[] = [];
      const storm: number[] = [];
      let floodMs = 0;
      for (let round = 0; round < ROUNDS; round++) {
        await boot(SC_NONE);
        await soc.rpmsg.waitForChannel('hostile-echo', { rproc: hostile, timeoutMs: 20_000 });
        quiet.push(await echoRate(ch, () => sleep(MEASURE_MS)));
        await hostile.shutdown();

        await boot(SC_NS_FLOOD);
        const t0 = performance.now();
        flood.push(
          await echoRate(ch, async () => {
            // The whole flood: until the trace says it is done (100,000 announcements).
            while (!/ns flood done/.test(hostile.resources.readTrace(0) ?? '')) await sleep(10);
          }),
        );
        floodMs = performance.now() - t0;
        await hostile.shutdown();

        await boot(SC_DOORBELL_STORM);
        storm.push(await echoRate(ch, () => sleep(MEASURE_MS)));
        await hostile.shutdown();
      }
      const q = median(quiet);
      return [
        record(
          'hostile/ns-flood-echo',
          median(flood),
          q,
          'msg/s',
          `healthy echoes during a 100,000-name flood (${Math.round(floodMs)} ms) vs quiet; flood ${spread(flood, 0)}, quiet ${spread(quiet, 0)}`,
        ),
        record(
          'hostile/doorbell-storm-echo',
          median(storm),
          q,
          'msg/s',
          `healthy echoes during a doorbell storm vs quiet; storm ${spread(storm, 0)}`,
        ),
      ];
    } finally {
      await soc.close();
    }
  },
};

export default bench;
