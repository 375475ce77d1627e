// The clock a verb waits on: host time, or the SoC's virtual time in deterministic mode (where a
// wait of 2 s is two virtual seconds, skipped through when the cores are idle). Every wait can be
// cut short by an AbortSignal (a signal, the end of the run), and leaves no timer behind.

import { setTimeout as sleepHost } from 'node:timers/promises';
import type { SocScheduler } from '../soc/scheduler/soc-scheduler.ts';

export interface CliClock {
  /** Milliseconds since the command started on this clock. */
  readonly nowMs: () => number;
  readonly virtual: boolean;
  /** Resolves true after `ms` on this clock, or false as soon as `abort` fires. */
  sleep(ms: number, abort: AbortSignal): Promise<boolean>;
}

/** Resolves when `signal` aborts (at once if it has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export function hostClock(startedAt: number): CliClock {
  return {
    virtual: false,
    nowMs: () => performance.now() - startedAt,
    async sleep(ms, abort) {
      try {
        await sleepHost(ms, undefined, { signal: abort });
        return true;
      } catch {
        return false;
      }
    },
  };
}

export function virtualClock(scheduler: SocScheduler): CliClock {
  return {
    virtual: true,
    nowMs: () => scheduler.now / 1e6,
    async sleep(ms, abort) {
      if (abort.aborted) return false;
      // The scheduler's timer cannot be taken back; it goes with the scheduler when the SoC closes.
      const done = scheduler.delay(ms).then(
        () => true,
        () => false,
      );
      return Promise.race([done, whenAborted(abort).then(() => false)]);
    },
  };
}
