// The block translator's dispatcher. Cold code runs in the interpreter, one basic block at a
// time, while a direct-mapped counter per block entry pc measures heat; an entry reaching the
// threshold gets its region (jit-region.ts) translated to a JavaScript function (jit-codegen.ts,
// `new Function`), and every block of the region becomes an entry of the dispatch table.
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
}

const DISPATCH_SLOTS = 1 << 16;
/** Counter value that stops further translation attempts at a slot whose pc cannot be translated. */
const NEVER = -0x4000_0000;

export class Jit implements Engine {
  /** Block-entry executions before translation. */
  readonly threshold: number;
  private readonly tags = new Int32Array(DISPATCH_SLOTS).fill(1);
  private readonly fns: (RegionFn | undefined)[] = new Array<RegionFn | undefined>(DISPATCH_SLOTS).fill(
    undefined,
  );
  private readonly entries = new Int32Array(DISPATCH_SLOTS);
  private readonly owners: (Translated | undefined)[] = new Array<Translated | undefined>(
    DISPATCH_SLOTS,
  ).fill(undefined);
  private readonly heat = new Int32Array(DISPATCH_SLOTS);
  /** Translated regions by granule (address >>> GRANULE_SHIFT) of their code. */
  private readonly byGranule = new Map<number, Translated[]>();
  private readonly closure: unknown[];
  private readonly h: Hart;
  private midBlock = false;
  /** Counters for tests and the benchmark: regions translated, instructions run in each engine. */
  readonly stats = { translations: 0, translatedInsns: 0, interpretedInsns: 0 };

  constructor(h: Hart, threshold = 32) {
    this.h = h;
    this.threshold = threshold;
    const m = h.main;
    const values: Record<string, unknown> = {
      h,
      x: h.x,
      m8: m.u8,
      m16: m.u16,
      m32: m.i32,
      watch: h.mainWatch,
      mulh,
      mulhsu,
      mulhu,
      div,
      divu,
      rem,
      remu,
    };
    this.closure = CLOSURE_PARAMS.map((p) => values[p]);
  }

  run(h: Hart, budget: number): number {
    const tags = this.tags;
    const fns = this.fns;
    const entries = this.entries;
    const heat = this.heat;
    const mask = DISPATCH_SLOTS - 1;
    let left = budget;
    // A slice that ended on the budget may have stopped in the middle of a block: that pc is
    // not a block entry and must not collect heat (it would get a region of its own).
    let entry = !this.midBlock;
    while (left > 0) {
      const pc = h.pc | 0;
      const slot = (pc >>> 1) & mask;
      if (tags[slot] === pc) {
        const fn = fns[slot];
        if (fn !== undefined) {
          const n = fn(entries[slot] ?? 0, left);
          left -= n;
          this.stats.translatedInsns += n;
          if (h.brk !== 0) break;
          if (n !== 0) continue;
          // n = 0: the entry block does not fit in the budget; interpret the rest.
        }
      } else if (entry && ++(heat[slot] as number) >= this.threshold) {
        if (this.translate(pc)) continue;
        heat[slot] = NEVER;
      }
      const n = interpret(h, left, true);
      left -= n;
      this.stats.interpretedInsns += n;
      entry = true;
      if (h.brk !== 0) break;
    }
    // Exits for any other reason (traps, system instructions, control transfers) leave pc at
    // an instruction that starts a block.
    this.midBlock = left === 0 && h.brk === 0;
    return budget - left;
  }

  /** Translate the region at pc; false if its first block is empty (a system op, a fetch fault). */
  private translate(pc: number): boolean {
    const h = this.h;
    const region = discoverRegion((a) => h.fetch16(a), pc);
    if (region.blocks[0]?.insns.length === 0) return false;
    const source = generateRegion(region, { base: h.main.base | 0, size: h.main.size, shared: h.sharedMain });
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- translating guest code is the point
    const factory = new Function(...CLOSURE_PARAMS, source) as RegionFactory;
    const t: Translated = {
      region,
      fn: factory(...this.closure),
      ranges: region.blocks.filter((b) => b.limit > b.start).map((b) => [b.start, b.limit] as const),
      dead: false,
    };
    const mask = DISPATCH_SLOTS - 1;
    region.blocks.forEach((b, i) => {
      const slot = (b.start >>> 1) & mask;
      this.tags[slot] = b.start | 0;
      this.fns[slot] = t.fn;
      this.entries[slot] = i;
      this.owners[slot] = t;
      this.heat[slot] = 0;
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
    return true;
  }

  invalidate(addr: number, width: number): boolean {
    const lo = addr >>> 0;
    const hi = lo + width;
    let dropped = false;
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
        this.fns[slot] = undefined;
        this.owners[slot] = undefined;
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
    this.fns.fill(undefined);
    this.owners.fill(undefined);
    this.heat.fill(0);
    this.byGranule.clear();
  }
}
