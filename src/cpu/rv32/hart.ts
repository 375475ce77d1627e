// A machine-mode RV32IMAC hart: integer registers, pc, CSRs, trap and interrupt entry, and the
// slice loop that runs an execution engine (interpreter or block translator) for a bounded number
// of instructions. The engines execute the plain integer instructions themselves and leave to
// this class the rare paths: memory outside the main RAM fast path, stores into watched granules,
// system instructions (system.ts) and traps. RISC-V privileged spec, "Machine-Level ISA".

import { BRK_EXIT, BRK_SYSTEM, BRK_TRAP } from './brk.ts';
import { Bus, type RamArea, type Width } from './bus.ts';
import { CodeWatch, WATCH_CODE, WATCH_RESERVATION } from './code-watch.ts';
import { CsrFile } from './csr.ts';
import { compileDebugPoints, watchHit, ACCESS, STOP, type WatchRange } from './debug-points.ts';
import { decode, type Decoded } from './decode.ts';
import { DecodeCache, ENTRY, packInfo } from './decode-cache.ts';
import { interpret } from './interpreter.ts';
import { Jit, type JitProbation, type JitStats } from './jit.ts';
import { OP } from './opcodes.ts';
import { execSystem } from './system.ts';
import { CAUSE, INTERRUPT_BIT, highestInterrupt, type IrqLine } from './trap.ts';
import { Triggers, type DebugTriggerKind } from './triggers.ts';
import { WARMUP_RAM, warmUpInterpreter } from './warmup.ts';
import { RprocError } from '../../util/errors.ts';

/**
 * Instructions per engine call: short enough for prompt interrupt checks, long enough to amortise
 * entering the translated code. With the translator as it is now (heat counted by the
 * interpreter, probation), 16, 32 and 64 Ki gave the same rv32 bench figures within noise.
 */
const SLICE = 1 << 16;

export type EngineKind = 'interpreter' | 'jit';
export type MisalignedPolicy = 'emulate' | 'trap';

export interface HartOptions {
  readonly bus: Bus;
  readonly hartId?: number;
  readonly resetPc?: number;
  /** Base of the RAM region given the inline fast path; default: the one holding resetPc, else the first. */
  readonly mainRam?: number;
  /** mtime for the time/timeh CSRs; default: the retired-instruction count (deterministic). */
  readonly time?: () => number;
  /**
   * Misaligned loads and stores (not LR/SC/AMO, which always trap): 'emulate' performs them as
   * QEMU's virt machine does (default); 'trap' raises address-misaligned (mcause 4/6) as cores
   * without misaligned support do, to check that firmware is alignment-clean.
   */
  readonly misaligned?: MisalignedPolicy;
  readonly engine?: EngineKind;
  /**
   * Environment calls handled by the host (semihosting, a Linux-ABI test harness): called for
   * ECALL (cause 11) and EBREAK (cause 3) before the trap is taken. Returning true completes the
   * instruction instead (it retires and pc moves past it; the handler may then change pc or halt).
   */
  readonly onEnvCall?: (hart: Hart, cause: number) => boolean;
  /** Consecutive identical traps (same pc and cause, no mret between) that count as a trap loop. */
  readonly trapLoopLimit?: number;
  /** Halfword slots of the decoded-instruction cache (power of two). */
  readonly decodeCacheSlots?: number;
  /** Block translator tuning (tests use a low threshold to translate everything). */
  readonly jitThreshold?: number;
  /**
   * How the translator waits for V8 to optimise a new region (jit.ts, "Probation"); null: run
   * regions from the start. Tests supply a clock to make it deterministic.
   */
  readonly jitProbation?: JitProbation | null;
  /**
   * Translated code compiled for this hart alone (false, the default), or shared with every hart
   * of this thread that translates the same code (jit.ts, "One closure per function"): the cores
   * of one firmware in a core group then compile each region once instead of once each.
   */
  readonly jitSharedCode?: boolean;
}

export interface TrapRecord {
  readonly pc: number;
  readonly cause: number;
  readonly tval: number;
}

