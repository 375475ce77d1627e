// What the SoC benchmarks share: booting a generated many-core board with a bundled js firmware
// (cores in worker threads, or in the host thread under the deterministic scheduler), loading every
// endpoint of every core with echoes, the soc-scale records, and statistics helpers. Worker cores
// start from dist/ only when it is fresh (npm run build); otherwise they load TypeScript through
// tsx and every worker figure is meaningless, so say so.

import { ERRNO } from '../src/util/errors.ts';
import type { RpmsgEndpoint } from '../src/rpmsg/host/rpmsg-endpoint.ts';
import { MULTI_ECHO_ENDPOINTS } from '../src/cpu/js/programs/multi-echo.ts';
import { record, type BenchRecord } from './bench.ts';
import { defaultFirmwareStore } from '../src/soc/default-firmware.ts';
import { manyCoreBoard } from '../src/soc/boards/many-cores.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { distIsFresh } from '../src/util/dist.ts';
import '../src/cpu/core-kinds.ts';

export function warnIfStale(): void {
  if (!distIsFresh()) {
    console.warn('  warning: dist/ is older than src/: worker cores load through tsx (run `npm run build`)');
  }
}

export type CoreMode = 'worker' | 'scheduled';

/** A board of `cores` js cores running `firmware`, started but not booted. */
export async function makeSoc(
  cores: number,
  firmware: string,
  mode: CoreMode = 'worker',
): Promise<VirtualSoc> {
  const soc = new VirtualSoc({
    board: manyCoreBoard(cores, firmware),
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    ...(mode === 'scheduled' ? { scheduler: true as const } : {}),
    ...(SOC_CORE_THREADS === undefined ? {} : { coreThreads: SOC_CORE_THREADS }),
  });
  await soc.start();
  return soc;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2 === 1
      ? (s[m] ?? Number.NaN)
      : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** "min..max" of a list, for notes about run-to-run spread. */
export function spread(xs: readonly number[], digits = 1): string {
  return `${Math.min(...xs).toFixed(digits)}..${Math.max(...xs).toFixed(digits)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Worker threads the cores may use (VirtualSoc coreThreads); undefined: the SoC's default. */
export const SOC_CORE_THREADS: number | undefined =
  process.env['SOC_CORE_THREADS'] === undefined ? undefined : Number(process.env['SOC_CORE_THREADS']);
export const SOC_SCALE_CORES = [1, 2, 4, 8, 16];
export const SOC_SCALE_ROUNDS = Number(process.env['SOC_SCALE_ROUNDS'] ?? 3);
const WINDOW = 8;
const PAYLOAD = 64;
/** Every core is a fresh V8 isolate: give each one time to optimise its echo path. */
const WARMUP_MS = 1000;
const MEASURE_MS = 1500;

export interface ScaleSample {
  bootPerCoreMs: number;
  msgPerSec: number;
  cpuUsPerMsg: number;
}

/**
 * Boot a board of `cores` multi-echo cores, time until every channel is announced, then keep
 * WINDOW echoes in flight on every endpoint and measure replies and the process's CPU time.
 */
export async function runBoard(cores: number, mode: CoreMode): Promise<ScaleSample> {
  const soc = await makeSoc(cores, 'multi-echo', mode);
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

/** boot-per-core, echo and cpu-per-msg records for every board size, each against its 1-core figure. */
export function scaleRecords(
  prefix: string,
  samples: ReadonlyMap<number, readonly ScaleSample[]>,
): BenchRecord[] {
  const of = (n: number, k: keyof ScaleSample): number[] => (samples.get(n) ?? []).map((x) => x[k]);
  const base = (k: keyof ScaleSample): number => median(of(1, k));
  const sizes = [...samples.keys()];
  return [
    ...sizes.map((n) =>
      record(
        `${prefix}/boot-per-core-${n}`,
        median(of(n, 'bootPerCoreMs')),
        base('bootPerCoreMs'),
        'ms',
        spread(of(n, 'bootPerCoreMs'), 0),
      ),
    ),
    ...sizes.map((n) =>
      record(
        `${prefix}/echo-${n}`,
        median(of(n, 'msgPerSec')),
        base('msgPerSec'),
        'msg/s',
        `${spread(
          of(n, 'msgPerSec').map((v) => v / 1000),
          1,
        )} k`,
      ),
    ),
    ...sizes.map((n) =>
      record(
        `${prefix}/cpu-per-msg-${n}`,
        median(of(n, 'cpuUsPerMsg')),
        base('cpuUsPerMsg'),
        'µs',
        spread(of(n, 'cpuUsPerMsg'), 1),
      ),
    ),
  ];
}
