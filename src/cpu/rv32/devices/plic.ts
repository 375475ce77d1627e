// A platform-level interrupt controller at QEMU virt's address and layout (0x0c00_0000, 96
// sources, priorities 0..7), reduced to what a machine-mode-only hart uses: context 0 (hart 0,
// M-mode) drives mip.MEIP. Sources are level lines sampled from the devices (UART0 is source 10,
// as on virt); a claimed source stays out of the running until its completion, then a line still
// high is pending again (the RISC-V PLIC spec's level-triggered gateway). Mirrors QEMU's
// hw/intc/sifive_plic.c (register map, WARL priorities, claim of the highest priority above the
// threshold, lowest id first on a tie).

import type { MmioRegion, Width } from '../bus.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

/** Sources including the non-existent source 0, as QEMU virt's VIRT_IRQCHIP_NUM_SOURCES. */
export const PLIC_SOURCES = 96;
/** Priority bits (VIRT_IRQCHIP_NUM_PRIO_BITS): priorities 0 (never) to 7. */
const PRIORITY_MASK = 7;

export const PLIC_REG = {
  PRIORITY: 0x00_0000,
  PENDING: 0x00_1000,
  ENABLE: 0x00_2000,
  ENABLE_STRIDE: 0x80,
  CONTEXT: 0x20_0000,
  CONTEXT_STRIDE: 0x1000,
  THRESHOLD: 0x0,
  CLAIM: 0x4,
} as const;

/** The window QEMU virt maps (VIRT_PLIC_SIZE for its hart contexts). */
const PLIC_SIZE = 0x60_0000;

const WORDS = Math.ceil(PLIC_SOURCES / 32);

export class Plic {
  private readonly priority = new Uint8Array(PLIC_SOURCES);
  /** Device line levels and claimed (in service) flags, one bit per source. */
  private readonly level = new Uint32Array(WORDS);
  private readonly claimed = new Uint32Array(WORDS);
  /** Context 0's enables and threshold. */
  private readonly enable = new Uint32Array(WORDS);
  private threshold = 0;
  private readonly onChange: () => void;

  /** @param onChange called when the output line (meip) may have changed through a register write. */
  constructor(onChange: () => void) {
    this.onChange = onChange;
  }

  /** Drive source `source`'s line (from its device); no callback: the caller samples meip after. */
  setLevel(source: number, high: boolean): void {
    if (source <= 0 || source >= PLIC_SOURCES) return;
    const bit = 1 << (source & 31);
    const w = source >>> 5;
    this.level[w] = high ? (this.level[w] ?? 0) | bit : (this.level[w] ?? 0) & ~bit;
  }

  /** Pending as the PLIC shows it: line high and not in service. */
  private pendingWord(w: number): number {
    return ((this.level[w] ?? 0) & ~(this.claimed[w] ?? 0)) >>> 0;
  }

  /** The best source to claim: highest priority above the threshold, lowest id on a tie; 0 if none. */
  private best(): number {
    let best = 0;
    let bestPriority = this.threshold;
    for (let w = 0; w < WORDS; w++) {
      const ready = this.pendingWord(w) & (this.enable[w] ?? 0);
      if (ready === 0) continue;
      for (let b = 0; b < 32; b++) {
        if ((ready & (1 << b)) === 0) continue;
        const source = w * 32 + b;
        const p = this.priority[source] ?? 0;
        if (p > bestPriority) {
          best = source;
          bestPriority = p;
        }
      }
    }
    return best;
  }

  /** Context 0's interrupt output: mip.MEIP from the PLIC. */
  get meip(): boolean {
    return this.best() !== 0;
  }

  /** A register's value; reading the claim register claims, unless `claim` is false (a debugger's peek). */
  private read(offset: number, claim = true): number {
    if (offset < PLIC_REG.PENDING) {
      const source = offset >>> 2;
      return source < PLIC_SOURCES ? (this.priority[source] ?? 0) : 0;
    }
    if (offset < PLIC_REG.ENABLE) {
      const w = (offset - PLIC_REG.PENDING) >>> 2;
      return w < WORDS ? this.pendingWord(w) : 0;
    }
    if (offset < PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE) {
      const w = (offset - PLIC_REG.ENABLE) >>> 2;
      return w < WORDS ? (this.enable[w] ?? 0) >>> 0 : 0;
    }
    if (offset === PLIC_REG.CONTEXT + PLIC_REG.THRESHOLD) return this.threshold;
    if (offset === PLIC_REG.CONTEXT + PLIC_REG.CLAIM) {
      const source = this.best();
      if (source !== 0 && claim) {
        const w = source >>> 5;
        this.claimed[w] = (this.claimed[w] ?? 0) | (1 << (source & 31));
        this.onChange();
      }
      return source;
    }
    // Other hart contexts (QEMU virt's S-mode context 1, ...) do not exist on this hart.
    return 0;
  }

  private write(offset: number, value: number): void {
    if (offset < PLIC_REG.PENDING) {
      const source = offset >>> 2;
      // Source 0 does not exist: its priority stays 0.
      if (source === 0 || source >= PLIC_SOURCES) return;
      this.priority[source] = value & PRIORITY_MASK;
    } else if (offset >= PLIC_REG.ENABLE && offset < PLIC_REG.ENABLE + PLIC_REG.ENABLE_STRIDE) {
      const w = (offset - PLIC_REG.ENABLE) >>> 2;
      if (w >= WORDS) return;
      // Bit 0 of word 0 is source 0: hard-wired to 0.
      this.enable[w] = w === 0 ? value & ~1 : value;
    } else if (offset === PLIC_REG.CONTEXT + PLIC_REG.THRESHOLD) {
      this.threshold = value & PRIORITY_MASK;
    } else if (offset === PLIC_REG.CONTEXT + PLIC_REG.CLAIM) {
      // Completion, as QEMU's model does it: any valid id leaves service, enabled or not.
      const source = value >>> 0;
      if (source === 0 || source >= PLIC_SOURCES) return;
      const w = source >>> 5;
      this.claimed[w] = (this.claimed[w] ?? 0) & ~(1 << (source & 31));
    } else {
      return;
    }
    this.onChange();
  }

  region(): MmioRegion {
    return {
      name: 'plic',
      base: RV32_MAP.PLIC,
      size: PLIC_SIZE,
      // 32-bit registers only, as QEMU's model (other widths read 0 and are ignored).
      read: (offset: number, width: Width) =>
        width === 4 && (offset & 3) === 0 ? this.read(offset) >>> 0 : 0,
      // A debugger sees what a claim would return without claiming.
      peek: (offset: number, width: Width) =>
        width === 4 && (offset & 3) === 0 ? this.read(offset, false) >>> 0 : 0,
      write: (offset: number, width: Width, value: number) => {
        if (width === 4 && (offset & 3) === 0) this.write(offset, value >>> 0);
      },
    };
  }
}
