// Interrupt moderation for one core's doorbell: a core that keeps ringing with nothing for the host
// to do (every queue it names already empty, or ids no queue has) is a storm. After STORM_SPURIOUS
// such rings in a row the host stops polling it and takes its doorbell at most once per backoff
// (1 ms, doubling to 16 ms while the storm lasts); its rings wait meanwhile in the pending mask, so
// nothing is lost, and one ring with work ends the backoff. Linux's spurious-IRQ detector
// (kernel/irq/spurious.c, "nobody cared") disables such a line; a doorbell shared by real queues
// cannot be disabled, so here it is slowed instead.

/** Spurious rings in a row before the backoff starts. */
const STORM_SPURIOUS = 16;
const STORM_BACKOFF_MIN_MS = 1;
const STORM_BACKOFF_MAX_MS = 16;

export class DoorbellModeration {
  /** Rings in a row that had nothing to do. */
  private spurious = 0;
  private backoffMs = 0;
  /** performance.now() before which this core's doorbell is not taken. */
  private quietUntil = 0;
  /** Backoffs taken (storms seen), for diagnostics. */
  backoffs = 0;

  /** Whether the doorbell may be taken now (false during a backoff). */
  open(now: number): boolean {
    return now >= this.quietUntil;
  }

  /** Milliseconds of the current backoff left (0: none). */
  remaining(now: number): number {
    return Math.max(0, this.quietUntil - now);
  }

  /**
   * A ring was handled: with work (`handled`) or without. Returns how long the host should now
   * leave this core's doorbell alone, ms (0: carry on as usual).
   */
  note(handled: boolean, now: number): number {
    if (handled) {
      this.spurious = 0;
      this.backoffMs = 0;
      return 0;
    }
    if (++this.spurious < STORM_SPURIOUS) return 0;
    this.backoffMs = Math.min(
      STORM_BACKOFF_MAX_MS,
      this.backoffMs === 0 ? STORM_BACKOFF_MIN_MS : this.backoffMs * 2,
    );
    this.quietUntil = now + this.backoffMs;
    this.backoffs++;
    return this.backoffMs;
  }
}
