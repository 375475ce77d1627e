// `rproc demo`: the whole story on the embedded default board with the shipped firmware, no
// arguments needed — boot the remote cores, show the channels their firmware announces, time an
// echo exchange, inject a crash, write the coredump, watch the recovery and the traffic resume,
// and shut everything down. --deterministic runs the same story with the cores in the host thread
// on virtual time: round trips are then virtual, and the output is the same on every run. Without
// --coredump the dump goes to a temporary folder that is removed when the demo ends.

import { join } from 'node:path';
import '../cpu/core-kinds.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import { RprocError, hex } from '../util/errors.ts';
import { ChannelDirectory, WaitAborted } from './channels.ts';
import { hostClock, virtualClock, whenAborted, type CliClock } from './clock.ts';
import type { Command, CommandContext, CommandResult } from './command.ts';
import { prepareCoredumpDir, shortPath } from './coredump-dir.ts';
import { SocReporter } from './soc-reporter.ts';
import { makeTempDir, removeTempDir } from './temp-dirs.ts';

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
/** How long the demo waits for a channel or an echo (on its clock). */
const WAIT_MS = 5000;

async function roundTrip(
  ch: RpmsgChannel,
  payload: Uint8Array,
  clock: CliClock,
  abort: AbortSignal,
): Promise<number> {
  const ept = ch.open();
  const t0 = clock.nowMs();
  const stop = new AbortController();
  try {
    await new Promise<void>((resolve, reject) => {
      void clock.sleep(WAIT_MS, AbortSignal.any([abort, stop.signal])).then((elapsed) => {
        if (stop.signal.aborted) return;
        reject(
          elapsed
            ? new RprocError('ETIMEDOUT', 'demo', `no echo on ${ch.name} within ${WAIT_MS} ms`)
            : new WaitAborted(`echo on ${ch.name}`),
        );
      });
      ept.setCallback(() => resolve());
      ept.send(payload).catch((e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
    });
  } finally {
    stop.abort();
    ept.destroy();
  }
  return clock.nowMs() - t0;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/** Milliseconds with µs precision, for the JSON events. */
function ms3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Boot the default board, echo over rpmsg, crash a core, dump it, recover, shut down',
  usage: '',
  help: [
    'Options:',
    '  --coredump DIR   keep the crash dump there (made if missing); default: a temporary folder,',
    '                   removed when the demo ends',
    '  --deterministic  run the cores in this thread on virtual time: the same output every run',
    '  --json           one JSON event per line',
  ].join('\n'),
  options: { coredump: { type: 'string' }, deterministic: { type: 'boolean' } },
  positionals: [0, 0],
  async run(ctx) {
    const keep = typeof ctx.values['coredump'] === 'string' ? ctx.values['coredump'] : undefined;
    if (keep !== undefined) prepareCoredumpDir(keep, 'demo');
    const dumpDir = keep ?? makeTempDir('demo');
    try {
      return await story(ctx, dumpDir, keep === undefined);
    } finally {
      if (keep === undefined) removeTempDir(dumpDir);
    }
  },
};

async function story(ctx: CommandContext, dumpDir: string, temporary: boolean): Promise<CommandResult> {
  const { reporter, abort } = ctx;
  const deterministic = ctx.values['deterministic'] === true;
  const soc = new VirtualSoc({
    autoBoot: false,
    firmware: DEMO_FIRMWARE,
    ...(deterministic ? { scheduler: true as const } : {}),
  });
  const scheduler = soc.scheduler;
  const clock = scheduler === undefined ? hostClock(ctx.startedAt) : virtualClock(scheduler);
  if (clock.virtual) reporter.useClock(clock.nowMs, true);
  const socReporter = new SocReporter(reporter);
  socReporter.attach(soc);
  const channels = new ChannelDirectory(soc);
  const steps = (async (): Promise<void> => {
    reporter.heading(`Board: ${soc.board.model}`);
    reporter.say({ event: 'board', model: soc.board.model }, `board ${soc.board.model}`);
    for (const r of soc.board.ram)
      reporter.say(
        { event: 'board-ram', name: r.name, pa: hex(r.pa), size: r.size },
        `RAM ${r.name} at ${hex(r.pa)}, ${r.size >> 20} MiB`,
      );
    const cores = soc.cores;
    for (const c of cores)
      reporter.say(
        { event: 'board-core', core: c.name, kind: c.spec.kind, firmware: c.rproc.firmware },
        `${c.spec.kind} core, firmware ${c.rproc.firmware}`,
      );

    reporter.heading('Boot');
    await soc.start();
    socReporter.followTraces(soc);
    for (const c of cores) await c.rproc.boot();

    const rproc = soc.rproc(CRASH_CORE);
    reporter.heading('Name service');
    const found: [string, RpmsgChannel][] = [];
    for (const c of cores) {
      const name = DEMO_CHANNEL[c.name];
      if (name !== undefined)
        found.push([c.name, await channels.wait(name, clock, WAIT_MS, 'the demo waits 5 s', abort)]);
    }
    const ch = found.find(([core]) => core === rproc.name)?.[1];
    if (ch === undefined) throw new RprocError('ENODEV', 'demo', `${rproc.name} announced no channel`);

    for (const [core, channel] of found) {
      reporter.heading(`Echo with ${core} (${channel.name}): ${ECHO_COUNT} round trips of 1 to 496 bytes`);
      const times: number[] = [];
      for (let i = 0; i < ECHO_COUNT; i++) {
        const size = 1 + ((i * 37) % 496);
        times.push(await roundTrip(channel, new Uint8Array(size).fill(i & 0xff), clock, abort));
      }
      times.sort((a, b) => a - b);
      const us = (ms: number): number => Math.round(ms * 1000);
      const [p50, p99, min] = [percentile(times, 50), percentile(times, 99), times[0] ?? 0];
      reporter.say(
        {
          event: 'echo',
          core,
          channel: channel.name,
          count: ECHO_COUNT,
          p50Ms: ms3(p50),
          p99Ms: ms3(p99),
          minMs: ms3(min),
        },
        `round trip p50 ${us(p50)} µs, p99 ${us(p99)} µs, min ${us(min)} µs`,
      );
    }
    socReporter.flushTraces(soc);

    reporter.heading('Crash, coredump and recovery');
    rproc.coredump.mode = 'enabled';
    const dumped = { ok: false };
    rproc.once('coredump', (dump) => {
      const path = join(dumpDir, `${rproc.name}-core.elf`);
      if (temporary) {
        const note = ' (temporary: removed when the demo ends; --coredump DIR keeps it)';
        dumped.ok = socReporter.saveCoredump(rproc.name, dump, path, { note });
        return;
      }
      const source = rproc.loadedFirmware?.source;
      const firmware = source === undefined ? undefined : shortPath(source);
      dumped.ok = socReporter.saveCoredump(
        rproc.name,
        dump,
        path,
        firmware === undefined ? {} : { firmware },
      );
    });
    const recovered = rproc.next('recovery', (e) => e.phase !== 'start');
    reporter.say(
      { event: 'inject', core: rproc.name, command: CRASH_COMMAND },
      'asking the firmware to store to an unmapped address',
    );
    await ch.open().send(new TextEncoder().encode(CRASH_COMMAND));
    const outcome = await Promise.race([recovered, whenAborted(abort).then(() => undefined)]);
    if (outcome === undefined) return;
    if (!dumped.ok) throw new RprocError('EIO', 'demo', 'the crash left no coredump');
    if (outcome.phase === 'failed') throw outcome.error ?? new RprocError('EIO', 'demo', 'recovery failed');
    const again = await channels.wait(
      DEMO_CHANNEL[CRASH_CORE] ?? '',
      clock,
      WAIT_MS,
      'the demo waits 5 s',
      abort,
    );
    const rtt = await roundTrip(again, new TextEncoder().encode('back again'), clock, abort);
    reporter.say(
      {
        event: 'echo',
        core: rproc.name,
        channel: again.name,
        count: 1,
        p50Ms: ms3(rtt),
        p99Ms: ms3(rtt),
        minMs: ms3(rtt),
      },
      `traffic resumed: echo in ${Math.round(rtt * 1000)} µs`,
    );
    socReporter.flushTraces(soc);

    reporter.heading('Shutdown');
    for (const c of cores) await c.rproc.shutdown();
  })();
  try {
    // A signal ends the story where it is; the cores are shut down below either way.
    await Promise.race([steps, whenAborted(abort)]);
  } catch (e) {
    if (!(e instanceof WaitAborted)) throw e;
  } finally {
    steps.catch(() => undefined);
    socReporter.stop();
    await soc.close();
  }
  return { status: 0, reason: 'the story ran to its end' };
}
