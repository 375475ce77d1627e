// Structured control flow for a translated region (jit-codegen.ts): which blocks of the region's
// control-flow graph are emitted as nested JavaScript loops and blocks, so that the common edges
// between blocks are plain fall-through, `continue Lh` (a loop's back edge) or `break By` (a
// forward edge to a join point) instead of a round trip through the region's `switch` over block
// indices, which V8 compiles to one poorly predicted indirect jump for every edge.
//
// The translation of a unit (a set of blocks entered at one root) is the recursive dominator-tree
// walk of N. Ramsey, "Beyond Relooper: recursive translation of unstructured control flow to
// structured control flow" (ICFP 2022), the same shape as LLVM's WebAssembly CFG stackifier:
//   - a block that is the target of a back edge (an edge from a block it dominates) becomes
//     `Lh: while (true) { ... }`, and its back edges `continue Lh`;
//   - a join point (two or more forward edges in) that a block x immediately dominates is placed
//     right after a labelled block `By: { ... }` that holds x, and its edges are `break By`; several
//     join points under one block nest outermost-last by reverse postorder;
//   - a block with one forward edge in is emitted inline where that edge is taken.
// Every other edge — to a block outside the unit, or an irreducible one — goes round the switch
// (`b = y; continue loop`), and so every block of the region has a case of its own in that switch:
// a root's case holds its unit's structured code, any other block's case just that block.
//
// Units (planUnits) partition the region's blocks: each block is written once, in the unit of
// the one root that reaches it. Copying a block into several units would let more edges stay
// structured, but V8 keeps type feedback per copy, and a copy that had not run before TurboFan
// compiled the function deoptimises it the first time it runs. Roots: the region's entry block,
// a block that two units reach, one no root reaches, and the target of an irreducible edge. (A
// JALR's edges are to the return sites of the calls made in the region, each guarded by a
// comparison of the target with it, so a call and its return stay structured.) The dispatcher enters a
// region only at a root (jit.ts).

/** Successors of each block inside the region, by block index (an edge out of the region omitted). */
export type Successors = readonly (readonly number[])[];

/**
 * Emits block `i`; `edge(j, last)` is the statement that transfers control to block j along one
 * of the block's edges in `succ` (called once per edge, in any order); `last`: it is the block's
 * last statement (nothing follows it in the block's code).
 */
export type BlockEmit = (i: number, edge: (j: number, last: boolean) => string) => string;

/** The statement going round the region's switch to block j. */
export function viaSwitch(j: number): string {
  return `{ b = ${j}; continue loop; }`;
}

interface Dom {
  /** Blocks reachable from the root inside the unit, in reverse postorder. */
  readonly order: readonly number[];
  /** Reverse postorder number by block; -1 for a block not reached. */
  readonly rpo: Int32Array;
  /** Immediate dominator by block (the root is its own). */
  readonly idom: Int32Array;
}

/** Reverse postorder and dominators (Cooper, Harvey and Kennedy, "A Simple, Fast Dominance Algorithm"). */
function dominators(succ: Successors, root: number, members: ReadonlySet<number>): Dom {
  const n = succ.length;
  const rpo = new Int32Array(n).fill(-1);
  const post: number[] = [];
  const seen = new Uint8Array(n);
  // Iterative depth-first search: a frame is [block, next successor position].
  const stack: [number, number][] = [[root, 0]];
  seen[root] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [number, number];
    const s = succ[top[0]] ?? [];
    if (top[1] < s.length) {
      const j = s[top[1]++] as number;
      if (members.has(j) && seen[j] === 0) {
        seen[j] = 1;
        stack.push([j, 0]);
      }
    } else {
      post.push(top[0]);
      stack.pop();
    }
  }
  const order = post.reverse();
  order.forEach((b, k) => (rpo[b] = k));
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (const x of order) for (const y of succ[x] ?? []) if (members.has(y)) preds[y]?.push(x);
  const idom = new Int32Array(n).fill(-1);
  idom[root] = root;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while ((rpo[a] as number) > (rpo[b] as number)) a = idom[a] as number;
      while ((rpo[b] as number) > (rpo[a] as number)) b = idom[b] as number;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const y of order) {
      if (y === root) continue;
      let d = -1;
      for (const p of preds[y] ?? []) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
      if (d !== idom[y]) {
        idom[y] = d;
        changed = true;
      }
    }
  }
  return { order, rpo, idom };
}

function dominates(dom: Dom, a: number, b: number): boolean {
  for (let x = b; ; x = dom.idom[x] as number) {
    if (x === a) return true;
    if (dom.idom[x] === x) return false;
  }
}

/** A unit's code, and the root its last statement goes to round the switch (if it does). */
export interface UnitCode {
  readonly code: string;
  readonly tail: number | undefined;
}

/**
 * Structured code for the unit `members` entered at `root` (see the header). When its last
 * statement would go round the switch to `next`, the root whose case follows in the switch, it is
 * left out: control falls into that case.
 */
