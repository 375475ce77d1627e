// `rproc run FIRMWARE`: boot one firmware on a core of the board (default or --board FILE) and
// show what it does — state, trace and UART output, channels — optionally sending to a channel
// (--send CHANNEL=TEXT), attaching the terminal to one (--console CHANNEL) or to the core's UART
// (--uart-stdin, uart-stdin.ts). Runs until --timeout
// seconds, or until Ctrl-C, then shuts down cleanly. With --deterministic the cores run in the host
// thread on the SoC's virtual clock (soc-scheduler.ts): times, --timeout and the output itself are
// then those of the virtual clock, the same on every run. Bad firmware, a bad board or a missing
// dtc is one clear line and exit status 1.

import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseElf } from '../elf/elf-reader.ts';
import { EM } from '../elf/elf-constants.ts';
import { RprocError } from '../util/errors.ts';
import type { SocCore } from '../soc/soc-core.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { EXIT, UsageError, type Command, type OptionValues } from './command.ts';
import { SocReporter } from './soc-reporter.ts';
import { createSoc } from './soc-setup.ts';
import { escapeControl } from '../util/escape-control.ts';
import { uartConsole, type UartStdin } from './uart-stdin.ts';

/** How long replies may take after the last --send or the end of --console input, ms. */
const REPLY_GRACE_MS = 1000;

interface SendSpec {
  readonly channel: string;
  readonly text: string;
}

