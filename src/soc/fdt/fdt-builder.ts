// A small programmatic devicetree builder, so that tests and tools can describe boards without
// dtc: node(name, props, children, label) with value helpers that encode cells, 64-bit values,
// strings and string lists big-endian, and phandle references by label that are resolved the way
// dtc resolves &label (a "phandle" property added to each referenced node, numbered from 1).

import { ByteView } from '../../util/bytes.ts';
import { RprocError, hex } from '../../util/errors.ts';
import { FdtNode } from './fdt-node.ts';
import { Fdt, type FdtOptions } from './fdt-tree.ts';
import { writeFdt } from './fdt-writer.ts';

const OP = 'fdt-build';

/** A reference to the node labelled `label`: one phandle cell (or its path, with pathRef). */
export interface PhandleRef {
  readonly kind: 'ref';
  readonly label: string;
}

/** A property value before phandle resolution. */
export type PropValue =
  | Uint8Array
  | { readonly kind: 'cells'; readonly cells: readonly (number | PhandleRef)[] }
  | { readonly kind: 'path'; readonly label: string };

export interface NodeSpec {
  readonly name: string;
  readonly label: string | undefined;
  /** Property order is kept (JS objects keep insertion order for non-numeric keys). */
  readonly props: readonly (readonly [string, PropValue])[];
  readonly children: readonly NodeSpec[];
}

export type PropsSpec = Readonly<Record<string, PropValue>> | readonly (readonly [string, PropValue])[];

/** A node: `node('mailbox@1000', { reg: cells(0x1000, 0x1000) }, [], 'mbox')`. */
export function node(
  name: string,
  props: PropsSpec = {},
  children: readonly NodeSpec[] = [],
  label?: string,
): NodeSpec {
  const entries = isPairList(props) ? [...props] : Object.entries(props);
  return { name, label, props: entries, children };
}

function isPairList(props: PropsSpec): props is readonly (readonly [string, PropValue])[] {
  return Array.isArray(props);
}

/** A reference to a labelled node, for use inside cells(). */
export function ref(label: string): PhandleRef {
  return { kind: 'ref', label };
}

/** 32-bit cells; numbers and phandle references mixed: cells(ref('mbox'), 0, ref('mbox'), 1). */
export function cells(...items: (number | PhandleRef)[]): PropValue {
  for (const c of items) {
    if (typeof c === 'number' && (!Number.isInteger(c) || c < 0 || c > 0xffff_ffff)) {
      throw new RprocError('EINVAL', OP, `cell value ${hex(c)} does not fit in 32 bits`);
    }
  }
  return { kind: 'cells', cells: items };
}

/** Alias of cells() for plain numbers. */
export function u32(...values: number[]): PropValue {
  return cells(...values);
}

/** 64-bit values, each as two cells (most significant first), as <0x0 0x80000000> in a .dts. */
export function u64(...values: (bigint | number)[]): PropValue {
  const out: number[] = [];
  for (const v of values) {
    const b = BigInt(v);
    if (b < 0n || b > 0xffff_ffff_ffff_ffffn)
      throw new RprocError('EINVAL', OP, `value ${hex(b)} does not fit in 64 bits`);
    out.push(Number(b >> 32n), Number(b & 0xffff_ffffn));
  }
  return cells(...out);
}

/** `value` split into `count` cells (for reg/ranges with #address-cells or #size-cells cells). */
export function cellsOf(value: bigint | number, count: number): number[] {
  let b = BigInt(value);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.unshift(Number(b & 0xffff_ffffn));
    b >>= 32n;
  }
  if (b !== 0n || BigInt(value) < 0n) {
    throw new RprocError('EINVAL', OP, `value ${hex(BigInt(value))} does not fit in ${count} cells`);
  }
  return out;
}

/** reg = <address size> pairs encoded with the given cell counts (default 2 and 2). */
export function reg(
  entries: readonly (readonly [bigint | number, bigint | number])[],
  addressCells = 2,
  sizeCells = 2,
): PropValue {
  return cells(...entries.flatMap(([a, s]) => [...cellsOf(a, addressCells), ...cellsOf(s, sizeCells)]));
}

const utf8 = new TextEncoder();

/** A string property ("okay"). */
export function str(value: string): PropValue {
  return strs(value);
}

/** A string list ("vq0", "vq1"). */
export function strs(...values: string[]): PropValue {
  return encodeStrings(values);
}

