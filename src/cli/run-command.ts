// `rproc run [FIRMWARE] [--core NAME=FILE]...`: boot the board's auto-boot cores and the firmware
// given, and show what they do — states, the firmware loaded, trace and UART output, channels,
// crashes and recoveries — optionally sending to channels (--send CHANNEL=TEXT), connecting
// stdin/stdout to one (--console CHANNEL) or to a core's UART (--uart-stdin, uart-stdin.ts). It ends at --timeout, when every core it booted has
// ended by itself (test finisher, crash loop), when the work asked for is done, when the cores go
// idle (deterministic mode) or on a signal, always shutting every core down first. The exit status
// says how it went (run-outcome.ts, docs/cli.md). With --deterministic the cores run in the host
// thread on the SoC's virtual clock: times, --timeout and the output itself are then reproducible.

import '../cpu/core-kinds.ts';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { boardFromFdt } from '../soc/board.ts';
import { loadBoard } from '../soc/fdt/load-board.ts';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import type { SocScheduler } from '../soc/scheduler/soc-scheduler.ts';
import { RprocError, hex } from '../util/errors.ts';
import { parseElf } from '../elf/elf-reader.ts';
import { EM } from '../elf/elf-constants.ts';
import { ChannelDirectory, WaitAborted } from './channels.ts';
import { hostClock, virtualClock, whenAborted } from './clock.ts';
import { UsageError, type Command, type CommandContext, type CommandResult } from './command.ts';
import { ConsoleBridge } from './console-bridge.ts';
import { freeCoredumpPath, prepareCoredumpDir, shortPath } from './coredump-dir.ts';
import { firmwareEvent } from './firmware-event.ts';
import { reportError, userErrorLine } from './main-errors.ts';
import { DEFAULT_CRASH_LOOP, MAX_TIMEOUT_S, parseRunOptions, type RunOptions } from './run-options.ts';
import { RunOutcome } from './run-outcome.ts';
import { planRun, type RunPlan } from './run-setup.ts';
import { SocReporter } from './soc-reporter.ts';
import { uartConsole, type UartStdin } from './uart-stdin.ts';
import {
  CHECK_RUN_HELP,
  CHECK_RUN_OPTIONS,
  checksWanted,
  parseRunCheckOptions,
  type RunCheckOptions,
} from './run-check-options.ts';
import { RunChecks } from './run-checks.ts';
import { isEndSignal, signalStatus } from './signals.ts';
import {
  DEBUG_RUN_HELP,
  DEBUG_RUN_OPTIONS,
  DebugRun,
  parseDebugRunOptions,
  type DebugRunOptions,
} from './gdb-options.ts';

/** How long replies may take after the last --send or the end of --console input, ms. */
const REPLY_GRACE_MS = 1000;
/** How long --send and --console wait for their channel when there is no --timeout, ms. */
const CHANNEL_WAIT_MS = 10_000;

