// How a core thread's loop shares its thread with the event loop: after a step that did work, a
// microtask turn (the firmware's promise continuations run), and a full event-loop turn
// (setImmediate: Node's own tasks, a program's foreign callbacks) every BUSY_TURNS busy steps; when
// idle, a full turn before sleeping if the last one is MACROTASK_MS old — not after every message,
// which would put a macrotask's delay between an answer and the next doorbell. Used by a lone js core's worker
// (JsCoreRuntime.run) and by a core group's thread (group/group-loop.ts).

/** Busy steps between two full event-loop turns. */
const BUSY_TURNS = 64;

/** An idle loop takes a full event-loop turn before it sleeps when the last one is this old. */
const MACROTASK_MS = 1;

const SETTLED: Promise<void> = Promise.resolve();

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class TurnPacer {
  private busy = 0;
  private lastTurn = performance.now();

  /**
   * A step did work: yield a microtask turn, or a full one every BUSY_TURNS steps. Not async: on
   * the per-message path, awaiting an already settled promise costs the one microtask wanted.
   */
  afterWork(): Promise<void> {
    return ++this.busy % BUSY_TURNS === 0 ? this.fullTurn() : SETTLED;
  }

  /**
   * A step found nothing: the full turn to take before sleeping, or undefined when the last one is
   * recent enough to sleep at once.
   */
  beforeSleep(): Promise<void> | undefined {
    this.busy = 0;
    return performance.now() - this.lastTurn >= MACROTASK_MS ? this.fullTurn() : undefined;
  }

  /** A full event-loop turn, taken now. */
  async fullTurn(): Promise<void> {
    await nextTurn();
    this.lastTurn = performance.now();
  }

  /** The loop yielded to the event loop some other way (a nap): that counts as a full turn. */
  turned(): void {
    this.lastTurn = performance.now();
  }
}
