// The block translator's dispatcher. Cold code runs in the interpreter, which counts, in a
// direct-mapped table per block entry pc, the executions of the blocks it enters through a control
// transfer (the dispatcher counts those it enters through a region's side exit, and the pc the
// hart resumes at after a system instruction, a trap or an MRET); a block whose
// count has reached the threshold gets its region (jit-region.ts: the blocks around it that have
// run at least threshold / 16 times) translated to a JavaScript function (jit-codegen.ts,
// `new Function`) the next time control reaches it, and every block of the region becomes an
// entry of the dispatch table, where the interpreter stops; the function is entered at the roots
// of its structure (jit-structure.ts), and from its other blocks the interpreter goes on to the
// next block entry (a non-root block reached that way `threshold` times gets a region of its own,
// rooted there). The threshold adapts (see "Adaptive
// threshold" below) so that short programs are translated too.
// A new region is on probation until V8 has optimised it (see "Probation" below): until then the
// interpreter, which is faster than V8's baseline code for a region, runs most of its code.
//
// Invalidation follows the decode cache: each region marks the granules holding its code in the
// hart's CodeWatch, so a store there reaches invalidate(), which drops every region whose
// instruction bytes overlap the written bytes (and the running one then leaves at once:
// Hart.watchedStore sets BRK_EXIT). fence.i and Hart.flushCode drop everything.

import { div, divu, mulh, mulhsu, mulhu, rem, remu } from './alu.ts';
import { GRANULE_SHIFT, WATCH_CODE } from './code-watch.ts';
import type { Engine, Hart } from './hart.ts';
import { interpret } from './interpreter.ts';
import { CLOSURE_PARAMS, generateRegion } from './jit-codegen.ts';
import { csrAccess } from './jit-csr.ts';
import { NO_LOAD, ramAccess } from './jit-ram.ts';
import { discoverRegion, type Region } from './jit-region.ts';

type RegionFn = (entry: number, budget: number) => number;

/** Factory built by `new Function`: closes the region function over the hart's state. */
type RegionFactory = (...closure: unknown[]) => RegionFn;

interface Translated {
  readonly region: Region;
  readonly fn: RegionFn;
  /** [start, limit) byte ranges of its blocks, for overlap checks. */
  readonly ranges: readonly (readonly [number, number])[];
  dead: boolean;
  /** Probation over: V8 has optimised the function (or we stopped waiting for it). */
  fast: boolean;
  /** Probation: instructions run, calls and time taken (ms) in the current measuring window. */
  windowInsns: number;
  windowCalls: number;
  windowMs: number;
  /** Probation: instructions run in total, and times found slow after the warm-up. */
  ran: number;
  probes: number;
  /** Probation: until this time (the clock's ms) the interpreter runs its code instead. */
  coolUntil: number;
  /** Probation: the next cooling time (ms), and when the first slow window after the warm-up ended. */
  cool: number;
  slowSince: number;
  /** Translated below the starting threshold, from a young profile; instructions it ran since. */
  early: boolean;
  earlyRan: number;
}

/*
 * Probation. A new region's function runs unoptimised (V8's Ignition or Sparkplug code, 20 to 50
 * times slower than the optimised interpreter) until TurboFan has compiled it on its background
 * thread, which takes tens of milliseconds, hundreds when the other core is busy. V8 marks a
 * function for optimisation after it has run a while (10,000 to 60,000 guest instructions of a
 * region, measured on the rv32 bench), so a new region runs normally for its first PROBATION_WARM
 * instructions, each call timed. After that, while its calls still run slowly, the interpreter
 * executes its code for a cooling time (COOL_MS, doubling up to MAX_COOL_MS) and the region is
 * tried again with a short call (PROBATION_CALL instructions), so that waiting for the compiler
 * costs little. The first window measuring at least FAST_MIPS, or a quarter (INTERP_FRACTION) of
 * the interpreter's speed over its last cooling stretch when that is lower (a loaded machine slows
 * both alike; unoptimised code is 20 times slower still), ends probation; so does waiting
 * GIVE_UP_MS, or MAX_PROBES slow windows of short calls (SHORT_CALL instructions on average).
 *
 * A call's time is read off the clock, whose own cost (about 0.1 µs a reading here, as much as a
 * short call of optimised code) is measured once and taken off every call; and a call is allowed
 * the cost of CALL_INSNS instructions on top of its own for entering and leaving the function
 * (its registers loaded and stored back). Without the two a region whose calls run a few
 * instructions each (an interrupt handler's, an echo's) never measured fast, stayed on probation
 * for tens of thousands of calls, and the interpreter ran its code while it cooled.
 */
