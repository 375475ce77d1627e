// The translated code's path to memory outside the main region's inline fast path: the other RAM
// windows (on the SoC, the shared window holding the vrings and rpmsg buffers) and the devices. A
// naturally aligned access to RAM, or to a device register window, is done here without leaving
// the region, exactly as Bus.read / Bus.write would do it (a device may then ask the hart to
// re-check its interrupts: the region leaves after the instruction when h.brk is set,
// jit-codegen.ts); anything else (a misaligned or faulting address, a store into a watched
// granule) is refused with nothing touched, and the region then leaves in front of the
// instruction for the interpreter to run it, fault and all.

import type { Bus, Width } from './bus.ts';
import { GRANULE_SHIFT, type CodeWatch } from './code-watch.ts';

/** What `load` returns when it refuses: above every value a load can give (at most 2^32 - 1). */
export const NO_LOAD = 2 ** 32;

export interface RamAccess {
  /** The value at addr (unsigned for widths 1 and 2, signed for 4), or NO_LOAD. */
  readonly load: (addr: number, width: Width) => number;
  /** Store value at addr; false (nothing written) when refused. */
  readonly store: (addr: number, width: Width, value: number) => boolean;
}

export function ramAccess(bus: Bus, watch: CodeWatch): RamAccess {
  // The RAM window used last, in locals: a firmware's accesses outside its main region go to one
  // window again and again (on the SoC, the shared window with its vrings and rpmsg buffers), and
  // these calls are on every such access. Another window, or a device, goes through the bus.
  let base = 0;
  let size = 0;
  let u8: Uint8Array = new Uint8Array(0);
  let u16: Uint16Array = new Uint16Array(0);
  let i32: Int32Array = new Int32Array(0);
  let watched: Uint8Array = new Uint8Array(0);
  /** Whether a lies in RAM, the window used last or another (then used last); false: a device. */
  const inRam = (a: number): boolean => (a - base >= 0 && a - base < size) || pick(a);
  const pick = (a: number): boolean => {
    const r = bus.ramAt(a);
    if (r === undefined) return false;
    base = r.base;
    size = r.size;
    u8 = r.u8;
    u16 = r.u16;
    i32 = r.i32;
    watched = watch.mapOf(r);
    return true;
  };
  return {
    load(addr, width) {
      const a = addr >>> 0;
      if ((a & (width - 1)) !== 0) return NO_LOAD;
      if (!inRam(a)) {
        // A device register, as Bus.read does it (aligned here); a fault touches nothing.
        bus.clearFault();
        const v = bus.read(a, width);
        return bus.faulted ? NO_LOAD : v;
      }
      const off = a - base;
      if (off + width > size) return NO_LOAD;
      return (width === 1 ? u8[off] : width === 2 ? u16[off >>> 1] : i32[off >>> 2]) ?? NO_LOAD;
    },
    store(addr, width, value) {
      const a = addr >>> 0;
      if ((a & (width - 1)) !== 0) return false;
      if (!inRam(a)) {
        bus.clearFault();
        bus.write(a, width, value);
        return !bus.faulted;
      }
      const off = a - base;
      // A watched granule (code, a reservation) needs Hart.watchedStore: the interpreter's path.
      // Aligned, the access lies in one granule.
      if (off + width > size || (watched[off >>> GRANULE_SHIFT] ?? 0) !== 0) return false;
      if (width === 1) u8[off] = value;
      else if (width === 2) u16[off >>> 1] = value;
      else i32[off >>> 2] = value;
      return true;
    },
  };
}
