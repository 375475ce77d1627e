// The lines a virtual SoC produces, as one ordered stream that expectations match against: each
// core's UART output cut into lines, new lines in its trace buffer (trace0), messages received on
// the rpmsg channels the harness listens to, and its state changes. Each line carries its core,
// source and time on the run's clock, and a sequence number; the newest lines are kept so that an
// expectation can look back to where the previous one matched, and a report can show a console tail.

import type { RprocEvents } from '../remoteproc/rproc.ts';
import type { VirtualSoc, SocEvents } from '../soc/virtual-soc.ts';
import type { RunClock } from './run-clock.ts';
import { Subscriptions } from './subscriptions.ts';

export type LineSource = 'uart' | 'trace' | 'channel' | 'state';

export interface Line {
  /** Position in the run's stream, from 1. */
  readonly seq: number;
  readonly core: string;
  readonly source: LineSource;
  /** The channel's name, for source 'channel'. */
  readonly channel?: string;
  readonly text: string;
  /** Milliseconds on the run's clock. */
  readonly at: number;
}

export interface SocLinesOptions {
  /** Newest lines kept for looking back and for reports; default 10 000. */
  readonly keep?: number;
  /** How often the trace buffers are read while someone waits: virtual or host ms; default 1 (virtual), 20 (host). */
  readonly tracePollMs?: number;
}

const DEFAULT_KEPT_LINES = 10_000;
const TRIM_BATCH = 1024;
/** Other lines read the trace buffers at most this often (ms on the run's clock); state changes always do. */
const TRACE_READ_EVERY_MS = 1;
/** A UART line longer than this is cut (a firmware printing without newlines must not grow it for ever). */
const MAX_LINE = 4096;

export class SocLines {
  private readonly soc: VirtualSoc;
  private readonly clock: RunClock;
  private readonly keep: number;
  private readonly pollMs: number;
  private readonly kept: Line[] = [];
  private seq = 0;
  private readonly listeners = new Set<(line: Line) => void>();
  private readonly uartPending = new Map<string, string>();
  private readonly traceSeen = new Map<string, string>();
  private readonly subs = new Subscriptions();
  private readonly watchers = new Set<AbortController>();
  private polling = false;
  private lastPoll = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(soc: VirtualSoc, clock: RunClock, options: SocLinesOptions = {}) {
    this.soc = soc;
    this.clock = clock;
    this.keep = options.keep ?? DEFAULT_KEPT_LINES;
    this.pollMs = options.tracePollMs ?? (clock.virtual ? 1 : 20);
    this.subs.on<SocEvents, 'uart'>(soc, 'uart', ({ core, text }) => this.uart(core, text));
    for (const c of soc.cores) {
      this.subs.on<RprocEvents, 'state'>(c.rproc, 'state', ({ to }) => {
        // What the firmware traced before it stopped is read while its memory is still there.
        this.pollTraces(true);
        // A new run of the firmware writes its trace buffer from the start again.
        if (to === 'running' || to === 'attached') this.traceSeen.delete(c.name);
        this.add(c.name, 'state', to);
      });
    }
  }

  /** The newest lines kept, oldest first. */
  get lines(): readonly Line[] {
    return this.kept;
  }

  /** The sequence number the next line will get. */
  get nextSeq(): number {
    return this.seq + 1;
  }