const PROBATION_CALL = 2_000;
const PROBATION_WINDOW = 4_000;
const PROBATION_WARM = 60_000;
const FAST_MIPS = 150;
const INTERP_FRACTION = 4;
const COOL_MS = 2;
const MAX_COOL_MS = 32;
const GIVE_UP_MS = 1_000;
const COOL_CHUNK = 10_000;
const MAX_PROBES = 12;
const SHORT_CALL = 200;
const CALL_INSNS = 8;

/** What reading `clock` costs (ms): the median of back-to-back readings. */
export function clockCost(clock: () => number): number {
  const d: number[] = [];
  for (let i = 0; i < 101; i++) {
    const a = clock();
    d.push(clock() - a);
  }
  d.sort((p, q) => p - q);
  return d[50] ?? 0;
}

/** Probation settings (tests make them deterministic); null in HartOptions turns probation off. */
export interface JitProbation {
  /** Milliseconds; default performance.now. */
  readonly clock?: () => number;
  /** Instructions a region runs before its slowness makes the interpreter take over; default 60,000. */
  readonly warm?: number;
  /** Instructions per speed measurement; default 4,000. */
  readonly window?: number;
  /**
   * End a slice early once its translations took TRANSLATE_MS (see "Pacing"); for a caller that
   * runs the hart in slices and looks at its interrupt lines between them. Default false.
   */
  readonly pace?: boolean;
}

/*
 * Adaptive threshold. The threshold starts at DEFAULT_THRESHOLD (or the hart's jitThreshold), where
 * a program with long hot loops pays for translation only where it runs most. A program with no
 * block that hot would then never be translated at all, so every stretch of `threshold`
 * instructions interpreted in a row (no translated code ran, nothing was translated) halves it,
 * down to FLOOR_THRESHOLD (or the configured threshold, if lower): from 1024, a block entered 8
 * times is translated after about 2,000 interpreted instructions. A program whose hot code is
 * translated keeps its threshold, as translated code running restarts the stretch. Counts are
 * instructions, not time, so a run is as deterministic as before.
 *
 * A region translated below the starting threshold was built from a young profile (its loop had
 * run a few times, its exits not yet), and measures slower than one built at the start threshold.
 * So once an early region has run RETIER_INSNS instructions — the program is not short after all —
 * the early regions are all dropped and the threshold goes back to its start for good: the
 * interpreter profiles again and the hot code is translated into regions from a full profile.
 * The sooner the better: V8 has rarely optimised a region by 50,000 instructions (it marks one
 * after 10,000 to 60,000), so an early region dropped then has cost little compiling, while at
 * 2 million (the first setting) the branchy bench ran about half as fast.
 */
/*
 * Pacing. Translating a region takes the thread from under a millisecond to tens of milliseconds
 * (a 300-instruction region while the translator's own code is still cold, more on a loaded
 * machine), and the caller samples interrupt lines and host events only between Hart.run calls.
 * Several regions becoming hot in the same slice (an idle firmware's timer path, all run once
 * before) once held a core for 150 ms and made it miss its watchdog. So when the caller asks for
 * it (JitProbation.pace; the SoC's rv32 cores do), a slice that has spent TRANSLATE_MS translating
 * ends right after that translation (sliceOver: Hart.run returns as if its budget ran out), and the
 * caller, having looked at its interrupts, goes on with the next slice. Nothing is left
 * untranslated for later: a first version that left the slice's other hot blocks to later slices,
 * interpreted meanwhile, raised a 64-core mixed board's CPU per message by half (bench/README.md,
 * soc-scale). Without it (deterministic runs, the tests' harts, which expect run() to use its whole
 * budget) a slice never ends early.
 */
const TRANSLATE_MS = 4;

/** What the translator has done so far, and its threshold now. */
export interface JitStats {
  readonly translations: number;
  readonly translatedInsns: number;
  readonly interpretedInsns: number;
  /** Times the early regions were dropped and rebuilt at the starting threshold (0 or 1). */
  readonly retiers: number;
  readonly threshold: number;
}