export const runCommand: Command = {
  name: 'run',
  summary: "Boot the board's auto-boot cores and the firmware given; stream states, trace, UART, rpmsg",
  usage: '[FIRMWARE] [--core NAME=FILE]...',
  help: [
    'FIRMWARE (an ELF path, or the name of a firmware that ships with rproc, e.g. echo.elf) goes to',
    'the first core of the board whose kind runs it; the cores the board marks auto-boot boot too.',
    '',
    'Options:',
    '  --core NAME=FILE       boot FILE on core NAME (repeatable); --core NAME alone puts FIRMWARE there',
    '  --board FILE           board description (.dtb, or .dts when dtc is installed); default: the embedded board',
    '  --send CHANNEL=TEXT    send TEXT to CHANNEL once it is announced (repeatable); replies are printed',
    '  --console CHANNEL      stdin → CHANNEL one message per line, replies → stdout (events go to stderr,',
    '                         or all of it to stdout as JSON events with --json); ends 1 s after the input',
    `  --timeout SECONDS      end after this long (above 0, at most ${MAX_TIMEOUT_S}); also bounds every wait`,
    `                         (without it: channels are waited for ${CHANNEL_WAIT_MS / 1000} s, and the run goes on until`,
    '                         the cores end, replies to --send had 1 s, the cores go idle (--deterministic)',
    '                         or Ctrl-C)',
    "  --uart-stdin           the terminal is the UART of FIRMWARE's core (else the first --core's, else the",
    "                         first auto-boot core's): raw on a TTY (Ctrl-A x quits, Ctrl-A h helps); a pipe",
    '                         ends the run once its bytes are in and the output went quiet',
    '  --coredump DIR         write a coredump there whenever a core crashes (made if missing), and print',
    '                         how to open it in gdb-multiarch',
    '  --allow-crash          crashes are expected: a crash alone does not make the exit status 3',
    `  --crash-loop N         stop a core that crashes again right after recovery N times in a row`,
    `                         (default ${DEFAULT_CRASH_LOOP}; exit status 4)`,
    '  --deterministic        run the cores in this thread on virtual time: the same output every run',
    '                         (--timeout then counts virtual seconds)',
    ...DEBUG_RUN_HELP,
    '                         (--timeout does not count the time a debugger holds a core)',
    ...CHECK_RUN_HELP,
    '  --json                 one JSON event per line',
    '',
    'Exit status: 0 done; 1 failed; 2 bad usage; 3 a core crashed; 4 crash loop stopped;',
    '5 an --expect was not met in time; 6 a --fail-on line matched;',
    'N a firmware ended with test-finisher FAIL code N; 128+signal after SIGINT/SIGTERM/SIGHUP.',
  ].join('\n'),
  options: {
    board: { type: 'string' },
    core: { type: 'string', multiple: true },
    send: { type: 'string', multiple: true },
    console: { type: 'string' },
    timeout: { type: 'string' },
    coredump: { type: 'string' },
    deterministic: { type: 'boolean' },
    'allow-crash': { type: 'boolean' },
    'crash-loop': { type: 'string' },
    'uart-stdin': { type: 'boolean' },
    ...DEBUG_RUN_OPTIONS,
    ...CHECK_RUN_OPTIONS,
  },
  positionals: [0, 1],
  async run(ctx) {
    const options = parseRunOptions(ctx.values, ctx.positionals);
    const uartStdin = ctx.values['uart-stdin'] === true;
    if (uartStdin && options.console !== undefined)
      throw new UsageError('--uart-stdin and --console both want stdin: choose one');
    const debugOptions = parseDebugRunOptions(ctx.values);
    const checkOptions = parseRunCheckOptions(ctx.values);
    return runSoc(ctx, options, uartStdin, debugOptions, checkOptions);
  },
};

/**
 * The run's own core, which --uart-stdin drives and --gdb must be able to debug: FIRMWARE's, else
 * the first --core's, else the first one booted.
 */
function primaryCore(o: RunOptions, plan: RunPlan): string {
  const wanted = o.firmware === undefined ? o.cores[0]?.core : [...plan.images.keys()].at(-1);
  return wanted ?? plan.boot[0] ?? '';
}

