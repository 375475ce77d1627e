// The board verbs: `rproc ls`, `start NAME [--firmware FILE]`, `stop NAME`, `state NAME [--watch]`,
// `trace NAME`, `channels`, `send CHANNEL TEXT` and `console CHANNEL`, the same on a Linux system
// (sysfs, /dev; docs/linux-boards.md) and on the virtual SoC (--board), through the platform
// interface both implement. Each is one operation, as `echo start > .../state` is; exit statuses
// and events as docs/cli.md ("Board verbs") lists them.

import { existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RprocError, hex } from '../util/errors.ts';
import type {
  ChannelInfo,
  ChannelScope,
  FirmwareSpec,
  ProcessorEvents,
  ProcessorInfo,
  RemoteProcessor,
  RemoteProcessors,
} from '../platform/remote-processors.ts';
import { EXIT, UsageError, type Command, type CommandContext, type OptionValues } from './command.ts';
import type { Reporter } from './reporter.ts';
import { ANNOUNCE_GRACE_MS, openTarget, TARGET_HELP, TARGET_OPTIONS, type Target } from './board-target.ts';
import { escapeLines, table } from './board-output.ts';

/** How long a verb waits for the state change its write causes to show (Linux: the next poll). */
const STATE_SETTLE_MS = 5000;
/** How long `send` waits for a reply, and `console` for the last replies after the input ends. */
const REPLY_WAIT_MS = 1000;
/** Crash types the kernel names (rproc_crash_to_string); anything else is reported as unknown. */
const CRASH_TYPES: readonly string[] = ['mmufault', 'watchdog', 'fatal error'];

function seconds(values: OptionValues, name: string, fallbackMs: number | undefined): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallbackMs;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n <= 0 || n > 2_147_483) {
    throw new UsageError(
      `--${name} takes a number of seconds above 0 and at most 2147483, not "${String(raw)}"`,
    );
  }
  return n * 1000;
}