/*
 * One closure per function. V8 caches what it compiles from a source text: a second `new Function`
 * of the same text (the same region translated again — by another hart running the same firmware,
 * a core booted again, the bench's next fresh machine) shares the first's compiled function, and
 * the region function inside it then has two closures. TurboFan specialises a function that has
 * only one closure to that closure's context (the hart's state it closes over), and no longer
 * once it has several, which made a region translated again in the same process markedly slower
 * (bench/README.md, rv32, "one closure per function"). So every translation's text is unique —
 * but for harts that run side by side in one thread (HartOptions.jitSharedCode: the SoC's cores,
 * many of one firmware in a core group): there, one compiled copy of a region for all of them
 * costs far less CPU than a specialised copy each, which V8 compiles and warms up once per hart
 * (bench/README.md, soc-scale).
 */
let translationSerial = 0;

const DISPATCH_SLOTS = 1 << 16;
/** Block executions (counted by the interpreter at control transfers) that make a block hot, at the start. */
const DEFAULT_THRESHOLD = 1024;
/** The lowest the threshold adapts down to. */
const FLOOR_THRESHOLD = 8;
/** Instructions early regions run before they are rebuilt at the starting threshold. */
const RETIER_INSNS = 50_000;
/** Counter value that stops further translation attempts at a slot whose pc cannot be translated. */
const NEVER = -0x4000_0000;

export class Jit implements Engine {
  /** Block-entry executions before translation, now (see "Adaptive threshold"). */
  threshold: number;
  /** The lowest the threshold adapts to (the start, once early regions were rebuilt). */
  private floor: number;
  /** The threshold it started at. */
  private readonly start: number;
  /** Live regions translated below the starting threshold. */
  private early: Translated[] = [];
  /** Instructions interpreted in a row: since translated code last ran, the last translation or threshold step. */
  private coldRun = 0;
  /** Executions a block needs to be part of a region (others become exits). */
  private minHeat: number;
  private readonly tags = new Int32Array(DISPATCH_SLOTS).fill(1);
  private readonly entries = new Int32Array(DISPATCH_SLOTS);
  private readonly owners: (Translated | undefined)[] = new Array<Translated | undefined>(
    DISPATCH_SLOTS,
  ).fill(undefined);
  private readonly heat = new Int32Array(DISPATCH_SLOTS);
  /** The last call stopped for the hart (h.brk), not at the end of its budget. */
  private resumed = false;
  /** Entries from outside into a block of a region that is not one of its roots, by slot. */
  private readonly rootHeat = new Int32Array(DISPATCH_SLOTS);
  /** Translated regions by granule (address >>> GRANULE_SHIFT) of their code. */
  private readonly byGranule = new Map<number, Translated[]>();
  private readonly closure: unknown[];
  /** Set by a region function that left in front of an instruction for the interpreter (jit-codegen.ts). */
  private readonly slow = new Int32Array(1);
  private readonly h: Hart;
  /** Milliseconds, for probation (performance.now unless a test supplies its own). */
  private readonly clock: () => number;
  private readonly probationOn: boolean;
  /** See "One closure per function". */
  private readonly sharedCode: boolean;
  private readonly pace: boolean;
  private readonly probationWarm: number;
  private readonly probationWindow: number;
  /** Milliseconds spent translating in the current slice (see "Pacing"). */
  private translateMs = 0;
  /** The slice ended early, after its translations took TRANSLATE_MS (see "Pacing"). */
  sliceOver = false;
  /** The interpreter's speed (MIPS) over the last cooling stretch (see "Probation"). */
  private interpMips = Infinity;
  /** The clock's own cost, taken off every timed call (see "Probation"); 0 for a test's clock. */
  private readonly clockCost: number;
  /** Counters for tests and the benchmark: regions translated, instructions run in each engine. */
  readonly stats = { translations: 0, translatedInsns: 0, interpretedInsns: 0, retiers: 0 };

