// The set of remote processors: index allocation (remoteproc<N>, lowest free), lookup by name,
// index and device-tree phandle, with reference counting. Mirrors the rproc IDA, rproc_list and
// rproc_get_by_phandle()/rproc_put() in drivers/remoteproc/remoteproc_core.c.

import { IdAllocator } from '../util/id-allocator.ts';
import type { Rproc } from './rproc.ts';
import { RprocError } from '../util/errors.ts';

export class RprocRegistry {
  private readonly indices = new IdAllocator();
  /** Processors that have been added (rproc_add) and not deleted, in add order. */
  private readonly added: Rproc[] = [];

  /** @internal rproc_alloc */
  allocIndex(): number {
    const index = this.indices.alloc();
    // Unreachable in practice: the allocator has 2^53 ids.
    if (index === undefined) throw new RprocError('ENOSPC', 'rproc-alloc', 'no remoteproc<N> index left');
    return index;
  }

  /** @internal called when the last reference to an rproc goes */
  releaseIndex(index: number): void {
    this.indices.free(index);
  }

  /** @internal rproc_add */
  link(rproc: Rproc): void {
    if (!this.added.includes(rproc)) this.added.push(rproc);
  }

  /** @internal rproc_del */
  unlink(rproc: Rproc): void {
    const i = this.added.indexOf(rproc);
    if (i >= 0) this.added.splice(i, 1);
  }

  get list(): readonly Rproc[] {
    return this.added;
  }

  byName(name: string): Rproc | undefined {
    return this.added.find((r) => r.name === name);
  }

  byIndex(index: number): Rproc | undefined {
    return this.added.find((r) => r.index === index);
  }

  /**
   * rproc_get_by_phandle: the added processor whose device-tree node has this phandle, with a
   * reference taken (drop it with put()); undefined when there is none.
   */
  getByPhandle(phandle: number): Rproc | undefined {
    const rproc = this.added.find((r) => r.phandle === phandle);
    rproc?.get();
    return rproc;
  }
}

/** The default registry, like the kernel's single rproc list. */
export const defaultRegistry = new RprocRegistry();