async function withTarget<T>(ctx: CommandContext, fn: (t: Target) => Promise<T>): Promise<T> {
  const target = await openTarget(ctx.values);
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

/** Resolves after `ms` (never when undefined) or as soon as the command is aborted (a signal). */
function untilAborted(abort: AbortSignal, ms: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (abort.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      abort.removeEventListener('abort', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    abort.addEventListener('abort', done, { once: true });
  });
}

/**
 * `p`'s value, or undefined as soon as the command is aborted: a signal does not wait out a channel
 * wait. What `p` does after that (target.close() ends its waits) is caught here, never unhandled.
 */
async function orAborted<T>(p: Promise<T>, abort: AbortSignal): Promise<T | undefined> {
  const aborted = untilAborted(abort, undefined).then(() => undefined);
  const result = await Promise.race([p, aborted]);
  if (abort.aborted) p.catch(() => undefined);
  return result;
}

/** The status of a verb a signal ended before it was done (main turns it into 128 + n). */
const INTERRUPTED = { status: EXIT.FAILED, reason: 'interrupted' } as const;

type StateEvent = ProcessorEvents['state'];

/** Resolves with the first state change seen within `ms`, or undefined. */
function nextState(
  p: RemoteProcessor,
  ms: number,
  filter: (e: StateEvent) => boolean,
): Promise<StateEvent | undefined> {
  return new Promise((resolve) => {
    const listener = (e: StateEvent): void => {
      if (!filter(e)) return;
      done(e);
    };
    const timer = setTimeout(() => done(undefined), ms);
    const done = (e: StateEvent | undefined): void => {
      clearTimeout(timer);
      p.off('state', listener);
      resolve(e);
    };
    p.on('state', listener);
  });
}

function sayState(r: Reporter, p: RemoteProcessor, from: StateEvent['from'], to: StateEvent['to']): void {
  r.say({ event: 'state', core: p.name, device: p.device, from, to }, `${p.device}: ${from} → ${to}`);
}

/** A processor as `ls` and `state` describe it: one `processor` event. */
function sayProcessor(r: Reporter, p: ProcessorInfo, text: string | undefined): void {
  const { name, ...rest } = p;
  r.say({ event: 'processor', core: name, ...rest }, text);
}

/** The `core` field of a channel's events: absent for a channel no remote processor owns. */
function coreOf(ch: ChannelInfo): { core?: string } {
  return ch.processor === undefined ? {} : { core: ch.processor };
}

/** --firmware FILE: a local file is installed; anything else names a firmware already in place. */
function firmwareSpec(values: OptionValues): FirmwareSpec | undefined {
  const raw = values['firmware'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '')
    throw new UsageError('--firmware takes a file or a firmware name');
  return existsSync(raw) && statSync(raw).isFile() ? { file: raw } : raw;
}

/** The channel CHANNEL names: a channel id, or a name unique within --processor (or on the system). */
async function findChannel(
  host: RemoteProcessors,
  values: OptionValues,
  channel: string,
  waitMs: number,
): Promise<ChannelInfo> {
  const processor = values['processor'];
  if (processor !== undefined && typeof processor !== 'string')
    throw new UsageError('--processor takes a name');
  const scope: ChannelScope = processor === undefined ? { anyProcessor: true } : { processor };
  const present = await host.channels(scope);
  const byId = present.find((c) => c.id === channel);
  if (byId !== undefined) return byId;
  const named = present.filter((c) => c.name === channel);
  if (named.length > 1) {
    throw new UsageError(
      `channel "${channel}" is announced by ${named.map((c) => c.processor ?? c.id).join(' and ')}: say which with --processor`,
    );
  }
  return named[0] ?? (await host.waitForChannel(channel, scope, { timeoutMs: waitMs }));
}

const PROCESSOR_HELP =
  '  --processor NAME        the processor whose channel it is (needed when several announce the name)';

const lsCommand: Command = {
  name: 'ls',
  summary: 'List the remote processors: state, firmware, recovery, coredump',
  usage: '',
  help: [
    'Options:',
    ...TARGET_HELP,
    '',
    'On a system without remoteproc (no /sys/class/remoteproc) it says so in one line; exit status 1.',
  ].join('\n'),
  options: TARGET_OPTIONS,
  positionals: [0, 0],
  run: (ctx) =>
    withTarget(ctx, async ({ host }) => {
      const r = ctx.reporter;
      const list = await host.list();
      if (list.length === 0) r.raw('no remote processors\n');
      else
        for (const line of table([
          ['DEVICE', 'NAME', 'STATE', 'FIRMWARE', 'RECOVERY', 'COREDUMP'],
          ...list.map((p) => [p.device, p.name, p.state, p.firmware, p.recovery, p.coredump]),
        ]))
          r.raw(`${escapeLines(line)}\n`);
      for (const p of list) sayProcessor(r, p, undefined);
      return { status: EXIT.OK, reason: `${list.length} remote processor(s)` };
    }),
};

const startCommand: Command = {
  name: 'start',
  summary: 'Boot a remote processor, optionally with a firmware file installed first',
  usage: 'NAME',
  help: [
    'Options:',
    '  --firmware FILE         a local file: installed into the firmware search path (Linux: firmware_class.path,',
    '                          else /lib/firmware) and booted; otherwise the name of a firmware already there',
    ...TARGET_HELP,
    '',
    'Refused (exit 1) unless the processor is offline: Linux would take another power reference.',
  ].join('\n'),
  options: { ...TARGET_OPTIONS, firmware: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host }) => {
      const p = await host.get(ctx.positionals[0] ?? '');
      const firmware = firmwareSpec(ctx.values);
      const changed = nextState(p, STATE_SETTLE_MS, (e) => e.from === 'offline');
      await p.start(firmware === undefined ? {} : { firmware });
      // The write succeeded: the processor left `offline`. Its new state shows at the next poll
      // on Linux; if that takes longer than the settle time, the state read now is reported.
      const e = await changed;
      sayState(ctx.reporter, p, 'offline', e?.to ?? (await p.state()));
      return { status: EXIT.OK, reason: `${p.name} started` };
    }),
};

const stopCommand: Command = {
  name: 'stop',
  summary: 'Shut a running or attached remote processor down',
  usage: 'NAME',
  help: ['Options:', ...TARGET_HELP].join('\n'),
  options: TARGET_OPTIONS,
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host }) => {
      const p = await host.get(ctx.positionals[0] ?? '');
      const before = await p.state();
      const changed = nextState(p, STATE_SETTLE_MS, (e) => e.to === 'offline' || e.to === 'detached');
      await p.stop();
      const e = await changed;
      sayState(ctx.reporter, p, e?.from ?? before, e?.to ?? (await p.state()));
      return { status: EXIT.OK, reason: `${p.name} stopped` };
    }),
};

