// A per-core watchdog: once the firmware arms it (a period in WDT_PERIOD_MS), it must bump
// WDT_KICKS at least once per period, or the watchdog bites and the platform reports
// RPROC_WATCHDOG. Checked from the host, so a core that hangs hard is caught too: by a timer on
// host time for a core in a worker, by the SoC scheduler on virtual time for a core in the host
// thread (it calls check() every tick and skips idle time no further than deadline()). While a
// debugger holds the core the watchdog is paused: it keeps the firmware's arming and starts a fresh
// period when the core runs again.

import { CORE_WORD, type CoreBlock } from './core-block.ts';

/** How often the host looks at the kick counter on host time. */
const IDLE_POLL_MS = 50;

export class Watchdog {
  private readonly block: CoreBlock;
  private readonly bite: (periodMs: number) => void;
  private timer: NodeJS.Timeout | undefined;
  private armed = false;
  private paused = false;
  private lastKicks = 0;
  private lastKickAt = 0;

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
    if (nowMs !== undefined) return;
    this.timer = setInterval(() => this.check(Date.now()), IDLE_POLL_MS);
    // The watchdog alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
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
    if (kicks !== this.lastKicks || period <= 0) {
      this.lastKicks = kicks;
      this.lastKickAt = nowMs;
      return;
    }
    if (nowMs - this.lastKickAt >= period) {
      this.stop();
      this.bite(period);
    }
  }

  /** When it bites unless kicked meanwhile (ms, on the clock check() is given); undefined: unarmed. */
  deadline(): number | undefined {
    if (!this.armed || this.paused) return undefined;
    const period = this.block.load(CORE_WORD.WDT_PERIOD_MS);
    return period > 0 ? this.lastKickAt + period : undefined;
  }
}
