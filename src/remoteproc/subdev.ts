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

/**
 * Run `step` on each subdevice in order; when one fails, run `undo` on those already done, last
 * first (their own failures are reported, not thrown), and rethrow the original failure.
 */
async function forwardWithUnwind(
  list: readonly RprocSubdev[],
  step: (sd: RprocSubdev) => OpResult,
  undo: (sd: RprocSubdev) => OpResult,
  undoName: string,
  onUnwindError: UnwindErrorSink,
): Promise<void> {
  for (let i = 0; i < list.length; i++) {
    const sd = list[i];
    if (sd === undefined) continue;
    try {
      await step(sd);
    } catch (e) {
      for (let j = i - 1; j >= 0; j--) {
        const done = list[j];
        if (done === undefined) continue;
        try {
          await undo(done);
        } catch (u) {
          onUnwindError(done, undoName, u);
        }
      }
      throw e;
    }
  }
}

export function prepareSubdevs(list: readonly RprocSubdev[], onUnwindError: UnwindErrorSink): Promise<void> {
  return forwardWithUnwind(
    list,
    (sd) => sd.prepare?.(),
    (sd) => sd.unprepare?.(),
    'unprepare',
    onUnwindError,
  );
}

/** A failed start stops the ones already started with crashed = true, as Linux does. */
export function startSubdevs(list: readonly RprocSubdev[], onUnwindError: UnwindErrorSink): Promise<void> {
  return forwardWithUnwind(
    list,
    (sd) => sd.start?.(),
    (sd) => sd.stop?.(true),
    'stop',
    onUnwindError,
  );
}

/** Run `step` on every subdevice, last first; failures are reported and the walk goes on. */
async function backwardAll(
  list: readonly RprocSubdev[],
  step: (sd: RprocSubdev) => OpResult,
  name: string,
  onError: UnwindErrorSink,
): Promise<void> {
  for (let i = list.length - 1; i >= 0; i--) {
    const sd = list[i];
    if (sd === undefined) continue;
    try {
      await step(sd);
    } catch (e) {
      onError(sd, name, e);
    }
  }
}

/** Stop every subdevice, last first. Errors are reported and the walk goes on: all must stop. */
export function stopSubdevs(
  list: readonly RprocSubdev[],
  crashed: boolean,
  onError: UnwindErrorSink,
): Promise<void> {
  return backwardAll(list, (sd) => sd.stop?.(crashed), 'stop', onError);
}

export function unprepareSubdevs(list: readonly RprocSubdev[], onError: UnwindErrorSink): Promise<void> {
  return backwardAll(list, (sd) => sd.unprepare?.(), 'unprepare', onError);
}
