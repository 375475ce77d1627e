// The translated code's path to memory outside the main region's inline fast path: the other RAM
// windows (on the SoC, the shared window holding the vrings and rpmsg buffers) and the devices. A
// naturally aligned access to RAM, or to a device register window, is done here without leaving
// the region, exactly as Bus.read / Bus.write would do it (a device may then ask the hart to
// re-check its interrupts: the region leaves after the instruction when h.brk is set,
// jit-codegen.ts); anything else (a misaligned or faulting address, a store into a watched
// granule) is refused with nothing touched, and the region then leaves in front of the
// instruction for the interpreter to run it, fault and all.

import type { Bus, Width } from './bus.ts';
import type { CodeWatch } from './code-watch.ts';

/** What `load` returns when it refuses: above every value a load can give (at most 2^32 - 1). */
export const NO_LOAD = 2 ** 32;

export interface RamAccess {
  /** The value at addr (unsigned for widths 1 and 2, signed for 4), or NO_LOAD. */
  readonly load: (addr: number, width: Width) => number;
  /** Store value at addr; false (nothing written) when refused. */
  readonly store: (addr: number, width: Width, value: number) => boolean;
}

export function ramAccess(bus: Bus, watch: CodeWatch): RamAccess {
  return {
    load(addr, width) {
      const a = addr >>> 0;
      if ((a & (width - 1)) !== 0) return NO_LOAD;
      const r = bus.ramAt(a);
      if (r === undefined) {
        // A device register, as Bus.read does it (aligned here); a fault touches nothing.
        bus.clearFault();
        const v = bus.read(a, width);
        return bus.faulted ? NO_LOAD : v;
      }
      const off = a - r.base;
      if (off + width > r.size) return NO_LOAD;
      return (width === 1 ? r.u8[off] : width === 2 ? r.u16[off >>> 1] : r.i32[off >>> 2]) ?? NO_LOAD;
    },
    store(addr, width, value) {
      const a = addr >>> 0;
      if ((a & (width - 1)) !== 0) return false;
      const r = bus.ramAt(a);
      if (r === undefined) {
        bus.clearFault();
        bus.write(a, width, value);
        return !bus.faulted;
      }
      const off = a - r.base;
      // A watched granule (code, a reservation) needs Hart.watchedStore: the interpreter's path.
      if (off + width > r.size || watch.bits(a, width) !== 0) return false;
      if (width === 1) r.u8[off] = value;
      else if (width === 2) r.u16[off >>> 1] = value;
      else r.i32[off >>> 2] = value;
      return true;
    },
  };
}
