// Bounded polling for what the kernel offers no notification of: a delay that starts short after
// activity and doubles while nothing happens, up to a ceiling, and a loop that re-runs a check on
// that schedule (one timer, never a busy loop) until stopped. Used for sysfs `state` (remoteproc
// never calls sysfs_notify), new rpmsg devices and O_NONBLOCK device reads (linux-endpoint.ts).

export interface BackoffOptions {
  /** The delay right after activity, ms. */
  readonly minMs: number;
  /** The ceiling the delay doubles up to while nothing happens, ms. */
  readonly maxMs: number;
}

export class Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  private current: number;

  constructor(options: BackoffOptions) {
    if (!(options.minMs > 0) || !(options.maxMs >= options.minMs)) {
      throw new RangeError(`backoff needs 0 < minMs <= maxMs, not ${options.minMs}..${options.maxMs}`);
    }
    this.minMs = options.minMs;
    this.maxMs = options.maxMs;
    this.current = options.minMs;
  }

  /** Something happened: the next delay is the shortest again. */
  reset(): void {
    this.current = this.minMs;
  }

  /** The delay to wait now; the one after it is twice as long, up to maxMs. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(this.maxMs, this.current * 2);
    return delay;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `check` on the back-off schedule while started. `check` resolves true when it saw a change
 * (the schedule restarts from minMs). A failing check goes to `onError` and polling goes on, still
 * backing off; `check` (or `onError`) may call stop() to end the loop.
 */
export class PollLoop {
  private readonly backoff: Backoff;
  private readonly check: () => Promise<boolean>;
  private readonly onError: (error: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight = false;

  constructor(check: () => Promise<boolean>, options: BackoffOptions, onError: (error: unknown) => void) {
    this.check = check;
    this.backoff = new Backoff(options);
    this.onError = onError;
  }

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    // The first look is at once: it is the baseline later looks are compared with.
    this.timer = setTimeout(() => void this.run(), 0);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Activity we caused (a write): look again soon. */
  kick(): void {
    if (!this.running) return;
    this.backoff.reset();
    if (this.inFlight) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.run(), this.backoff.next());
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    this.inFlight = true;
    try {
      if (await this.check()) this.backoff.reset();
    } catch (e) {
      this.onError(e);
    } finally {
      this.inFlight = false;
    }
    // stop() or kick() may have run while the check was awaited.
    if (this.waiting()) this.schedule();
  }

  private waiting(): boolean {
    return this.running && this.timer === undefined;
  }
}
