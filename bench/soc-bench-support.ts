// What the SoC benchmarks share: booting a generated many-core board with a bundled js firmware
// (cores in worker threads, or in the host thread under the deterministic scheduler), loading every
// endpoint of every core with echoes, the one-way sink, the soc-scale records, and statistics helpers. Worker cores
// start from dist/ only when it is fresh (npm run build); otherwise they load TypeScript through
// tsx and every worker figure is meaningless, so say so.

import { ERRNO } from '../src/util/errors.ts';
import type { RpmsgEndpoint } from '../src/rpmsg/host/rpmsg-endpoint.ts';
import { MULTI_ECHO_ENDPOINTS } from '../src/cpu/js/programs/multi-echo.ts';
import { record, type Baseline, type BenchRecord } from './bench.ts';
import { defaultFirmwareStore } from '../src/soc/default-firmware.ts';
import { manyCoreBoard, type ManyCoreRv32 } from '../src/soc/boards/many-cores.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { distIsFresh } from '../src/util/dist.ts';
import '../src/cpu/core-kinds.ts';

export function warnIfStale(): void {
  if (!distIsFresh()) {
    console.warn('  warning: dist/ is older than src/: worker cores load through tsx (run `npm run build`)');
  }
}

export type CoreMode = 'worker' | 'scheduled';

/** A board of `cores` js cores running `firmware` (every rv32.every-th an rv32 core), started but not booted. */
export async function makeSoc(
  cores: number,
  firmware: string,
  mode: CoreMode = 'worker',
  rv32?: ManyCoreRv32,
): Promise<VirtualSoc> {
  const soc = new VirtualSoc({
    board: manyCoreBoard(cores, firmware, rv32),
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    ...(mode === 'scheduled' ? { scheduler: true as const } : {}),
    ...(SOC_CORE_THREADS === undefined ? {} : { coreThreads: SOC_CORE_THREADS }),
  });
  await soc.start();
  return soc;
}

/** The js 'rpmsg-echo' firmware on a 1-core board, booted, its channel open. */
export interface Echo {
  readonly soc: VirtualSoc;
  readonly ept: RpmsgEndpoint;
  /** Round-trip times in ms of `n` echoes of `payload` after `warmup` untimed ones. */
  rtt(payload: Uint8Array, n: number, warmup: number): Promise<Float64Array>;
}

export async function bootEcho(): Promise<Echo> {
  return echoOn(await makeSoc(1, 'rpmsg-echo'));
}

/** Boots the first core of `soc` (running the js 'rpmsg-echo' firmware) and opens its channel. */
export async function echoOn(soc: VirtualSoc): Promise<Echo> {
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
export const SOC_SCALE_CORES = [1, 2, 4, 8, 16, 32, 64];
/** Board sizes of the deterministic-mode bench (every core in the host thread). */
export const SOC_SCHED_CORES = [1, 2, 4, 8, 16];
/** Mixed boards: every 4th core an rv32 core running the C echo firmware (one endpoint). */
export const MIXED_RV32: ManyCoreRv32 = { every: 4, firmware: 'echo.elf' };
export const SOC_MIXED_CORES = [16, 32, 64];
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
export async function runBoard(cores: number, mode: CoreMode, rv32?: ManyCoreRv32): Promise<ScaleSample> {
  const soc = await makeSoc(cores, 'multi-echo', mode, rv32);
  try {
    const rv32Cores = rv32 === undefined ? 0 : Math.floor(cores / rv32.every);
    // multi-echo announces MULTI_ECHO_ENDPOINTS channels, the C echo one.
    const want = (cores - rv32Cores) * MULTI_ECHO_ENDPOINTS + rv32Cores;
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

/**
 * boot-per-core, echo and cpu-per-msg records for every board size, each against the figure of the
 * smallest board measured (`${prefix}/...-N` of the first size).
 */
export function scaleRecords(
  prefix: string,
  samples: ReadonlyMap<number, readonly ScaleSample[]>,
): BenchRecord[] {
  const of = (n: number, k: keyof ScaleSample): number[] => (samples.get(n) ?? []).map((x) => x[k]);
  const first = Math.min(...samples.keys());
  const base = (k: keyof ScaleSample, what: string): Baseline => ({
    name: `${prefix}/${what}-${first}`,
    value: median(of(first, k)),
  });
  const sizes = [...samples.keys()];
  return [
    ...sizes.map((n) =>
      record(
        `${prefix}/boot-per-core-${n}`,
        median(of(n, 'bootPerCoreMs')),
        base('bootPerCoreMs', 'boot-per-core'),
        'ms',
        spread(of(n, 'bootPerCoreMs'), 0),
      ),
    ),
    ...sizes.map((n) =>
      record(
        `${prefix}/echo-${n}`,
        median(of(n, 'msgPerSec')),
        base('msgPerSec', 'echo'),
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
        base('cpuUsPerMsg', 'cpu-per-msg'),
        'µs',
        spread(of(n, 'cpuUsPerMsg'), 1),
      ),
    ),
  ];
}

/** The js 'sink' firmware on a 1-core board, booted, its channel open. */
export interface Sink {
  readonly soc: VirtualSoc;
  /** Messages per second of `n` one-way sends of `payload`, until the remote reports them all. */
  oneWay(payload: Uint8Array, n: number): Promise<number>;
}

export async function bootSink(): Promise<Sink> {
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

/** n bytes of a fixed pattern (a message payload). */
export function filled(n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 13 + 5) & 0xff;
  return p;
}
