// A core's view of the physical address space: RAM regions (plain or shared memory, accessed
// through typed-array views) and MMIO regions (device handlers). This is the slow path: the
// interpreter and the translated blocks reach the core's main RAM region directly through the
// views of `RamArea` and come here for everything else: other RAM, devices, misaligned accesses
// and addresses that are in no region (which fault). Little-endian, as RISC-V is.

import { RprocError, hex } from '../../util/errors.ts';

export type Width = 1 | 2 | 4;

export interface RamRegion {
  /** Physical address of bytes[0]; a multiple of 4. */
  readonly base: number;
  /** Size in bytes; a multiple of 4. */
  readonly size: number;
  /**
   * The memory, possibly a view into a SharedArrayBuffer that the host and other cores share;
   * its byteOffset must be a multiple of 4 so that word views line up.
   */
  readonly bytes: Uint8Array;
  readonly name?: string;
}

export interface MmioRegion {
  readonly base: number;
  readonly size: number;
  /** Read `width` bytes at `offset` from the region base; the result is masked to the width. */
  read(offset: number, width: Width): number;
  write(offset: number, width: Width, value: number): void;
  /**
   * A debugger's read (bus.peek): the value read would give, without its side effects, or
   * undefined when the register cannot be read without them. Absent: the region is not readable
   * by a debugger at all.
   */
  peek?(offset: number, width: Width): number | undefined;
  readonly name?: string;
}

export interface BusLayout {
  readonly ram: readonly RamRegion[];
  readonly mmio?: readonly MmioRegion[];
}

const OP = 'rv32-bus';
const U32 = 0x1_0000_0000;

// Typed arrays use the host's byte order; every supported Node host is little-endian, like
// RISC-V. Checked once so that a big-endian host fails loudly instead of computing garbage.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new RprocError('ENOSYS', OP, 'the rv32 core needs a little-endian host');
}

/** A RAM region with the views the fast paths use. */
export class RamArea {
  readonly base: number;
  readonly size: number;
  readonly name: string;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /** True when the memory is a SharedArrayBuffer: fences then need a real barrier. */
  readonly shared: boolean;

  constructor(region: RamRegion, index: number) {
    this.base = region.base;
    this.size = region.size;
    this.name = region.name ?? `ram${index}`;
    const { buffer, byteOffset } = region.bytes;
    this.u8 = region.bytes.subarray(0, region.size);
    this.u16 = new Uint16Array(buffer, byteOffset, region.size >>> 1);
    this.i32 = new Int32Array(buffer, byteOffset, region.size >>> 2);
    this.shared = typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
  }

  contains(addr: number): boolean {
    return addr - this.base >= 0 && addr - this.base < this.size;
  }
}

interface Span {
  readonly base: number;
  readonly size: number;
  readonly name: string;
}

function checkSpan(span: Span, what: string): void {
  if (!Number.isInteger(span.base) || span.base < 0 || span.base >= U32) {
    throw new RprocError('EINVAL', OP, `${what} ${span.name} base ${hex(span.base)} is not a 32-bit address`);
  }
  if (!Number.isInteger(span.size) || span.size <= 0 || span.base + span.size > U32) {
    throw new RprocError(
      'EINVAL',
      OP,
      `${what} ${span.name} at ${hex(span.base)} has bad size ${hex(span.size)}`,
    );
  }
}

export class Bus {
  readonly ram: readonly RamArea[];
  readonly mmio: readonly MmioRegion[];
  /** Set by read/write when the access faulted (no region, or a device refusing the width). */
  faulted = false;
  private lastRam: RamArea | undefined;

  constructor(layout: BusLayout) {
    const ram = layout.ram.map((r, i) => {
      const name = r.name ?? `ram${i}`;
      checkSpan({ base: r.base, size: r.size, name }, 'RAM region');
      if (r.base % 4 !== 0 || r.size % 4 !== 0) {
        throw new RprocError(
          'EINVAL',
          OP,
          `RAM region ${name} at ${hex(r.base)} size ${hex(r.size)} is not word-aligned`,
        );
      }
      if (r.bytes.byteOffset % 4 !== 0 || r.bytes.length < r.size) {
        throw new RprocError(
          'EINVAL',
          OP,
          `RAM region ${name}: backing view (offset ${hex(r.bytes.byteOffset)}, ${hex(r.bytes.length)} bytes) must be word-aligned and cover ${hex(r.size)} bytes`,
        );
      }
      return new RamArea(r, i);
    });
    const mmio = (layout.mmio ?? []).map((m, i) => {
      checkSpan({ base: m.base, size: m.size, name: m.name ?? `mmio${i}` }, 'MMIO region');
      return m;
    });
    const spans: Span[] = [
      ...ram,
      ...mmio.map((m, i) => ({ base: m.base, size: m.size, name: m.name ?? `mmio${i}` })),
    ].sort((a, b) => a.base - b.base);
    for (let i = 1; i < spans.length; i++) {
      const prev = spans[i - 1];
      const cur = spans[i];
      if (prev !== undefined && cur !== undefined && prev.base + prev.size > cur.base) {
        throw new RprocError(
          'EINVAL',
          OP,
          `regions ${prev.name} and ${cur.name} overlap at ${hex(cur.base)}`,
        );
      }
    }
    this.ram = ram;
    this.mmio = mmio;
  }