  /** Every line from now on; the returned function stops it. */
  subscribe(listener: (line: Line) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Lines kept from sequence `seq` on (all kept ones when older lines were already dropped). */
  since(seq: number): Line[] {
    const first = this.kept[0];
    if (first === undefined || seq <= first.seq) return [...this.kept];
    return this.kept.slice(seq - first.seq);
  }

  /** The last `n` kept lines that pass `filter`, oldest first. */
  tail(n: number, filter: (line: Line) => boolean = () => true): Line[] {
    const out: Line[] = [];
    for (let i = this.kept.length - 1; i >= 0 && out.length < n; i--) {
      const line = this.kept[i];
      if (line !== undefined && filter(line)) out.push(line);
    }
    return out.reverse();
  }

  /** A message received on a channel the harness listens to (one line per text line in it). */
  channelMessage(core: string, channel: string, data: Uint8Array): void {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    this.pollTraces(false);
    for (const line of body.split('\n')) this.add(core, 'channel', line.replace(/\r$/, ''), channel);
  }

  /**
   * Read every running core's trace buffer now: lines completed since the last read become lines.
   * Called before other lines (at most once a ms, so that the stream keeps the cores' order without
   * decoding the buffer for every message) and on a timer while someone waits (watch()).
   */
  pollTraces(force = true): void {
    if (this.closed || this.polling) return;
    const now = this.clock.now();
    if (!force && now - this.lastPoll < TRACE_READ_EVERY_MS) return;
    this.lastPoll = now;
    this.polling = true;
    try {
      for (const c of this.soc.cores) {
        const state = c.rproc.state;
        if (state !== 'running' && state !== 'attached' && state !== 'crashed') continue;
        const text = c.rproc.resources.readTrace(0);
        if (text === undefined) continue;
        const before = this.traceSeen.get(c.name) ?? '';
        if (text === before) continue;
        // The buffer starts over when full: then everything in it is new.
        const fresh = text.startsWith(before) ? text.slice(before.length) : text;
        const end = fresh.lastIndexOf('\n');
        if (end < 0) continue;
        this.traceSeen.set(c.name, text.slice(0, text.length - fresh.length + end + 1));
        for (const line of fresh.slice(0, end).split('\n'))
          this.add(c.name, 'trace', line.replace(/\r$/, ''));
      }
    } finally {
      this.polling = false;
    }
  }

  /** Read the trace buffers every tracePollMs until `signal` aborts (several watchers share one poller). */
  watch(signal: AbortSignal): void {
    if (signal.aborted || this.closed) return;
    const controller = new AbortController();
    signal.addEventListener('abort', () => controller.abort(), { once: true });
    this.watchers.add(controller);
    controller.signal.addEventListener('abort', () => this.watchers.delete(controller), { once: true });
    void this.pollLoop(controller.signal);
  }

  /** The UART text not yet ended by a newline, per core. */
  pendingUart(core: string): string {
    return this.uartPending.get(core) ?? '';
  }

  close(): void {
    if (this.closed) return;
    this.pollTraces();
    this.closed = true;
    for (const w of [...this.watchers]) w.abort();
    this.subs.dispose();
    this.listeners.clear();
  }

  private async pollLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.closed) {
      this.pollTraces();
      await this.clock.sleep(this.pollMs, signal);
    }
  }

  private uart(core: string, text: string): void {
    this.pollTraces(false);
    let pending = (this.uartPending.get(core) ?? '') + text;
    for (;;) {
      const nl = pending.indexOf('\n');
      if (nl < 0) break;
      this.add(core, 'uart', pending.slice(0, nl).replace(/\r$/, ''));
      pending = pending.slice(nl + 1);
    }
    while (pending.length > MAX_LINE) {
      this.add(core, 'uart', pending.slice(0, MAX_LINE));
      pending = pending.slice(MAX_LINE);
    }
    this.uartPending.set(core, pending);
  }

  private add(core: string, source: LineSource, text: string, channel?: string): void {
    if (this.closed) return;
    const line: Line = {
      seq: ++this.seq,
      core,
      source,
      ...(channel === undefined ? {} : { channel }),
      text,
      at: this.clock.now(),
    };
    this.kept.push(line);
    // Trimmed in batches: one shift per line would cost the whole history each time.
    if (this.kept.length >= this.keep + TRIM_BATCH) this.kept.splice(0, this.kept.length - this.keep);
    for (const l of [...this.listeners]) l(line);
  }
}
