// JavaScript generation for a region of basic blocks (jit-region.ts). The generated function
// keeps the guest registers it uses in local variables (int32 throughout, so V8 keeps them
// unboxed) and writes them back at its single exit. Its blocks are partitioned into units, each
// written as structured code (jit-structure.ts: loops are labelled `while (true)` loops, joins
// labelled blocks), in the cases of a `for (;;) switch (b)` loop over the units' roots that only
// the edges between units go round (one indirect jump, which the CPU predicts poorly); a unit
// whose last edge goes to another root falls into that root's case. It executes exactly what the
// interpreter would: same helpers for M ops, same fast path for the main RAM, and the same
// retirement accounting:
//   - `left` is the remaining budget; a block is entered only if it fits entirely (else the
//     function exits at the block start and the dispatcher interprets the remainder);
//   - a load or store the fast path cannot do (outside the main RAM, misaligned, a store into a
//     watched granule: translated code, an LR reservation) leaves in front of that instruction,
//     retiring the k before it, and sets slow[0]: the dispatcher has the interpreter run it, with
//     its device accesses, traps and code invalidation. Keeping those paths out of the region
//     keeps its function small, which V8 marks for optimisation and compiles sooner.
//
// Signature of the built function: (entry: index of a root block, budget) => instructions
// retired; it sets h.pc and slow[0], and may set h.brk (BRK_SYSTEM when stopping in front of a system instruction).

import type { Decoded } from './decode.ts';
import type { Block, BlockEnd, Insn, Region } from './jit-region.ts';
import { csrMayEnableIrq } from './jit-csr.ts';
import { planUnits, structureUnit, viaSwitch } from './jit-structure.ts';
import { csrWrites } from './system.ts';
import { OP } from './opcodes.ts';

export interface CodegenEnv {
  /** The main RAM region's base (signed 32-bit) and size, baked into the code as constants. */
  readonly base: number;
  readonly size: number;
  /** True when the main RAM is shared memory (FENCE then issues a barrier). */
  readonly shared: boolean;
}

/** Names of the values the generated code closes over, in the order buildRegion passes them. */
export const CLOSURE_PARAMS = [
  'h',
  'x',
  'm8',
  'm16',
  'm32',
  'watch',
  'slow',
  'ld',
  'st',
  'NO_LOAD',
  'mulh',
  'mulhsu',
  'mulhu',
  'div',
  'divu',
  'rem',
  'remu',
  'csr',
];

function reg(n: number): string {
  return n === 0 ? '0' : `r${n}`;
}

function set(rd: number, expr: string): string {
  return rd === 0 ? '' : `r${rd} = ${expr};`;
}

function lit(v: number): string {
  return String(v | 0);
}

/** Retire n instructions from the budget (`left` stays int32: see generateRegion). */
function retire(n: number): string {
  return `left = (left - ${n}) | 0;`;
}

class BlockEmitter {
  /** Code of the block being emitted (emit is re-entered for the blocks an edge inlines). */
  private out: string[] = [];
  private readonly env: CodegenEnv;
  private readonly indexOf: ReadonlyMap<number, number>;
  private readonly returnSites: readonly number[];

  constructor(env: CodegenEnv, indexOf: ReadonlyMap<number, number>, returnSites: readonly number[]) {
    this.env = env;
    this.indexOf = indexOf;
    this.returnSites = returnSites;
  }

  /** The statement for an edge to a block of the region (jit-structure.ts), for the block being emitted. */
  private edge: (j: number, last: boolean) => string = viaSwitch;

  /**
   * Continue at pc: along an edge when the region has a block there, else leave the function.
   * `last`: nothing follows the statement in the block.
   */
  private goto(pc: number, last = false): string {
    const idx = this.indexOf.get(pc >>> 0);
    if (idx === undefined) return `{ pc = ${lit(pc)}; break loop; }`;
    return this.edge(idx, last);
  }

  /**
   * Leave in front of instruction k (at pc), which the fast path cannot run: it retires the k
   * before it, and the dispatcher has the interpreter run this one (SLOW_EXIT).
   */
  private slowExit(k: number, pc: number): string {
    return `{ ${k > 0 ? `${retire(k)} ` : ''}pc = ${lit(pc)}; v = 1; break loop; }`;
  }

