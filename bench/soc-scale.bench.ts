// The virtual SoC as cores are added: boards of 1, 2, 4, 8 and 16 js cores (manyCoreBoard), each
// core with its own vdev running the 'multi-echo' firmware (four echo endpoints), all echoing at
// once. Per board:
//
//   soc-scale/boot-per-core-N   ms from "boot every core" (in parallel) until all 4·N channels are
//                               announced, divided by N; baseline: the same for 1 core. Cost that
//                               grows linearly with the cores keeps the ratio at or below 1.
//   soc-scale/echo-N            aggregate echoes per second with every endpoint of every core
//                               keeping WINDOW messages in flight; baseline: the 1-core figure.
//                               This machine has 2 vCPUs whatever N is, so the aggregate cannot
//                               grow with N: linear cost shows as a ratio that stays near 1.
//   soc-scale/cpu-per-msg-N     CPU time of the whole process (host and every core thread, from
//                               process.cpuUsage) per echo, µs; baseline: the 1-core figure. The
//                               hardware-independent view of the same question (ratio ≈ 1: each
//                               message costs the same however many cores there are).
//
// Each board is booted and loaded ROUNDS times (SOC_SCALE_ROUNDS, default 3); records are medians,
// notes give the min..max spread.

import { ERRNO } from '../src/util/errors.ts';
import type { RpmsgEndpoint } from '../src/rpmsg/host/rpmsg-endpoint.ts';
import { MULTI_ECHO_ENDPOINTS } from '../src/cpu/js/programs/multi-echo.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';
import { makeSoc, median, sleep, spread, warnIfStale } from './soc-bench-support.ts';

const CORES = [1, 2, 4, 8, 16];
const ROUNDS = Number(process.env['SOC_SCALE_ROUNDS'] ?? 3);
const WINDOW = 8;
const PAYLOAD = 64;
/** Every core is a fresh V8 isolate: give each one time to optimise its echo path. */
const WARMUP_MS = 1000;
const MEASURE_MS = 1500;

interface Sample {
  bootPerCoreMs: number;
  msgPerSec: number;
  cpuUsPerMsg: number;
}

async function runBoard(cores: number): Promise<Sample> {
  const soc = await makeSoc(cores, 'multi-echo');
  try {
    const want = cores * MULTI_ECHO_ENDPOINTS;
    let announced = 0;
    let allAnnounced: (() => void) | undefined;
    const channelsUp = new Promise<void>((resolve) => (allAnnounced = resolve));
    soc.rpmsg.on('channel', (e) => {
      if (e.action === 'add' && ++announced === want) allAnnounced?.();
    });
    const t0 = performance.now();
    await Promise.all(soc.cores.map((c) => c.rproc.boot()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      channelsUp,
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${cores} cores: ${announced} of ${want} channels announced after 30 s`));
        }, 30_000);
      }),
    ]);
    clearTimeout(timer);
    const bootMs = performance.now() - t0;

    const payload = new Uint8Array(PAYLOAD).fill(0x5a);
    let replies = 0;
    let running = true;
    let failures = 0;
    const resend = (ept: RpmsgEndpoint): void => {
      const rc = ept.trySend(payload);
      if (rc === -ERRNO.ENOMEM) void ept.send(payload).catch(() => failures++);
      else if (rc !== 0) failures++;
    };
    const eps = soc.rpmsg.channels.map((ch) => {
      const ept: RpmsgEndpoint = ch.open(() => {
        replies++;
        if (running) resend(ept);
      });
      return ept;
    });
    if (eps.length !== want) throw new Error(`${eps.length} channels, expected ${want}`);
    for (const ept of eps) for (let i = 0; i < WINDOW; i++) resend(ept);
    await sleep(WARMUP_MS);
    const r0 = replies;
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await sleep(MEASURE_MS);
    const r1 = replies;
    const cpu = process.cpuUsage(c0);
    const secs = (performance.now() - w0) / 1000;
    running = false;
    if (failures > 0) throw new Error(`${cores} cores: ${failures} echo sends failed`);
    const msgs = r1 - r0;
    return {
      bootPerCoreMs: bootMs / cores,
      msgPerSec: msgs / secs,
      cpuUsPerMsg: (cpu.user + cpu.system) / msgs,
    };
  } finally {
    await soc.close();
  }
}

const bench: Bench = {
  name: 'soc-scale',
  description: `boot and aggregate echo throughput on 1–16 js cores (${MULTI_ECHO_ENDPOINTS} endpoints each), median of ${ROUNDS}`,
  async run() {
    warnIfStale();
    const samples = new Map<number, Sample[]>(CORES.map((n) => [n, []]));
    // One untimed 1-core board first: module loading and JIT warm-up are not core costs.
    await runBoard(1);
    for (let r = 0; r < ROUNDS; r++) for (const n of CORES) samples.get(n)?.push(await runBoard(n));
    const of = (n: number, k: keyof Sample): number[] => (samples.get(n) ?? []).map((s) => s[k]);
    const base = (k: keyof Sample): number => median(of(1, k));
    const records: BenchRecord[] = [];
    for (const n of CORES) {
      records.push(
        record(
          `soc-scale/boot-per-core-${n}`,
          median(of(n, 'bootPerCoreMs')),
          base('bootPerCoreMs'),
          'ms',
          spread(of(n, 'bootPerCoreMs'), 0),
        ),
      );
    }
    for (const n of CORES) {
      records.push(
        record(
          `soc-scale/echo-${n}`,
          median(of(n, 'msgPerSec')),
          base('msgPerSec'),
          'msg/s',
          `${spread(
            of(n, 'msgPerSec').map((v) => v / 1000),
            1,
          )} k`,
        ),
      );
    }
    for (const n of CORES) {
      records.push(
        record(
          `soc-scale/cpu-per-msg-${n}`,
          median(of(n, 'cpuUsPerMsg')),
          base('cpuUsPerMsg'),
          'µs',
          spread(of(n, 'cpuUsPerMsg'), 1),
        ),
      );
    }
    return records;
  },
};

export default bench;
