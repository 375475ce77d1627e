// Rate limits for diagnostics a remote can trigger at will: at most `burst` messages per `intervalMs`
// for each key, and when a new interval lets messages through again, how many were held back in
// the last one ("N suppressed"). Mirrors lib/ratelimit.c (___ratelimit with its "callbacks
// suppressed" report), keyed so that one noisy source cannot silence another.

/** Linux's DEFAULT_RATELIMIT_BURST and DEFAULT_RATELIMIT_INTERVAL (5 s). */
const RATELIMIT_BURST = 10;
const RATELIMIT_INTERVAL_MS = 5000;

/** Keys kept at most: a remote that makes up new keys cannot grow the table without bound. */
const MAX_KEYS = 256;

interface KeyState {
  begin: number;
  printed: number;
  missed: number;
}

export interface RateLimitOptions {
  readonly burst?: number;
  readonly intervalMs?: number;
  /** The clock, ms (virtual time in deterministic runs, so that their output repeats). */
  readonly now?: () => number;
}

export class RateLimiter {
  readonly burst: number;
  readonly intervalMs: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyState>();
  /** Messages held back, over all keys and all time. */
  suppressed = 0;

  constructor(options: RateLimitOptions = {}) {
    this.burst = options.burst ?? RATELIMIT_BURST;
    this.intervalMs = options.intervalMs ?? RATELIMIT_INTERVAL_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Whether a message under `key` may go out now. Returns false (and counts it) when the key has
   * used its burst in the current interval; otherwise true, or, for the first message of a new
   * interval after suppressing some, the number suppressed (so the caller can say so).
   */
  allow(key: string): boolean | number {
    const t = this.now();
    let s = this.keys.get(key);
    if (s === undefined) {
      if (this.keys.size >= MAX_KEYS) {
        // The oldest key goes: it is the least likely to be in a burst now.
        const oldest = this.keys.keys().next().value;
        if (oldest !== undefined) this.keys.delete(oldest);
      }
      s = { begin: t, printed: 0, missed: 0 };
      this.keys.set(key, s);
    }
    let missed = 0;
    if (t - s.begin >= this.intervalMs) {
      missed = s.missed;
      s.begin = t;
      s.printed = 0;
      s.missed = 0;
    }
    if (s.printed >= this.burst) {
      s.missed++;
      this.suppressed++;
      return false;
    }
    s.printed++;
    return missed > 0 ? missed : true;
  }
}

/** `message`, with "(N similar messages suppressed)" appended when allow() returned a count. */
export function withSuppressed(message: string, allowed: boolean | number): string {
  return typeof allowed === 'number' ? `${message} (${allowed} similar messages suppressed)` : message;
}