/** A situation the firmware cannot recover from by itself; the SoC turns it into a crash report. */
export interface FatalTrap extends TrapRecord {
  /** 'no-handler': mtvec does not point into RAM; 'trap-loop': the handler keeps trapping. */
  readonly kind: 'no-handler' | 'trap-loop';
  /** For a trap loop: the trap that started it (the original fault), when known. */
  readonly first?: TrapRecord;
}

export type RunReason = 'budget' | 'wfi' | 'halt' | 'stop' | 'fatal' | 'debug';

/** Why the hart stopped for a debugger (run() reason 'debug'); pc is where it stands. */
export type HartStop =
  /** A debugger breakpoint before the instruction at pc: software (Z0) or a debugger-owned execute trigger. */
  | { readonly kind: 'breakpoint'; readonly pc: number; readonly hard: boolean }
  /** A debugger-owned data trigger, before the access of the load/store/AMO at pc. */
  | { readonly kind: 'watch'; readonly pc: number; readonly addr: number; readonly access: WatchAccess };

export type WatchAccess = 'read' | 'write' | 'access';

export interface RunResult {
  readonly reason: RunReason;
  /** Instructions retired during this call. */
  readonly executed: number;
  readonly fatal?: FatalTrap;
  /** Reason 'debug': where and why. */
  readonly stop?: HartStop;
}

/** What an execution engine offers the hart. */
export interface Engine {
  /** Execute up to `budget` instructions from h.pc; return how many retired. */
  run(h: Hart, budget: number): number;
  /** A new Hart.run call (the caller's slice) starts. */
  startSlice(): void;
  /** The engine ended the slice early (the translator, after long translations): run() returns. */
  readonly sliceOver: boolean;
  /** Bytes [addr, addr + width) were written: drop code built from them; true if any was. */
  invalidate(addr: number, width: number): boolean;
  flush(): void;
}

/** The plain interpreter counts no heat (hot = 0); its table is never read. */
const NO_HEAT = new Int32Array(1);

let interpreterWarm = false;

/** Once per process, before the first run: give every path of the interpreter type feedback. */
function warmUp(): void {
  interpreterWarm = true;
  const ram = new Uint8Array(WARMUP_RAM);
  const bus = new Bus({ ram: [{ base: 0, size: WARMUP_RAM, bytes: ram, name: 'warm-up' }] });
  warmUpInterpreter(new Hart({ bus, resetPc: 0, engine: 'interpreter', decodeCacheSlots: 1024 }), ram);
}

const interpreterEngine: Engine = {
  run: (h, budget) => interpret(h, budget, NO_HEAT, 0),
  startSlice: () => undefined,
  sliceOver: false,
  invalidate: () => false,
  flush: () => undefined,
};

export class Hart {
  /**
   * @internal The register file as the interpreter sees it: x0..x31, then a 33rd entry that
   * takes the writes to x0 (the decode cache names it as rd 32), so x0 itself stays 0.
   */
  readonly xw = new Int32Array(33);
  /** The integer registers x0..x31 (x0 always reads 0). */
  readonly x = this.xw.subarray(0, 32);
  /** Address of the next instruction (unsigned). */
  pc: number;
  readonly csr: CsrFile;
  /** Instructions retired since reset (minstret before any write to it). */
  instret = 0;
  readonly bus: Bus;
  readonly engineKind: EngineKind;

  // --- engine interface: read by the interpreter and the translated blocks -------------------
  /** @internal The RAM region with the inline fast path, and its watch map. */
  readonly main: RamArea;
  /** @internal */
  readonly mainWatch: Uint8Array;
  /** @internal */
  readonly dcache: DecodeCache;
  /** @internal */
  readonly watch: CodeWatch;
  /** @internal BRK_* bits; engines test it after every call into the hart. */
  brk = 0;
  /** @internal True when stores to the main RAM need a barrier for FENCE (shared memory). */
  readonly sharedMain: boolean;

  // --- debugging (debug-points.ts): undefined when there is nothing to stop at ----------------
  /** The Sdtrig trigger module (CSRs 0x7a0–0x7a4). */
  readonly triggers: Triggers;
  /** @internal pcs the decoder marks with the BREAKPOINT pseudo-op (STOP bits). */
  stops: ReadonlyMap<number, number> | undefined;
  /** @internal data watch ranges: while set, run() checks every access before making it. */
  watches: readonly WatchRange[] | undefined;
  private readonly softBreaks = new Set<number>();
  private debugStop: HartStop | undefined;