  /** The code of `block`, whose edges inside the region are the statements `edge` gives. */
  emit(block: Block, edge: (j: number, last: boolean) => string): string {
    const saved = [this.out, this.edge] as const;
    const out: string[] = [];
    this.out = out;
    this.edge = edge;
    const n = block.insns.length;
    out.push(`// ${(block.start >>> 0).toString(16)}`);
    if (n > 0) out.push(`if (left < ${n}) { pc = ${lit(block.start)}; break loop; }`);
    for (let k = 0; k < n; k++) {
      const insn = block.insns[k];
      if (insn === undefined) continue;
      const isLast = k === n - 1;
      const next = (insn.pc + insn.d.len) >>> 0;
      if (
        isLast &&
        (block.end.kind === 'branch' || block.end.kind === 'jump' || block.end.kind === 'indirect')
      ) {
        out.push(retire(n));
        this.terminator(insn.d, next, block.end);
      } else {
        this.straight(insn, k);
      }
    }
    const e = block.end;
    if (e.kind === 'fallthrough') out.push(`${retire(n)} ${this.goto(e.next, true)}`);
    else if (e.kind === 'system') out.push(`${retire(n)} pc = ${lit(e.at)}; h.brk |= 2; break loop;`);
    else if (e.kind === 'fetch-fault') out.push(`${retire(n)} pc = ${lit(e.at)}; break loop;`);
    [this.out, this.edge] = saved;
    return out.join('\n');
  }

  /**
   * Take the edges of `block` as emit() takes them (same order, same `last`), without writing its
   * code: what the structuring needs to know which root a unit's code ends by going to.
   */
  edges(block: Block, edge: (j: number, last: boolean) => string): string {
    const to = (pc: number, last = false): void => {
      const idx = this.indexOf.get(pc >>> 0);
      if (idx !== undefined) edge(idx, last);
    };
    const e = block.end;
    if (e.kind === 'branch') {
      to(e.target);
      to(e.fallthrough, true);
    } else if (e.kind === 'jump') to(e.target, true);
    else if (e.kind === 'indirect') for (const s of this.returnSites) to(s);
    else if (e.kind === 'fallthrough') to(e.next, true);
    return '';
  }

  private terminator(d: Decoded, next: number, e: BlockEnd): void {
    const { op, rd, rs1, rs2, imm } = d;
    const a = reg(rs1);
    const b = reg(rs2);
    if (e.kind === 'branch') {
      const cond =
        op === OP.BEQ
          ? `${a} === ${b}`
          : op === OP.BNE
            ? `${a} !== ${b}`
            : op === OP.BLT
              ? `${a} < ${b}`
              : op === OP.BGE
                ? `${a} >= ${b}`
                : op === OP.BLTU
                  ? `(${a} >>> 0) < (${b} >>> 0)`
                  : `(${a} >>> 0) >= (${b} >>> 0)`;
      this.out.push(`if (${cond}) ${this.goto(e.target)}`, this.goto(e.fallthrough, true));
    } else if (e.kind === 'jump') {
      this.out.push(set(rd, lit(next)), this.goto(e.target, true));
    } else if (e.kind === 'indirect') {
      // Compute the target before writing rd (rd may be rs1). Returns into this region (a call
      // made from it) continue inside, along an edge to each return site; anything else leaves.
      this.out.push(`t = (${a} + ${lit(imm)}) & -2;`, set(rd, lit(next)));
      for (const s of this.returnSites) this.out.push(`if (t === ${lit(s)}) ${this.goto(s)}`);
      this.out.push('pc = t; break loop;');
    }
  }