async function runSoc(
  ctx: CommandContext,
  o: RunOptions,
  uartStdin: boolean,
  debugOptions: DebugRunOptions,
  checkOptions: RunCheckOptions,
): Promise<CommandResult> {
  const { reporter, abort } = ctx;
  if (o.console !== undefined) reporter.textOnStderr();
  if (o.coredumpDir !== undefined) prepareCoredumpDir(o.coredumpDir, 'run');
  const board = await loadBoard(o.board);
  const store = defaultFirmwareStore();
  const plan = await planRun(boardFromFdt(board), store, o);
  // A bounded run goes as fast as it can; one that waits for Ctrl-C, the cores or the terminal
  // keeps virtual time in step with host time, so that a firmware's timers do not race ahead.
  // A debugging session ends when the user says (Ctrl-C, gdb's kill, the monitor's quit).
  const debugging = debugOptions.gdb !== undefined || debugOptions.monitor;
  const interactive = o.console !== undefined || (uartStdin && process.stdin.isTTY) || debugging;
  const expecting = checkOptions.expects.length > 0;
  const bounded = (o.timeoutMs !== undefined || o.sends.length > 0 || expecting) && !interactive;
  const soc = new VirtualSoc({
    board,
    firmwareStore: store,
    autoBoot: false,
    firmware: plan.firmware,
    ...(o.deterministic ? { scheduler: { pace: bounded ? 'asap' : 'realtime' } } : {}),
  });
  const scheduler = soc.scheduler;
  const clock = scheduler === undefined ? hostClock(ctx.startedAt) : virtualClock(scheduler);
  if (clock.virtual) reporter.useClock(clock.nowMs, true);
  const socReporter = new SocReporter(reporter);
  const primary = primaryCore(o, plan);
  const uartName = uartStdin ? primary : undefined;
  socReporter.attach(soc, uartName === undefined ? {} : { rawUart: uartName });
  const channels = new ChannelDirectory(soc);
  const outcome = new RunOutcome(soc, clock, reporter, o);
  const done = new AbortController();
  const ending = AbortSignal.any([abort, done.signal]);
  let why = 'done';
  const finish = (reason: string): void => {
    if (done.signal.aborted) return;
    why = reason;
    done.abort();
  };
  // The harness watches the run only when a firmware-CI option asks for it (no taps otherwise).
  const checks = checksWanted(checkOptions)
    ? RunChecks.attach(soc, checkOptions, reporter, { finish })
    : undefined;
  // A channel wait gives up on a signal or when the cores have ended, but not when --timeout ends
  // the run: it has the same deadline, and a channel that never came is then the run's failure.
  const coresEnded = new AbortController();
  const waitsEnd = AbortSignal.any([abort, coresEnded.signal]);
  outcome.onEnded = () => {
    if (!outcome.allEnded(plan.boot)) return;
    coresEnded.abort();
    finish(`every core it booted has ended (${plan.boot.join(', ')})`);
  };
  // Whatever the cores do, the process stays up until the run ends (no exit 13 with idle cores).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const debug = new DebugRun(soc, debugOptions, {
    say: (e, text) => reporter.say(e, text),
    out: (text) => reporter.raw(text),
    json: reporter.json,
    stop: () => finish('the debugger ended the run'),
    ...(o.coredumpDir === undefined ? {} : { coredumpDir: o.coredumpDir }),
  });
  let bridge: ConsoleBridge | undefined;
  let term: UartStdin | undefined;
  try {
    // Connected before boot: what is typed (or piped) meanwhile waits for the firmware's UART.
    if (uartName !== undefined)
      term = uartConsole({
        soc,
        core: soc.core(uartName),
        io: reporter.io,
        input: process.stdin,
        stop: () => finish(`--uart-stdin: the ${uartName} UART console ended`),
      });
    if (primary !== '') debug.prepare(soc.core(primary));
    await soc.start();
    checks?.armFaults();
    checks?.startExpecting(finish);
    if (o.coredumpDir !== undefined) saveCoredumps(soc, socReporter, o.coredumpDir, plan);
    socReporter.followTraces(soc);
    for (const name of plan.boot) {
      if (ending.aborted) break;
      const core = soc.core(name);
      const image =
        plan.images.get(name) ?? (core.spec.earlyBoot ? undefined : await store.request(core.rproc.firmware));
      if (image !== undefined) {
        const { event, text } = firmwareEvent(name, image);
        reporter.say(event, text);
      }
      await core.rproc.boot();
    }
    if (!ending.aborted) {
      reporter.say({ event: 'ready', cores: plan.boot }, `ready: ${plan.boot.join(', ')} booted`);
      await debug.start(primary === '' ? undefined : gdbFirmwareFile(soc, plan, primary));
    }
    const timeoutWhy = o.timeoutMs === undefined ? undefined : `--timeout ${o.timeoutMs / 1000}`;
    // --timeout counts from the start of the command (virtual 0 in deterministic mode), boots included.
    // Virtual time stands still while a debugger holds a core; on host time the run does not count
    // that time either (gdb-options.ts).
    if (o.timeoutMs !== undefined && debugging && !clock.virtual) {
      const cancel = debug.afterRunningFor(Math.max(1, o.timeoutMs - clock.nowMs()), () =>
        finish(`${timeoutWhy} reached`),
      );
      ending.addEventListener('abort', cancel, { once: true });
    } else if (o.timeoutMs !== undefined)
      void clock
        .sleep(Math.max(0, o.timeoutMs - clock.nowMs()), ending)
        .then((elapsed) => elapsed && finish(`${timeoutWhy} reached`));
    const waitMs = (): number =>
      debug.channelWaitMs(
        o.timeoutMs === undefined ? CHANNEL_WAIT_MS : Math.max(1, o.timeoutMs - clock.nowMs()),
      );
    const waitWhy = timeoutWhy ?? `no --timeout: channels are waited for ${CHANNEL_WAIT_MS / 1000} s`;
    for (const s of o.sends) {
      const ch = await channels.wait(s.channel, clock, waitMs(), waitWhy, waitsEnd);
      const core = channels.coreOf(ch);
      const decoder = new TextDecoder();
      const print = (data: Uint8Array, src: number): void => {
        const text = decoder.decode(data);
        reporter.say(
          { event: 'rx', core, channel: ch.name, src: hex(src), text },
          `${ch.name} ← ${JSON.stringify(text)}`,
        );
      };
      const ept = ch.open((data, src, rx) => {
        // A line for --expect CHANNEL:..., or held while a --fault stall of the channel lasts.
        if (checks === undefined) print(data, src);
        else checks.received(core, ch.name, data, rx, (d) => print(d, src));
      });
      await ept.send(new TextEncoder().encode(s.text));
      reporter.say(
        { event: 'tx', core, channel: ch.name, text: s.text },
        `${ch.name} → ${JSON.stringify(s.text)}`,
      );
    }
    if (
      o.sends.length > 0 &&
      o.console === undefined &&
      o.timeoutMs === undefined &&
      !debugging &&
      !expecting
    )
      void clock
        .sleep(REPLY_GRACE_MS, ending)
        .then((elapsed) => elapsed && finish(`replies had ${REPLY_GRACE_MS / 1000} s after the last --send`));
    if (o.console !== undefined) {
      const ch = await channels.wait(o.console, clock, waitMs(), waitWhy, waitsEnd);
      bridge = new ConsoleBridge({
        channel: ch,
        core: channels.coreOf(ch),
        reporter,
        input: process.stdin,
        onInputEnd: () =>
          void clock
            .sleep(REPLY_GRACE_MS, ending)
            .then(
              (elapsed) => elapsed && finish(`console input ended (replies had ${REPLY_GRACE_MS / 1000} s)`),
            ),
      });
    }
    if (
      scheduler !== undefined &&
      o.timeoutMs === undefined &&
      o.sends.length === 0 &&
      o.console === undefined &&
      !uartStdin &&
      !debugging &&
      !expecting
    )
      void untilIdle(soc, scheduler, ending).then((idle) => idle && finish('the cores went idle'));
    await whenAborted(ending);
  } catch (e) {
    if (!(e instanceof WaitAborted)) {
      const line = userErrorLine(e);
      if (line === undefined) throw e;
      reportError(reporter, 'run', e, line);
      outcome.fail(line);
    }
  } finally {
    clearInterval(keepAlive);
    done.abort();
    await debug.close();
    bridge?.close();
    term?.close();
    socReporter.flushTraces(soc);
    await Promise.all(outcome.pending);
    if (checks !== undefined) {
      checks.runEnded(abort.aborted ? `ended by ${String(abort.reason)}` : why);
      outcome.checked = checks.result;
      await reportedFailure(reporter, outcome, () => checks.beforeShutdown(runResult(outcome, abort, why)));
    }
    await shutDownEverything(soc, reporter);
    socReporter.stop();
    if (checks !== undefined) {
      const name = `rproc run ${plan.boot.map((c) => `${c}=${plan.firmware[c] ?? soc.core(c).rproc.firmware}`).join(' ')}`;
      await reportedFailure(reporter, outcome, () => checks.finish(runResult(outcome, abort, why), name));
      await checks.close();
    }
    await soc.close();
  }
  return runResult(outcome, undefined, why);
}