const stateCommand: Command = {
  name: 'state',
  summary: "Print a remote processor's state, or follow its changes with --watch",
  usage: 'NAME',
  help: [
    'Options:',
    '  --watch                 print every change (and crash) until Ctrl-C or --timeout; Linux: `state` is',
    '                          re-read 25 ms after a change, backing off to once a second while nothing changes',
    '  --timeout SECONDS       stop watching after this long (exit status 0, or 3 if it crashed meanwhile)',
    ...TARGET_HELP,
  ].join('\n'),
  options: { ...TARGET_OPTIONS, watch: { type: 'boolean' }, timeout: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host }) => {
      const r = ctx.reporter;
      const p = await host.get(ctx.positionals[0] ?? '');
      const timeoutMs = seconds(ctx.values, 'timeout', undefined);
      const watch = ctx.values['watch'] === true;
      if (!watch && timeoutMs !== undefined) throw new UsageError('--timeout goes with --watch');
      // Watching starts before the first read, so that read is the baseline changes are seen from;
      // what changes meanwhile is printed after it.
      const held: (() => void)[] = [];
      let holding = true;
      let crashes = 0;
      const emit = (print: () => void): void => (holding ? void held.push(print) : print());
      const onState = (e: StateEvent): void => emit(() => sayState(r, p, e.from, e.to));
      const onCrash = (e: ProcessorEvents['crash']): void =>
        emit(() => {
          crashes += 1;
          const type = e.type !== undefined && CRASH_TYPES.includes(e.type) ? e.type : 'unknown';
          r.say(
            { event: 'crash', core: p.name, device: p.device, type, count: crashes },
            `${p.device}: crashed (${type})`,
          );
        });
      if (watch) p.on('state', onState).on('crash', onCrash);
      try {
        const info = await p.info();
        if (!watch) r.raw(`${info.state}\n`);
        sayProcessor(r, info, watch ? `${p.device}: ${info.state}` : undefined);
        holding = false;
        for (const print of held.splice(0)) print();
        if (!watch) return { status: EXIT.OK, reason: info.state };
        await untilAborted(ctx.abort, timeoutMs);
      } finally {
        p.off('state', onState).off('crash', onCrash);
      }
      // A signal's status is main's to give; a crash while watched fails the watch as it fails `run`.
      return crashes > 0
        ? { status: EXIT.CRASHED, reason: `${p.name} crashed ${crashes} time(s) while watched` }
        : { status: EXIT.OK, reason: 'watch ended' };
    }),
};

const traceCommand: Command = {
  name: 'trace',
  summary: "Print a remote processor's trace buffer (debugfs traceN on Linux: needs root)",
  usage: 'NAME',
  help: ['Options:', '  --index N               which trace buffer (default 0)', ...TARGET_HELP].join('\n'),
  options: { ...TARGET_OPTIONS, index: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host }) => {
      const p = await host.get(ctx.positionals[0] ?? '');
      const raw = ctx.values['index'] ?? '0';
      const index = Number(raw);
      if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(index)) {
        throw new UsageError(`--index takes a trace buffer number, not "${String(raw)}"`);
      }
      const text = await p.trace(index);
      const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
      for (const line of lines) {
        ctx.reporter.say({ event: 'trace', core: p.name, index, text: line }, undefined);
        ctx.reporter.raw(`${escapeLines(line)}\n`);
      }
      return { status: EXIT.OK, reason: `${lines.length} line(s)` };
    }),
};

const channelsCommand: Command = {
  name: 'channels',
  summary: 'List the rpmsg channels: processor, name, addresses, how user space reaches them',
  usage: '',
  help: [
    'Options:',
    "  --processor NAME        only this processor's channels",
    ...TARGET_HELP,
    '',
    `With --board the board's auto-boot cores get ${ANNOUNCE_GRACE_MS} ms to announce their channels.`,
  ].join('\n'),
  options: { ...TARGET_OPTIONS, processor: { type: 'string' } },
  positionals: [0, 0],
  run: (ctx) =>
    withTarget(ctx, async ({ host, virtual }) => {
      const r = ctx.reporter;
      const processor = ctx.values['processor'];
      if (processor !== undefined && typeof processor !== 'string')
        throw new UsageError('--processor takes a name');
      if (virtual) await untilAborted(ctx.abort, ANNOUNCE_GRACE_MS);
      const list = await host.channels(processor === undefined ? undefined : { processor });
      if (list.length === 0) r.raw('no rpmsg channels\n');
      else
        for (const line of table([
          ['ID', 'PROCESSOR', 'NAME', 'SRC', 'DST', 'KIND', 'DRIVER'],
          ...list.map((c) => [
            c.id,
            c.processor ?? '-',
            c.name,
            hex(c.src),
            hex(c.dst),
            c.kind,
            c.driver ?? '-',
          ]),
        ]))
          r.raw(`${escapeLines(line)}\n`);
      for (const c of list)
        r.say(
          {
            event: 'rpmsg-device',
            id: c.id,
            ...coreOf(c),
            channel: c.name,
            src: hex(c.src),
            dst: hex(c.dst),
            announce: c.announce,
            kind: c.kind,
            ...(c.driver === undefined ? {} : { driver: c.driver }),
          },
          undefined,
        );
      return { status: EXIT.OK, reason: `${list.length} channel(s)` };
    }),
};

