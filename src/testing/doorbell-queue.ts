// The event queue of an in-thread test board: doorbells, interrupts and core starts run one at a
// time, in the order they were raised, from setImmediate (or on demand), never re-entered; idle()
// lets promises and stream callbacks settle in between. Stands in for the asynchrony of a real
// mailbox in the in-thread boards (loopback.ts here, test/support/console-rig.ts).

export class DoorbellQueue<T> {
  private readonly tasks: T[] = [];
  private readonly runTask: (task: T) => void;
  private readonly auto: boolean;
  private scheduled: NodeJS.Immediate | undefined;
  private draining = false;

  /** `auto`: run the queue from setImmediate whenever something is queued (else only on drain()). */
  constructor(run: (task: T) => void, auto = true) {
    this.runTask = run;
    this.auto = auto;
  }

  get length(): number {
    return this.tasks.length;
  }

  enqueue(task: T): void {
    this.tasks.push(task);
    if (this.auto && this.scheduled === undefined) {
      this.scheduled = setImmediate(() => {
        this.scheduled = undefined;
        this.drain();
      });
    }
  }

  /** Run queued tasks now until the queue is empty, or `limit` ran; returns how many ran. */
  drain(limit = Infinity): number {
    // A task that raises another (a kick answered by an interrupt) queues it: it runs in this loop.
    if (this.draining) return 0;
    this.draining = true;
    let n = 0;
    try {
      while (n < limit) {
        const task = this.tasks.shift();
        if (task === undefined) break;
        n++;
        this.runTask(task);
      }
    } finally {
      this.draining = false;
    }
    return n;
  }

  /** Run the queue and let promises and immediates settle until nothing is left to do. */
  async idle(maxRounds = 10_000): Promise<void> {
    let quiet = 0;
    for (let round = 0; round < maxRounds && quiet < 3; round++) {
      const ran = this.drain();
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = ran === 0 && this.tasks.length === 0 ? quiet + 1 : 0;
    }
  }

  /** Drop the queued tasks that match (a stopped core's doorbells). */
  remove(match: (task: T) => boolean): void {
    for (let i = this.tasks.length - 1; i >= 0; i--) {
      const t = this.tasks[i];
      if (t !== undefined && match(t)) this.tasks.splice(i, 1);
    }
  }

  /** Forget everything queued, and the pending setImmediate. */
  clear(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.tasks.length = 0;
  }
}
