// A processor's crash part (rproc.crash): how many crashes it has handled, whether recovery is
// disabled, and the trigger user space pulls to recover a crashed processor. Crashes themselves are
// reported with rproc.reportCrash (rproc_report_crash); the handling and the recovery steps are the
// life cycle's (rproc.ts). Mirrors rproc->crash_cnt, rproc->recovery_disabled and
// rproc_trigger_recovery in remoteproc_core.c.

export class RprocCrashControl {
  /** rproc->recovery_disabled: a crashed processor stays crashed until recover() or shutdown(). */
  recoveryDisabled = false;
  private countValue = 0;
  private readonly trigger: () => Promise<void>;

  /** `trigger`: the life cycle's recovery (a no-op unless crashed). */
  constructor(trigger: () => Promise<void>) {
    this.trigger = trigger;
  }

  /** Crashes handled so far (rproc->crash_cnt): reports that collapse into a pending one do not count. */
  get count(): number {
    return this.countValue;
  }

  /** rproc_trigger_recovery: recover now if the processor is crashed, else nothing. */
  recover(): Promise<void> {
    return this.trigger();
  }

  /** @internal the life cycle handled one more crash; returns the new count */
  counted(): number {
    return ++this.countValue;
  }
}
