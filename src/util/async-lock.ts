// A FIFO mutex for async code: the per-rproc lock that serialises boot, shutdown, detach,
// recovery and setFirmware, so that concurrent callers see the same orderings Linux's mutex gives.

export class AsyncLock {
  private tail: Promise<void> = Promise.resolve();
  private held = false;

  get locked(): boolean {
    return this.held;
  }

  /** Run `fn` once every earlier holder has finished; a failure in one holder does not block the next. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      this.held = true;
      try {
        return await fn();
      } finally {
        this.held = false;
      }
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
