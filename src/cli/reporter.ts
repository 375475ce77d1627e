// The one way a verb reports what happens: with --json one JSON object per line on stdout (schema
// in docs/cli-events.schema.json: every event has `event` and `t`, ms since the command started
// on its clock; the first is `start` with "schema": 1, the last `end` with the exit status), else a
// line of text per event for people, stamped with seconds. Addresses are hex strings, sizes and
// counts numbers, durations milliseconds in fields ending in `Ms`.

import { paint, type CliIo } from './io.ts';
import { packageVersion } from './version.ts';

/** Version of the JSON event format; bumped when a field changes meaning or goes away. */
const EVENT_SCHEMA_VERSION = 1;

export type ReportEvent = { readonly event: string; readonly core?: string } & Readonly<
  Record<string, unknown>
>;

export interface ReporterOptions {
  readonly json: boolean;
  /** Milliseconds since the command started on the clock events are stamped with. */
  readonly clockMs: () => number;
  /** Whether that clock is the SoC's virtual one (more digits in text, reproducible). */
  readonly virtualTime?: boolean;
  /** Text lines go to stderr (stdout carries a console channel's data); JSON always to stdout. */
  readonly textToStderr?: boolean;
}

export class Reporter {
  readonly io: CliIo;
  readonly json: boolean;
  private virtual: boolean;
  private clockMs: () => number;
  private textToStderr: boolean;
  /** Runs before every event (deterministic mode prints the trace read so far first). */
  beforeEvent: (() => void) | undefined;
  private inBefore = false;
  /** Raw output (a serial console) left a line open: the next text line starts on a line of its own. */
  private rawLineOpen = false;

  constructor(io: CliIo, options: ReporterOptions) {
    this.io = io;
    this.json = options.json;
    this.clockMs = options.clockMs;
    this.virtual = options.virtualTime ?? false;
    this.textToStderr = options.textToStderr ?? false;
  }

  /** Switch the clock (a SoC's virtual clock once it exists). */
  useClock(clockMs: () => number, virtualTime: boolean): void {
    this.clockMs = clockMs;
    this.virtual = virtualTime;
  }

  get virtualTime(): boolean {
    return this.virtual;
  }

  /** Text lines go to stderr from now on (stdout carries a console channel's data). */
  textOnStderr(): void {
    this.textToStderr = true;
  }

  /** Milliseconds since the start on the events' clock. */
  now(): number {
    return this.clockMs();
  }

  /** The first event, at t = 0 whatever the clock: which command, which format. */
  start(command: string): void {
    if (!this.json) return;
    const e = { event: 'start', t: 0, schema: EVENT_SCHEMA_VERSION, command, version: packageVersion() };
    this.io.out(JSON.stringify(e) + '\n');
  }

  /** The last event: the exit status and why. */
  end(status: number, reason: string): void {
    this.say({ event: 'end', status, reason }, undefined);
  }

  /** Emit one event: a JSON line, or `text` formatted for people (nothing when text is undefined). */
  say(e: ReportEvent, text: string | undefined): void {
    if (this.beforeEvent !== undefined && !this.inBefore) {
      this.inBefore = true;
      try {
        this.beforeEvent();
      } finally {
        this.inBefore = false;
      }
    }
    const ms = this.clockMs();
    if (this.json) {
      const { event, ...fields } = e;
      this.io.out(JSON.stringify({ event, t: Math.round(ms * 1000) / 1000, ...fields }) + '\n');
      return;
    }
    if (text === undefined) return;
    if (this.rawLineOpen) {
      this.io.out('\n');
      this.rawLineOpen = false;
    }
    const t = paint(
      this.io,
      'dim',
      `${(ms / 1000).toFixed(this.virtualTime ? 6 : 3).padStart(this.virtualTime ? 10 : 7)}s`,
    );
    const who = e.core === undefined ? '' : `${paint(this.io, 'cyan', e.core)} `;
    this.text(`${t} ${who}${text}\n`);
  }

  /** Text as it is on stdout (a core's UART as a serial console), in text mode only. */
  raw(text: string): void {
    if (this.json || text === '') return;
    this.io.out(text);
    this.rawLineOpen = !text.endsWith('\n');
  }

  /** A heading in text mode; nothing in JSON mode. */
  heading(text: string): void {
    if (!this.json) this.text(`\n${paint(this.io, 'bold', text)}\n`);
  }

  private text(line: string): void {
    if (this.textToStderr) this.io.err(line);
    else this.io.out(line);
  }
}
