// A per-core watchdog: once the firmware arms it (a period in WDT_PERIOD_MS), it must bump
// WDT_KICKS at least once per period, or the watchdog bites and the platform reports
// RPROC_WATCHDOG. Checked from the host with a timer, so a core that hangs hard is caught too.

import { CORE_WORD, type CoreBlock } from './core-block.ts';

/** How often the host looks at the kick counter when no period is armed. */
const IDLE_POLL_MS = 50;

export class Watchdog {
  private readonly block: CoreBlock;
  private readonly bite: (periodMs: number) => void;
  private timer: NodeJS.Timeout | undefined;
  private lastKicks = 0;
  private lastKickAt = 0;

  constructor(block: CoreBlock, bite: (periodMs: number) => void) {
    this.block = block;
    this.bite = bite;
  }

  start(): void {
    this.stop();
    this.lastKicks = this.block.load(CORE_WORD.WDT_KICKS);
    this.lastKickAt = Date.now();
    this.timer = setInterval(() => this.check(), IDLE_POLL_MS);
    // The watchdog alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.block.store(CORE_WORD.WDT_PERIOD_MS, 0);
  }

  private check(): void {
    const period = this.block.load(CORE_WORD.WDT_PERIOD_MS);
    const kicks = this.block.load(CORE_WORD.WDT_KICKS);
    const now = Date.now();
    if (kicks !== this.lastKicks || period <= 0) {
      this.lastKicks = kicks;
      this.lastKickAt = now;
      return;
    }
    if (now - this.lastKickAt >= period) {
      this.stop();
      this.bite(period);
    }
  }
}