  // --- reservation (LR/SC) --------------------------------------------------------------------
  /** @internal Reserved word address, or -1. */
  resvAddr = -1;
  /** @internal Value LR.W read there; SC.W succeeds only if memory still holds it. */
  resvValue = 0;

  private readonly engine: Engine;
  private readonly resetPc: number;
  private readonly misalignedTrap: boolean;
  private readonly onEnvCall: ((hart: Hart, cause: number) => boolean) | undefined;
  private readonly trapLoopLimit: number;
  private halted = false;
  private stopRequested = false;
  private waiting = false;
  private fatalTrap: FatalTrap | undefined;
  // Trap-loop detection: traps taken since the last mret, and the run of identical ones.
  private trapDepth = 0;
  private trapRepeats = 0;
  private lastTrap: TrapRecord | undefined;
  private firstTrap: TrapRecord | undefined;

  constructor(options: HartOptions) {
    this.bus = options.bus;
    this.resetPc = (options.resetPc ?? options.bus.ram[0]?.base ?? 0) >>> 0;
    this.pc = this.resetPc;
    const mainBase = options.mainRam ?? this.resetPc;
    const main = this.bus.ramAt(mainBase) ?? this.bus.ram[0];
    if (main === undefined)
      throw new RprocError('EINVAL', 'rv32-core', 'an rv32 hart needs at least one RAM region');
    this.main = main;
    this.sharedMain = main.shared;
    this.watch = new CodeWatch(this.bus.ram);
    this.mainWatch = this.watch.mapOf(main);
    this.dcache = new DecodeCache(options.decodeCacheSlots);
    const time = options.time;
    this.triggers = new Triggers(() => this.rebuildDebugPoints());
    this.csr = new CsrFile(
      options.hartId ?? 0,
      { retired: () => this.instret, time: time ?? (() => this.instret) },
      this.triggers,
    );
    this.misalignedTrap = options.misaligned === 'trap';
    this.onEnvCall = options.onEnvCall;
    this.trapLoopLimit = options.trapLoopLimit ?? 16;
    this.engineKind = options.engine ?? 'jit';
    this.engine =
      this.engineKind === 'jit'
        ? new Jit(
            this,
            options.jitThreshold,
            options.jitProbation === undefined ? {} : options.jitProbation,
            options.jitSharedCode === true,
          )
        : interpreterEngine;
  }

  /** The translator's counters and its current threshold (jit.ts); undefined for the interpreter. */
  get jitStats(): JitStats | undefined {
    return this.engine instanceof Jit
      ? { ...this.engine.stats, threshold: this.engine.threshold }
      : undefined;
  }

  /** Back to the reset state at `pc` (default: the reset pc); drops all cached code. */
  reset(pc: number = this.resetPc): void {
    this.x.fill(0);
    this.pc = pc >>> 0;
    this.csr.reset();
    this.instret = 0;
    this.halted = false;
    this.stopRequested = false;
    this.waiting = false;
    this.fatalTrap = undefined;
    this.debugStop = undefined;
    this.triggers.reset();
    this.trapDepth = 0;
    this.trapRepeats = 0;
    this.lastTrap = undefined;
    this.firstTrap = undefined;
    this.clearReservation();
    this.flushCode();
  }

  /**
   * Forget all decoded and translated code, as fence.i does. The host calls it after writing
   * code into the core's memory (loading firmware) while the hart keeps running.
   */
  flushCode(): void {
    this.dcache.flush();
    this.engine.flush();
    this.watch.clearAll(WATCH_CODE);
    this.brk |= BRK_EXIT;
  }

  /** Drive machine interrupt line `line` (IRQ.MEI/MTI/MSI) of mip. */
  setIrq(line: IrqLine, level: boolean): void {
    const bit = 1 << line;
    const mip = level ? this.csr.mipBits | bit : this.csr.mipBits & ~bit;
    if (mip !== this.csr.mipBits) {
      this.csr.mipBits = mip;
      // An MMIO handler may call this mid-slice: a line that rises may make an interrupt takeable,
      // so the code running leaves to have it re-checked at once; one that falls cannot (the
      // mailbox's read, which acknowledges its doorbell, no longer ends the region doing it).
      if (level) this.brk |= BRK_EXIT;
    }
  }

