// A core's DMA pool: the reserved region carveouts at FW_RSC_ADDR_ANY come from, first fit on
// 4 KiB pages. It hands out memory as the core addresses it (da through the core's map) with its
// physical address and a view, so the core writes back da/pa exactly as Linux does.

import { FW_RSC_ADDR_ANY } from '../rsc/rsc-constants.ts';
import type { DmaAllocator, DmaBuffer } from '../remoteproc/carveouts.ts';
import type { AddressMap } from './address-map.ts';
import type { PhysMemory } from './phys-memory.ts';

const PAGE = 0x1000;

export class DmaPool implements DmaAllocator {
  private readonly memory: PhysMemory;
  private readonly map: AddressMap;
  private readonly pa: number;
  private readonly size: number;
  /** Live allocations: pa → size. */
  private readonly live = new Map<number, number>();

  constructor(memory: PhysMemory, map: AddressMap, pa: number, size: number) {
    this.memory = memory;
    this.map = map;
    this.pa = pa;
    this.size = size;
  }

  get outstanding(): number {
    return this.live.size;
  }

  alloc(len: number, da: number): DmaBuffer | undefined {
    if (!Number.isSafeInteger(len) || len <= 0) return undefined;
    const size = Math.ceil(len / PAGE) * PAGE;
    let pa: number | undefined;
    if (da === FW_RSC_ADDR_ANY) {
      pa = this.firstFit(size);
    } else {
      // A fixed da must name memory of this pool as the core sees it.
      const want = this.map.daToPa(da, size);
      if (
        want !== undefined &&
        want >= this.pa &&
        want + size <= this.pa + this.size &&
        !this.overlaps(want, size)
      )
        pa = want;
    }
    if (pa === undefined) return undefined;
    const coreDa = this.map.paToDa(pa, len);
    const va = this.memory.view(pa, len);
    if (coreDa === undefined || va === undefined) return undefined;
    this.live.set(pa, size);
    va.fill(0);
    return { da: coreDa, pa, va };
  }

  free(buffer: DmaBuffer): void {
    this.live.delete(buffer.pa);
  }

  private overlaps(pa: number, size: number): boolean {
    for (const [s, n] of this.live) if (pa < s + n && s < pa + size) return true;
    return false;
  }

  private firstFit(size: number): number | undefined {
    for (let pa = this.pa; pa + size <= this.pa + this.size; pa += PAGE) {
      if (!this.overlaps(pa, size)) return pa;
    }
    return undefined;
  }
}