function parseSends(values: OptionValues): SendSpec[] {
  const raw = values['send'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((s) => {
    const text = String(s);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--send takes CHANNEL=TEXT, not "${text}"`);
    return { channel: text.slice(0, eq), text: text.slice(eq + 1) };
  });
}

function parseTimeout(values: OptionValues): number | undefined {
  const raw = values['timeout'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--timeout takes a number of seconds, not "${String(raw)}"`);
  return n * 1000;
}

/** The core to run on: --core, else the first core whose kind matches the image's machine. */
function pickCore(soc: VirtualSoc, bytes: Uint8Array, wanted: string | undefined): SocCore {
  if (wanted !== undefined) return soc.core(wanted);
  const machine = parseElf(bytes).header.machine;
  const kind = machine === EM.EM_RISCV ? 'rv32' : machine === EM.EM_NONE ? 'js' : undefined;
  if (kind === undefined) {
    throw new RprocError(
      'ENOEXEC',
      'run',
      `no core on this board runs e_machine ${machine}; use --core to choose one`,
    );
  }
  const core = soc.cores.find((c) => c.spec.kind === kind);
  if (core === undefined)
    throw new RprocError('ENODEV', 'run', `the board has no ${kind} core for this firmware`);
  return core;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Boot a firmware on a board core and stream its trace, UART and rpmsg channels',
  usage: 'FIRMWARE',
  help: [
    'Options:',
    '  --board FILE            board description (.dtb, or .dts when dtc is installed); default: the embedded board',
    '  --core NAME             core to run on (default: the first core that runs this kind of image)',
    '  --send CHANNEL=TEXT     send TEXT to CHANNEL once it is announced (repeatable); replies are printed',
    '  --console CHANNEL       connect stdin/stdout to CHANNEL (one message per line; ends 1 s after the input)',
    '  --timeout SECONDS       shut down after this long (default: run until Ctrl-C, or 1 s after the last --send)',
    "  --uart-stdin            the terminal is the core's UART (raw on a TTY: Ctrl-A x quits, Ctrl-A h helps;",
    '                          a pipe ends the run once its bytes are in and the output went quiet)',
    '  --coredump DIR          write a coredump there when the core crashes (and how to open it in gdb)',
    '  --deterministic         run the cores in this thread on virtual time: the same output every run',
    '                          (--timeout then counts virtual seconds)',
    '  --json                  one JSON event per line',
  ].join('\n'),
  options: {
    board: { type: 'string' },
    core: { type: 'string' },
    send: { type: 'string', multiple: true },
    console: { type: 'string' },
    timeout: { type: 'string' },
    coredump: { type: 'string' },
    'uart-stdin': { type: 'boolean' },
    deterministic: { type: 'boolean' },
  },
  positionals: [1, 1],
  async run({ io, json, values, positionals }) {
    const file = positionals[0] ?? '';
    const sends = parseSends(values);
    const timeoutMs = parseTimeout(values);
    const consoleName = typeof values['console'] === 'string' ? values['console'] : undefined;
    const board = typeof values['board'] === 'string' ? values['board'] : undefined;
    const coreName = typeof values['core'] === 'string' ? values['core'] : undefined;
    const dumpDir = typeof values['coredump'] === 'string' ? values['coredump'] : undefined;
    const deterministic = values['deterministic'] === true;
    const uartStdin = values['uart-stdin'] === true;
    if (uartStdin && consoleName !== undefined)
      throw new UsageError('--uart-stdin and --console both want stdin: choose one');
    const limit = timeoutMs ?? (sends.length > 0 && consoleName === undefined ? REPLY_GRACE_MS : undefined);
    // A bounded run goes as fast as it can; one that waits for Ctrl-C or the terminal keeps virtual
    // time in step with host time, so that a firmware's timers do not race ahead meanwhile.
    const interactive = consoleName !== undefined || (uartStdin && process.stdin.isTTY);
    const pace = limit !== undefined && !interactive ? 'asap' : 'realtime';
    const { soc, firmwareName } = await createSoc({
      board,
      firmwareFile: file,
      autoBoot: false,
      ...(deterministic ? { scheduler: { pace } } : {}),
    });
    const scheduler = soc.scheduler;
    const reporter = new SocReporter(
      io,
      json,
      scheduler === undefined ? undefined : () => scheduler.now / 1e6,
    );
    let stopRequested: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
    const onSigint = (): void => stopRequested();
    process.once('SIGINT', onSigint);
    let term: UartStdin | undefined;
    try {
      const fw = await soc.firmwareStore.request(firmwareName ?? file);
      const core = pickCore(soc, fw.bytes, coreName);
      reporter.attach(soc, uartStdin ? { rawUart: core.name } : {});
      // Connected before boot: what is typed (or piped) meanwhile waits for the firmware's UART.
      if (uartStdin) term = uartConsole({ soc, core, io, input: process.stdin, stop: stopRequested });
      // gdb opens the dump of a machine it knows with the firmware's symbols.
      const gdbFirmware = parseElf(fw.bytes).header.machine === EM.EM_NONE ? undefined : file;
      await soc.start();
      await core.rproc.setFirmware(firmwareName ?? file);
      if (dumpDir !== undefined) {
        core.rproc.coredump.mode = 'enabled';
        core.rproc.on('coredump', (dump) => {
          reporter.saveCoredump(
            core.name,
            dump,
            join(dumpDir, `${core.name}-core-${core.rproc.crash.count}.elf`),
            gdbFirmware,
          );
        });
      }
      reporter.followTraces(soc);
      await core.rproc.boot();

      for (const s of sends) {
        const ch = await soc.rpmsg.waitForChannel(s.channel, { rproc: core.rproc, timeoutMs: 10_000 });
        const ept = ch.open((data, src) => {
          const text = new TextDecoder().decode(data);
          reporter.say(
            { event: 'rx', core: core.name, channel: ch.name, src, text },
            `${ch.name} ← ${JSON.stringify(text)}`,
          );
        });
        await ept.send(new TextEncoder().encode(s.text));
        reporter.say(
          { event: 'tx', core: core.name, channel: ch.name, text: s.text },
          `${ch.name} → ${JSON.stringify(s.text)}`,
        );
      }

      if (consoleName !== undefined) {
        const ch = await soc.rpmsg.waitForChannel(consoleName, { rproc: core.rproc, timeoutMs: 10_000 });
        const ept = ch.open((data) => io.out(escapeControl(new TextDecoder().decode(data)) + '\n'));
        const rl = createInterface({ input: process.stdin });
        rl.on('line', (line) => {
          ept
            .send(new TextEncoder().encode(line))
            .catch((e: unknown) => io.err(`rproc run: ${e instanceof Error ? e.message : String(e)}\n`));
        });
        // End of input (a pipe): replies to the last lines still get a second to come back.
        rl.on('close', () => {
          if (scheduler !== undefined) void scheduler.delay(REPLY_GRACE_MS).then(() => stopRequested());
          else setTimeout(() => stopRequested(), REPLY_GRACE_MS);
        });
      }

      let timer: NodeJS.Timeout | undefined;
      if (limit !== undefined && scheduler !== undefined)
        void scheduler.delay(limit).then(() => stopRequested());
      else if (limit !== undefined) timer = setTimeout(() => stopRequested(), limit);
      await stopped;
      clearTimeout(timer);
      reporter.flushTraces(soc);
      if (core.rproc.state === 'running' || core.rproc.state === 'crashed') await core.rproc.shutdown();
      return EXIT.OK;
    } finally {
      term?.close();
      process.off('SIGINT', onSigint);
      reporter.stop();
      await soc.close();
    }
  },
};