  /** Stop the hart for good (the test finisher, a power-off register): run() returns 'halt'. */
  halt(): void {
    this.halted = true;
    this.brk |= BRK_EXIT;
  }

  /** Make the current or next run() return 'stop' at the next instruction boundary. */
  requestStop(): void {
    this.stopRequested = true;
    this.brk |= BRK_EXIT;
  }

  private isWaiting(): boolean {
    return this.waiting;
  }

  get isHalted(): boolean {
    return this.halted;
  }

  get fatal(): FatalTrap | undefined {
    return this.fatalTrap;
  }

  /**
   * Execute up to maxInstructions instructions. Returns early on WFI with nothing to wake it
   * ('wfi': the caller sleeps until an interrupt line changes, then calls run again), on halt,
   * on requestStop, and on a fatal trap situation.
   */
  run(maxInstructions: number): RunResult {
    if (!interpreterWarm) warmUp();
    let executed = 0;
    this.waiting = false;
    this.engine.startSlice();
    for (;;) {
      if (this.fatalTrap !== undefined) return { reason: 'fatal', executed, fatal: this.fatalTrap };
      if (this.halted) return { reason: 'halt', executed };
      const stop = this.debugStop;
      if (stop !== undefined) {
        this.debugStop = undefined;
        return { reason: 'debug', executed, stop };
      }
      if (this.stopRequested) {
        this.stopRequested = false;
        return { reason: 'stop', executed };
      }
      if (this.isWaiting()) return { reason: 'wfi', executed };
      if (executed >= maxInstructions) return { reason: 'budget', executed };
      const csr = this.csr;
      if (csr.interruptTakeable()) {
        this.takeInterrupt(highestInterrupt(csr.mieBits & csr.mipBits));
        continue;
      }
      this.brk = 0;
      const budget = Math.min(maxInstructions - executed, SLICE);
      const n = this.watches === undefined ? this.engine.run(this, budget) : this.runWatched(budget);
      executed += n;
      this.instret += n;
      if ((this.brk & BRK_SYSTEM) !== 0 && executed < maxInstructions) {
        const retired = execSystem(this, this.pc | 0);
        executed += retired;
        this.instret += retired;
      }
      // As if the budget ran out: the caller samples its interrupt lines, then runs the next slice.
      if (this.engine.sliceOver) return { reason: 'budget', executed };
    }
  }

  // --- traps ----------------------------------------------------------------------------------

  /**
   * Take a synchronous exception raised by the instruction at epc: enter the handler, or record
   * a fatal situation and leave pc at the faulting instruction. Sets BRK_TRAP either way.
   */
  trap(cause: number, tval: number, epc: number): void {
    this.brk |= BRK_TRAP;
    const record: TrapRecord = { pc: epc >>> 0, cause, tval: tval >>> 0 };
    const target = this.handlerAddress(cause);
    if (!this.bus.isRam(target, 2)) {
      this.die({ kind: 'no-handler', ...record });
      this.pc = epc >>> 0;
      return;
    }
    const last = this.lastTrap;
    if (this.trapDepth > 0 && last !== undefined && last.pc === record.pc && last.cause === cause) {
      if (++this.trapRepeats >= this.trapLoopLimit) {
        this.die({
          kind: 'trap-loop',
          ...record,
          ...(this.firstTrap === undefined ? {} : { first: this.firstTrap }),
        });
        this.pc = epc >>> 0;
        return;
      }
    } else {
      this.trapRepeats = 1;
    }
    if (this.trapDepth === 0) this.firstTrap = record;
    this.trapDepth++;
    this.lastTrap = record;
    this.enter(cause, tval, epc, target);
  }

  private takeInterrupt(code: number): void {
    const cause = INTERRUPT_BIT | code | 0;
    const target = this.handlerAddress(cause);
    if (!this.bus.isRam(target, 2)) {
      this.die({ kind: 'no-handler', pc: this.pc, cause: cause >>> 0, tval: 0 });
      return;
    }
    this.enter(cause, 0, this.pc, target);
  }

