// The Sdtrig trigger module of an M-mode-only hart (RISC-V Debug Specification, "Sdtrig"): the
// tselect/tdata1/tdata2/tdata3/tinfo CSRs with address-match triggers of type 2 (mcontrol) and 6
// (mcontrol6), legalised as QEMU's target/riscv/debug.c does (match, chain, timing, select, hit
// read 0; action 0 = breakpoint exception; an unsupported type or size is ignored), plus
// debugger-owned triggers (dmode = 1, action = 1 "enter Debug Mode"): the ones gdb's Z1–Z4
// packets take, which M-mode reads but cannot write, and which stop the core for the debugger
// instead of raising an exception. The hart turns the armed triggers into its stop points and
// watch ranges (debug-points.ts).

/** Trigger CSR numbers. */
export const TRIGGER_CSR = {
  tselect: 0x7a0,
  tdata1: 0x7a1,
  tdata2: 0x7a2,
  tdata3: 0x7a3,
  tinfo: 0x7a4,
} as const;

/**
 * Triggers per hart. QEMU has 2; we give 4 so that gdb's hardware breakpoints and watchpoints
 * leave room for the firmware's own (docs/rv32-core.md). Software counts them by writing tselect.
 */
export const TRIGGER_COUNT = 4;

const TRIGGER_TYPE = { MCONTROL: 2, MCONTROL6: 6 } as const;

/** tinfo: the types every trigger supports (bit n = type n), as QEMU reports them. */
export const TINFO = (1 << TRIGGER_TYPE.MCONTROL) | (1 << TRIGGER_TYPE.MCONTROL6);

/** tdata1 fields shared by mcontrol and mcontrol6 on RV32. */
export const MCONTROL = {
  LOAD: 1 << 0,
  STORE: 1 << 1,
  EXECUTE: 1 << 2,
  U: 1 << 3,
  S: 1 << 4,
  M: 1 << 6,
  /** action [15:12]: 0 breakpoint exception, 1 enter Debug Mode. */
  ACTION_SHIFT: 12,
  /** mcontrol sizelo [17:16]. */
  SIZELO_SHIFT: 16,
  /** mcontrol6 size [19:16]. */
  SIZE6_SHIFT: 16,
  DMODE: 1 << 27,
  TYPE_SHIFT: 28,
} as const;

const TYPE2_RESET = TRIGGER_TYPE.MCONTROL << MCONTROL.TYPE_SHIFT;
const MODE_AND_ACCESS =
  MCONTROL.U | MCONTROL.S | MCONTROL.M | MCONTROL.LOAD | MCONTROL.STORE | MCONTROL.EXECUTE;
const ACCESS = MCONTROL.LOAD | MCONTROL.STORE | MCONTROL.EXECUTE;

/** Bytes an access-size encoding covers; -1: not supported (QEMU falls back to "any size"). */
const ACCESS_SIZE = [0, 1, 2, 4, -1, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1];

/** What a debugger asks a trigger for. */
export type DebugTriggerKind = 'execute' | 'write' | 'read' | 'access';

/** One armed trigger as the hart uses it. */
export interface ArmedTrigger {
  readonly index: number;
  /** True for a debugger-owned trigger (dmode = 1): it stops the core instead of trapping. */
  readonly debugger: boolean;
  readonly execute: boolean;
  readonly load: boolean;
  readonly store: boolean;
  readonly addr: number;
  /** Bytes watched from addr (data triggers). */
  readonly len: number;
}

export class Triggers {
  private select = 0;
  private readonly tdata1 = new Int32Array(TRIGGER_COUNT).fill(TYPE2_RESET);
  private readonly tdata2 = new Int32Array(TRIGGER_COUNT);
  private readonly tdata3 = new Int32Array(TRIGGER_COUNT);
  /** Watched length of a debugger-owned trigger (gdb asks for any length, not just 1/2/4/8). */
  private readonly debugLen = new Int32Array(TRIGGER_COUNT);
  /** Called after any change that arms, moves or disarms a trigger. */
  private readonly changed: () => void;

