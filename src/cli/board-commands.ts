// The board verbs: `rproc ls`, `start NAME [--firmware FILE]`, `stop NAME`, `state NAME [--watch]`,
// `trace NAME`, `channels`, `send CHANNEL TEXT` and `console CHANNEL`, the same on a Linux system
// (sysfs, /dev; docs/linux-boards.md) and on the virtual SoC (--board), through the platform
// interface both implement. Each is one operation, as `echo start > .../state` is; failures are one
// line naming the value and the file (exit status 1), bad usage exit status 2.

import { existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RprocError } from '../util/errors.ts';
import type {
  ChannelInfo,
  ChannelScope,
  FirmwareSpec,
  ProcessorEvents,
  RemoteProcessor,
  RemoteProcessors,
} from '../platform/remote-processors.ts';
import { EXIT, UsageError, type Command, type CommandContext, type OptionValues } from './command.ts';
import { ANNOUNCE_GRACE_MS, openTarget, TARGET_HELP, TARGET_OPTIONS, type Target } from './board-target.ts';
import { BoardOutput, printable, table } from './board-output.ts';

/** How long a verb waits for the state change its write causes to show (Linux: the next poll). */
const STATE_SETTLE_MS = 5000;
/** How long `send` waits for a reply, and `console` for the last replies after the input ends. */
const REPLY_WAIT_MS = 1000;

function seconds(values: OptionValues, name: string, fallbackMs: number | undefined): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallbackMs;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n <= 0 || n > 2_147_483) {
    throw new UsageError(`--${name} takes a number of seconds above 0, not "${String(raw)}"`);
  }
  return n * 1000;
}

async function withTarget<T>(
  ctx: CommandContext,
  fn: (t: Target, out: BoardOutput) => Promise<T>,
): Promise<T> {
  const target = await openTarget(ctx.values);
  try {
    return await fn(target, new BoardOutput(ctx.io, ctx.json));
  } finally {
    await target.close();
  }
}

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

function sayState(out: BoardOutput, p: RemoteProcessor, e: StateEvent): void {
  out.say(
    { event: 'state', processor: p.name, device: p.device, from: e.from, to: e.to },
    `${p.device} (${p.name}): ${e.from} → ${e.to}`,
  );
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

export const lsCommand: Command = {
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
    withTarget(ctx, async ({ host }, out) => {
      const list = await host.list();
      if (list.length === 0) out.text('no remote processors');
      else
        for (const line of table([
          ['DEVICE', 'NAME', 'STATE', 'FIRMWARE', 'RECOVERY', 'COREDUMP'],
          ...list.map((p) => [p.device, p.name, p.state, p.firmware, p.recovery, p.coredump]),
        ]))
          out.text(line);
      for (const p of list) out.say({ event: 'processor', ...p }, undefined);
      return EXIT.OK;
    }),
};

export const startCommand: Command = {
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
    withTarget(ctx, async ({ host }, out) => {
      const p = await host.get(ctx.positionals[0] ?? '');
      const firmware = firmwareSpec(ctx.values);
      const changed = nextState(p, STATE_SETTLE_MS, (e) => e.from === 'offline');
      await p.start(firmware === undefined ? {} : { firmware });
      const e = await changed;
      if (e !== undefined) sayState(out, p, e);
      else
        out.say(
          { event: 'started', processor: p.name, device: p.device },
          `${p.device} (${p.name}): started`,
        );
      return EXIT.OK;
    }),
};

export const stopCommand: Command = {
  name: 'stop',
  summary: 'Shut a running or attached remote processor down',
  usage: 'NAME',
  help: ['Options:', ...TARGET_HELP].join('\n'),
  options: TARGET_OPTIONS,
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host }, out) => {
      const p = await host.get(ctx.positionals[0] ?? '');
      const changed = nextState(p, STATE_SETTLE_MS, (e) => e.to === 'offline' || e.to === 'detached');
      await p.stop();
      const e = await changed;
      if (e !== undefined) sayState(out, p, e);
      else
        out.say(
          { event: 'stopped', processor: p.name, device: p.device },
          `${p.device} (${p.name}): stopped`,
        );
      return EXIT.OK;
    }),
};

export const stateCommand: Command = {
  name: 'state',
  summary: "Print a remote processor's state, or follow its changes with --watch",
  usage: 'NAME',
  help: [
    'Options:',
    '  --watch                 print every change (and crash) until Ctrl-C or --timeout; Linux: `state` is',
    '                          re-read 25 ms after a change, backing off to once a second while nothing changes',
    '  --timeout SECONDS       stop watching after this long',
    ...TARGET_HELP,
  ].join('\n'),
  options: { ...TARGET_OPTIONS, watch: { type: 'boolean' }, timeout: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host }, out) => {
      const p = await host.get(ctx.positionals[0] ?? '');
      const timeoutMs = seconds(ctx.values, 'timeout', undefined);
      const watch = ctx.values['watch'] === true;
      // Watching starts before the first read, so that read is the baseline changes are seen from;
      // what changes meanwhile is printed after it.
      const held: (() => void)[] = [];
      let holding = true;
      const emit = (print: () => void): void => (holding ? void held.push(print) : print());
      const onState = (e: StateEvent): void => emit(() => sayState(out, p, e));
      const onCrash = (e: ProcessorEvents['crash']): void =>
        emit(() =>
          out.say(
            { event: 'crash', processor: p.name, device: p.device, type: e.type },
            `${p.device} (${p.name}): crashed`,
          ),
        );
      if (watch) p.on('state', onState).on('crash', onCrash);
      try {
        const state = await p.state();
        out.say({ event: 'state', processor: p.name, device: p.device, state }, state);
        holding = false;
        for (const print of held.splice(0)) print();
        if (!watch) return EXIT.OK;
        await new Promise<void>((resolve) => {
          const timer = timeoutMs === undefined ? undefined : setTimeout(resolve, timeoutMs);
          process.once('SIGINT', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      } finally {
        p.off('state', onState).off('crash', onCrash);
      }
      return EXIT.OK;
    }),
};

export const traceCommand: Command = {
  name: 'trace',
  summary: "Print a remote processor's trace buffer (debugfs traceN on Linux: needs root)",
  usage: 'NAME',
  help: ['Options:', '  --index N               which trace buffer (default 0)', ...TARGET_HELP].join('\n'),
  options: { ...TARGET_OPTIONS, index: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host }, out) => {
      const p = await host.get(ctx.positionals[0] ?? '');
      const raw = ctx.values['index'] ?? '0';
      const index = Number(raw);
      if (typeof raw !== 'string' || !Number.isInteger(index) || index < 0) {
        throw new UsageError(`--index takes a trace buffer number, not "${String(raw)}"`);
      }
      const text = await p.trace(index);
      out.say(
        { event: 'trace', processor: p.name, device: p.device, index, text },
        printable(text.replace(/\n$/, '')),
      );
      return EXIT.OK;
    }),
};

