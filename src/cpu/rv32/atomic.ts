// The A extension (RISC-V unprivileged spec, "A" chapter) on memory that other cores and the host
// may share: every access is a JavaScript Atomics operation on the region's Int32Array, which is
// sequentially consistent, so the aq/rl bits need no extra work.
//
// Reservation rules (LR.W/SC.W). The reservation set is the aligned word LR.W read, together with
// the value it read. SC.W succeeds only if this hart still holds a reservation on that address
// and memory still holds that value, checked and written in one Atomics.compareExchange: a store
// of a different value by another core or the host in between makes it fail. (A store that
// writes back the same value cannot be seen — the ABA case; the spec's constrained LR/SC loops
// are unaffected, and QEMU's TCG implements SC the same way.) The reservation is cleared by
// every SC.W (success or failure), by trap entry, by MRET, and by a store or AMO from this hart
// that overlaps the reserved word (the CodeWatch reservation bit makes that check free on the
// hot store path).
//
// Misaligned LR/SC/AMO always trap (LR: load address misaligned, 4; SC and AMOs: store/AMO
// address misaligned, 6), even when ordinary misaligned accesses are emulated. QEMU 7.2 reports a
// misaligned AMO as cause 4 and lets a misaligned SC.W without a reservation fail silently; we
// follow the spec instead.
//
// On a device (MMIO), as on QEMU's virt machine, an AMO is a read of the register followed by a
// write of the result (libmetal's default metal_io_write32 is an amoswap.w, so OpenAMP firmware
// relies on it); LR.W reads the register and reserves it, SC.W writes only if the register still
// reads the reserved value. A device that refuses the read or the write raises an access fault
// (5 for LR, 7 for SC/AMO), as does an address that is neither RAM nor a device.

import { CAUSE } from './trap.ts';
import type { Hart } from './hart.ts';

/** Execute an LR/SC/AMO; returns false if it trapped (the trap has been taken). */
export function execAtomic(h: Hart, op: number, rd: number, rs1: number, rs2: number, pc: number): boolean {
  const addr = (h.x[rs1] ?? 0) >>> 0;
  const isLoad = op === 58;
  if ((addr & 3) !== 0) {
    h.trap(isLoad ? CAUSE.LOAD_MISALIGNED : CAUSE.STORE_MISALIGNED, addr, pc);
    return false;
  }
  const area = h.bus.ramAt(addr);
  if (area === undefined) return execDeviceAtomic(h, op, rd, addr, h.x[rs2] ?? 0, pc);
  const mem = area.i32;
  const index = (addr - area.base) >>> 2;
  const src = h.x[rs2] ?? 0;
  let result: number;
  switch (op) {
    case 58: // LR.W
      result = Atomics.load(mem, index);
      h.setReservation(addr, result);
      break;
    case 59: {
      // SC.W
      const held = h.resvAddr === addr;
      const expected = h.resvValue;
      h.clearReservation();
      const ok = held && Atomics.compareExchange(mem, index, expected, src) === expected;
      if (ok) h.watchedStore(addr, 4);
      result = ok ? 0 : 1;
      break;
    }
    default:
      result = amo(op, mem, index, src);
      h.watchedStore(addr, 4);
      break;
  }
  if (rd !== 0) h.x[rd] = result;
  return true;
}

/**
 * An LR/SC/AMO on a device register: one read and (except LR, and a failing SC) one write through
 * the bus, so the device sees exactly the accesses QEMU makes it see. Not atomic with respect to
 * other cores, which is what a device register behind a bus gives anyway.
 */
function execDeviceAtomic(h: Hart, op: number, rd: number, addr: number, src: number, pc: number): boolean {
  const bus = h.bus;
  const fault = op === 58 ? CAUSE.LOAD_ACCESS_FAULT : CAUSE.STORE_ACCESS_FAULT;
  bus.clearFault();
  const old = bus.read(addr, 4);
  if (bus.faulted) {
    h.trap(fault, addr, pc);
    return false;
  }
  let result = old;
  if (op === 58) {
    h.setReservation(addr, old);
  } else if (op === 59) {
    const ok = h.resvAddr === addr && h.resvValue === old;
    h.clearReservation();
    if (ok) bus.write(addr, 4, src);
    result = ok ? 0 : 1;
  } else {
    bus.write(addr, 4, combine(op, old, src));
  }
  if (writeFaulted(bus)) {
    h.trap(fault, addr, pc);
    return false;
  }
  if (rd !== 0) h.x[rd] = result;
  return true;
}

/** Whether the bus faulted (a separate call: the read's check narrowed `bus.faulted` to false). */
function writeFaulted(bus: Hart['bus']): boolean {
  return bus.faulted;
}

/** The value an AMO writes, from the old value and rs2. */
function combine(op: number, old: number, src: number): number {
  switch (op) {
    case 60: // AMOSWAP.W
      return src;
    case 61: // AMOADD.W
      return (old + src) | 0;
    case 62: // AMOXOR.W
      return old ^ src;
    case 63: // AMOAND.W
      return old & src;
    case 64: // AMOOR.W
      return old | src;
    case 65: // AMOMIN.W
      return Math.min(old | 0, src | 0);
    case 66: // AMOMAX.W
      return Math.max(old | 0, src | 0);
    case 67: // AMOMINU.W
      return old >>> 0 < src >>> 0 ? old : src;
    default: // 68: AMOMAXU.W
      return old >>> 0 > src >>> 0 ? old : src;
  }
}

/** Read-modify-write; returns the old value. */
function amo(op: number, mem: Int32Array, index: number, src: number): number {
  switch (op) {
    case 60: // AMOSWAP.W
      return Atomics.exchange(mem, index, src);
    case 61: // AMOADD.W
      return Atomics.add(mem, index, src);
    case 62: // AMOXOR.W
      return Atomics.xor(mem, index, src);
    case 63: // AMOAND.W
      return Atomics.and(mem, index, src);
    case 64: // AMOOR.W
      return Atomics.or(mem, index, src);
    default:
      return minMax(op, mem, index, src);
  }
}

/** AMOMIN/MAX[U]: no Atomics primitive, so a compare-exchange loop. */
function minMax(op: number, mem: Int32Array, index: number, src: number): number {
  for (;;) {
    const old = Atomics.load(mem, index);
    let pick: number;
    switch (op) {
      case 65: // AMOMIN.W
        pick = Math.min(old, src);
        break;
      case 66: // AMOMAX.W
        pick = Math.max(old, src);
        break;
      case 67: // AMOMINU.W
        pick = old >>> 0 < src >>> 0 ? old : src;
        break;
      default: // 68: AMOMAXU.W
        pick = old >>> 0 > src >>> 0 ? old : src;
        break;
    }
    if (Atomics.compareExchange(mem, index, old, pick) === old) return old;
  }
}
