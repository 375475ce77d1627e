// Prints what happens on a virtual SoC as it happens: processor states, crashes with their
// report, recoveries, coredumps, channels coming and going, UART and trace output. Text with
// colour on a TTY (plain when piped), or one JSON object per line with --json. Times are host time
// since start, or the SoC's virtual time in deterministic mode, where the trace is also read
// before every event instead of on a host timer, so that the whole output is reproducible.

import { writeFileSync } from 'node:fs';
import type { RprocCoredump } from '../remoteproc/coredump.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { hex } from '../util/errors.ts';
import { escapeControl } from '../util/escape-control.ts';
import { paint, type CliIo } from './io.ts';

/** `word` as one shell word: as is when it is plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export type ReportEvent = { readonly event: string; readonly core?: string } & Readonly<
  Record<string, unknown>
>;

export class SocReporter {
  private readonly io: CliIo;
  private readonly json: boolean;
  /** Milliseconds since start: host time, or the SoC's virtual time. */
  private readonly clockMs: () => number;
  private readonly virtualTime: boolean;
  private readonly traceSeen = new Map<string, string>();
  private traceTimer: NodeJS.Timeout | undefined;
  private followed: VirtualSoc | undefined;
  private flushing = false;
  /** Raw UART output left a line open: the next event line starts on a line of its own. */
  private rawLineOpen = false;

  constructor(io: CliIo, json: boolean, virtualClockMs?: () => number) {
    this.io = io;
    this.json = json;
    this.virtualTime = virtualClockMs !== undefined;
    const t0 = performance.now();
    this.clockMs = virtualClockMs ?? (() => performance.now() - t0);
  }

  /** Emit one event: a JSON line, or `text` formatted for people. */
  say(e: ReportEvent, text: string): void {
    // In virtual time, what the firmware traced so far comes out before whatever happens next.
    if (this.virtualTime && this.followed !== undefined && !this.flushing) this.flushTraces(this.followed);
    const ms = this.clockMs();
    if (this.rawLineOpen) {
      this.io.out('\n');
      this.rawLineOpen = false;
    }
    if (this.json) {
      this.io.out(
        JSON.stringify({ t: this.virtualTime ? Math.round(ms * 1000) / 1000 : Math.round(ms), ...e }) + '\n',
      );
      return;
    }
    const t = paint(
      this.io,
      'dim',
      `${(ms / 1000).toFixed(this.virtualTime ? 6 : 3).padStart(this.virtualTime ? 10 : 7)}s`,
    );
    const who = e.core === undefined ? '' : `${paint(this.io, 'cyan', e.core)} `;
    this.io.out(`${t} ${who}${text}\n`);
  }

  /** A heading in text mode; nothing in JSON mode. */
  heading(text: string): void {
    if (!this.json) this.io.out(`\n${paint(this.io, 'bold', text)}\n`);
  }

  /**
   * Print the SoC's events as they come. `rawUart` names a core whose UART output goes to stdout
   * as it is, in text mode (a serial console: `rproc run --uart-stdin`), instead of line events.
   */
  attach(soc: VirtualSoc, options: { rawUart?: string } = {}): void {
    soc.on('uart', ({ core, text }) => {
      if (!this.json && core === options.rawUart) {
        this.io.out(text);
        this.rawLineOpen = !text.endsWith('\n');
        return;
      }
      for (const line of text.replace(/\n$/, '').split('\n'))
        this.say({ event: 'uart', core, text: line }, `uart: ${escapeControl(line)}`);
    });
    soc.rpmsg.on('channel', ({ action, channel, device }) => {
      const core = device.vdev.parentName;
      this.say(
        { event: 'channel', core, action, name: channel.name, dst: channel.dst, device: device.deviceName },
        action === 'add'
          ? `channel ${paint(this.io, 'green', channel.name)} announced at remote address ${channel.dst} (${device.deviceName})`
          : `channel ${channel.name} removed`,
      );
    });
    soc.rpmsg.on('error', ({ device, reason }) =>
      this.say(
        { event: 'rpmsg-error', device: device.deviceName, reason },
        paint(this.io, 'red', `rpmsg error: ${reason}`),
      ),
    );
    for (const c of soc.cores) {
      const core = c.name;
      const r = c.rproc;
      r.on('state', ({ from, to }) =>
        this.say(
          { event: 'state', core, from, to },
          `state ${from} → ${paint(this.io, to === 'crashed' ? 'red' : 'bold', to)}`,
        ),
      );
      r.on('crash', ({ typeName, count, detail }) => {
        const parts = [`crash #${count}: ${typeName}`];
        if (detail !== undefined) parts.push(detail.message);
        if (detail?.pc !== undefined)
          parts.push(`pc ${hex(detail.pc)}${detail.symbol === undefined ? '' : ` (${detail.symbol})`}`);
        if (detail?.cause !== undefined) parts.push(`cause ${detail.cause}`);
        if (detail?.tval !== undefined) parts.push(`tval ${hex(detail.tval)}`);
        this.say(
          { event: 'crash', core, type: typeName, count, ...(detail === undefined ? {} : { detail }) },
          paint(this.io, 'red', parts.join(', ')),
        );
      });
      r.on('recovery', ({ phase, error }) =>
        this.say(
          { event: 'recovery', core, phase, ...(error === undefined ? {} : { error: error.message }) },
          `recovery ${phase}${error === undefined ? '' : `: ${error.message}`}`,
        ),
      );
      r.on('log', ({ level, message }) => {
        if (level === 'info' && !this.json) return;
        this.say(
          { event: 'log', core, level, message },
          level === 'error'
            ? paint(this.io, 'red', message)
            : level === 'warn'
              ? paint(this.io, 'yellow', message)
              : message,
        );
      });
    }
  }

  /**
   * Write a coredump to `path` and say so (or say why not). Synchronous on purpose: called from the
   * 'coredump' event, inside the processor's crash handling, it keeps the dump's line in order with
   * the recovery's — in deterministic mode the file is written while no core runs, so the output
   * does not depend on how fast the disk is.
   */
  saveCoredump(core: string, dump: RprocCoredump, path: string, firmware?: string): boolean {
    try {
      writeFileSync(path, dump.bytes());
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.say(
        { event: 'coredump-error', core, path, error },
        paint(this.io, 'red', `coredump not written: ${error}`),
      );
      return false;
    }
    // With the firmware's ELF (its symbols) gdb shows where the core stopped: the dump's notes
    // hold the registers (docs/debugging.md, "Coredumps").
    const gdb =
      firmware === undefined ? undefined : `gdb-multiarch ${shellWord(firmware)} ${shellWord(path)}`;
    this.say(
      { event: 'coredump', core, path, size: dump.size, ...(gdb === undefined ? {} : { gdb }) },
      `coredump: ${dump.size} bytes written to ${path}${gdb === undefined ? '' : `; open it with: ${gdb}`}`,
    );
    return true;
  }

  /** Poll every core's trace0 and print what is new (firmware writes it; the host reads it). */
  followTraces(soc: VirtualSoc, everyMs = 100): void {
    this.followed = soc;
    if (!this.virtualTime) this.traceTimer = setInterval(() => this.flushTraces(soc), everyMs);
  }

  flushTraces(soc: VirtualSoc): void {
    this.flushing = true;
    try {
      this.readTraces(soc);
    } finally {
      this.flushing = false;
    }
  }

  private readTraces(soc: VirtualSoc): void {
    for (const c of soc.cores) {
      if (c.rproc.state !== 'running' && c.rproc.state !== 'attached') continue;
      const text = c.rproc.resources.readTrace(0);
      if (text === undefined) continue;
      const before = this.traceSeen.get(c.name) ?? '';
      if (text === before) continue;
      const fresh = text.startsWith(before) ? text.slice(before.length) : text;
      this.traceSeen.set(c.name, text);
      for (const line of fresh.split('\n').filter((l) => l !== ''))
        this.say({ event: 'trace', core: c.name, text: line }, `trace0: ${escapeControl(line)}`);
    }
  }

  stop(): void {
    if (this.traceTimer !== undefined) clearInterval(this.traceTimer);
    this.traceTimer = undefined;
  }
}
