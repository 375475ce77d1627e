// Named memory regions of a remote processor ("carveouts"): regions the platform registers from
// its reserved memory, regions the resource table asks for, and the vdev<k>vring<i> regions.
// Allocation is deferred until every entry has been handled, then done in list order, as
// rproc_alloc_registered_carveouts() does. Mirrors rproc_mem_entry_* and rproc_da_to_va's carveout
// search in drivers/remoteproc/remoteproc_core.c.

import { RprocError, hex } from '../util/errors.ts';
import { FW_RSC_ADDR_ANY } from '../rsc/rsc-constants.ts';

/** Memory the platform hands out for carveouts (Linux: dma_alloc_coherent on the parent device). */
export interface DmaBuffer {
  /** Address the remote core uses. */
  readonly da: number;
  /** Physical address (what the table's `pa` field receives). */
  readonly pa: number;
  /** A view of the memory, never a copy. */
  readonly va: Uint8Array;
}

export interface DmaAllocator {
  /**
   * Allocate `len` bytes. With `da` (not FW_RSC_ADDR_ANY) the buffer must sit at that device
   * address; return undefined when it cannot (the core then fails the boot with ENOMEM).
   */
  alloc(len: number, da: number): DmaBuffer | undefined;
  free(buffer: DmaBuffer): void;
}

/** Name limit of struct rproc_mem_entry (32 bytes with the NUL). */
export const MEM_ENTRY_NAME_MAX = 31;

export interface MemEntryInit {
  readonly name: string;
  /** FW_RSC_ADDR_ANY lets the allocator choose. */
  readonly da: number;
  readonly len: number;
  readonly flags?: number;
  /** Pre-mapped memory (platform regions): the entry is allocated from the start. */
  readonly buffer?: DmaBuffer;
  /** Table body offset of the RSC_CARVEOUT entry this region answers, for write-back. */
  readonly rscBodyOffset?: number;
}

export class MemEntry {
  readonly name: string;
  da: number;
  readonly len: number;
  flags: number;
  /** Set once allocated (or from the start for platform regions). */
  buffer: DmaBuffer | undefined;
  /** The table entry this region was bound to (by name or by creation). */
  rscBodyOffset: number | undefined;
  /** Whether `buffer` came from the DmaAllocator and so must be freed there. */
  ownedByCore: boolean;

  constructor(init: MemEntryInit) {
    if (init.name.length > MEM_ENTRY_NAME_MAX) {
      throw new RprocError(
        'EINVAL',
        'carveout',
        `carveout name "${init.name}" is longer than ${MEM_ENTRY_NAME_MAX} characters`,
      );
    }
    if (!Number.isInteger(init.len) || init.len < 0 || init.len > 0xffff_ffff) {
      throw new RprocError(
        'EINVAL',
        'carveout',
        `carveout "${init.name}" length ${hex(init.len)} is not a 32-bit size`,
      );
    }
    this.name = init.name;
    this.da = init.buffer?.da ?? init.da;
    this.len = init.len;
    this.flags = init.flags ?? 0;
    this.buffer = init.buffer;
    this.rscBodyOffset = init.rscBodyOffset;
    this.ownedByCore = false;
  }

  get allocated(): boolean {
    return this.buffer !== undefined;
  }
}

export class CarveoutList {
  private readonly entries: MemEntry[] = [];

  get list(): readonly MemEntry[] {
    return this.entries;
  }

  add(entry: MemEntry): void {
    this.entries.push(entry);
  }

  findByName(name: string): MemEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /**
   * Allocate every entry not yet backed by memory, in list order; the first failure stops with
   * ENOMEM naming the region (already allocated ones are released by the caller's cleanup).
   */
  allocateAll(dma: DmaAllocator | undefined): void {
    for (const entry of this.entries) {
      if (entry.allocated) continue;
      if (dma === undefined) {
        throw new RprocError(
          'ENOMEM',
          'carveout',
          `no memory pool to allocate carveout "${entry.name}" (${hex(entry.len)} bytes)`,
        );
      }
      const buffer = dma.alloc(entry.len, entry.da);
      if (buffer === undefined) {
        const where = entry.da === FW_RSC_ADDR_ANY ? '' : ` at da ${hex(entry.da)}`;
        throw new RprocError(
          'ENOMEM',
          'carveout',
          `cannot allocate carveout "${entry.name}": ${hex(entry.len)} bytes${where}`,
        );
      }
      if (buffer.va.length < entry.len || (entry.da !== FW_RSC_ADDR_ANY && buffer.da !== entry.da)) {
        dma.free(buffer);
        throw new RprocError(
          'EFAULT',
          'carveout',
          `allocator returned ${hex(buffer.va.length)} bytes at da ${hex(buffer.da)} for carveout "${entry.name}" (${hex(entry.len)} bytes at ${hex(entry.da)})`,
        );
      }
      entry.buffer = buffer;
      entry.da = buffer.da;
      entry.ownedByCore = true;
    }
  }

  /**
   * The carveout part of rproc_da_to_va: the first allocated region holding all of [da, da + len).
   * Unsigned arithmetic throughout (Linux computes the offset in a signed int, so a da 2 GiB above
   * a region's start is skipped; we compare exactly).
   */
  daToVa(da: bigint, len: number): Uint8Array | undefined {
    if (len < 0 || !Number.isSafeInteger(len)) return undefined;
    for (const entry of this.entries) {
      const buffer = entry.buffer;
      if (buffer === undefined) continue;
      const start = BigInt(buffer.da);
      const size = BigInt(entry.len);
      if (da < start) continue;
      const offset = da - start;
      if (offset > size || BigInt(len) > size - offset) continue;
      const off = Number(offset);
      return buffer.va.subarray(off, off + len);
    }
    return undefined;
  }

  /** Release every entry (rproc_resource_cleanup step 3): core allocations go back to the pool. */
  releaseAll(dma: DmaAllocator | undefined): void {
    for (const entry of this.entries) {
      if (entry.ownedByCore && entry.buffer !== undefined) dma?.free(entry.buffer);
    }
    this.entries.length = 0;
  }
}
