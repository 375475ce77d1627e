// Chrome / Perfetto trace-event JSON (the Trace Event Format read by ui.perfetto.dev and
// chrome://tracing): typed events and a bounded recorder that keeps the newest `capacity` events in
// a ring, plus the process/thread name records that label the tracks. Only self-contained phases
// are recorded (complete slices, instants, counters, flow ends), so dropping the oldest events can
// never leave a slice open; a flow whose other end was dropped is left out when the file is written.

import { RprocError } from './errors.ts';

/** Track metadata: names of processes and threads (the only records Perfetto's JSON importer reads). */
export interface TraceMetadata {
  readonly ph: 'M';
  readonly name: 'process_name' | 'thread_name' | 'process_sort_index' | 'thread_sort_index';
  readonly pid: number;
  readonly tid?: number;
  readonly args: { readonly name?: string; readonly sort_index?: number };
}

interface Common {
  readonly name: string;
  /** Categories, comma-separated. */
  readonly cat: string;
  /** Microseconds (fractions allowed). */
  readonly ts: number;
  /** Non-zero: some importers treat 0 as "none". */
  readonly pid: number;
  readonly tid: number;
  readonly args?: Readonly<Record<string, unknown>>;
}

/** A slice with its duration (µs), complete when recorded. */
export interface CompleteEvent extends Common {
  readonly ph: 'X';
  readonly dur: number;
}

export interface InstantEvent extends Common {
  readonly ph: 'i';
  /** Thread, process or global scope. */
  readonly s: 't' | 'p' | 'g';
}

/** Each numeric arg becomes a series "<name> <key>". */
export interface CounterEvent extends Common {
  readonly ph: 'C';
  readonly args: Readonly<Record<string, number>>;
}

/**
 * A flow arrow's start ('s', bound to the slice open on its thread) or end ('f' with bp 'e', bound
 * to the enclosing slice). Both ends share cat, name and id: Perfetto keys a flow on all three.
 */
export interface FlowEvent extends Common {
  readonly ph: 's' | 'f';
  readonly id: number;
  readonly bp?: 'e';
}

export type TimedTraceEvent = CompleteEvent | InstantEvent | CounterEvent | FlowEvent;
export type TraceEvent = TimedTraceEvent | TraceMetadata;

/** The object form of a trace file. `displayTimeUnit` is left out: some Perfetto versions misread it. */
export interface TraceFile {
  readonly traceEvents: readonly TraceEvent[];
  readonly otherData: Readonly<Record<string, string | number | boolean>>;
}

const DEFAULT_TRACE_CAPACITY = 100_000;

/** The newest `capacity` timed events, plus every track's metadata (never dropped). */
export class TraceEventRing {
  readonly capacity: number;
  private readonly ring: (TimedTraceEvent | undefined)[];
  private head = 0;
  private count = 0;
  private droppedCount = 0;
  private readonly meta = new Map<string, TraceMetadata>();

  constructor(capacity = DEFAULT_TRACE_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RprocError(
        'EINVAL',
        'trace',
        `trace capacity ${String(capacity)} is not a positive number of events`,
      );
    }
    this.capacity = capacity;
    this.ring = new Array<TimedTraceEvent | undefined>(capacity);
  }

  /** Events recorded and later overwritten by newer ones. */
  get dropped(): number {
    return this.droppedCount;
  }

  get size(): number {
    return this.count;
  }

  push(event: TimedTraceEvent): void {
    this.ring[(this.head + this.count) % this.capacity] = event;
    if (this.count < this.capacity) this.count++;
    else {
      this.head = (this.head + 1) % this.capacity;
      this.droppedCount++;
    }
  }

  /** Name a process (tid undefined) or a thread track; the latest name wins. */
  name(pid: number, tid: number | undefined, name: string): void {
    const kind = tid === undefined ? 'process_name' : 'thread_name';
    this.meta.set(`${kind}/${pid}/${tid ?? ''}`, {
      ph: 'M',
      name: kind,
      pid,
      ...(tid === undefined ? {} : { tid }),
      args: { name },
    });
  }

  /** Order of a track among its siblings (Chrome reads it; Perfetto ignores it). */
  sortIndex(pid: number, tid: number | undefined, index: number): void {
    const kind = tid === undefined ? 'process_sort_index' : 'thread_sort_index';
    this.meta.set(`${kind}/${pid}/${tid ?? ''}`, {
      ph: 'M',
      name: kind,
      pid,
      ...(tid === undefined ? {} : { tid }),
      args: { sort_index: index },
    });
  }

  /** The kept events, oldest first. */
  events(): TimedTraceEvent[] {
    const out: TimedTraceEvent[] = [];
    for (let i = 0; i < this.count; i++) {
      const e = this.ring[(this.head + i) % this.capacity];
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /** The trace file: metadata, then the kept events with flows whose other end was dropped left out. */
  toFile(otherData: Readonly<Record<string, string | number | boolean>> = {}): TraceFile {
    const events = this.events();
    const ends = new Map<string, number>();
    for (const e of events) {
      if (e.ph === 's' || e.ph === 'f') {
        const key = flowKey(e);
        ends.set(key, (ends.get(key) ?? 0) | (e.ph === 's' ? 1 : 2));
      }
    }
    const kept = events.filter((e) => (e.ph !== 's' && e.ph !== 'f') || ends.get(flowKey(e)) === 3);
    return {
      traceEvents: [...this.meta.values(), ...kept],
      otherData: { ...otherData, droppedEvents: this.droppedCount, capacity: this.capacity },
    };
  }
}

function flowKey(e: FlowEvent): string {
  return `${e.cat}\u0000${e.name}\u0000${e.id}`;
}