  constructor(changed: () => void) {
    this.changed = changed;
  }

  /** Reset M-mode's triggers (type 2, disarmed); the debugger keeps its own across a reset. */
  reset(): void {
    this.select = 0;
    for (let i = 0; i < TRIGGER_COUNT; i++) {
      if (((this.tdata1[i] ?? 0) & MCONTROL.DMODE) !== 0) continue;
      this.tdata1[i] = TYPE2_RESET;
      this.tdata2[i] = 0;
      this.tdata3[i] = 0;
    }
    this.changed();
  }

  /** A trigger CSR's value, or undefined when `csr` is not one. */
  read(csr: number): number | undefined {
    const i = this.select;
    switch (csr) {
      case TRIGGER_CSR.tselect:
        return i;
      case TRIGGER_CSR.tdata1:
        return this.tdata1[i] ?? 0;
      case TRIGGER_CSR.tdata2:
        return this.tdata2[i] ?? 0;
      case TRIGGER_CSR.tdata3:
        return this.tdata3[i] ?? 0;
      case TRIGGER_CSR.tinfo:
        return TINFO;
      default:
        return undefined;
    }
  }

  /**
   * An M-mode write (a CSR instruction, or the debugger writing the CSR as firmware would). A
   * trigger with dmode = 1 belongs to the debugger: M-mode writes to its tdata registers are
   * ignored (Sdtrig: "only Debug Mode can write" them).
   */
  write(csr: number, value: number): void {
    const i = this.select;
    if (csr === TRIGGER_CSR.tselect) {
      // An index past the last trigger is ignored: that is how software counts them.
      if (value >>> 0 < TRIGGER_COUNT) this.select = value >>> 0;
      return;
    }
    if (((this.tdata1[i] ?? 0) & MCONTROL.DMODE) !== 0) return;
    switch (csr) {
      case TRIGGER_CSR.tdata1: {
        const type = value >>> MCONTROL.TYPE_SHIFT;
        // Types we do not implement leave the trigger as it was (QEMU logs and ignores them).
        if (type !== TRIGGER_TYPE.MCONTROL && type !== TRIGGER_TYPE.MCONTROL6) return;
        const legal = legalise(type, value);
        if (legal !== this.tdata1[i]) {
          this.tdata1[i] = legal;
          this.changed();
        }
        return;
      }
      case TRIGGER_CSR.tdata2:
        if ((value | 0) !== this.tdata2[i]) {
          this.tdata2[i] = value | 0;
          this.changed();
        }
        return;
      case TRIGGER_CSR.tdata3:
        this.tdata3[i] = legaliseTextra(value);
        this.changed();
        return;
      default:
        // tinfo: writes ignored.
        return;
    }
  }

  /**
   * Take a free trigger for the debugger (gdb's Z1–Z4): one M-mode has not armed. Returns its
   * index, or -1 when every trigger is in use.
   */
  claim(kind: DebugTriggerKind, addr: number, len: number): number {
    for (let i = 0; i < TRIGGER_COUNT; i++) {
      const t = this.tdata1[i] ?? 0;
      if ((t & MCONTROL.DMODE) !== 0 || (t & ACCESS) !== 0) continue;
      const access =
        kind === 'execute'
          ? MCONTROL.EXECUTE
          : kind === 'write'
            ? MCONTROL.STORE
            : kind === 'read'
              ? MCONTROL.LOAD
              : MCONTROL.LOAD | MCONTROL.STORE;
      const size = len === 1 ? 1 : len === 2 ? 2 : len === 4 ? 3 : 0;
      this.tdata1[i] =
        TYPE2_RESET |
        MCONTROL.DMODE |
        (1 << MCONTROL.ACTION_SHIFT) |
        (size << MCONTROL.SIZELO_SHIFT) |
        MCONTROL.M |
        access;
      this.tdata2[i] = addr | 0;
      this.tdata3[i] = 0;
      this.debugLen[i] = Math.max(1, len | 0);
      this.changed();
      return i;
    }
    return -1;
  }