  /**
   * @param probation how new regions wait for V8's optimising compiler (see "Probation"); null:
   *   none, a region runs from its translation on, optimised by V8 or not.
   * @param sharedCode region texts shared with other harts of this thread (see "One closure per
   *   function"), instead of a text of its own per translation.
   */
  constructor(
    h: Hart,
    threshold = DEFAULT_THRESHOLD,
    probation: JitProbation | null = {},
    sharedCode = false,
  ) {
    this.h = h;
    this.sharedCode = sharedCode;
    this.probationOn = probation !== null;
    this.pace = probation?.pace === true;
    this.clock = probation?.clock ?? (() => performance.now());
    this.probationWarm = probation?.warm ?? PROBATION_WARM;
    this.clockCost = probation !== null && probation.clock === undefined ? clockCost(this.clock) : 0;
    this.probationWindow = probation?.window ?? PROBATION_WINDOW;
    this.threshold = Math.max(1, threshold | 0);
    this.start = this.threshold;
    this.floor = Math.min(this.threshold, FLOOR_THRESHOLD);
    this.minHeat = Math.max(1, this.threshold >> 4);
    const m = h.main;
    const ram = ramAccess(h.bus, h.watch);
    const values: Record<string, unknown> = {
      h,
      x: h.x,
      m8: m.u8,
      m16: m.u16,
      m32: m.i32,
      watch: h.mainWatch,
      slow: this.slow,
      ld: ram.load,
      st: ram.store,
      NO_LOAD,
      mulh,
      mulhsu,
      mulhu,
      div,
      divu,
      rem,
      remu,
      csr: csrAccess(h),
    };
    this.closure = CLOSURE_PARAMS.map((p) => values[p]);
  }

  startSlice(): void {
    this.translateMs = 0;
    this.sliceOver = false;
  }

  run(h: Hart, budget: number): number {
    const tags = this.tags;
    const owners = this.owners;
    const entries = this.entries;
    const heat = this.heat;
    const slow = this.slow;
    const mask = DISPATCH_SLOTS - 1;
    let left = budget;
    while (left > 0) {
      const hot = this.threshold;
      const pc = h.pc | 0;
      const slot = (pc >>> 1) & mask;
      const entry = entries[slot] as number;
      if (tags[slot] === pc && entry < 0) {
        // A block of a region that its function is not entered at (not a root of its structure,
        // jit-structure.ts), reached from outside it (a return, another region's exit). Reached
        // that way `hot` times, it gets a region of its own, rooted here, which takes the slot;
        // until then, interpret up to the next block entry, until control reaches a root.
        const c = (this.rootHeat[slot] as number) + 1;
        this.rootHeat[slot] = c;
        if (c >= hot) {
          const made = this.timedTranslate(pc);
          this.rootHeat[slot] = made ? 0 : NEVER;
          if (this.sliceOver) break;
          if (made) continue;
        }
        const m = interpret(h, left, heat, hot);
        left -= m;
        this.stats.interpretedInsns += m;
        if (h.brk !== 0) break;
        continue;
      }
      if (tags[slot] === pc) {
        const t = owners[slot] as Translated;
        const n = t.fast ? t.fn(entry, left) : this.probation(t, entry, left);
        if (n >= 0) {
          left -= n;
          this.stats.translatedInsns += n;
          if (n !== 0) this.coldRun = 0;
          if (t.early && (t.earlyRan += n) >= RETIER_INSNS) this.retier();
          if (slow[0] !== 0) {
            // The region stopped in front of a load or store its fast path does not do (a device,
            // a fault, a watched granule; it never sets brk then): the interpreter runs that one
            // instruction.
            if (left === 0) break;
            const m = interpret(h, 1, heat, 0);
            left -= m;
            this.stats.interpretedInsns += m;
            if (h.brk !== 0) break;
            continue;
          }
          if (h.brk !== 0) break;
          if (n !== 0) {
            // A side exit (or the end of a slice): the block it leads to was entered, and the
            // interpreter, which counts blocks at its own control transfers, did not see it.
            const s = (h.pc >>> 1) & mask;
            const c = heat[s] as number;
            if (c < hot) heat[s] = c + 1;
            continue;
          }
          // n = 0: the entry block does not fit in the budget; interpret the rest.
        } else {
          // On probation and cooling: interpret a stretch without counting heat (the
          // interpreter would stop again at the region's blocks).
          const c0 = this.clock();
          const m = interpret(h, Math.min(left, COOL_CHUNK), heat, 0);
          const ms = this.clock() - c0;
          if (m >= COOL_CHUNK / 2 && ms > 0) this.interpMips = m / ms / 1000;
          left -= m;
          this.stats.interpretedInsns += m;
          if (h.brk !== 0) break;
          continue;
        }
      } else if ((heat[slot] as number) >= hot && owners[slot] === undefined) {
        // The interpreter stopped in front of a hot block (not one whose slot another pc's
        // translation holds: that one stays interpreted rather than evicting the other).
        const made = this.timedTranslate(pc);
        if (!made) heat[slot] = NEVER;
        if (this.sliceOver) break;
        if (made) continue;
      }
      if (left === budget && this.resumed && tags[slot] !== pc) {
        // Where the hart resumed after the last call stopped for it: after a system instruction,
        // at a trap vector, at mepc after an MRET. The interpreter counts blocks only at its own
        // control transfers, and the block after a system instruction starts at none; counted
        // here, it gets translated too. (Not after a slice's budget ran out: that pc is arbitrary.)
        const c = heat[slot] as number;
        if (c >= 0 && c < hot) heat[slot] = c + 1;
      }
      // Interpret up to the next threshold step (none once at the floor).
      const step = hot > this.floor ? hot - this.coldRun : left;
      const n = interpret(h, Math.min(left, Math.max(1, step)), heat, hot);
      left -= n;
      this.stats.interpretedInsns += n;
      if (hot > this.floor && (this.coldRun += n) >= hot) this.lowerThreshold();
      if (h.brk !== 0) break;
    }
    this.resumed = left > 0 && !this.sliceOver;
    return budget - left;
  }

