// A per-core watchdog: once the firmware arms it (a period in WDT_PERIOD_MS), it must bump
// WDT_KICKS at least once per period, or the watchdog bites and the platform reports
// RPROC_WATCHDOG. Checked from the host, so a core that hangs hard is caught too: by a timer on
// host time for a core in a worker, by the SoC scheduler on virtual time for a core in the host
// thread (it calls check() every tick and skips idle time no further than deadline()). While a
// debugger holds the core the watchdog is paused: it keeps the firmware's arming and starts a fresh
// period when the core runs again.

import { CORE_WORD, type CoreBlock } from './core-block.ts';

/**
 * How often the host looks at the kick counter on host time: while the firmware has armed the
 * watchdog, and while it has not (most firmware never does, and an idle board's host thread then
 * woke for nothing, a timer per core). The first period counts from the check that sees it set,
 * so a firmware's first period may end up to DISARMED_POLL_MS late, never early.
 */
const ARMED_POLL_MS = 50;
const DISARMED_POLL_MS = 250;

export class Watchdog {
  private readonly block: CoreBlock;
  private readonly bite: (periodMs: number) => void;
  private timer: NodeJS.Timeout | undefined;
  private armed = false;
  private paused = false;
  private lastKicks = 0;
  private lastKickAt = 0;
  /** A period set by the firmware was seen at the last check (its period counts from then). */
  private firmwareArmed = false;

  constructor(block: CoreBlock, bite: (periodMs: number) => void) {
    this.block = block;
    this.bite = bite;
  }

  /**
   * Start watching at time `nowMs`; with no clock given, on host time with a timer of its own.
   * Either way the firmware still has to arm it.
   */
  start(nowMs?: number): void {
    this.stop();
    this.armed = true;
    this.paused = false;
    this.lastKicks = this.block.load(CORE_WORD.WDT_KICKS);
    this.lastKickAt = nowMs ?? Date.now();
    this.firmwareArmed = false;
    if (nowMs === undefined) this.poll();
  }

  /** The next look on host time, sooner while the firmware has armed the watchdog. */
  private poll(): void {
    this.timer = setTimeout(
      () => {
        this.check(Date.now());
        if (this.armed) this.poll();
      },
      this.firmwareArmed ? ARMED_POLL_MS : DISARMED_POLL_MS,
    );
    // The watchdog alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armed = false;
    this.block.store(CORE_WORD.WDT_PERIOD_MS, 0);
  }

  /** A debugger holds the core: no bite until resume(). */
  pause(): void {
    this.paused = true;
  }

  /** The core runs again at `nowMs` (host time by default): a whole period from now before a bite. */
  resume(nowMs?: number): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastKicks = this.block.load(CORE_WORD.WDT_KICKS);
    this.lastKickAt = nowMs ?? Date.now();
  }

  /** Look at the kick counter at time `nowMs`; bites (once) when a whole period passed without a kick. */
  check(nowMs: number): void {
    if (!this.armed || this.paused) return;
    // Written by the firmware: any value is safe, a period ≤ 0 means disabled.
    const period = this.block.load(CORE_WORD.WDT_PERIOD_MS);
    const kicks = this.block.load(CORE_WORD.WDT_KICKS);
    // A period first seen now counts from now: the firmware set it since the last check, and
    // counting from that check would bite up to a poll interval before a whole period passed.
    if (kicks !== this.lastKicks || period <= 0 || !this.firmwareArmed) {
      this.lastKicks = kicks;
      this.lastKickAt = nowMs;
      this.firmwareArmed = period > 0;
      return;
    }
    if (nowMs - this.lastKickAt >= period) {
      this.stop();
      this.bite(period);
    }
  }

  /**
   * When it bites unless kicked meanwhile (ms, on the clock check() is given); undefined: unarmed.
   * A period the firmware set since the last check asks for a check now (its period starts there).
   */
  deadline(): number | undefined {
    if (!this.armed || this.paused) return undefined;
    const period = this.block.load(CORE_WORD.WDT_PERIOD_MS);
    if (period <= 0) return undefined;
    return this.firmwareArmed ? this.lastKickAt + period : this.lastKickAt;
  }
}
