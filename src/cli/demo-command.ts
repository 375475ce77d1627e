// `rproc demo`: the whole story on the embedded default board with bundled firmware, no
// arguments needed — boot the remote cores, show the channels their firmware announces, time an
// echo exchange, inject a crash, write the coredump, watch the recovery and the traffic resume,
// and shut everything down. --deterministic runs the same story with the cores in the host thread
// on virtual time: round trips are then virtual µs, and the output is the same on every run.

import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import { RprocError } from '../util/errors.ts';
import { EXIT, type Command } from './command.ts';
import { SocReporter } from './soc-reporter.ts';
import { createSoc } from './soc-setup.ts';

/**
 * The rv32 core runs the C crash sample (real machine code: an echo service that faults on
 * command, so that the dump holds its registers and gdb shows the backtrace); the js core runs
 * the rpmsg-echo program.
 */
const DEMO_FIRMWARE: Readonly<Record<string, string>> = { rproc0: 'crash.elf', rproc1: 'rpmsg-echo' };
/** Which channel each core's demo firmware announces. */
const DEMO_CHANNEL: Readonly<Record<string, string>> = { rproc0: 'crasher', rproc1: 'rpmsg-echo' };
/** The core the demo crashes, and the message that makes its firmware fault. */
const CRASH_CORE = 'rproc0';
const CRASH_COMMAND = 'store';
const ECHO_COUNT = 200;

async function roundTrip(
  ch: RpmsgChannel,
  payload: Uint8Array,
  clockMs: () => number,
  timeoutMs = 2000,
): Promise<number> {
  const ept = ch.open();
  const t0 = clockMs();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new RprocError('ETIMEDOUT', 'demo', `no echo on ${ch.name} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    ept.setCallback(() => {
      clearTimeout(timer);
      resolve();
    });
    ept.send(payload).catch((e: unknown) => {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
  const rtt = clockMs() - t0;
  ept.destroy();
  return rtt;
}

/** Where the firmware store found an image (its symbols are what gdb needs): relative to here when inside. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Boot the default board, echo over rpmsg, crash a core, dump it, recover, shut down',
  usage: '',
  help: [
    'Options:',
    '  --coredump DIR   where to write the crash dump (default: a new temporary directory)',
    '  --deterministic  run the cores in this thread on virtual time: the same output every run',
    '  --json          one JSON event per line',
  ].join('\n'),
  options: { coredump: { type: 'string' }, deterministic: { type: 'boolean' } },
  positionals: [0, 0],
  async run({ io, json, values }) {
    const deterministic = values['deterministic'] === true;
    const { soc } = await createSoc({
      autoBoot: false,
      firmware: DEMO_FIRMWARE,
      ...(deterministic ? { scheduler: true as const } : {}),
    });
    const scheduler = soc.scheduler;
    const clockMs = scheduler === undefined ? () => performance.now() : () => scheduler.now / 1e6;
    const reporter = new SocReporter(io, json, scheduler === undefined ? undefined : clockMs);
    const dumpDir =
      typeof values['coredump'] === 'string'
        ? values['coredump']
        : await mkdtemp(join(tmpdir(), 'rproc-demo-'));
    await mkdir(dumpDir, { recursive: true });
    reporter.attach(soc);
    try {
      reporter.heading(`Board: ${soc.board.model}`);
      for (const r of soc.board.ram)
        reporter.say(
          { event: 'board-ram', name: r.name, pa: r.pa, size: r.size },
          `RAM ${r.name} at 0x${r.pa.toString(16)}, ${r.size >> 20} MiB`,
        );
      const cores = soc.cores;
      for (const c of cores) {
        reporter.say(
          { event: 'board-core', core: c.name, kind: c.spec.kind, firmware: c.rproc.firmware },
          `${c.spec.kind} core, firmware ${c.rproc.firmware}`,
        );
      }

      reporter.heading('Boot');
      await soc.start();
      reporter.followTraces(soc);
      for (const c of cores) await c.rproc.boot();

      const rproc = soc.rproc(CRASH_CORE);
      reporter.heading('Name service');
      const channels: [string, RpmsgChannel][] = [];
      for (const c of cores) {
        const name = DEMO_CHANNEL[c.name];
        if (name !== undefined)
          channels.push([c.name, await soc.rpmsg.waitForChannel(name, { rproc: c.rproc })]);
      }
      const ch = channels.find(([core]) => core === rproc.name)?.[1];
      if (ch === undefined) throw new RprocError('ENODEV', 'demo', `${rproc.name} announced no channel`);

      for (const [core, channel] of channels) {
        reporter.heading(`Echo with ${core} (${channel.name}): ${ECHO_COUNT} round trips of 1 to 496 bytes`);
        const times: number[] = [];
        for (let i = 0; i < ECHO_COUNT; i++) {
          const size = 1 + ((i * 37) % 496);
          times.push(await roundTrip(channel, new Uint8Array(size).fill(i & 0xff), clockMs));
        }
        times.sort((a, b) => a - b);
        const us = (ms: number): number => Math.round(ms * 1000);
        reporter.say(
          {
            event: 'echo',
            core,
            channel: channel.name,
            count: ECHO_COUNT,
            p50us: us(percentile(times, 50)),
            p99us: us(percentile(times, 99)),
            minus: us(times[0] ?? 0),
          },
          `round trip p50 ${us(percentile(times, 50))} µs, p99 ${us(percentile(times, 99))} µs, min ${us(times[0] ?? 0)} µs`,
        );
      }
      reporter.flushTraces(soc);

      reporter.heading('Crash, coredump and recovery');
      rproc.coredump.mode = 'enabled';
      const dumped = { ok: false };
      rproc.once('coredump', (dump) => {
        const fw = rproc.loadedFirmware?.source;
        const elf = fw === undefined ? undefined : shortPath(fw);
        dumped.ok = reporter.saveCoredump(rproc.name, dump, join(dumpDir, `${rproc.name}-core.elf`), elf);
      });
      const recovered = rproc.next('recovery', (e) => e.phase !== 'start');
      reporter.say(
        { event: 'inject', core: rproc.name, command: CRASH_COMMAND },
        'asking the firmware to store to an unmapped address',
      );
      await ch.open().send(new TextEncoder().encode(CRASH_COMMAND));
      const outcome = await recovered;
      if (!dumped.ok) throw new RprocError('EIO', 'demo', 'the crash left no coredump');
      if (outcome.phase === 'failed') throw outcome.error ?? new RprocError('EIO', 'demo', 'recovery failed');
      const again = await soc.rpmsg.waitForChannel(DEMO_CHANNEL[CRASH_CORE] ?? '', { rproc });
      const rtt = await roundTrip(again, new TextEncoder().encode('back again'), clockMs);
      reporter.say(
        { event: 'echo', core: rproc.name, channel: again.name, count: 1, us: Math.round(rtt * 1000) },
        `traffic resumed: echo in ${Math.round(rtt * 1000)} µs`,
      );
      reporter.flushTraces(soc);

      reporter.heading('Shutdown');
      for (const c of cores) await c.rproc.shutdown();
      return EXIT.OK;
    } finally {
      reporter.stop();
      await soc.close();
    }
  },
};