function encodeStrings(values: readonly string[]): Uint8Array {
  const parts = values.map((v) => {
    if (v.includes('\0')) throw new RprocError('EINVAL', OP, `string ${JSON.stringify(v)} contains a NUL`);
    return utf8.encode(`${v}\0`);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** An empty (boolean) property such as auto-boot or no-map. */
export function flag(): PropValue {
  return new Uint8Array(0);
}

/** Raw bytes, as [0x01 0x02] in a .dts. */
export function bytes(...values: number[]): PropValue {
  return Uint8Array.from(values);
}

/** The path of a labelled node as a string, as `rproc0 = &core0;` in /aliases. */
export function pathRef(label: string): PropValue {
  return { kind: 'path', label };
}

/** The same phandle reference as a one-cell property: memory-region = <&a>. */
export function phandle(label: string): PropValue {
  return cells(ref(label));
}

export type BuildOptions = FdtOptions;

/**
 * Build an Fdt from a spec. Each referenced label gets a "phandle" property appended to its node
 * (keeping one the spec already gives), numbered from 1 in the order of first reference in tree
 * order, skipping explicit values - as dtc numbers them.
 */
export function buildFdt(root: NodeSpec, options: BuildOptions = {}): Fdt {
  const labels = new Map<string, NodeSpec>();
  const explicit = new Set<number>();
  const seen = new Set<NodeSpec>();
  const stack: NodeSpec[] = [root];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    // Nodes are keyed by their spec object below, so one object may not appear twice.
    if (seen.has(n)) throw new RprocError('EINVAL', OP, `node spec "${n.name}" appears twice in the tree`);
    seen.add(n);
    if (n.label !== undefined) {
      if (labels.has(n.label)) throw new RprocError('EINVAL', OP, `label "${n.label}" is used twice`);
      labels.set(n.label, n);
    }
    const own = ownPhandle(n);
    if (own !== undefined) explicit.add(own);
    stack.push(...[...n.children].reverse());
  }

  // Pass 1: give every referenced node a phandle, in tree order of first reference.
  const phandles = new Map<NodeSpec, number>();
  let next = 1;
  const phandleOf = (label: string, where: string): number => {
    const target = labels.get(label);
    if (target === undefined)
      throw new RprocError('EINVAL', OP, `${where} refers to unknown label "${label}"`);
    const known = phandles.get(target) ?? ownPhandle(target);
    if (known !== undefined) {
      phandles.set(target, known);
      return known;
    }
    while (explicit.has(next)) next++;
    phandles.set(target, next);
    return next++;
  };
  const order: [NodeSpec, string][] = [];
  const walk: [NodeSpec, string][] = [[root, '/']];
  for (let item = walk.pop(); item !== undefined; item = walk.pop()) {
    const [n, path] = item;
    order.push([n, path]);
    for (const [k, v] of n.props) {
      if (v instanceof Uint8Array || v.kind !== 'cells') continue;
      for (const c of v.cells) if (typeof c !== 'number') phandleOf(c.label, `property "${k}" of ${path}`);
    }
    for (let i = n.children.length - 1; i >= 0; i--) {
      const c = n.children[i];
      if (c !== undefined) walk.push([c, path === '/' ? `/${c.name}` : `${path}/${c.name}`]);
    }
  }
  const paths = new Map(order.map(([n, p]) => [n, p]));

  // Pass 2: encode values and assemble FdtNodes.
  const encode = (k: string, v: PropValue, path: string): Uint8Array => {
    if (v instanceof Uint8Array) return v.slice();
    if (v.kind === 'path') {
      const target = labels.get(v.label);
      const p = target === undefined ? undefined : paths.get(target);
      if (p === undefined)
        throw new RprocError('EINVAL', OP, `property "${k}" of ${path} refers to unknown label "${v.label}"`);
      return encodeStrings([p]);
    }
    const out = new ByteView(new Uint8Array(v.cells.length * 4), 'be', { what: `property "${k}"`, op: OP });
    v.cells.forEach((c, i) => out.setU32(i * 4, typeof c === 'number' ? c : phandleOf(c.label, path), k));
    return out.bytes;
  };
  const build = (spec: NodeSpec, path: string): FdtNode => {
    const n = new FdtNode(
      spec.name,
      spec.props.map(([k, v]) => [k, encode(k, v, path)] as const),
    );
    const ph = phandles.get(spec);
    if (ph !== undefined && !n.has('phandle') && !n.has('linux,phandle'))
      n.props.set('phandle', encode('phandle', u32(ph), path));
    for (const c of spec.children) n.addChild(build(c, paths.get(c) ?? path));
    return n;
  };
  return new Fdt(build(root, '/'), options);
}

function ownPhandle(spec: NodeSpec): number | undefined {
  for (const [k, v] of spec.props) {
    if (k !== 'phandle' && k !== 'linux,phandle') continue;
    if (v instanceof Uint8Array) {
      return v.length === 4 ? new ByteView(v, 'be', { what: k, op: OP }).u32(0, k) : undefined;
    }
    if (v.kind === 'cells' && typeof v.cells[0] === 'number') return v.cells[0];
  }
  return undefined;
}

/** buildFdt then writeFdt: a ready .dtb. */
export function buildDtb(root: NodeSpec, options: BuildOptions = {}): Uint8Array {
  return writeFdt(buildFdt(root, options));
}
