// The SoC's physical memory: every RAM region of the board (DDR, per-core SRAM/TCM) packed into one
// SharedArrayBuffer, plus a private block of device-state words (mailboxes, watchdogs, UART FIFOs)
// that only device models touch. Every access goes through this module, bounds-checked: a range
// must lie inside one region, and what is handed out is a view, never a copy.

import { RprocError, hex } from '../util/errors.ts';

export interface RamRegionSpec {
  readonly name: string;
  /** Physical base address. */
  readonly pa: number;
  readonly size: number;
}

export interface RamRegion extends RamRegionSpec {
  /** Byte offset of the region in the shared buffer. */
  readonly offset: number;
}

/** Regions start on 64-byte boundaries in the buffer so that word and cache-line alignment of pa carry over. */
const REGION_ALIGN = 64;
const U32_SPACE = 0x1_0000_0000;

/** What crosses to a worker thread to rebuild the same PhysMemory view there. */
export interface PhysMemoryShared {
  readonly buffer: SharedArrayBuffer;
  readonly regions: readonly RamRegion[];
  readonly deviceOffset: number;
  readonly deviceWords: number;
}

export class PhysMemory {
  readonly buffer: SharedArrayBuffer;
  readonly regions: readonly RamRegion[];
  /** The device-state words (Int32Array for Atomics), outside the physical address space. */
  readonly device: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly shared: PhysMemoryShared;

  private constructor(shared: PhysMemoryShared) {
    this.shared = shared;
    this.buffer = shared.buffer;
    this.regions = shared.regions;
    this.bytes = new Uint8Array(shared.buffer);
    this.device = new Int32Array(shared.buffer, shared.deviceOffset, shared.deviceWords);
  }

  /** Lay out `specs` in one new SharedArrayBuffer (zeroed), with `deviceWords` words of device state. */
  static create(specs: readonly RamRegionSpec[], deviceWords: number): PhysMemory {
    const regions: RamRegion[] = [];
    let offset = 0;
    const sorted = [...specs].sort((a, b) => a.pa - b.pa);
    for (const [i, r] of sorted.entries()) {
      if (
        !Number.isInteger(r.pa) ||
        !Number.isInteger(r.size) ||
        r.size <= 0 ||
        r.pa < 0 ||
        r.pa + r.size > U32_SPACE
      ) {
        throw new RprocError(
          'EINVAL',
          'soc-memory',
          `RAM region "${r.name}" at ${hex(r.pa)} of ${hex(r.size)} bytes is outside the 32-bit physical space`,
        );
      }
      const prev = sorted[i - 1];
      if (prev !== undefined && prev.pa + prev.size > r.pa) {
        throw new RprocError(
          'EINVAL',
          'soc-memory',
          `RAM regions "${prev.name}" and "${r.name}" overlap at ${hex(r.pa)}`,
        );
      }
      regions.push({ ...r, offset });
      offset += Math.ceil(r.size / REGION_ALIGN) * REGION_ALIGN;
    }
    const deviceOffset = offset;
    const total = deviceOffset + deviceWords * 4;
    if (total > 2 ** 32)
      throw new RprocError('ENOMEM', 'soc-memory', `board needs ${hex(total)} bytes of memory`);
    return new PhysMemory({ buffer: new SharedArrayBuffer(total), regions, deviceOffset, deviceWords });
  }

  /** Rebuild the view in another thread from what `share()` returned. */
  static attach(shared: PhysMemoryShared): PhysMemory {
    return new PhysMemory(shared);
  }

  share(): PhysMemoryShared {
    return this.shared;
  }

  get size(): number {
    return this.regions.reduce((n, r) => n + r.size, 0);
  }

  regionAt(pa: number): RamRegion | undefined {
    for (const r of this.regions) if (pa >= r.pa && pa < r.pa + r.size) return r;
    return undefined;
  }

  regionByName(name: string): RamRegion | undefined {
    return this.regions.find((r) => r.name === name);
  }

  /** A view of [pa, pa + len) when it lies inside one region; undefined otherwise. */
  view(pa: number, len: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(pa) || !Number.isSafeInteger(len) || len < 0 || pa < 0) return undefined;
    const r = len === 0 ? (this.regionAt(pa) ?? this.regionEndingAt(pa)) : this.regionAt(pa);
    if (r === undefined || pa + len > r.pa + r.size) return undefined;
    const off = r.offset + (pa - r.pa);
    return this.bytes.subarray(off, off + len);
  }

  /** The same, throwing EFAULT naming the range when it is not inside one region. */
  viewOrThrow(pa: number, len: number, what: string): Uint8Array {
    const v = this.view(pa, len);
    if (v === undefined) {
      throw new RprocError(
        'EFAULT',
        'soc-memory',
        `${what}: [${hex(pa)}, ${hex(pa + len)}) is not inside one RAM region`,
      );
    }
    return v;
  }

  private regionEndingAt(pa: number): RamRegion | undefined {
    return this.regions.find((r) => r.pa + r.size === pa);
  }
}
