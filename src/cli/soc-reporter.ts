// Prints what happens on a virtual SoC as it happens: processor states (an offline that follows a
// firmware's own end carries the reason), crashes with their report, recoveries, coredumps,
// channels coming and going, firmware exits, UART and trace output — through a Reporter (text, or
// JSON events); a coredump's line says how to open it in gdb. In deterministic mode the trace is
// read before every event instead of on a host timer, so that the whole output is reproducible.

import { writeFileSync } from 'node:fs';
import type { RprocCoredump } from '../remoteproc/coredump.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { hex } from '../util/errors.ts';
import { escapeControl } from '../util/escape-control.ts';
import { paint } from './io.ts';
import type { Reporter } from './reporter.ts';

/** `word` as one shell word: as is when it is plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export class SocReporter {
  readonly reporter: Reporter;
  private readonly traceSeen = new Map<string, string>();
  private traceTimer: NodeJS.Timeout | undefined;
  private followed: VirtualSoc | undefined;
  /** Why a core's firmware ended, until its state event to offline carries it. */
  private readonly exitReason = new Map<string, string>();

  constructor(reporter: Reporter) {
    this.reporter = reporter;
  }

  private say(e: Parameters<Reporter['say']>[0], text: string): void {
    this.reporter.say(e, text);
  }

  private paint(style: Parameters<typeof paint>[1], text: string): string {
    return paint(this.reporter.io, style, text);
  }

  /**
   * Print the SoC's events as they come. `rawUart` names a core whose UART output goes to stdout
   * as it is, in text mode (a serial console: `rproc run --uart-stdin`), instead of line events.
   */
  attach(soc: VirtualSoc, options: { readonly rawUart?: string } = {}): void {
    soc.on('uart', ({ core, text }) => {
      if (!this.reporter.json && core === options.rawUart) {
        this.reporter.raw(text);
        return;
      }
      for (const line of text.replace(/\n$/, '').split('\n'))
        this.say({ event: 'uart', core, text: line }, `uart: ${escapeControl(line)}`);
    });
    soc.on('exit', ({ core, code, cause, reason }) => {
      this.exitReason.set(core, reason);
      this.say({ event: 'exit', core, code, cause, reason }, `firmware ended: ${reason}`);
    });
    soc.rpmsg.on('channel', ({ action, channel, device }) => {
      const core = device.vdev.parentName;
      this.say(
        {
          event: 'channel',
          core,
          action,
          channel: channel.name,
          dst: hex(channel.dst),
          device: device.deviceName,
        },
        action === 'add'
          ? `channel ${this.paint('green', escapeControl(channel.name))} announced at remote address ${hex(channel.dst)} (${device.deviceName})`
          : `channel ${escapeControl(channel.name)} removed`,
      );
    });
    soc.rpmsg.on('error', ({ device, reason }) =>
      this.say(
        { event: 'rpmsg-error', core: device.vdev.parentName, device: device.deviceName, reason },
        this.paint('red', `rpmsg error: ${reason}`),
      ),
    );
    for (const c of soc.cores) {
      const core = c.name;
      const r = c.rproc;
      r.on('state', ({ from, to }) => {
        const reason = to === 'offline' ? this.exitReason.get(core) : undefined;
        if (reason !== undefined) this.exitReason.delete(core);
        this.say(
          { event: 'state', core, from, to, ...(reason === undefined ? {} : { reason }) },
          `state ${from} → ${this.paint(to === 'crashed' ? 'red' : 'bold', to)}${reason === undefined ? '' : ` (${reason})`}`,
        );
      });
      r.on('crash', ({ typeName, count, detail }) => {
        const parts = [`crash #${count}: ${typeName}`];
        if (detail !== undefined) parts.push(detail.message);
        if (detail?.pc !== undefined)
          parts.push(`pc ${hex(detail.pc)}${detail.symbol === undefined ? '' : ` (${detail.symbol})`}`);
        if (detail?.cause !== undefined) parts.push(`cause ${detail.cause}`);
        if (detail?.tval !== undefined) parts.push(`tval ${hex(detail.tval)}`);
        this.say(
          {
            event: 'crash',
            core,
            type: typeName,
            count,
            ...(detail === undefined ? {} : { message: detail.message }),
            ...(detail?.pc === undefined ? {} : { pc: hex(detail.pc) }),
            ...(detail?.symbol === undefined ? {} : { symbol: detail.symbol }),
            ...(detail?.cause === undefined ? {} : { cause: detail.cause }),
            ...(detail?.tval === undefined ? {} : { tval: hex(detail.tval) }),
          },
          this.paint('red', parts.join(', ')),
        );
      });
      r.on('recovery', ({ phase, error }) =>
        this.say(
          { event: 'recovery', core, phase, ...(error === undefined ? {} : { error: error.message }) },
          `recovery ${phase}${error === undefined ? '' : `: ${error.message}`}`,
        ),
      );
      r.on('log', ({ level, message }) => {
        if (level === 'info' && !this.reporter.json) return;
        this.say(
          { event: 'log', core, level, message },
          level === 'error'
            ? this.paint('red', message)
            : level === 'warn'
              ? this.paint('yellow', `warning: ${message}`)
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
  saveCoredump(
    core: string,
    dump: RprocCoredump,
    path: string,
    options: { readonly firmware?: string; readonly note?: string } = {},
  ): boolean {
    try {
      writeFileSync(path, dump.bytes());
    } catch (e) {
      const error = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
      this.say(
        { event: 'coredump-error', core, path, error },
        this.paint('red', `coredump not written to ${path}: ${error}`),
      );
      return false;
    }
    // With the firmware's ELF (its symbols) gdb shows where the core stopped: the dump's notes
    // hold the registers (docs/debugging.md, "Coredumps").
    const { firmware, note = '' } = options;
    const gdb =
      firmware === undefined ? undefined : `gdb-multiarch ${shellWord(firmware)} ${shellWord(path)}`;
    this.say(
      { event: 'coredump', core, path, size: dump.size, ...(gdb === undefined ? {} : { gdb }) },
      `coredump: ${dump.size} bytes written to ${path}${gdb === undefined ? '' : `; open it with: ${gdb}`}${note}`,
    );
    return true;
  }

  /** Poll every core's trace0 and print what is new (firmware writes it; the host reads it). */
  followTraces(soc: VirtualSoc, everyMs = 100): void {
    this.followed = soc;
    if (this.reporter.virtualTime) this.reporter.beforeEvent = () => this.flushTraces(soc);
    else this.traceTimer = setInterval(() => this.flushTraces(soc), everyMs);
  }

  flushTraces(soc: VirtualSoc | undefined = this.followed): void {
    if (soc === undefined) return;
    for (const c of soc.cores) {
      if (c.rproc.state !== 'running' && c.rproc.state !== 'attached') continue;
      // Remote-written memory: readTrace bounds the read by the buffer's length and decodes leniently.
      const text = c.rproc.resources.readTrace(0);
      if (text === undefined) continue;
      const before = this.traceSeen.get(c.name) ?? '';
      if (text === before) continue;
      const fresh = text.startsWith(before) ? text.slice(before.length) : text;
      this.traceSeen.set(c.name, text);
      for (const line of fresh.split('\n').filter((l) => l !== ''))
        this.reporter.say({ event: 'trace', core: c.name, text: line }, `trace0: ${escapeControl(line)}`);
    }
  }

  stop(): void {
    if (this.traceTimer !== undefined) clearInterval(this.traceTimer);
    this.traceTimer = undefined;
    this.reporter.beforeEvent = undefined;
  }
}
