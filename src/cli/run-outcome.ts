// What decides the exit status of `rproc run` (docs/cli.md "Exit status"): crashes (3 unless
// --allow-crash), crash loops (4: a core that crashes again right after each recovery
// --crash-loop times in a row is stopped), a firmware's own end through the test finisher (QEMU
// virt's code), an operation that failed (1). Also tells when every core the run booted has ended.

import type { VirtualSoc } from '../soc/virtual-soc.ts';
import type { FirmwareExitCause } from '../soc/firmware-exit.ts';
import { EXIT } from './command.ts';
import type { CliClock } from './clock.ts';
import type { Reporter } from './reporter.ts';

/** A crash that comes within this long (on the run's clock) of the core's last recovery counts as "right after" it. */
const CRASH_LOOP_WINDOW_MS = 5000;

/**
 * The exit status for a firmware's end: PASS and RESET are 0; FAIL gives its code as QEMU does,
 * except that a code whose low 8 bits are 0 (the status a shell sees) becomes 1, so that a failure
 * never reads as success.
 */
function firmwareExitStatus(code: number, cause: FirmwareExitCause): number {
  if (cause !== 'fail') return EXIT.OK;
  return (code & 0xff) === 0 ? 1 : code & 0xff;
}

interface CoreRecord {
  crashes: number;
  /** Crashes in a row that each came right after a recovery. */
  streak: number;
  lastRecoveryMs: number | undefined;
  loopStopped: boolean;
  ended: boolean;
}

export class RunOutcome {
  private readonly cores = new Map<string, CoreRecord>();
  private readonly exits: { core: string; code: number; cause: FirmwareExitCause; reason: string }[] = [];
  private failure: string | undefined;
  private readonly allowCrash: boolean;
  private readonly crashLoop: number;
  /** Called whenever a core ends (firmware exit, crash loop stopped, recovery failed). */
  onEnded: () => void = () => undefined;
  /** Shutdowns of crash-looping cores under way (the run waits for them before it ends). */
  readonly pending: Promise<void>[] = [];

  constructor(
    soc: VirtualSoc,
    clock: CliClock,
    reporter: Reporter,
    options: { readonly allowCrash: boolean; readonly crashLoop: number },
  ) {
    this.allowCrash = options.allowCrash;
    this.crashLoop = options.crashLoop;
    for (const c of soc.cores) {
      const rec: CoreRecord = {
        crashes: 0,
        streak: 0,
        lastRecoveryMs: undefined,
        loopStopped: false,
        ended: false,
      };
      this.cores.set(c.name, rec);
      const rproc = c.rproc;
      rproc.on('crash', () => {
        rec.crashes++;
        const now = clock.nowMs();
        const rightAfter =
          rec.lastRecoveryMs !== undefined && now - rec.lastRecoveryMs <= CRASH_LOOP_WINDOW_MS;
        rec.streak = rightAfter ? rec.streak + 1 : 0;
        if (rec.streak < this.crashLoop || rec.loopStopped) return;
        // Handled synchronously inside the crash handling, before recovery would start.
        rproc.crash.recoveryDisabled = true;
        rec.loopStopped = true;
        reporter.say(
          { event: 'crash-loop', core: c.name, count: rec.streak, windowMs: CRASH_LOOP_WINDOW_MS },
          `crashed again right after recovery ${rec.streak} times in a row: stopping it (--crash-loop ${this.crashLoop})`,
        );
        this.pending.push(
          (async () => {
            // The crash handling holds the processor's lock until the crash is recorded.
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (rproc.state === 'crashed') await rproc.shutdown();
            this.end(rec);
          })().catch((e: unknown) => {
            this.fail(
              `stopping ${c.name} after its crash loop failed: ${e instanceof Error ? e.message : String(e)}`,
            );
            this.end(rec);
          }),
        );
      });
      rproc.on('recovery', ({ phase }) => {
        if (phase === 'done') rec.lastRecoveryMs = clock.nowMs();
        if (phase === 'failed') this.end(rec);
      });
    }
    soc.on('exit', (e) => {
      this.exits.push(e);
      const rec = this.cores.get(e.core);
      if (rec === undefined) return;
      // The SoC shuts the processor down (firmware-exit.ts); it has ended once that is done.
      const rproc = soc.rproc(e.core);
      if (rproc.state === 'offline') this.end(rec);
      else void rproc.next('state', (s) => s.to === 'offline').then(() => this.end(rec));
    });
  }

  private end(rec: CoreRecord): void {
    if (rec.ended) return;
    rec.ended = true;
    this.onEnded();
  }

  /** Whether every core in `names` has ended by itself. */
  allEnded(names: readonly string[]): boolean {
    return names.length > 0 && names.every((n) => this.cores.get(n)?.ended === true);
  }

  /** An operation of the run failed (message already reported). */
  fail(message: string): void {
    this.failure ??= message;
  }

  /** The checks' own verdict (run-checks.ts: 6 a --fail-on line, 5 an unmet --expect). */
  checked: { status: number; reason: string } | undefined;

  /**
   * The exit status and a one-line reason, by precedence: crash loop, crash, the checks' verdict
   * (fail-on, unmet expectation), firmware failure, failure.
   */
  status(): { status: number; reason: string } {
    const loops = [...this.cores].filter(([, r]) => r.loopStopped).map(([n]) => n);
    if (loops.length > 0)
      return {
        status: EXIT.CRASH_LOOP,
        reason: `${loops.join(', ')} stopped after crashing again right after recovery ${this.crashLoop} times in a row`,
      };
    const crashed = [...this.cores].filter(([, r]) => r.crashes > 0);
    if (crashed.length > 0 && !this.allowCrash)
      return {
        status: EXIT.CRASHED,
        reason: `${crashed.map(([n, r]) => `${n} crashed ${r.crashes === 1 ? 'once' : `${r.crashes} times`}`).join(', ')} (--allow-crash if that is expected)`,
      };
    if (this.checked !== undefined) return this.checked;
    const failedExit = this.exits.find((e) => firmwareExitStatus(e.code, e.cause) !== EXIT.OK);
    if (failedExit !== undefined)
      return {
        status: firmwareExitStatus(failedExit.code, failedExit.cause),
        reason: `${failedExit.core}: ${failedExit.reason}`,
      };
    if (this.failure !== undefined) return { status: EXIT.FAILED, reason: this.failure };
    const ended = this.exits[0];
    return { status: EXIT.OK, reason: ended === undefined ? 'done' : `${ended.core}: ${ended.reason}` };
  }
}
