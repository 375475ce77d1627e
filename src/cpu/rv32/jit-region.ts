// Region discovery for the block translator: from a hot entry pc, decode the straight-line basic
// blocks reachable through direct control flow (both edges of conditional branches, JAL targets,
// and the return site after a call) that the interpreter has seen run often enough, up to fixed
// limits. Edges to blocks that have not (yet) been hot become exits of the region: code V8
// compiles before it ever ran has no type feedback and deoptimises the whole function the first
// time it runs, and cold code only makes the function bigger and slower to compile. One
// JavaScript function is then generated per region, so that loops and calls between its blocks
// stay inside it with the registers in locals. A block ends at a branch or jump, in front of a
// system instruction (which the hart executes itself; a CSR access that jit-csr.ts does inline is
// not one), in front of an instruction that cannot be fetched, after
// MAX_BLOCK_INSNS instructions, or in front of another block's first instruction.

import { decode, type Decoded } from './decode.ts';
import { isInlineCsr } from './jit-csr.ts';
import { OP, isSystemOp } from './opcodes.ts';

const MAX_BLOCK_INSNS = 64;
const MAX_REGION_BLOCKS = 64;
const MAX_REGION_INSNS = 768;

/** How a block ends. */
export type BlockEnd =
  /** Conditional branch (the block's last instruction): taken → target, else fallthrough. */
  | { readonly kind: 'branch'; readonly target: number; readonly fallthrough: number }
  /** JAL (last instruction): continue at target. */
  | { readonly kind: 'jump'; readonly target: number }
  /** JALR (last instruction): target computed at run time. */
  | { readonly kind: 'indirect' }
  /** No control transfer: continue at `next` (length limit or block split). */
  | { readonly kind: 'fallthrough'; readonly next: number }
  /** The next instruction is a system op (or illegal) at `at`: the hart must execute it. */
  | { readonly kind: 'system'; readonly at: number }
  /** The next instruction cannot be fetched: exit to `at`, where the interpreter will trap. */
  | { readonly kind: 'fetch-fault'; readonly at: number };

export interface Insn {
  readonly pc: number;
  readonly d: Decoded;
}

export interface Block {
  readonly start: number;
  readonly insns: readonly Insn[];
  readonly end: BlockEnd;
  /** Byte just past the last instruction (start when empty). */
  readonly limit: number;
}

export interface Region {
  readonly entry: number;
  /** Blocks in discovery order; index 0 is the entry. */
  readonly blocks: readonly Block[];
}

/** Instruction fetch for discovery: the halfword at addr, or -1 when it is not in RAM. */
export type Fetch16 = (addr: number) => number;

function decodeAt(fetch: Fetch16, pc: number): Decoded | undefined {
  const lo = fetch(pc);
  if (lo < 0) return undefined;
  let hi = 0;
  if ((lo & 3) === 3) {
    hi = fetch(pc + 2);
    if (hi < 0) return undefined;
  }
  return decode(lo, hi);
}

function isBranch(op: number): boolean {
  return op >= OP.BEQ && op <= OP.BGEU;
}

/**
 * Pcs where the hart must stop or trap before the instruction (debug-points.ts): a block ends in
 * front of one as in front of a system op, so the hart's BREAKPOINT pseudo-op runs there.
 */
export type StopPoints = ReadonlyMap<number, number> | undefined;

function scanBlock(fetch: Fetch16, start: number, stops?: StopPoints): Block {
  const insns: Insn[] = [];
  let pc = start >>> 0;
  for (;;) {
    if (insns.length >= MAX_BLOCK_INSNS)
      return { start, insns, end: { kind: 'fallthrough', next: pc }, limit: pc };
    const d = decodeAt(fetch, pc);
    if (d === undefined) return { start, insns, end: { kind: 'fetch-fault', at: pc }, limit: pc };
    if ((isSystemOp(d.op) && !isInlineCsr(d)) || stops?.has(pc) === true)
      return { start, insns, end: { kind: 'system', at: pc }, limit: pc };
    insns.push({ pc, d });
    const next = (pc + d.len) >>> 0;
    if (isBranch(d.op)) {
      return {
        start,
        insns,
        end: { kind: 'branch', target: (pc + d.imm) >>> 0, fallthrough: next },
        limit: next,
      };
    }
    if (d.op === OP.JAL)
      return { start, insns, end: { kind: 'jump', target: (pc + d.imm) >>> 0 }, limit: next };
    if (d.op === OP.JALR) return { start, insns, end: { kind: 'indirect' }, limit: next };
    pc = next;
  }
}

/** Direct successors worth including: branch edges, jump targets, and a call's return site. */
function successors(b: Block): number[] {
  const e = b.end;
  switch (e.kind) {
    case 'branch':
      return [e.target, e.fallthrough];
    case 'jump': {
      const last = b.insns[b.insns.length - 1];
      // A call (rd ≠ x0) usually returns to the next instruction through JALR: include it so
      // the return can stay in the region.
      return last !== undefined && last.d.rd !== 0 ? [e.target, b.limit] : [e.target];
    }
    case 'fallthrough':
      return [e.next];
    case 'indirect':
    case 'system':
    case 'fetch-fault':
      return [];
  }
}

/**
 * Discover the region reachable from entry (breadth first, so the nearest code comes first),
 * following only edges to blocks for which `isHot` holds (the entry is always included). A block
 * split by the length limit continues in the next block whatever its heat: that edge is not a
 * control transfer, so the interpreter does not count it.
 */
export function discoverRegion(
  fetch: Fetch16,
  entry: number,
  isHot: (pc: number) => boolean = () => true,
  stops?: StopPoints,
): Region {
  const blocks: Block[] = [];
  const seen = new Set<number>();
  const queue = [entry >>> 0];
  let insns = 0;
  for (let i = 0; i < queue.length && blocks.length < MAX_REGION_BLOCKS && insns < MAX_REGION_INSNS; i++) {
    const pc = queue[i] ?? 0;
    if (seen.has(pc)) continue;
    seen.add(pc);
    const b = scanBlock(fetch, pc, stops);
    blocks.push(b);
    insns += b.insns.length;
    for (const s of successors(b))
      if (!seen.has(s) && (b.end.kind === 'fallthrough' || isHot(s))) queue.push(s);
  }
  // A block that runs into another block's start ends there instead (falling through to it):
  // each instruction then belongs to one block, and a loop whose head is a branch target in the
  // middle of the block before it has that head as its own block (jit-structure.ts).
  const starts = new Set(blocks.map((b) => b.start >>> 0));
  return { entry: entry >>> 0, blocks: blocks.map((b) => splitAt(b, starts)) };
}

/** `b` up to the first of its instructions (after its first) that starts a block of `starts`. */
function splitAt(b: Block, starts: ReadonlySet<number>): Block {
  for (let k = 1; k < b.insns.length; k++) {
    const pc = b.insns[k]?.pc ?? 0;
    if (starts.has(pc))
      return {
        start: b.start,
        insns: b.insns.slice(0, k),
        end: { kind: 'fallthrough', next: pc },
        limit: pc,
      };
  }
  return b;
}