  /** Instruction k of a block that is not its terminator. */
  private straight(insn: Insn, k: number): void {
    const { pc } = insn;
    const { op, rd, rs1, rs2, imm } = insn.d;
    const a = reg(rs1);
    const b = reg(rs2);
    const out = this.out;
    switch (op) {
      case OP.LUI:
        out.push(set(rd, lit(imm)));
        return;
      case OP.AUIPC:
        out.push(set(rd, lit(pc + imm)));
        return;
      case OP.ADDI:
        // mv and li (addi with rs1 or imm 0) are plain copies: the registers hold int32 values.
        out.push(set(rd, imm === 0 ? a : rs1 === 0 ? lit(imm) : `(${a} + ${lit(imm)}) | 0`));
        return;
      case OP.SLTI:
        out.push(set(rd, `${a} < ${lit(imm)} ? 1 : 0`));
        return;
      case OP.SLTIU:
        out.push(set(rd, `(${a} >>> 0) < ${imm >>> 0} ? 1 : 0`));
        return;
      case OP.XORI:
        out.push(set(rd, `${a} ^ ${lit(imm)}`));
        return;
      case OP.ORI:
        out.push(set(rd, `${a} | ${lit(imm)}`));
        return;
      case OP.ANDI:
        out.push(set(rd, `${a} & ${lit(imm)}`));
        return;
      case OP.SLLI:
        out.push(set(rd, `${a} << ${imm}`));
        return;
      case OP.SRLI:
        out.push(set(rd, `(${a} >>> ${imm}) | 0`));
        return;
      case OP.SRAI:
        out.push(set(rd, `${a} >> ${imm}`));
        return;
      case OP.ADD:
        out.push(set(rd, rs1 === 0 ? b : rs2 === 0 ? a : `(${a} + ${b}) | 0`));
        return;
      case OP.SUB:
        out.push(set(rd, `(${a} - ${b}) | 0`));
        return;
      case OP.SLL:
        out.push(set(rd, `${a} << ${b}`));
        return;
      case OP.SLT:
        out.push(set(rd, `${a} < ${b} ? 1 : 0`));
        return;
      case OP.SLTU:
        out.push(set(rd, `(${a} >>> 0) < (${b} >>> 0) ? 1 : 0`));
        return;
      case OP.XOR:
        out.push(set(rd, `${a} ^ ${b}`));
        return;
      case OP.SRL:
        out.push(set(rd, `(${a} >>> ${b}) | 0`));
        return;
      case OP.SRA:
        out.push(set(rd, `${a} >> ${b}`));
        return;
      case OP.OR:
        out.push(set(rd, `${a} | ${b}`));
        return;
      case OP.AND:
        out.push(set(rd, `${a} & ${b}`));
        return;
      case OP.MUL:
        out.push(set(rd, `Math.imul(${a}, ${b})`));
        return;
      // The helpers return int32, but V8 types a call it does not inline as any value: `| 0`
      // keeps the register int32, else it is tagged (boxed) everywhere in the function.
      case OP.MULH:
        out.push(set(rd, `mulh(${a}, ${b}) | 0`));
        return;
      case OP.MULHSU:
        out.push(set(rd, `mulhsu(${a}, ${b}) | 0`));
        return;
      case OP.MULHU:
        out.push(set(rd, `mulhu(${a}, ${b}) | 0`));
        return;
      case OP.DIV:
        out.push(set(rd, `div(${a}, ${b}) | 0`));
        return;
      case OP.DIVU:
        out.push(set(rd, `divu(${a}, ${b}) | 0`));
        return;
      case OP.REM:
        out.push(set(rd, `rem(${a}, ${b}) | 0`));
        return;
      case OP.REMU:
        out.push(set(rd, `remu(${a}, ${b}) | 0`));
        return;
      case OP.FENCE:
        if (this.env.shared) out.push('Atomics.add(M32, 0, 0);');
        return;
      case OP.LB:
      case OP.LH:
      case OP.LW:
      case OP.LBU:
      case OP.LHU:
        this.load(op, rd, a, imm, pc, k, pc + insn.d.len);
        return;
      case OP.SB:
      case OP.SH:
      case OP.SW:
        this.store(op, a, b, imm, pc, k, pc + insn.d.len);
        return;
      case OP.CSRRW:
      case OP.CSRRS:
      case OP.CSRRC:
      case OP.CSRRWI:
      case OP.CSRRSI:
      case OP.CSRRCI:
        this.csr(insn, k);
        return;
      default:
        throw new Error(`jit: op ${op} cannot appear inside a block`);
    }
  }

  /** An inline Zicsr access (jit-csr.ts): through the hart's CSR file; leaves after it if BRK_EXIT. */
  private csr(insn: Insn, k: number): void {
    const { d, pc } = insn;
    // The immediate forms' source is the 5-bit uimm in the rs1 field.
    const operand = d.op >= OP.CSRRWI ? String(d.rs1) : reg(d.rs1);
    const writes = csrWrites(d.op, d.rs1);
    const call = `csr(${d.op}, ${d.imm}, ${operand}, ${writes})`;
    this.out.push(d.rd === 0 ? `${call};` : `r${d.rd} = ${call} | 0;`);
    if (writes && csrMayEnableIrq(d.imm)) this.out.push(this.exitIfBrk(k, pc + d.len));
  }

  /**
   * After instruction k, which may have set h.brk (a device asking the hart to re-check its
   * interrupts or to stop, a CSR write enabling an interrupt): leave, retiring it, at `next`.
   */
  private exitIfBrk(k: number, next: number): string {
    return `if (h.brk !== 0) { ${retire(k + 1)} pc = ${lit(next)}; break loop; }`;
  }

  /**
   * Offset into the main RAM of rs1 + imm, as an int32 (any value when outside): int32 arithmetic
   * that V8 does without an overflow check, where `>>> 0` made it check for a result above 2^31.
   */
  private offset(a: string, imm: number): string {
    return `o = (${a} + ${lit(imm - this.env.base)}) | 0;`;
  }

