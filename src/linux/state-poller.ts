// State changes of a processor whose kernel never announces them: remoteproc calls neither
// sysfs_notify() nor kobject_uevent() when `state` changes (remoteproc_core.c, remoteproc_sysfs.c),
// and kernfs poll() on a sysfs file reports "readable" at once and never POLLPRI without a
// sysfs_notify (fs/kernfs/file.c kernfs_generic_poll). So `state` is re-read while someone listens:
// right away, then 25 ms after any change or write of ours, the delay doubling while nothing
// changes up to 1 s (LinuxOptions.statePoll). Every read — the poller's or an operation's — is
// compared with the last, in the order the reads began, so a slow read never reports an old state.

import type { ProcessorState } from '../platform/remote-processors.ts';
import { PollLoop, type BackoffOptions } from './backoff.ts';

export class StatePoller {
  private readonly reader: () => Promise<ProcessorState | undefined>;
  private readonly onChange: (from: ProcessorState, to: ProcessorState) => void;
  private readonly loop: PollLoop;
  private last: ProcessorState | undefined;
  private lastSeq = 0;
  private seq = 0;
  /** The last error of a poll, kept for diagnostics (a poll that fails is retried later). */
  lastError: unknown;

  constructor(
    reader: () => Promise<ProcessorState | undefined>,
    options: BackoffOptions,
    onChange: (from: ProcessorState, to: ProcessorState) => void,
  ) {
    this.reader = reader;
    this.onChange = onChange;
    this.loop = new PollLoop(
      async () => {
        const changed = await this.read().then((r) => r.changed);
        // A processor that went away (rproc_del) has nothing more to report.
        if (this.last === 'deleted') this.loop.stop();
        return changed;
      },
      options,
      (e) => {
        this.lastError = e;
      },
    );
  }

  get active(): boolean {
    return this.loop.active;
  }

  start(): void {
    if (this.loop.active) return;
    this.last = undefined;
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.last = undefined;
  }

  /** After a write of ours: look again soon. */
  kick(): void {
    this.loop.kick();
  }

  /** Read the state now; when watching, a change since the last read is reported. */
  async read(): Promise<{ state: ProcessorState | undefined; changed: boolean }> {
    const seq = ++this.seq;
    const state = await this.reader();
    return { state, changed: this.observe(state, seq) };
  }

  private observe(state: ProcessorState | undefined, seq: number): boolean {
    // Unreadable contents (never on a real kernel; a fake tree between a write and its reaction)
    // and reads overtaken by a later one say nothing.
    if (state === undefined || seq < this.lastSeq || !this.loop.active) return false;
    this.lastSeq = seq;
    const from = this.last;
    this.last = state;
    if (from === undefined || from === state) return false;
    this.onChange(from, state);
    return true;
  }
}
