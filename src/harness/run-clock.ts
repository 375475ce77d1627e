// The clock a harness run measures its timeouts and waits on: the SoC scheduler's virtual clock in
// deterministic mode (so that a slow or loaded CI machine never changes the outcome: a 2 s timeout
// is 2 s of the cores' time), host time when the cores run in worker threads.

import type { VirtualSoc } from '../soc/virtual-soc.ts';

export interface RunClock {
  /** True when this is the SoC's virtual clock. */
  readonly virtual: boolean;
  /** Milliseconds since the run began. */
  now(): number;
  /**
   * Resolves `ms` from now. Host sleeps end early (resolving) when `signal` aborts, so that nothing
   * is left pending; a virtual sleep simply never fires once the SoC is closed.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The clock of `soc`: its scheduler's when it has one, else host time from now. */
export function socClock(soc: VirtualSoc): RunClock {
  const scheduler = soc.scheduler;
  if (scheduler !== undefined) {
    const t0 = scheduler.now;
    return {
      virtual: true,
      now: () => (scheduler.now - t0) / 1e6,
      // Rejected only once the scheduler is closed: the run is over either way.
      sleep: (ms, signal) => scheduler.delay(ms, signal).catch(() => undefined),
    };
  }
  return hostClock();
}

export function hostClock(): RunClock {
  const t0 = performance.now();
  return {
    virtual: false,
    now: () => performance.now() - t0,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted === true) {
          resolve();
          return;
        }
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}
