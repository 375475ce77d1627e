// An adaptive polling budget: how long a waiter spins on shared memory before it sleeps (futex,
// Atomics.wait / waitAsync), learnt from whether spinning caught the event. Used by a core's WFI
// and the host's doorbell listener.

/**
 * How long a waiter polls before it sleeps, adapted to what polling achieves: a poll that sees the
 * event arrive costs a few loads where a sleep/wake costs a futex round trip, but a poll that
 * times out only burned the CPU — and when the threads outnumber the CPUs (a host and up to 16
 * cores, other processes) it also kept the peer that would answer from running. So: a poll that
 * catches the event restores the full budget, one that times out halves it; below min the waiter
 * just sleeps, and tries a full-budget poll again after a backoff of sleeps that doubles with every
 * failed try (up to MAX_BACKOFF). A busy machine thus settles on sleeping, an idle one on polling,
 * and each re-checks now and then (a failed try costs one budget per backoff).
 */
export class SpinBudget {
  /** Current budget in µs (0: sleep at once). */
  current: number;
  private readonly min: number;
  private readonly max: number;
  private backoff = 1;
  private sleepsToProbe = 0;
  static readonly MAX_BACKOFF = 256;

  constructor(min: number, max: number) {
    this.min = min;
    this.max = max;
    this.current = max;
  }

  /** Polling caught the event. */
  hit(): void {
    this.current = this.max;
    this.backoff = 1;
  }

  /** Polling timed out (the waiter sleeps now). */
  miss(): void {
    const half = this.current / 2;
    if (half >= this.min) {
      this.current = half;
      return;
    }
    this.current = 0;
    this.sleepsToProbe = this.backoff;
    this.backoff = Math.min(SpinBudget.MAX_BACKOFF, this.backoff * 2);
  }

  /** The waiter slept without polling: count towards the next try. */
  slept(): void {
    if (this.current === 0 && --this.sleepsToProbe <= 0) this.current = this.max;
  }
}
