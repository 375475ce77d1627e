// Where a hart must stop or trap before an instruction runs, compiled from the debugger's software
// breakpoints (gdb's Z0, kept here, never written into memory, as QEMU does) and the armed Sdtrig
// triggers (triggers.ts): a map of stop pcs that the decoder turns into the BREAKPOINT pseudo-op
// (so the interpreter and the translated blocks stop in front of them at no cost elsewhere), and
// the data watch ranges that put the hart in its checked mode (every access tested before it is
// made). Both are undefined when empty, which is what the hot paths test.

import type { ArmedTrigger } from './triggers.ts';

/** Bits of a stop pc: who stops there. */
export const STOP = {
  /** A debugger software breakpoint (Z0): stop for the debugger, reported as swbreak. */
  SOFT: 1,
  /** A debugger-owned execute trigger (Z1): stop for the debugger, reported as hwbreak. */
  HARD: 2,
  /** A firmware execute trigger (action 0): breakpoint exception, mcause 3, mtval = pc. */
  FIRMWARE: 4,
} as const;

/** Accesses a watch range reacts to. */
export const ACCESS = { LOAD: 1, STORE: 2 } as const;

export interface WatchRange {
  readonly lo: number;
  /** One past the last byte. */
  readonly hi: number;
  /** ACCESS bits. */
  readonly access: number;
  readonly debugger: boolean;
  /** The watched address as the trigger (or gdb) gave it: reported in the stop. */
  readonly addr: number;
}

export interface DebugPointSet {
  readonly stops: ReadonlyMap<number, number> | undefined;
  readonly watches: readonly WatchRange[] | undefined;
}

/** Compile the stop pcs and watch ranges of software breakpoints plus armed triggers. */
export function compileDebugPoints(
  soft: ReadonlySet<number>,
  triggers: readonly ArmedTrigger[],
): DebugPointSet {
  const stops = new Map<number, number>();
  for (const pc of soft) stops.set(pc >>> 0, STOP.SOFT);
  const watches: WatchRange[] = [];
  for (const t of triggers) {
    if (t.execute) {
      const pc = t.addr >>> 0;
      stops.set(pc, (stops.get(pc) ?? 0) | (t.debugger ? STOP.HARD : STOP.FIRMWARE));
    }
    const access = (t.load ? ACCESS.LOAD : 0) | (t.store ? ACCESS.STORE : 0);
    if (access !== 0) {
      const lo = t.addr >>> 0;
      watches.push({ lo, hi: lo + t.len, access, debugger: t.debugger, addr: lo });
    }
  }
  // The debugger's watches are looked at first: at the same access it stops before the firmware traps.
  watches.sort((a, b) => Number(b.debugger) - Number(a.debugger));
  return {
    stops: stops.size === 0 ? undefined : stops,
    watches: watches.length === 0 ? undefined : watches,
  };
}

/** The first watch range that an access of `access` to [addr, addr + width) hits, if any. */
export function watchHit(
  watches: readonly WatchRange[],
  addr: number,
  width: number,
  access: number,
): WatchRange | undefined {
  const lo = addr >>> 0;
  const hi = lo + width;
  for (const w of watches) if ((w.access & access) !== 0 && w.lo < hi && lo < w.hi) return w;
  return undefined;
}