export function structureUnit(
  succ: Successors,
  root: number,
  members: ReadonlySet<number>,
  emit: BlockEmit,
  next?: number,
): UnitCode {
  const dom = dominators(succ, root, members);
  const { rpo, idom } = dom;
  const reached = (y: number): boolean => members.has(y) && (rpo[y] as number) >= 0;
  const n = succ.length;
  const header = new Uint8Array(n);
  const forwardIn = new Int32Array(n);
  for (const x of dom.order) {
    for (const y of succ[x] ?? []) {
      if (!reached(y)) continue;
      if (dominates(dom, y, x)) header[y] = 1;
      else forwardIn[y] = (forwardIn[y] as number) + 1;
    }
  }
  const merge = (y: number): boolean => (forwardIn[y] as number) >= 2;
  const children: number[][] = Array.from({ length: n }, () => []);
  for (const y of dom.order) if (y !== root) children[idom[y] as number]?.push(y);
  let tail: number | undefined;

  // Labels in scope: `L${h}` for a loop headed by h, `B${y}` for a block followed by y. `end`:
  // the statement is the last of the case (control would run off into the next case).
  const doBranch = (x: number, y: number, scope: ReadonlySet<string>, end: boolean): string => {
    const round = (): string => {
      if (!end) return viaSwitch(y);
      tail = y;
      return y === next ? '' : viaSwitch(y);
    };
    if (!reached(y)) return round();
    if (dominates(dom, y, x)) return scope.has(`L${y}`) ? `continue L${y};` : round();
    if (merge(y)) return scope.has(`B${y}`) ? `break B${y};` : round();
    // One forward edge in: x is its immediate dominator, so its code goes here.
    if ((rpo[y] as number) <= (rpo[x] as number)) return round();
    return `{\n${doTree(y, scope, end)}\n}`;
  };
  const nodeWithin = (
    x: number,
    joins: readonly number[],
    scope: ReadonlySet<string>,
    end: boolean,
  ): string => {
    const [y, ...rest] = joins;
    if (y === undefined) return emit(x, (j, last) => doBranch(x, j, scope, end && last));
    const inner = nodeWithin(x, rest, new Set([...scope, `B${y}`]), false);
    return `B${y}: {\n${inner}\n}\n${doTree(y, scope, end)}`;
  };
  const doTree = (x: number, scope: ReadonlySet<string>, end: boolean): string => {
    // The join point reached last (highest reverse postorder) is the outermost block.
    const joins = (children[x] ?? []).filter(merge).sort((p, q) => (rpo[q] as number) - (rpo[p] as number));
    if (header[x] === 0) return nodeWithin(x, joins, scope, end);
    return `L${x}: while (true) {\n${nodeWithin(x, joins, new Set([...scope, `L${x}`]), false)}\n}`;
  };
  const code = doTree(root, new Set(), true);
  return { code, tail };
}

/**
 * Partition the region's blocks into units (see the header), root → its blocks. Roots: block 0,
 * `entries` (blocks that must be entered from the switch), every block that
 * the units of two roots reach (a join of two units), a block no root reaches, and the target of
 * an irreducible edge inside a unit. Each unit holds the blocks its root reaches without entering
 * another root, so an edge leaving a unit always goes to a root, which has a case in the switch.
 */
export function planUnits(succ: Successors, entries: readonly number[]): Map<number, Set<number>> {
  const n = succ.length;
  const roots = new Set<number>(n > 0 ? [0] : []);
  for (const e of entries) if (e >= 0 && e < n) roots.add(e);
  for (;;) {
    const owner = new Int32Array(n).fill(-1);
    const units = new Map<number, Set<number>>();
    const added: number[] = [];
    for (const r of roots) {
      const unit = reachable(succ, r, roots);
      units.set(r, unit);
      for (const y of unit) {
        if (owner[y] === -1) owner[y] = r;
        else if (owner[y] !== r) added.push(y);
      }
    }
    if (added.length === 0) {
      const lost = owner.indexOf(-1);
      if (lost >= 0) added.push(lost);
    }
    if (added.length === 0) {
      for (const [r, unit] of units) {
        const dom = dominators(succ, r, unit);
        for (const x of dom.order)
          for (const y of succ[x] ?? [])
            if (unit.has(y) && (dom.rpo[y] as number) <= (dom.rpo[x] as number) && !dominates(dom, y, x))
              added.push(y);
      }
    }
    if (added.length === 0) return units;
    for (const y of added) roots.add(y);
  }
}

/** Blocks reachable from `root` without entering a block of `stop` (other than the root). */
function reachable(succ: Successors, root: number, stop: ReadonlySet<number>): Set<number> {
  const out = new Set([root]);
  const work = [root];
  while (work.length > 0) {
    const x = work.pop() as number;
    for (const y of succ[x] ?? []) {
      if (out.has(y) || stop.has(y)) continue;
      out.add(y);
      work.push(y);
    }
  }
  return out;
}
