// A hart on a small RAM for instruction-level tests: a program (32-bit words, or halfwords for
// compressed code) is placed at RAM_BASE, registers are preset, and the program ends with EBREAK,
// which the environment-call hook turns into a halt. Runs under either engine; with the
// translator's threshold at 1 every block is translated the second time control reaches it.

import { Bus, type MmioRegion } from '../../../src/cpu/rv32/bus.ts';
import { Hart, type EngineKind, type HartOptions, type RunResult } from '../../../src/cpu/rv32/hart.ts';
import { CAUSE } from '../../../src/cpu/rv32/trap.ts';

export const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x1_0000;
/** A data area inside the RAM, away from the code. */
export const DATA = RAM_BASE + 0x8000;

export const ENGINES: readonly EngineKind[] = ['interpreter', 'jit'];

export interface TestHartOptions extends Partial<Omit<HartOptions, 'bus'>> {
  readonly shared?: boolean;
  readonly mmio?: readonly MmioRegion[];
  /** Let EBREAK trap normally instead of halting. */
  readonly ebreakTraps?: boolean;
  /** Words to place in RAM before running: [address, words]. */
  readonly data?: readonly (readonly [number, readonly number[]])[];
}

/** The environment-call hook of a test hart: EBREAK halts it (the end of a test program), ECALL traps. */
const haltOnEbreak: NonNullable<HartOptions['onEnvCall']> = (h, cause) => {
  if (cause !== CAUSE.BREAKPOINT) return false;
  h.halt();
  return true;
};

/**
 * A hart on a bus of the test's own making, reset at RAM_BASE, whose translator takes a block the
 * second time it runs, with no probation (deterministic) and EBREAK halting it.
 */
export function hartOnBus(
  bus: Bus,
  engine: EngineKind,
  options: Partial<Omit<HartOptions, 'bus'>> = {},
): Hart {
  return new Hart({
    bus,
    resetPc: RAM_BASE,
    engine,
    jitThreshold: 1,
    jitProbation: null,
    onEnvCall: haltOnEbreak,
    ...options,
  });
}

export function makeHart(engine: EngineKind, options: TestHartOptions = {}): { hart: Hart; ram: Uint8Array } {
  const ram = new Uint8Array(
    options.shared === true ? new SharedArrayBuffer(RAM_SIZE) : new ArrayBuffer(RAM_SIZE),
  );
  const bus = new Bus({ ram: [{ base: RAM_BASE, size: RAM_SIZE, bytes: ram }], mmio: options.mmio ?? [] });
  const hart = new Hart({
    bus,
    resetPc: RAM_BASE,
    engine,
    jitThreshold: 1,
    onEnvCall: options.ebreakTraps === true ? () => false : haltOnEbreak,
    ...options,
  });
  return { hart, ram };
}

/** Write 32-bit words at addr (little-endian). */
export function poke32(ram: Uint8Array, addr: number, words: readonly number[]): void {
  const dv = new DataView(ram.buffer, ram.byteOffset);
  words.forEach((w, i) => dv.setInt32(addr - RAM_BASE + 4 * i, w | 0, true));
}

export function peek32(ram: Uint8Array, addr: number): number {
  return new DataView(ram.buffer, ram.byteOffset).getInt32(addr - RAM_BASE, true);
}

/** Write 16-bit halfwords at addr. */
export function poke16(ram: Uint8Array, addr: number, halves: readonly number[]): void {
  const dv = new DataView(ram.buffer, ram.byteOffset);
  halves.forEach((h, i) => dv.setUint16(addr - RAM_BASE + 2 * i, h, true));
}

/**
 * Run `program` (followed by EBREAK) with registers preset from `regs`; returns the hart after
 * it halted (or after maxInstructions).
 */
export function runProgram(
  engine: EngineKind,
  program: readonly number[],
  regs: Readonly<Record<number, number>> = {},
  options: TestHartOptions = {},
  maxInstructions = 10_000,
): { hart: Hart; ram: Uint8Array; result: RunResult } {
  const { hart, ram } = makeHart(engine, options);
  poke32(ram, RAM_BASE, [...program, 0x00100073]);
  for (const [addr, words] of options.data ?? []) poke32(ram, addr, words);
  for (const [r, v] of Object.entries(regs)) hart.x[Number(r)] = v;
  const result = hart.run(maxInstructions);
  return { hart, ram, result };
}