  clearFault(): void {
    this.faulted = false;
  }

  /** The RAM region holding addr (unsigned), or undefined. */
  ramAt(addr: number): RamArea | undefined {
    addr >>>= 0;
    const last = this.lastRam;
    if (last !== undefined && last.contains(addr)) return last;
    for (const r of this.ram) {
      if (r.contains(addr)) {
        this.lastRam = r;
        return r;
      }
    }
    return undefined;
  }

  mmioAt(addr: number): MmioRegion | undefined {
    addr >>>= 0;
    for (const m of this.mmio) if (addr - m.base >= 0 && addr - m.base < m.size) return m;
    return undefined;
  }

  /** True when [addr, addr + len) lies inside one RAM region. */
  isRam(addr: number, len: number): boolean {
    const r = this.ramAt(addr);
    return r !== undefined && (addr >>> 0) - r.base + len <= r.size;
  }

  /**
   * Load `width` bytes at addr: unsigned for widths 1 and 2, a signed 32-bit value for 4.
   * Misaligned RAM accesses are performed byte by byte (the hart decides beforehand whether
   * they trap); a misaligned or region-crossing device access faults. On a fault, sets
   * `faulted` and returns 0.
   */
  read(addr: number, width: Width): number {
    addr >>>= 0;
    const r = this.ramAt(addr);
    if (r !== undefined) {
      const off = addr - r.base;
      if (off + width <= r.size) {
        if (width === 1) return r.u8[off] ?? 0;
        if (width === 2)
          return (off & 1) === 0 ? (r.u16[off >>> 1] ?? 0) : (r.u8[off] ?? 0) | ((r.u8[off + 1] ?? 0) << 8);
        if ((off & 3) === 0) return r.i32[off >>> 2] ?? 0;
      }
      return this.readBytes(addr, width);
    }
    const m = this.mmioAt(addr);
    if (m !== undefined && addr % width === 0 && addr - m.base + width <= m.size) {
      const v = m.read(addr - m.base, width);
      return width === 4 ? v | 0 : v & (width === 1 ? 0xff : 0xffff);
    }
    this.faulted = true;
    return 0;
  }

  /** Store the low `width` bytes of value at addr; same rules as read. */
  write(addr: number, width: Width, value: number): void {
    addr >>>= 0;
    const r = this.ramAt(addr);
    if (r !== undefined) {
      const off = addr - r.base;
      if (off + width <= r.size && off % width === 0) {
        if (width === 1) r.u8[off] = value;
        else if (width === 2) r.u16[off >>> 1] = value;
        else r.i32[off >>> 2] = value;
        return;
      }
      this.writeBytes(addr, width, value);
      return;
    }
    const m = this.mmioAt(addr);
    if (m !== undefined && addr % width === 0 && addr - m.base + width <= m.size) {
      m.write(addr - m.base, width, width === 4 ? value | 0 : value & (width === 1 ? 0xff : 0xffff));
      return;
    }
    this.faulted = true;
  }

  /**
   * What a debugger reads at addr: `width` bytes of RAM (little-endian), or a device register that
   * can be read without side effects (MmioRegion.peek, a load of that width); undefined otherwise.
   */
  peek(addr: number, width: Width): number | undefined {
    addr >>>= 0;
    const r = this.ramAt(addr);
    if (r !== undefined) {
      let v = 0;
      for (let i = width - 1; i >= 0; i--) {
        const b = this.ramAt(addr + i);
        if (b === undefined) return undefined;
        v = (v << 8) | (b.u8[addr + i - b.base] ?? 0);
      }
      return v >>> 0;
    }
    const m = this.mmioAt(addr);
    if (m?.peek === undefined || addr % width !== 0 || addr - m.base + width > m.size) return undefined;
    const v = m.peek(addr - m.base, width);
    return v === undefined ? undefined : width === 4 ? v >>> 0 : v & (width === 1 ? 0xff : 0xffff);
  }

  /** A misaligned or region-crossing RAM load: every byte must be RAM, else the access faults. */
  private readBytes(addr: number, width: Width): number {
    let v = 0;
    for (let i = 0; i < width; i++) {
      const a = (addr + i) >>> 0;
      const r = this.ramAt(a);
      if (r === undefined) {
        this.faulted = true;
        return 0;
      }
      v |= (r.u8[a - r.base] ?? 0) << (8 * i);
    }
    return width === 4 ? v | 0 : v;
  }

  private writeBytes(addr: number, width: Width, value: number): void {
    // Check every byte first: a faulting store must not write part of its bytes.
    for (let i = 0; i < width; i++) {
      if (this.ramAt(addr + i) === undefined) {
        this.faulted = true;
        return;
      }
    }
    for (let i = 0; i < width; i++) {
      const a = (addr + i) >>> 0;
      const r = this.ramAt(a);
      if (r !== undefined) r.u8[a - r.base] = value >>> (8 * i);
    }
  }
}
