// A remote core's own view of memory: windows that translate its device addresses (da) to
// physical addresses (pa), like a fixed core-local map or an IOMMU. daToVa for the platform
// driver, and the RAM part of the core's bus, both come from here.

import { RprocError, hex } from '../util/errors.ts';
import type { PhysMemory } from './phys-memory.ts';

export interface AddressWindow {
  readonly da: number;
  readonly pa: number;
  readonly size: number;
}

export class AddressMap {
  readonly windows: readonly AddressWindow[];

  constructor(windows: readonly AddressWindow[]) {
    const sorted = [...windows].sort((a, b) => a.da - b.da);
    sorted.forEach((w, i) => {
      const prev = sorted[i - 1];
      if (prev !== undefined && prev.da + prev.size > w.da) {
        throw new RprocError(
          'EINVAL',
          'soc-map',
          `address windows at da ${hex(prev.da)} and ${hex(w.da)} overlap`,
        );
      }
    });
    this.windows = sorted;
  }

  /** The physical address of [da, da + len) when it lies inside one window. */
  daToPa(da: number, len: number): number | undefined {
    if (!Number.isSafeInteger(da) || !Number.isSafeInteger(len) || len < 0) return undefined;
    for (const w of this.windows) {
      if (da >= w.da && da + len <= w.da + w.size) return w.pa + (da - w.da);
    }
    return undefined;
  }

  /** The device address at which this core sees physical address `pa` (first window that maps it). */
  paToDa(pa: number, len: number): number | undefined {
    for (const w of this.windows) {
      if (pa >= w.pa && pa + len <= w.pa + w.size) return w.da + (pa - w.pa);
    }
    return undefined;
  }

  /** daToVa: a view of the memory behind [da, da + len), or undefined. */
  view(memory: PhysMemory, da: bigint | number, len: number): Uint8Array | undefined {
    if (typeof da === 'bigint') {
      if (da < 0n || da > 0xffff_ffffn) return undefined;
      da = Number(da);
    }
    const pa = this.daToPa(da, len);
    return pa === undefined ? undefined : memory.view(pa, len);
  }
}
