// rpmsg with real C firmware on the rv32 core: the echo sample (firmware/samples/echo) on the
// default board's rv32 core. Round trips of 1 and 496 bytes (p50, p99) against the bare waitAsync
// ping-pong of this run (bench/bare-threads.ts), the 1-byte p50 also against the js core's echo
// measured interleaved with it, and each p99 against its p50 (the tail); echo throughput of 496-byte
// messages (64 in flight) against the bare ring; the guest instructions per echo (from the hart's
// instret) against the target.

import { defaultFirmwareStore } from '../src/soc/default-firmware.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { CORE_WORD } from '../src/soc/core-block.ts';
import { percentilesUs, sharedBaselines } from './bare-threads.ts';
import { record, type Bench } from './bench.ts';
import { bootEcho, median, warnIfStale } from './soc-bench-support.ts';
import '../src/cpu/core-kinds.ts';

const RTT_N = 2000;
const WARMUP = 2000;
const STREAM_N = 20_000;
const WINDOW = 64;
const ROUNDS = Number(process.env['RPMSG_BENCH_ROUNDS'] ?? 5);
/** Issue 15's bound on the C SDK's cost of one 1-byte echo. */
const INSTR_TARGET = 400;

function instret(soc: VirtualSoc): number {
  const b = soc.core('rproc0').block;
  return (b.load(CORE_WORD.INSTRET_HI) >>> 0) * 0x1_0000_0000 + (b.load(CORE_WORD.INSTRET_LO) >>> 0);
}

const bench: Bench = {
  name: 'rv32-rpmsg',
  description:
    'rpmsg host ↔ C echo firmware on the rv32 core vs bare Atomics ping-pong and ring; guest instructions per message',
  async run() {
    warnIfStale();
    const bare = await sharedBaselines();
    const js = await bootEcho();
    const soc = new VirtualSoc({
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      firmware: { rproc0: 'echo.elf' },
    });
    try {
      await soc.start();
      await soc.rproc('rproc0').boot();
      const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 10_000 });
      let pending = 0;
      let wake: (() => void) | undefined;
      const ept = ch.open(() => {
        pending--;
        const w = wake;
        wake = undefined;
        w?.();
      });
      const rtt = async (size: number, n: number): Promise<Float64Array> => {
        const payload = new Uint8Array(size).fill(0x5a);
        const lat = new Float64Array(n);
        for (let k = 0; k < n; k++) {
          const t0 = performance.now();
          pending++;
          const reply = new Promise<void>((resolve) => (wake = resolve));
          await ept.send(payload);
          await reply;
          lat[k] = performance.now() - t0;
        }
        return lat;
      };
      /** Echo `n` messages of `size` bytes with WINDOW in flight; returns [msg/s, guest instructions per message]. */
      const stream = async (size: number, n: number): Promise<[number, number]> => {
        const payload = new Uint8Array(size).fill(0xa5);
        const i0 = instret(soc);
        const t0 = performance.now();
        for (let k = 0; k < n; k++) {
          while (pending >= WINDOW) await new Promise<void>((resolve) => (wake = resolve));
          pending++;
          await ept.send(payload);
        }
        while (pending > 0) await new Promise<void>((resolve) => (wake = resolve));
        const secs = (performance.now() - t0) / 1000;
        // The core publishes instret once per slice: let it publish after the last message.
        await new Promise((r) => setTimeout(r, 20));
        return [n / secs, (instret(soc) - i0) / n];
      };
      const one = new Uint8Array(1).fill(0x5a);
      await rtt(1, WARMUP);
      await js.rtt(one, WARMUP, 0);
      await stream(496, STREAM_N);
      const s: Record<string, number[]> = {};
      const push = (k: string, v: number): void => {
        (s[k] ??= []).push(v);
      };
      for (let r = 0; r < ROUNDS; r++) {
        const r1 = percentilesUs(await rtt(1, RTT_N));
        push('r1-50', r1.p50);
        push('r1-99', r1.p99);
        const j1 = percentilesUs(await js.rtt(one, RTT_N, 0));
        push('js1-50', j1.p50);
        push('js1-99', j1.p99);
        const r496 = percentilesUs(await rtt(496, RTT_N));
        push('r496-50', r496.p50);
        push('r496-99', r496.p99);
      }
      const m = (k: string): number => median(s[k] ?? []);
      const [rate, ipm496] = await stream(496, STREAM_N);
      const [, ipm1] = await stream(1, STREAM_N);
      const p50 = { name: 'rv32-rpmsg/rtt-1B-p50', value: m('r1-50') };
      return [
        record(p50.name, p50.value, bare.get('asyncP50'), 'µs', `C echo on rv32, median of ${ROUNDS}`),
        record('rv32-rpmsg/rtt-1B-p99', m('r1-99'), bare.get('asyncP99'), 'µs'),
        record('rv32-rpmsg/rtt-1B-tail', m('r1-99'), p50, 'µs', 'p99 / p50 (target ≤ 4)'),
        record(
          'rv32-rpmsg/rtt-1B-p50-vs-js',
          p50.value,
          { name: 'rv32-rpmsg/js-rtt-1B-p50', value: m('js1-50') },
          'µs',
          'rv32 C echo vs the js echo, interleaved (target ≤ 1.5)',
        ),
        record(
          'rv32-rpmsg/js-rtt-1B-tail',
          m('js1-99'),
          { name: 'rv32-rpmsg/js-rtt-1B-p50', value: m('js1-50') },
          'µs',
          'js echo p99 / p50 (target ≤ 4)',
        ),
        record('rv32-rpmsg/rtt-496B-p50', m('r496-50'), bare.get('asyncP50'), 'µs'),
        record('rv32-rpmsg/rtt-496B-p99', m('r496-99'), bare.get('asyncP99'), 'µs'),
        record(
          'rv32-rpmsg/echo-496B',
          rate,
          bare.get('ring'),
          'msg/s',
          'echoed messages vs bare ring one-way',
        ),
        record(
          'rv32-rpmsg/instr-per-echo-1B',
          ipm1,
          { name: 'target/instr-per-echo', value: INSTR_TARGET },
          'instr',
          'guest instructions per 1-byte echo (C SDK), vs the issue target',
        ),
        record(
          'rv32-rpmsg/instr-per-echo-496B',
          ipm496,
          { name: 'rv32-rpmsg/instr-per-echo-1B', value: ipm1 },
          'instr',
          'guest instructions per 496-byte echo vs 1-byte',
        ),
      ];
    } finally {
      await soc.close();
      await js.soc.close();
    }
  },
};

export default bench;
