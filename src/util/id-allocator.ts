// Lowest-free integer ids, as the kernel's IDA hands them out: used for rproc indices
// (remoteproc<N>) and for the rproc-wide vring notify ids (0, 1 for the first vdev, 2, 3 ...).

export class IdAllocator {
  private readonly used = new Set<number>();
  private readonly limit: number;

  constructor(limit = Number.MAX_SAFE_INTEGER) {
    this.limit = limit;
  }

  /** The lowest id ≥ 0 not in use, or undefined when `limit` ids are taken. */
  alloc(): number | undefined {
    for (let id = 0; id < this.limit; id++) {
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
    return undefined;
  }

  free(id: number): void {
    this.used.delete(id);
  }

  has(id: number): boolean {
    return this.used.has(id);
  }

  get size(): number {
    return this.used.size;
  }

  /** The largest id in use, or -1 (Linux's max_notifyid starts at -1). */
  get max(): number {
    let max = -1;
    for (const id of this.used) if (id > max) max = id;
    return max;
  }
}