  /** Handler address: mtvec BASE, plus 4 × cause for interrupts in vectored mode. */
  private handlerAddress(cause: number): number {
    const mtvec = this.csr.mtvec;
    const base = mtvec & ~3;
    if ((mtvec & 3) === 1 && (cause & INTERRUPT_BIT) !== 0) return (base + 4 * (cause & 0x7fff_ffff)) >>> 0;
    return base >>> 0;
  }

  private enter(cause: number, tval: number, epc: number, target: number): void {
    const csr = this.csr;
    csr.mepc = epc & ~1;
    csr.mcause = cause | 0;
    csr.mtval = tval | 0;
    csr.mpie = csr.mie;
    csr.mie = 0;
    this.clearReservation();
    this.pc = target;
  }

  private die(fatal: FatalTrap): void {
    this.fatalTrap = fatal;
    this.brk |= BRK_EXIT;
  }

  /** @internal MRET: back to mepc with MIE restored; ends any trap loop. */
  mret(): void {
    const csr = this.csr;
    csr.mie = csr.mpie;
    csr.mpie = 1;
    this.trapDepth = 0;
    this.trapRepeats = 0;
    this.clearReservation();
    this.pc = csr.mepc >>> 0;
  }

  /** @internal WFI retired with no interrupt pending: run() returns 'wfi'. */
  enterWait(): void {
    this.waiting = true;
    this.brk |= BRK_EXIT;
  }

  /** @internal An ECALL/EBREAK the host may handle; true when it did. */
  envCall(cause: number): boolean {
    return this.onEnvCall?.(this, cause) ?? false;
  }

  // --- instruction fetch ----------------------------------------------------------------------

  /**
   * @internal Decode the instruction at pc into the decode cache. Returns -1, or the address
   * whose fetch faulted (pc, or pc + 2 for the second half of a 4-byte instruction). At a stop pc
   * the entry is the BREAKPOINT pseudo-op (the instruction's fields kept), unless `real`.
   */
  fill(pc: number, real = false): number {
    const lo = this.fetch16(pc);
    if (lo < 0) return pc >>> 0;
    let hi = 0;
    if ((lo & 3) === 3) {
      hi = this.fetch16(pc + 2);
      if (hi < 0) return (pc + 2) >>> 0;
    }
    const d = decode(lo, hi);
    const stops = this.stops;
    this.dcache.set(
      pc,
      stops !== undefined && !real && stops.has(pc >>> 0) ? { ...d, op: OP.BREAKPOINT } : d,
    );
    this.watch.mark(pc, d.len, WATCH_CODE);
    return -1;
  }

  /** The instruction at pc as memory holds it, or undefined when it cannot be fetched. */
  decodeAt(pc: number): Decoded | undefined {
    const lo = this.fetch16(pc);
    if (lo < 0) return undefined;
    const hi = (lo & 3) === 3 ? this.fetch16(pc + 2) : 0;
    return hi < 0 ? undefined : decode(lo, hi);
  }

  /** A halfword of instruction memory (RAM only: executing from a device faults), or -1. */
  fetch16(addr: number): number {
    const r = this.bus.ramAt(addr);
    if (r === undefined) return -1;
    const off = (addr >>> 0) - r.base;
    return off + 2 <= r.size ? (r.u16[off >>> 1] ?? 0) : -1;
  }

  // --- debugging -------------------------------------------------------------------------------

  /** Insert or remove a debugger software breakpoint (gdb's Z0/z0): memory is not written. */
  setSoftBreakpoint(addr: number, on: boolean): void {
    const pc = addr >>> 0;
    if (on === this.softBreaks.has(pc)) return;
    if (on) this.softBreaks.add(pc);
    else this.softBreaks.delete(pc);
    this.rebuildDebugPoints();
  }

  /** The debugger's software breakpoints. */
  get softBreakpoints(): readonly number[] {
    return [...this.softBreaks];
  }

  /**
   * Take a trigger for the debugger (gdb's Z1–Z4): true when one was free, or this one is already
   * set; false when every trigger is in use.
   */
  claimTrigger(kind: DebugTriggerKind, addr: number, len: number): boolean {
    if (this.triggers.find(kind, addr, len) >= 0) return true;
    return this.triggers.claim(kind, addr, len) >= 0;
  }

