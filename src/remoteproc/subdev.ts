// Subdevices: things that live and die with the remote processor (virtio devices, platform glue).
// prepare and start walk the list forward; stop and unprepare walk it backward; a failure part
// way unwinds exactly the ones already done. Mirrors rproc_{prepare,start,stop,unprepare}_subdevices
// in drivers/remoteproc/remoteproc_core.c.

type OpResult = void | Promise<void>;

export interface RprocSubdev {
  /** For logs and test traces. */
  readonly name: string;
  /** Before the processor is started or attached. */
  prepare?(): OpResult;
  /** After the processor runs (virtio devices register here). */
  start?(): OpResult;
  /** Before the processor is stopped; `crashed` when it died or a start is being unwound. */
  stop?(crashed: boolean): OpResult;
  /** After the processor is stopped. */
  unprepare?(): OpResult;
}

/** Swallow an error raised while unwinding: the original failure is the one to report. */
export type UnwindErrorSink = (subdev: RprocSubdev, step: string, error: unknown) => void;

export async function prepareSubdevs(
  list: readonly RprocSubdev[],
  onUnwindError: UnwindErrorSink,
): Promise<void> {
  for (let i = 0; i < list.length; i++) {
    const sd = list[i];
    if (sd === undefined) continue;
    try {
      await sd.prepare?.();
    } catch (e) {
      for (let j = i - 1; j >= 0; j--) {
        const done = list[j];
        if (done === undefined) continue;
        try {
          await done.unprepare?.();
        } catch (u) {
          onUnwindError(done, 'unprepare', u);
        }
      }
      throw e;
    }
  }
}

export async function startSubdevs(
  list: readonly RprocSubdev[],
  onUnwindError: UnwindErrorSink,
): Promise<void> {
  for (let i = 0; i < list.length; i++) {
    const sd = list[i];
    if (sd === undefined) continue;
    try {
      await sd.start?.();
    } catch (e) {
      for (let j = i - 1; j >= 0; j--) {
        const done = list[j];
        if (done === undefined) continue;
        try {
          await done.stop?.(true);
        } catch (u) {
          onUnwindError(done, 'stop', u);
        }
      }
      throw e;
    }
  }
}

/** Stop every subdevice, last first. Errors are reported and the walk goes on: all must stop. */
export async function stopSubdevs(
  list: readonly RprocSubdev[],
  crashed: boolean,
  onError: UnwindErrorSink,
): Promise<void> {
  for (let i = list.length - 1; i >= 0; i--) {
    const sd = list[i];
    if (sd === undefined) continue;
    try {
      await sd.stop?.(crashed);
    } catch (e) {
      onError(sd, 'stop', e);
    }
  }
}

export async function unprepareSubdevs(
  list: readonly RprocSubdev[],
  onError: UnwindErrorSink,
): Promise<void> {
  for (let i = list.length - 1; i >= 0; i--) {
    const sd = list[i];
    if (sd === undefined) continue;
    try {
      await sd.unprepare?.();
    } catch (e) {
      onError(sd, 'unprepare', e);
    }
  }
}
