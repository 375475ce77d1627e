// The core-local interruptor (QEMU virt's CLINT at 0x0200_0000): msip (software interrupt),
// mtimecmp and mtime at the SiFive offsets. mtime runs at 10 MHz of the core's clock: host time
// since the core started in a worker, the SoC scheduler's virtual time when the core runs in the
// host thread; the timer interrupt line follows mtime >= mtimecmp.

import type { MmioRegion, Width } from '../bus.ts';
import { CLINT_HZ, RV32_MAP } from './rv32-memory-map.ts';

const MSIP = 0x0;
const MTIMECMP = 0x4000;
const MTIME = 0xbff8;
const NEVER = 2n ** 64n - 1n;

const NS_PER_TICK = 1e9 / CLINT_HZ;

/** Nanoseconds of host time since the call. */
export function hostClockNs(): () => number {
  const t0 = performance.now();
  return () => (performance.now() - t0) * 1e6;
}

export class Clint {
  msip = 0;
  private cmp = NEVER;
  /**
   * mtimecmp as a number, for the comparison made at every interrupt-line update: exact below
   * 2^53, and above it still greater than any mtime this clock reaches (2^53 ticks at 10 MHz are
   * 28 years), so `ticks >= cmpTicks` is `mtime >= mtimecmp` without a bigint per check.
   */
  private cmpTicks = Number(NEVER);

  private readonly clockNs: () => number;
  private readonly onChange: () => void;

  /** @param clockNs the core's time in ns since it started (host time unless a scheduler's). */
  constructor(onChange: () => void, clockNs: () => number = hostClockNs()) {
    this.onChange = onChange;
    this.clockNs = clockNs;
  }

  get mtimecmp(): bigint {
    return this.cmp;
  }

  set mtimecmp(value: bigint) {
    this.cmp = value;
    this.cmpTicks = Number(value);
  }

  mtime(): bigint {
    return BigInt(this.ticks());
  }

  /** mtime as a number: exact, as the clock stays below 2^53 ticks. */
  private ticks(): number {
    return Math.floor(this.clockNs() / NS_PER_TICK);
  }

  /** The core's time (ns since it started) at which the timer interrupt fires; undefined: never. */
  deadlineNs(): number | undefined {
    return this.cmp === NEVER ? undefined : this.cmpTicks * NS_PER_TICK;
  }

  get timerPending(): boolean {
    // No clock read while no deadline is set (the usual case of a firmware that does not use it).
    return this.cmp !== NEVER && this.ticks() >= this.cmpTicks;
  }

  /** Milliseconds until mtime reaches mtimecmp (undefined when no deadline is set). */
  msUntilDeadline(): number | undefined {
    if (this.mtimecmp === NEVER) return undefined;
    const ticks = this.mtimecmp - this.mtime();
    return ticks <= 0n ? 0 : Number(ticks) / (CLINT_HZ / 1000);
  }

  private read(offset: number, width: Width): number {
    if (width !== 4) return 0;
    if (offset === MSIP) return this.msip;
    if (offset === MTIMECMP) return Number(this.mtimecmp & 0xffff_ffffn);
    if (offset === MTIMECMP + 4) return Number(this.mtimecmp >> 32n);
    if (offset === MTIME) return this.ticks() % 0x1_0000_0000;
    if (offset === MTIME + 4) return Math.floor(this.ticks() / 0x1_0000_0000) % 0x1_0000_0000;
    return 0;
  }

  region(): MmioRegion {
    return {
      name: 'clint',
      base: RV32_MAP.CLINT,
      size: 0x10000,
      read: (offset: number, width: Width) => this.read(offset, width),
      // Reading the CLINT changes nothing: a debugger may.
      peek: (offset: number, width: Width) => this.read(offset, width),
      write: (offset: number, width: Width, value: number) => {
        if (width !== 4) return;
        const v = BigInt(value >>> 0);
        if (offset === MSIP) this.msip = value & 1;
        else if (offset === MTIMECMP) this.mtimecmp = (this.mtimecmp & ~0xffff_ffffn) | v;
        else if (offset === MTIMECMP + 4) this.mtimecmp = (this.mtimecmp & 0xffff_ffffn) | (v << 32n);
        else return;
        this.onChange();
      },
    };
  }
}