  /** Give back the debugger's trigger of this kind at addr/len; false if there was none. */
  releaseTrigger(kind: DebugTriggerKind, addr: number, len: number): boolean {
    const i = this.triggers.find(kind, addr, len);
    if (i < 0) return false;
    this.triggers.release(i);
    return true;
  }

  /**
   * Execute one instruction for a debugger's single step, with interrupts held off (QEMU's
   * default for gdb steps). A firmware execute trigger at pc takes its exception (the step ends in
   * the handler); a debugger watch point stops it before the access (the stop is returned, pc
   * unchanged); a debugger breakpoint at pc does not stop it. Nothing happens on a halted or
   * fatally trapped hart.
   */
  step(): HartStop | undefined {
    if (this.halted || this.fatalTrap !== undefined) return undefined;
    if (!interpreterWarm) warmUp();
    this.debugStop = undefined;
    this.waiting = false;
    this.brk = 0;
    const pc = this.pc | 0;
    if (((this.stops?.get(pc >>> 0) ?? 0) & STOP.FIRMWARE) !== 0) {
      this.trap(CAUSE.BREAKPOINT, pc, pc);
    } else if (!this.watchCheck(pc)) {
      this.instret += this.execOne();
    }
    const stop = this.debugStop;
    this.debugStop = undefined;
    return stop;
  }

  /**
   * @internal The BREAKPOINT pseudo-op at pc (from Hart.execSystem): stop for the debugger, take a
   * firmware trigger's breakpoint exception (mtval = pc, as QEMU), or, when pc is no longer a stop
   * point (a stale entry), run the instruction. Returns the instructions retired.
   */
  breakAt(pc: number): number {
    const bits = this.stops?.get(pc >>> 0) ?? 0;
    if ((bits & (STOP.SOFT | STOP.HARD)) !== 0) {
      this.stopForDebugger({ kind: 'breakpoint', pc: pc >>> 0, hard: (bits & STOP.SOFT) === 0 });
      return 0;
    }
    if ((bits & STOP.FIRMWARE) !== 0) {
      this.trap(CAUSE.BREAKPOINT, pc, pc);
      return 0;
    }
    return this.execOne();
  }

  /**
   * @internal Execute the instruction at pc as memory holds it (never the BREAKPOINT pseudo-op)
   * through the interpreter; 1 if it retired, 0 if it trapped.
   */
  execOne(): number {
    const pc = this.pc | 0;
    const faultAt = this.fill(pc, true);
    if (faultAt >= 0) {
      this.trap(CAUSE.INSTRUCTION_ACCESS_FAULT, faultAt, pc);
      return 0;
    }
    this.brk = 0;
    let n = interpret(this, 1, NO_HEAT, 0);
    if (n === 0 && (this.brk & BRK_SYSTEM) !== 0) n = execSystem(this, pc);
    // The entry holds the real instruction now: a stop point there must be decoded again.
    if (this.stops?.has(pc >>> 0) === true) this.dcache.invalidate(pc, 1);
    return n;
  }

  /**
   * A debugger's write through this hart's view: RAM byte by byte (code decoded or translated from
   * it is dropped, as for the hart's own stores), device registers as aligned word stores where
   * possible. Returns the bytes written: fewer than asked when it reached unmapped space.
   */
  debugWrite(addr: number, bytes: Uint8Array): number {
    const bus = this.bus;
    let i = 0;
    while (i < bytes.length) {
      const a = (addr + i) >>> 0;
      const r = bus.ramAt(a);
      if (r !== undefined) {
        r.u8[a - r.base] = bytes[i] ?? 0;
        if (this.watch.bits(a, 1) !== 0) this.watchedStore(a, 1);
        i++;
        continue;
      }
      if (bus.mmioAt(a) === undefined) break;
      const word = (a & 3) === 0 && i + 4 <= bytes.length;
      const width = word ? 4 : 1;
      const value = word
        ? (bytes[i] ?? 0) |
          ((bytes[i + 1] ?? 0) << 8) |
          ((bytes[i + 2] ?? 0) << 16) |
          ((bytes[i + 3] ?? 0) << 24)
        : (bytes[i] ?? 0);
      bus.clearFault();
      bus.write(a, width, value);
      if (bus.faulted) break;
      i += width;
    }
    return i;
  }

