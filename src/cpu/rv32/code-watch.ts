// One byte per 256-byte granule of each RAM region, saying whether a store there needs more than
// the write: bit CODE when the granule holds decoded or translated instructions (the store must
// drop them: self-modifying code, a loader writing code), bit RESERVATION when it holds the word
// reserved by this hart's LR.W (the store must clear the reservation). The hot store paths test
// one byte and go to Hart.watchedStore only when it is non-zero, so ordinary data stores pay one
// load and one compare for both features. The map is per hart: other cores' stores are not seen
// here (they need fence.i, as the spec says, or fail an SC through its value compare).

import type { RamArea } from './bus.ts';

export const GRANULE_SHIFT = 8;
export const WATCH_CODE = 1;
export const WATCH_RESERVATION = 2;

const NO_MAP = new Uint8Array(0);

export class CodeWatch {
  /** One map per RAM region, in the bus's region order. */
  readonly maps: readonly Uint8Array[];
  private readonly areas: readonly RamArea[];

  constructor(areas: readonly RamArea[]) {
    this.areas = areas;
    this.maps = areas.map((a) => new Uint8Array(Math.ceil(a.size / (1 << GRANULE_SHIFT))));
  }

  /** The map of a RAM region of the bus this watch was built for (an empty one for any other). */
  mapOf(area: RamArea): Uint8Array {
    return this.maps[this.areas.indexOf(area)] ?? NO_MAP;
  }

  /** Index of the region holding addr, or -1. */
  areaIndex(addr: number): number {
    addr >>>= 0;
    for (let i = 0; i < this.areas.length; i++) {
      const a = this.areas[i];
      if (a !== undefined && addr - a.base >= 0 && addr - a.base < a.size) return i;
    }
    return -1;
  }

  /** Set `bits` on the granules covering [addr, addr + len). */
  mark(addr: number, len: number, bits: number): void {
    const i = this.areaIndex(addr);
    const area = this.areas[i];
    const map = this.maps[i];
    if (area === undefined || map === undefined) return;
    const first = ((addr >>> 0) - area.base) >>> GRANULE_SHIFT;
    const last = Math.min(((addr >>> 0) - area.base + len - 1) >>> GRANULE_SHIFT, map.length - 1);
    for (let g = first; g <= last; g++) map[g] = (map[g] ?? 0) | bits;
  }

  /** The watch bits of the granules that [addr, addr + len) touches (0 outside RAM). */
  bits(addr: number, len: number): number {
    const i = this.areaIndex(addr);
    const area = this.areas[i];
    const map = this.maps[i];
    if (area === undefined || map === undefined) return 0;
    const off = (addr >>> 0) - area.base;
    const last = Math.min((off + len - 1) >>> GRANULE_SHIFT, map.length - 1);
    let b = 0;
    for (let g = off >>> GRANULE_SHIFT; g <= last; g++) b |= map[g] ?? 0;
    return b;
  }

  /** Clear `bits` on the granule holding addr. */
  clear(addr: number, bits: number): void {
    const i = this.areaIndex(addr);
    const area = this.areas[i];
    const map = this.maps[i];
    if (area === undefined || map === undefined) return;
    const g = ((addr >>> 0) - area.base) >>> GRANULE_SHIFT;
    map[g] = (map[g] ?? 0) & ~bits;
  }

  /** Clear `bits` everywhere (a code flush keeps the reservation bit, and vice versa). */
  clearAll(bits: number): void {
    for (const map of this.maps) for (let g = 0; g < map.length; g++) map[g] = (map[g] ?? 0) & ~bits;
  }
}