const sendCommand: Command = {
  name: 'send',
  summary: 'Send TEXT as one message to a channel and print the reply',
  usage: 'CHANNEL TEXT',
  help: [
    'CHANNEL is a channel name or id (rproc channels).',
    'Options:',
    PROCESSOR_HELP,
    '  --timeout SECONDS       how long to wait for the channel and then for a reply (default 1; no reply is not an error)',
    ...TARGET_HELP,
  ].join('\n'),
  options: { ...TARGET_OPTIONS, processor: { type: 'string' }, timeout: { type: 'string' } },
  positionals: [2, 2],
  run: (ctx) =>
    withTarget(ctx, async ({ host, virtual }) => {
      const r = ctx.reporter;
      const [name = '', text = ''] = ctx.positionals;
      const waitMs = seconds(ctx.values, 'timeout', REPLY_WAIT_MS) ?? REPLY_WAIT_MS;
      const ch = await orAborted(
        findChannel(host, ctx.values, name, virtual ? Math.max(waitMs, 10_000) : waitMs),
        ctx.abort,
      );
      if (ch === undefined) return INTERRUPTED;
      const ep = await host.open(ch);
      const where = { ...coreOf(ch), channel: ch.name, id: ch.id };
      try {
        await ep.send(text);
        r.say({ event: 'tx', ...where, text }, `${ch.name} → ${escapeLines(JSON.stringify(text))}`);
        try {
          const data = await orAborted(ep.receive({ timeoutMs: waitMs }), ctx.abort);
          if (data === undefined) return INTERRUPTED;
          const reply = new TextDecoder().decode(data);
          r.say(
            { event: 'rx', ...where, src: hex(ch.dst), text: reply },
            `${ch.name} ← ${escapeLines(JSON.stringify(reply))}`,
          );
        } catch (e) {
          if (!(e instanceof RprocError && e.code === 'ETIMEDOUT')) throw e;
          r.say({ event: 'no-reply', ...where, waitedMs: waitMs }, `no reply within ${waitMs / 1000} s`);
        }
      } finally {
        await ep.close();
      }
      return { status: EXIT.OK, reason: 'sent' };
    }),
};

const consoleCommand: Command = {
  name: 'console',
  summary: 'Connect stdin and stdout to a channel (one message per input line)',
  usage: 'CHANNEL',
  help: [
    'CHANNEL is a channel name or id (rproc channels). Ends at the end of the input (replies get',
    `${REPLY_WAIT_MS / 1000} s more; exit status 0), when the channel goes away (1), or at Ctrl-C (130).`,
    "stdout carries only the channel's data; anything else goes to stderr.",
    'Options:',
    PROCESSOR_HELP,
    ...TARGET_HELP,
  ].join('\n'),
  options: { ...TARGET_OPTIONS, processor: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host, virtual }) => {
      const r = ctx.reporter;
      r.textOnStderr();
      const ch = await orAborted(
        findChannel(host, ctx.values, ctx.positionals[0] ?? '', virtual ? 10_000 : REPLY_WAIT_MS),
        ctx.abort,
      );
      if (ch === undefined) return INTERRUPTED;
      const ep = await host.open(ch);
      const where = { ...coreOf(ch), channel: ch.name, id: ch.id };
      const state = { ending: false };
      let sent: Promise<unknown> = Promise.resolve();
      const received = (async () => {
        for await (const data of ep.messages()) {
          const text = new TextDecoder().decode(data);
          r.say({ event: 'rx', ...where, src: hex(ch.dst), text }, undefined);
          r.raw(escapeLines(ch.kind === 'tty' ? text : `${text}\n`));
        }
        if (!state.ending) throw new RprocError('EPIPE', 'console', `channel ${ch.id} went away`);
      })();
      // No raw mode: the terminal keeps its line editing, and Ctrl-C stays a SIGINT (ctx.abort).
      const input = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
      const inputEnded = new Promise<void>((resolve) => {
        input.on('line', (line) => {
          sent = sent.then(async () => {
            await ep.send(ch.kind === 'tty' ? `${line}\n` : line);
            r.say({ event: 'tx', ...where, text: line }, undefined);
          });
        });
        input.on(
          'close',
          () =>
            void sent.then(
              () => resolve(),
              () => resolve(),
            ),
        );
      });
      const finished = inputEnded.then(() => untilAborted(ctx.abort, REPLY_WAIT_MS));
      try {
        await Promise.race([finished, received, untilAborted(ctx.abort, undefined)]);
      } finally {
        state.ending = true;
        input.close();
        process.stdin.pause();
        process.stdin.unref();
        await ep.close();
        await received.catch(() => undefined);
      }
      await sent;
      return { status: EXIT.OK, reason: 'input ended' };
    }),
};

/**
 * On a signal a board verb closes what it opened (channel files, bindings it made, a --board SoC)
 * and leaves the processors' states alone.
 */
export const BOARD_COMMANDS: readonly Command[] = [
  lsCommand,
  startCommand,
  stopCommand,
  stateCommand,
  traceCommand,
  channelsCommand,
  sendCommand,
  consoleCommand,
].map((c) => ({ ...c, onSignal: 'closing what it opened' }));