  private stopForDebugger(stop: HartStop): void {
    this.debugStop = stop;
    this.brk |= BRK_EXIT;
  }

  /**
   * The engine while data watch ranges are set: one instruction at a time through the
   * interpreter, each access checked against the ranges first (the translated blocks are
   * bypassed: they would make the access before anything could look at it).
   */
  private runWatched(budget: number): number {
    let n = 0;
    while (n < budget) {
      const pc = this.pc | 0;
      if (this.watchCheck(pc)) break;
      this.brk = 0;
      // The checked instruction, and the instructions after it up to the next access (or jump).
      n += interpret(this, Math.min(budget - n, 1 + this.accessFreeRunAfter(pc)), NO_HEAT, 0);
      // A system op (run() executes it, then calls again), a trap, an exit request.
      if (this.brk !== 0) break;
    }
    return n;
  }

  /**
   * How many instructions after the one at pc, in a straight line, make no memory access (nor are
   * a stop point or system op): the interpreter may run them unchecked. A control transfer counts
   * and ends the run (where it leads is checked next); so does an instruction not decoded yet. None
   * when the one at pc itself transfers control (or is not decoded).
   */
  private accessFreeRunAfter(pc: number): number {
    const dc = this.dcache;
    const first = ENTRY * ((pc >>> 1) & dc.mask);
    if (dc.e[first] !== pc) return 0;
    const firstInfo = dc.e[first + 1] ?? 0;
    const firstOp = firstInfo & 0xff;
    if (firstOp >= OP.JAL && firstOp <= OP.BGEU) return 0;
    let k = 0;
    for (let a = (pc + 2 + ((firstInfo >>> 23) & 2)) | 0; k < 64; k++) {
      const i = ENTRY * ((a >>> 1) & dc.mask);
      if (dc.e[i] !== a) return k;
      const info = dc.e[i + 1] ?? 0;
      const op = info & 0xff;
      if ((op >= OP.LB && op <= OP.SW) || op >= OP.FENCE || op === OP.ILLEGAL) return k;
      if (op >= OP.JAL && op <= OP.BGEU) return k + 1;
      a = (a + 2 + ((info >>> 23) & 2)) | 0;
    }
    return k;
  }

  /**
   * Before the instruction at pc: when its load, store or AMO touches a watch range, stop for
   * the debugger (its range) or take the breakpoint exception (a firmware trigger; mtval = the
   * first watched byte accessed, as QEMU's hitaddr), and return true.
   */
  private watchCheck(pc: number): boolean {
    const watches = this.watches;
    if (watches === undefined) return false;
    const dc = this.dcache;
    const i = ENTRY * ((pc >>> 1) & dc.mask);
    // A fetch fault is the engine's to raise.
    if (dc.e[i] !== pc && this.fill(pc) >= 0) return false;
    let info = dc.e[i + 1] ?? 0;
    let imm = dc.e[i + 2] ?? 0;
    if ((info & 0xff) === OP.BREAKPOINT) {
      const d = this.decodeAt(pc);
      if (d === undefined) return false;
      info = packInfo(d);
      imm = d.imm;
    }
    const op = info & 0xff;
    const base = this.x[(info >>> 14) & 31] ?? 0;
    let addr: number;
    let width: number;
    let access: number;
    if (op >= OP.LB && op <= OP.LHU) {
      addr = base + imm;
      width = op === OP.LB || op === OP.LBU ? 1 : op === OP.LH || op === OP.LHU ? 2 : 4;
      access = ACCESS.LOAD;
    } else if (op >= OP.SB && op <= OP.SW) {
      addr = base + imm;
      width = 1 << (op - OP.SB);
      access = ACCESS.STORE;
    } else if (op >= OP.LR_W && op <= OP.AMOMAXU_W) {
      addr = base;
      width = 4;
      access = op === OP.LR_W ? ACCESS.LOAD : op === OP.SC_W ? ACCESS.STORE : ACCESS.LOAD | ACCESS.STORE;
    } else {
      return false;
    }
    const hit = watchHit(watches, addr, width, access);
    if (hit === undefined) return false;
    if (hit.debugger) {
      const kind = hit.access === ACCESS.LOAD ? 'read' : hit.access === ACCESS.STORE ? 'write' : 'access';
      this.stopForDebugger({ kind: 'watch', pc: pc >>> 0, addr: hit.addr, access: kind });
    } else {
      this.trap(CAUSE.BREAKPOINT, Math.max(addr >>> 0, hit.lo), pc);
    }
    return true;
  }