/** The run's result as it stands (`abort`: as the process will end on a signal, for the reports). */
function runResult(outcome: RunOutcome, abort: AbortSignal | undefined, why: string): CommandResult {
  if (abort?.aborted === true && isEndSignal(abort.reason))
    return { status: signalStatus(abort.reason), reason: `ended by ${abort.reason}` };
  const result = outcome.status();
  return result.status === 0 ? { status: 0, reason: why } : result;
}

/** Writing a report failed (a folder that cannot be made): one line, and the run has failed. */
async function reportedFailure(
  reporter: CommandContext['reporter'],
  outcome: RunOutcome,
  write: () => Promise<void> | void,
): Promise<void> {
  try {
    await write();
  } catch (e) {
    const line = userErrorLine(e);
    if (line === undefined) throw e;
    reportError(reporter, 'run', e, line);
    outcome.fail(line);
  }
}

/** The file gdb loads the symbols from: the firmware of `core` when it is an rv32 ELF file. */
function gdbFirmwareFile(soc: VirtualSoc, plan: RunPlan, core: string): string | undefined {
  const fw = plan.images.get(core) ?? soc.core(core).rproc.loadedFirmware;
  if (fw === undefined || fw.source.startsWith('memory:')) return undefined;
  return parseElf(fw.bytes).header.machine === EM.EM_NONE ? undefined : shortPath(fw.source);
}