  /**
   * The test that offset o is a naturally aligned access of `width` bytes inside the main RAM's
   * fast path: for a power-of-two size one mask test of the bits that must be clear (those at or
   * above the size, and the low ones alignment needs), else alignment and an unsigned comparison.
   * Either way o is then a non-negative int32, an index as it is: the fast path stops at 2 GiB
   * (RAM above goes through jit-ram.ts).
   */
  private inside(width: number): string {
    const size = this.env.size;
    if ((size & (size - 1)) === 0 && size <= 2 ** 30) return `(o & ${lit(~(size - 1) | (width - 1))}) === 0`;
    const below = `(o >>> 0) < ${Math.min(size, 2 ** 31)}`;
    return width === 1 ? below : `(o & ${width - 1}) === 0 && ${below}`;
  }

  /** The element index of offset o (inside the fast path) in a view of 2^shift-byte elements. */
  private index(shift: number): string {
    return shift === 0 ? 'o' : `o >> ${shift}`;
  }

  private load(op: number, rd: number, a: string, imm: number, pc: number, k: number, next: number): void {
    // Typed-array loads are `| 0`-ed so that V8 types every register as int32 throughout.
    const [b8, b16, b32] = [`M8[${this.index(0)}]`, `M16[${this.index(1)}]`, `M32[${this.index(2)}]`];
    const [fast, width, sext] =
      op === OP.LB
        ? [`(${b8} << 24) >> 24`, 1, '(w << 24) >> 24']
        : op === OP.LBU
          ? [`${b8} | 0`, 1, 'w | 0']
          : op === OP.LH
            ? [`(${b16} << 16) >> 16`, 2, '(w << 16) >> 16']
            : op === OP.LHU
              ? [`${b16} | 0`, 2, 'w | 0']
              : [`${b32} | 0`, 4, 'w | 0'];
    const cond = this.inside(width);
    // A load into x0 from RAM has no effect; from a device it still happens (a read may have side
    // effects, or fault) in the interpreter. Other RAM windows go through jit-ram.ts.
    this.out.push(
      this.offset(a, imm),
      `if (${cond}) { ${set(rd, fast)} } else { w = ld(o + ${lit(this.env.base)}, ${width}); ` +
        `if (w === NO_LOAD) ${this.slowExit(k, pc)} ${set(rd, sext)} ${this.exitIfBrk(k, next)} }`,
    );
  }

  private store(
    op: number,
    a: string,
    value: string,
    imm: number,
    pc: number,
    k: number,
    next: number,
  ): void {
    const [target, width] =
      op === OP.SB
        ? [`M8[${this.index(0)}]`, 1]
        : op === OP.SH
          ? [`M16[${this.index(1)}]`, 2]
          : [`M32[${this.index(2)}]`, 4];
    const cond = this.inside(width);
    // A store into a watched granule (code, a reservation) goes to the interpreter, which does
    // what Hart.watchedStore asks (drop the code, clear the reservation) before the region runs on;
    // one to another RAM window goes through jit-ram.ts.
    this.out.push(
      this.offset(a, imm),
      `if (${cond} && W[${this.index(8)}] === 0) ${target} = ${value}; ` +
        `else { if (!st(o + ${lit(this.env.base)}, ${width}, ${value})) ${this.slowExit(k, pc)} ${this.exitIfBrk(k, next)} }`,
    );
  }
}

/**
 * The registers an instruction really reads and writes, [rs1, rs2, rd] with 0 for none: the
 * decoded form keeps the raw fields, so a store's `rd` or an immediate op's `rs2` hold immediate bits.
 */
function operands(d: Decoded): readonly [number, number, number] {
  const op = d.op;
  if (op === OP.LUI || op === OP.AUIPC || op === OP.JAL) return [0, 0, d.rd];
  if (op === OP.FENCE) return [0, 0, 0];
  // Zicsr: rs2's field holds CSR-number bits, and the immediate forms' rs1 field a uimm.
  if (op >= OP.CSRRW && op <= OP.CSRRC) return [d.rs1, 0, d.rd];
  if (op >= OP.CSRRWI && op <= OP.CSRRCI) return [0, 0, d.rd];
  if ((op >= OP.BEQ && op <= OP.BGEU) || (op >= OP.SB && op <= OP.SW)) return [d.rs1, d.rs2, 0];
  if (op === OP.JALR || (op >= OP.LB && op <= OP.LHU) || (op >= OP.ADDI && op <= OP.SRAI))
    return [d.rs1, 0, d.rd];
  return [d.rs1, d.rs2, d.rd];
}