export const channelsCommand: Command = {
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
    withTarget(ctx, async ({ host, virtual }, out) => {
      const processor = ctx.values['processor'];
      if (processor !== undefined && typeof processor !== 'string')
        throw new UsageError('--processor takes a name');
      if (virtual) await new Promise((r) => setTimeout(r, ANNOUNCE_GRACE_MS));
      const list = await host.channels(processor === undefined ? undefined : { processor });
      const hex = (n: number): string => `0x${n.toString(16)}`;
      if (list.length === 0) out.text('no rpmsg channels');
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
          out.text(line);
      for (const c of list) out.say({ event: 'channel', ...c, src: hex(c.src), dst: hex(c.dst) }, undefined);
      return EXIT.OK;
    }),
};

export const sendCommand: Command = {
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
    withTarget(ctx, async ({ host, virtual }, out) => {
      const [name = '', text = ''] = ctx.positionals;
      const waitMs = seconds(ctx.values, 'timeout', REPLY_WAIT_MS) ?? REPLY_WAIT_MS;
      const ch = await findChannel(host, ctx.values, name, virtual ? Math.max(waitMs, 10_000) : waitMs);
      const ep = await host.open(ch);
      try {
        await ep.send(text);
        out.say(
          { event: 'tx', channel: ch.name, id: ch.id, processor: ch.processor, text },
          `${ch.name} → ${JSON.stringify(text)}`,
        );
        try {
          const reply = new TextDecoder().decode(await ep.receive({ timeoutMs: waitMs }));
          out.say(
            { event: 'rx', channel: ch.name, id: ch.id, processor: ch.processor, text: reply },
            `${ch.name} ← ${printable(JSON.stringify(reply))}`,
          );
        } catch (e) {
          if (!(e instanceof RprocError && e.code === 'ETIMEDOUT')) throw e;
          out.say(
            { event: 'no-reply', channel: ch.name, id: ch.id, waitedMs: waitMs },
            `no reply within ${waitMs / 1000} s`,
          );
        }
      } finally {
        await ep.close();
      }
      return EXIT.OK;
    }),
};

export const consoleCommand: Command = {
  name: 'console',
  summary: 'Connect stdin and stdout to a channel (one message per input line)',
  usage: 'CHANNEL',
  help: [
    'CHANNEL is a channel name or id (rproc channels). Ends at the end of the input (replies get',
    `${REPLY_WAIT_MS / 1000} s more), at Ctrl-C, or when the channel goes away (exit status 1).`,
    'Options:',
    PROCESSOR_HELP,
    ...TARGET_HELP,
  ].join('\n'),
  options: { ...TARGET_OPTIONS, processor: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withTarget(ctx, async ({ host, virtual }, out) => {
      const ch = await findChannel(
        host,
        ctx.values,
        ctx.positionals[0] ?? '',
        virtual ? 10_000 : REPLY_WAIT_MS,
      );
      const ep = await host.open(ch);
      const state = { ending: false };
      let sent: Promise<unknown> = Promise.resolve();
      const received = (async () => {
        for await (const data of ep.messages()) {
          const text = new TextDecoder().decode(data);
          if (out.json) out.say({ event: 'rx', channel: ch.name, id: ch.id, text }, undefined);
          else ctx.io.out(printable(ch.kind === 'tty' ? text : `${text}\n`));
        }
        if (!state.ending) throw new RprocError('EPIPE', 'console', `channel ${ch.id} went away`);
      })();
      const input = createInterface({ input: process.stdin });
      const finished = new Promise<void>((resolve) => {
        input.on('line', (line) => {
          sent = sent.then(async () => {
            await ep.send(ch.kind === 'tty' ? `${line}\n` : line);
            out.say({ event: 'tx', channel: ch.name, id: ch.id, text: line }, undefined);
          });
        });
        input.on('close', () => void sent.then(() => setTimeout(resolve, REPLY_WAIT_MS), resolve));
        process.once('SIGINT', () => resolve());
      });
      try {
        await Promise.race([finished, received]);
      } finally {
        state.ending = true;
        input.close();
        await ep.close();
        await received.catch(() => undefined);
      }
      await sent;
      return EXIT.OK;
    }),
};

export const BOARD_COMMANDS: readonly Command[] = [
  lsCommand,
  startCommand,
  stopCommand,
  stateCommand,
  traceCommand,
  channelsCommand,
  sendCommand,
  consoleCommand,
];
