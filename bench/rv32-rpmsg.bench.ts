// rpmsg with real C firmware on the rv32 core: the echo sample (firmware/samples/echo) on the
// default board's rv32 core, 1-byte and 496-byte round trips (p50, p99) against a bare Atomics
// ping-pong between two threads, echo throughput of 496-byte messages (64 in flight) against a
// bare shared-memory ring, and the guest instructions the firmware spends per message.

import { defaultFirmwareStore } from '../src/soc/default-firmware.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { CORE_WORD } from '../src/soc/core-block.ts';
import { BareThreads, percentilesUs } from './bare-threads.ts';
import { record, type Bench } from './bench.ts';
import { warnIfStale } from './soc-bench-support.ts';
import '../src/cpu/core-kinds.ts';

const RTT_N = 2000;
const WARMUP = 2000;
const STREAM_N = 20_000;
const WINDOW = 64;

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
    const bare = await BareThreads.start();
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
      await rtt(1, WARMUP);
      await stream(496, STREAM_N);
      const ping = percentilesUs(await bare.pingPongAsync(RTT_N, 500));
      const r1 = percentilesUs(await rtt(1, RTT_N));
      const r496 = percentilesUs(await rtt(496, RTT_N));
      const ring = await bare.ring(500_000, 512);
      const [rate, ipm496] = await stream(496, STREAM_N);
      const [, ipm1] = await stream(1, STREAM_N);
      return [
        record('rv32-rpmsg/rtt-1B-p50', r1.p50, ping.p50, 'µs', 'C echo on rv32 vs bare waitAsync ping-pong'),
        record('rv32-rpmsg/rtt-1B-p99', r1.p99, ping.p99, 'µs'),
        record('rv32-rpmsg/rtt-496B-p50', r496.p50, ping.p50, 'µs'),
        record('rv32-rpmsg/rtt-496B-p99', r496.p99, ping.p99, 'µs'),
        record('rv32-rpmsg/echo-496B', rate, ring, 'msg/s', 'echoed messages vs bare ring one-way'),
        record(
          'rv32-rpmsg/instr-per-msg-496B',
          ipm496,
          ipm1,
          'instr',
          'guest instructions per echoed message, 496 B vs 1 B',
        ),
      ];
    } finally {
      await soc.close();
      await bare.close();
    }
  },
};

export default bench;