  /** Give a debugger-owned trigger back (reset to an unarmed type 2 trigger). */
  release(index: number): void {
    if (((this.tdata1[index] ?? 0) & MCONTROL.DMODE) === 0) return;
    this.tdata1[index] = TYPE2_RESET;
    this.tdata2[index] = 0;
    this.debugLen[index] = 0;
    this.changed();
  }

  /** Index of the debugger-owned trigger of this kind at addr/len, or -1. */
  find(kind: DebugTriggerKind, addr: number, len: number): number {
    for (const t of this.armed()) {
      if (!t.debugger || t.addr !== addr >>> 0) continue;
      const k: DebugTriggerKind = t.execute
        ? 'execute'
        : t.load && t.store
          ? 'access'
          : t.store
            ? 'write'
            : 'read';
      if (k === kind && (kind === 'execute' || t.len === Math.max(1, len | 0))) return t.index;
    }
    return -1;
  }

  /**
   * The triggers that can fire on this M-mode hart: enabled for M (the only mode there is), with
   * at least one of execute/load/store, and a textra that matches (mhselect 0, or a context value
   * of 0: there is no mcontext to compare with).
   */
  armed(): ArmedTrigger[] {
    const out: ArmedTrigger[] = [];
    for (let i = 0; i < TRIGGER_COUNT; i++) {
      const t = this.tdata1[i] ?? 0;
      if ((t & MCONTROL.M) === 0 || (t & ACCESS) === 0) continue;
      const textra = this.tdata3[i] ?? 0;
      if (((textra >>> 23) & 7) === 4 && textra >>> 26 !== 0) continue;
      const debuggerOwned = (t & MCONTROL.DMODE) !== 0;
      const type = t >>> MCONTROL.TYPE_SHIFT;
      const sizeCode = type === TRIGGER_TYPE.MCONTROL6 ? (t >>> 16) & 0xf : (t >>> 16) & 3;
      // Size "any" watches a word, as QEMU does on RV32.
      const len = debuggerOwned ? (this.debugLen[i] ?? 1) : (ACCESS_SIZE[sizeCode] ?? 0) || 4;
      out.push({
        index: i,
        debugger: debuggerOwned,
        execute: (t & MCONTROL.EXECUTE) !== 0,
        load: (t & MCONTROL.LOAD) !== 0,
        store: (t & MCONTROL.STORE) !== 0,
        addr: (this.tdata2[i] ?? 0) >>> 0,
        len,
      });
    }
    return out;
  }
}

/**
 * tdata1 as QEMU keeps it: the type, the mode and access bits and a supported size; match, chain,
 * action, timing, select, hit and dmode read 0 (only equal-match, before-access, breakpoint
 * exception triggers exist for M-mode).
 */
function legalise(type: number, value: number): number {
  let v = (type << MCONTROL.TYPE_SHIFT) | (value & MODE_AND_ACCESS);
  if (type === TRIGGER_TYPE.MCONTROL6) {
    const size = (value >>> MCONTROL.SIZE6_SHIFT) & 0xf;
    if ((ACCESS_SIZE[size] ?? -1) >= 0) v |= size << MCONTROL.SIZE6_SHIFT;
  } else {
    v |= value & (3 << MCONTROL.SIZELO_SHIFT);
  }
  return v | 0;
}

/** textra32: mhvalue [31:26] kept, mhselect [25:23] folded to 0 or 4 (QEMU), the rest 0. */
function legaliseTextra(value: number): number {
  const mhvalue = value >>> 26;
  const mhselect = (value >>> 23) & 7;
  return (mhvalue << 26) | ((mhselect >= 4 ? 4 : 0) << 23) | 0;
}