  /** translate(pc), its time counted against the slice's (see "Pacing"). */
  private timedTranslate(pc: number): boolean {
    if (!this.pace) return this.translate(pc);
    const t0 = this.clock();
    const made = this.translate(pc);
    this.translateMs += this.clock() - t0;
    if (this.translateMs >= TRANSLATE_MS) this.sliceOver = true;
    return made;
  }

  /** Drop every early region and keep the starting threshold from now on (see "Adaptive threshold"). */
  private retier(): void {
    for (const t of this.early) if (!t.dead) this.kill(t);
    this.early = [];
    this.threshold = this.start;
    this.floor = this.start;
    this.minHeat = Math.max(1, this.start >> 4);
    this.coldRun = 0;
    this.stats.retiers++;
  }

  /** `threshold` instructions interpreted in a row: halve it. */
  private lowerThreshold(): void {
    this.threshold = Math.max(this.floor, this.threshold >> 1);
    this.minHeat = Math.max(1, this.threshold >> 4);
    this.coldRun = 0;
  }

  /** Run region t on probation: a timed call, or -1 when the interpreter should run instead. */
  private probation(t: Translated, entry: number, left: number): number {
    const t0 = this.clock();
    if (t0 < t.coolUntil) return -1;
    const n = t.fn(entry, Math.min(left, PROBATION_CALL));
    t.windowMs += this.clock() - t0 - this.clockCost;
    t.windowInsns += n;
    t.windowCalls++;
    t.ran += n;
    if (t.windowInsns >= this.probationWindow) {
      const fastMips = Math.min(FAST_MIPS, this.interpMips / INTERP_FRACTION);
      if (t.windowInsns + t.windowCalls * CALL_INSNS >= fastMips * 1000 * t.windowMs) t.fast = true;
      else if (t.ran >= this.probationWarm) {
        if (t.slowSince < 0) t.slowSince = t0;
        const short = t.windowInsns < SHORT_CALL * t.windowCalls;
        if ((short && ++t.probes >= MAX_PROBES) || t0 - t.slowSince >= GIVE_UP_MS) t.fast = true;
        t.coolUntil = t0 + t.cool;
        t.cool = Math.min(MAX_COOL_MS, t.cool * 2);
      }
      t.windowInsns = 0;
      t.windowCalls = 0;
      t.windowMs = 0;
    }
    return n;
  }

