// What `--trace-rpmsg` costs while it records: the echo round trip between the host and a js core
// (one worker thread) with the rpmsg trace recorder and its taps installed (a harness session
// attached to the SoC, as `rproc run --trace-rpmsg` does), against the same on a second SoC with
// nothing installed, interleaved round by round in the same run:
//
//   rpmsg-trace/rtt-1B-p50-on, rtt-496B-p50-on   baseline: the same SoC setup with the taps off
//
// RPMSG_TRACE_BENCH_ROUNDS overrides the number of rounds (default 5).

import type { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { BoardSession } from '../src/harness/board-session.ts';
import { percentilesUs } from './bare-threads.ts';
import { record, type Bench } from './bench.ts';
import { echoOn, makeSoc, median, spread, warnIfStale } from './soc-bench-support.ts';

const ROUNDS = Number(process.env['RPMSG_TRACE_BENCH_ROUNDS'] ?? 5);
const RTT_N = 3000;
const RTT_WARMUP = 500;

interface Echo {
  readonly soc: VirtualSoc;
  readonly session: BoardSession | undefined;
  rtt(payload: Uint8Array, n: number, warmup: number): Promise<Float64Array>;
}

async function bootEcho(traced: boolean): Promise<Echo> {
  const soc = await makeSoc(1, 'rpmsg-echo');
  const session = traced ? BoardSession.attach(soc, { traceRpmsg: true }) : undefined;
  const echo = await echoOn(soc);
  return { soc, session, rtt: (payload, n, warmup) => echo.rtt(payload, n, warmup) };
}

const bench: Bench = {
  name: 'rpmsg-trace',
  description: `echo round trip with the rpmsg trace recorder on vs off, median of ${ROUNDS} rounds`,
  async run() {
    warnIfStale();
    const off = await bootEcho(false);
    const on = await bootEcho(true);
    const one = new Uint8Array(1);
    const full = new Uint8Array(496);
    const s: Record<string, number[]> = {};
    const push = (k: string, v: number): void => void (s[k] ??= []).push(v);
    try {
      for (const e of [off, on]) {
        await e.rtt(one, 3000, 0);
        await e.rtt(full, 1000, 0);
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const [name, e] of [
          ['off', off],
          ['on', on],
        ] as const) {
          push(`${name}1`, percentilesUs(await e.rtt(one, RTT_N, RTT_WARMUP)).p50);
          push(`${name}496`, percentilesUs(await e.rtt(full, RTT_N, RTT_WARMUP)).p50);
        }
      }
    } finally {
      await on.session?.close();
      await on.soc.close();
      await off.soc.close();
    }
    const m = (k: string): number => median(s[k] ?? []);
    const sp = (k: string): string => spread(s[k] ?? [], 1);
    return [
      record(
        'rpmsg-trace/rtt-1B-p50-on',
        m('on1'),
        { name: 'rpmsg-trace/rtt-1B-p50-off (same SoC, recorder off)', value: m('off1') },
        'µs',
        `on ${sp('on1')}, off ${sp('off1')}`,
      ),
      record(
        'rpmsg-trace/rtt-496B-p50-on',
        m('on496'),
        { name: 'rpmsg-trace/rtt-496B-p50-off (same SoC, recorder off)', value: m('off496') },
        'µs',
        `on ${sp('on496')}, off ${sp('off496')}`,
      ),
    ];
  },
};

export default bench;