  /**
   * Recompile the stop pcs and watch ranges after a breakpoint or trigger changed, and drop the
   * decoded and translated code at every pc that became or stopped being a stop point (a block
   * that ends in front of one is dropped too: it would hand the hart a pc it no longer stops at).
   */
  private rebuildDebugPoints(): void {
    const before = this.stops;
    const next = compileDebugPoints(this.softBreaks, this.triggers.armed());
    this.stops = next.stops;
    this.watches = next.watches;
    const changed = new Set<number>();
    for (const [pc, bits] of before ?? []) if (next.stops?.get(pc) !== bits) changed.add(pc);
    for (const [pc, bits] of next.stops ?? []) if (before?.get(pc) !== bits) changed.add(pc);
    for (const pc of changed) {
      this.dcache.invalidate(pc, 4);
      this.engine.invalidate((pc - 2) >>> 0, 6);
    }
    this.brk |= BRK_EXIT;
  }

  // --- data memory slow paths -----------------------------------------------------------------

  /**
   * @internal Load for the engines' slow path: unsigned for widths 1 and 2, signed for 4. On a
   * fault the trap is taken (BRK_TRAP) and 0 returned.
   */
  load(addr: number, width: Width, pc: number): number {
    if (this.misalignedTrap && (addr & (width - 1)) !== 0) {
      this.trap(CAUSE.LOAD_MISALIGNED, addr, pc);
      return 0;
    }
    const bus = this.bus;
    bus.clearFault();
    const v = bus.read(addr, width);
    if (bus.faulted) {
      this.trap(CAUSE.LOAD_ACCESS_FAULT, addr, pc);
      return 0;
    }
    return v;
  }

  /** @internal Load into x[rd] (sign-extended if asked) unless it trapped; x0 is not written. */
  loadInto(rd: number, addr: number, width: Width, signed: boolean, pc: number): void {
    const v = this.load(addr, width, pc);
    if ((this.brk & BRK_TRAP) !== 0 || rd === 0) return;
    this.x[rd] = !signed || width === 4 ? v : width === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
  }

  /** @internal Store for the engines' slow path; traps on a fault. */
  store(addr: number, width: Width, value: number, pc: number): void {
    if (this.misalignedTrap && (addr & (width - 1)) !== 0) {
      this.trap(CAUSE.STORE_MISALIGNED, addr, pc);
      return;
    }
    const bus = this.bus;
    bus.clearFault();
    bus.write(addr, width, value);
    if (bus.faulted) {
      this.trap(CAUSE.STORE_ACCESS_FAULT, addr, pc);
      return;
    }
    if (this.watch.bits(addr, width) !== 0) this.watchedStore(addr, width);
  }

  /**
   * @internal A store hit a watched granule: clear an overlapping reservation, and drop decoded
   * and translated code built from the written bytes (the engine must then leave its block,
   * which may be the code just overwritten: BRK_EXIT).
   */
  watchedStore(addr: number, width: number): void {
    const a = addr >>> 0;
    if (this.resvAddr >= 0 && a < this.resvAddr + 4 && this.resvAddr < a + width) this.clearReservation();
    if ((this.watch.bits(a, width) & WATCH_CODE) !== 0) {
      this.dcache.invalidate(a, width);
      if (this.engine.invalidate(a, width)) this.brk |= BRK_EXIT;
    }
  }

  /** @internal */
  setReservation(addr: number, value: number): void {
    this.clearReservation();
    this.resvAddr = addr >>> 0;
    this.resvValue = value;
    this.watch.mark(addr, 4, WATCH_RESERVATION);
  }

  /** @internal */
  clearReservation(): void {
    if (this.resvAddr >= 0) this.watch.clear(this.resvAddr, WATCH_RESERVATION);
    this.resvAddr = -1;
  }
}