  /** Translate the region at pc; false if its first block is empty (a system op, a fetch fault). */
  private translate(pc: number): boolean {
    const h = this.h;
    const heat = this.heat;
    const mask = DISPATCH_SLOTS - 1;
    const minHeat = this.minHeat;
    const region = discoverRegion(
      (a) => h.fetch16(a),
      pc,
      (a) => (heat[(a >>> 1) & mask] as number) >= minHeat,
      h.stops,
    );
    if (region.blocks[0]?.insns.length === 0) return false;
    const { source, roots } = generateRegion(region, {
      base: h.main.base | 0,
      size: h.main.size,
      shared: h.sharedMain,
    });
    // A source of its own unless shared (see "One closure per function"): a serial number in a comment.
    const text = this.sharedCode ? source : `${source}\n// translation ${++translationSerial}`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- translating guest code is the point
    const factory = new Function(...CLOSURE_PARAMS, text) as RegionFactory;
    const t: Translated = {
      region,
      fn: factory(...this.closure),
      ranges: region.blocks.filter((b) => b.limit > b.start).map((b) => [b.start, b.limit] as const),
      dead: false,
      fast: !this.probationOn,
      windowInsns: 0,
      windowCalls: 0,
      windowMs: 0,
      ran: 0,
      probes: 0,
      coolUntil: 0,
      cool: COOL_MS,
      slowSince: -1,
      early: this.threshold < this.start,
      earlyRan: 0,
    };
    region.blocks.forEach((b, i) => {
      const slot = (b.start >>> 1) & mask;
      // A live region entered here keeps the slot unless this one can be entered here too: a
      // block that is not a root of this region would send control to the interpreter.
      const other = this.owners[slot];
      const taken = other !== undefined && !other.dead && this.tags[slot] === (b.start | 0);
      if (!roots.has(i) && taken && (this.entries[slot] as number) >= 0) return;
      this.tags[slot] = b.start | 0;
      this.entries[slot] = roots.has(i) ? i : -1;
      this.owners[slot] = t;
      // The interpreter leaves at a counter that reached the threshold: here, to enter this code.
      if ((heat[slot] as number) < this.threshold) heat[slot] = this.threshold;
    });
    for (const [start, limit] of t.ranges) {
      h.watch.mark(start, limit - start, WATCH_CODE);
      for (let g = start >>> GRANULE_SHIFT; g <= (limit - 1) >>> GRANULE_SHIFT; g++) {
        const list = this.byGranule.get(g);
        if (list === undefined) this.byGranule.set(g, [t]);
        else if (!list.includes(t)) list.push(t);
      }
    }
    this.stats.translations++;
    if (t.early) this.early.push(t);
    this.coldRun = 0;
    return true;
  }

  invalidate(addr: number, width: number): boolean {
    const lo = addr >>> 0;
    const hi = lo + width;
    let dropped = false;
    // A pc given up on (NEVER: say it was a stop point, debug-points.ts) may translate now.
    const mask = DISPATCH_SLOTS - 1;
    for (let a = (lo & ~1) >>> 0; a < hi; a += 2) {
      const slot = (a >>> 1) & mask;
      if (this.heat[slot] === NEVER) this.heat[slot] = 0;
    }
    for (let g = lo >>> GRANULE_SHIFT; g <= (hi - 1) >>> GRANULE_SHIFT; g++) {
      const list = this.byGranule.get(g);
      if (list === undefined) continue;
      for (const t of list) {
        if (!t.dead && t.ranges.some(([s, l]) => s < hi && lo < l)) {
          this.kill(t);
          dropped = true;
        }
      }
    }
    return dropped;
  }

  private kill(t: Translated): void {
    t.dead = true;
    const mask = DISPATCH_SLOTS - 1;
    for (const b of t.region.blocks) {
      const slot = (b.start >>> 1) & mask;
      if (this.owners[slot] === t) {
        this.tags[slot] = 1;
        this.owners[slot] = undefined;
        this.heat[slot] = 0;
      }
    }
    for (const [start, limit] of t.ranges) {
      for (let g = start >>> GRANULE_SHIFT; g <= (limit - 1) >>> GRANULE_SHIFT; g++) {
        const list = this.byGranule.get(g);
        if (list === undefined) continue;
        const rest = list.filter((u) => u !== t);
        if (rest.length === 0) this.byGranule.delete(g);
        else this.byGranule.set(g, rest);
      }
    }
  }

  flush(): void {
    this.tags.fill(1);
    this.owners.fill(undefined);
    this.heat.fill(0);
    this.byGranule.clear();
    this.early = [];
  }
}