/** Registers a region reads or writes (x0 excluded). */
function registersOf(region: Region): number[] {
  const used = new Set<number>();
  for (const b of region.blocks) {
    for (const { d } of b.insns) {
      for (const r of operands(d)) if (r !== 0) used.add(r);
    }
  }
  return [...used].sort((p, q) => p - q);
}

/** Each block's successors inside the region, by block index (a JALR's: the return sites). */
function successorsOf(
  region: Region,
  indexOf: ReadonlyMap<number, number>,
  returnSites: readonly number[],
): number[][] {
  return region.blocks.map((b) => {
    const e = b.end;
    const pcs =
      e.kind === 'branch'
        ? [e.target, e.fallthrough]
        : e.kind === 'jump'
          ? [e.target]
          : e.kind === 'fallthrough'
            ? [e.next]
            : e.kind === 'indirect'
              ? returnSites
              : [];
    return pcs.flatMap((pc) => {
      const i = indexOf.get(pc >>> 0);
      return i === undefined ? [] : [i];
    });
  });
}

/** A region's function source, and the blocks it can be entered at (its units' roots). */
export interface Generated {
  readonly source: string;
  readonly roots: ReadonlySet<number>;
}

/**
 * The JavaScript source of the function for `region` (the body of a factory over CLOSURE_PARAMS).
 * The function's switch has a case for each root (jit-structure.ts) only; the dispatcher enters
 * the region at no other block.
 */
export function generateRegion(region: Region, env: CodegenEnv): Generated {
  const indexOf = new Map<number, number>();
  region.blocks.forEach((b, i) => indexOf.set(b.start >>> 0, i));
  // Return sites: blocks that follow a call made from inside the region.
  // Those of calls to code outside the region are roots: the callee returns to them through the
  // dispatcher, which would otherwise interpret up to the next root.
  const returnSites: number[] = [];
  const entries: number[] = [];
  for (const b of region.blocks) {
    const last = b.insns[b.insns.length - 1];
    const site = indexOf.get(b.limit);
    if (b.end.kind === 'jump' && last !== undefined && last.d.rd !== 0 && site !== undefined) {
      returnSites.push(b.limit);
      if (!indexOf.has(b.end.target >>> 0)) entries.push(site);
    }
  }
  const regs = registersOf(region);
  const emitter = new BlockEmitter(env, indexOf, returnSites);
  const succ = successorsOf(region, indexOf, returnSites);
  const units = planUnits(succ, entries);
  const emit = (i: number, edge: (j: number, last: boolean) => string): string =>
    emitter.emit(region.blocks[i] as Block, edge);
  // Cases in chains, each followed by the root its last statement goes to, which it then falls
  // into instead of going round the switch.
  const tails = new Map<number, number | undefined>();
  const edgesOnly = (i: number, edge: (j: number, last: boolean) => string): string =>
    emitter.edges(region.blocks[i] as Block, edge);
  for (const [r, unit] of units) tails.set(r, structureUnit(succ, r, unit, edgesOnly).tail);
  const order: number[] = [];
  for (const r of units.keys())
    for (
      let j: number | undefined = r;
      j !== undefined && units.has(j) && !order.includes(j);
      j = tails.get(j)
    )
      order.push(j);
  const cases = order.map((r, k) => {
    const { code } = structureUnit(succ, r, units.get(r) ?? new Set([r]), emit, order[k + 1]);
    return `case ${r}: {\n${code}\n}`;
  });
  const name = `rv_${(region.entry >>> 0).toString(16)}`;
  const source = [
    '"use strict";',
    `return function ${name}(entry, budget) {`,
    // Every value is int32 (`| 0`; the budget is at most the hart's slice, 2^16), so that V8 keeps
    // the registers and the budget unboxed through the loops instead of tagging them at every join
    // and untagging at every use; and the memory views are locals, values V8 can keep in registers,
    // where a variable of the enclosing factory is loaded from its context at every access
    // (measured in bench/README.md, "rv32: int32 code").
    'const M8 = m8, M16 = m16, M32 = m32, W = watch;',
    regs.length > 0 ? `let ${regs.map((r) => `r${r} = x[${r}] | 0`).join(', ')};` : '',
    'let b = entry | 0, left = budget | 0, pc = 0, o = 0, v = 0, w = 0, t = 0;',
    'loop: for (;;) {',
    'switch (b) {',
    ...cases,
    'default: throw new Error("bad block index " + b);',
    '}',
    '}',
    ...regs.map((r) => `x[${r}] = r${r};`),
    'h.pc = pc >>> 0;',
    'slow[0] = v;',
    'return budget - left;',
    '};',
  ].join('\n');
  return { source, roots: new Set(units.keys()) };
}