/** --coredump DIR: every crash of every core leaves an ELF core file there. */
function saveCoredumps(soc: VirtualSoc, socReporter: SocReporter, dir: string, plan: RunPlan): void {
  for (const core of soc.cores) {
    core.rproc.coredump.mode = 'enabled';
    core.rproc.on('coredump', (dump) => {
      // gdb opens the dump of a machine it knows with the firmware's symbols (a file, not a js
      // program): where the command line's image was read from, else where the store found it.
      const fw = plan.images.get(core.name) ?? core.rproc.loadedFirmware;
      const firmware =
        fw === undefined ||
        fw.source.startsWith('memory:') ||
        parseElf(fw.bytes).header.machine === EM.EM_NONE
          ? undefined
          : shortPath(fw.source);
      socReporter.saveCoredump(
        core.name,
        dump,
        freeCoredumpPath(dir, `${core.name}-core-${core.rproc.crash.count}`),
        firmware === undefined ? {} : { firmware },
      );
    });
  }
}

/** Deterministic mode: resolves true once every core is idle with nothing due (or false on abort). */
async function untilIdle(soc: VirtualSoc, scheduler: SocScheduler, abort: AbortSignal): Promise<boolean> {
  for (;;) {
    await Promise.race([scheduler.settled(), whenAborted(abort)]);
    if (abort.aborted) return false;
    // Let the host answer what the cores did last (a reply, a recovery): that may wake them again.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    if (scheduler.parked && !soc.cores.some((c) => c.rproc.lifecycleBusy)) return true;
  }
}

/** Every core still up (or crashed) is shut down; a failure is reported and the others go on. */
async function shutDownEverything(soc: VirtualSoc, reporter: CommandContext['reporter']): Promise<void> {
  for (const core of soc.cores) {
    const r = core.rproc;
    await r.autoBootDone;
    const held = (): boolean => r.state === 'running' || r.state === 'attached' || r.state === 'crashed';
    try {
      while (r.power > 0 && held()) await r.shutdown();
    } catch (e) {
      const message = e instanceof RprocError ? e.message : String(e);
      reporter.say(
        { event: 'log', core: core.name, level: 'error', message: `shutdown failed: ${message}` },
        `shutdown failed: ${message}`,
      );
    }
  }
}
