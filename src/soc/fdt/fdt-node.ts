// One devicetree node with its properties as raw big-endian bytes, and the typed accessors that
// decode them the way Linux's of_property_read_*() family does (drivers/of/property.c), plus reg
// decoding with the parent's #address-cells/#size-cells (Devicetree Specification v0.4 §2.3.5-6).
// Accessors return undefined for an absent property and throw RprocError EINVAL for a malformed one.

import { ByteView } from '../../util/bytes.ts';
import { RprocError, hex } from '../../util/errors.ts';
import { FDT_DEFAULT_ADDRESS_CELLS, FDT_DEFAULT_SIZE_CELLS, FDT_LIMITS } from './fdt-constants.ts';
import { baseNameOf, nodeNameProblem, unitAddressOf } from './fdt-names.ts';

const OP = 'fdt-prop';

/** One (address, size) pair of a reg property, in the address space of the node's parent bus. */
export interface RegEntry {
  readonly address: bigint;
  readonly size: bigint;
}

const utf8 = new TextDecoder('utf-8');

export class FdtNode {
  /** Full node name with its unit address ("cpu@0"); "" for the root. */
  readonly name: string;
  /** Property values in blob order; values are owned copies, never views of the blob. */
  readonly props: Map<string, Uint8Array>;
  parent: FdtNode | undefined;
  private readonly kids: FdtNode[] = [];
  /** Children by full name: sibling names are unique, and a blob may have many siblings. */
  private readonly byName = new Map<string, FdtNode>();

  constructor(name: string, props?: Iterable<readonly [string, Uint8Array]>, children?: Iterable<FdtNode>) {
    this.name = name;
    this.props = new Map(props);
    this.parent = undefined;
    for (const c of children ?? []) this.addChild(c);
  }

  /** Children in blob order. Use addChild/removeChild to change them. */
  get children(): readonly FdtNode[] {
    return this.kids;
  }

  /** Absolute path: "/" for the root, "/soc/mailbox@1000" below it. */
  get path(): string {
    const parts: string[] = [];
    for (const n of this.ancestry()) if (n.parent !== undefined) parts.push(n.name);
    return `/${parts.reverse().join('/')}`;
  }

  /** This node, then its parent, up to the root. */
  *ancestry(): Generator<FdtNode> {
    yield this;
    for (let n = this.parent; n !== undefined; n = n.parent) yield n;
  }

  /** Number of ancestors: 0 for the root. */
  get depth(): number {
    let d = 0;
    for (let n = this.parent; n !== undefined; n = n.parent) d++;
    return d;
  }

  /** The name without its unit address, which is what Linux's device_node.name holds. */
  get baseName(): string {
    return baseNameOf(this.name);
  }

  get unitAddress(): string | undefined {
    return unitAddressOf(this.name);
  }

  /** Attach `child` (a detached node) as the last child; sibling names must be unique. */
  addChild(child: FdtNode): FdtNode {
    if (child.parent !== undefined) {
      throw new RprocError('EINVAL', OP, `node "${child.name}" already has a parent (${child.parent.path})`);
    }
    const problem = nodeNameProblem(child.name);
    if (problem !== undefined) {
      throw new RprocError('EINVAL', OP, `node name "${child.name}" under ${this.path} ${problem}`);
    }
    if (this.byName.has(child.name)) {
      throw new RprocError('EINVAL', OP, `duplicate node name "${child.name}" under ${this.path}`);
    }
    child.parent = this;
    this.kids.push(child);
    this.byName.set(child.name, child);
    return child;
  }

  /** Detach `child` from this node; returns false if it is not a child of this node. */
  removeChild(child: FdtNode): boolean {
    const i = this.kids.indexOf(child);
    if (i < 0) return false;
    this.kids.splice(i, 1);
    this.byName.delete(child.name);
    child.parent = undefined;
    return true;
  }

  /** True when a child has exactly this full name. */
  hasChild(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * The child named `name`: an exact match first, else (for a name without "@") the first child
   * whose name without unit address matches, as Linux's path lookup does.
   */
  child(name: string): FdtNode | undefined {
    const exact = this.byName.get(name);
    if (exact !== undefined || name.includes('@')) return exact;
    return this.kids.find((c) => c.baseName === name);
  }

  /** This node and all its descendants, depth first, parents before children. */
  *walk(): Generator<FdtNode> {
    // Iterative so that a deep (but valid) tree cannot exhaust the JS stack.
    const stack: FdtNode[] = [this];
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      yield n;
      for (let i = n.children.length - 1; i >= 0; i--) {
        const c = n.children[i];
        if (c !== undefined) stack.push(c);
      }
    }
  }

  has(prop: string): boolean {
    return this.props.has(prop);
  }

  raw(prop: string): Uint8Array | undefined {
    return this.props.get(prop);
  }

  /** Present = true, as for boolean properties such as auto-boot or no-map (value ignored). */
  bool(prop: string): boolean {
    return this.props.has(prop);
  }

  u32(prop: string): number | undefined {
    const v = this.props.get(prop);
    if (v === undefined) return undefined;
    if (v.length !== 4) throw this.lengthError(prop, v, 'exactly 0x4 (one cell)');
    return this.view(prop, v).u32(0, prop);
  }

  u32s(prop: string): number[] | undefined {
    const v = this.props.get(prop);
    if (v === undefined) return undefined;
    if (v.length % 4 !== 0) throw this.lengthError(prop, v, 'a multiple of 0x4 (cells)');
    const view = this.view(prop, v);
    const out: number[] = [];
    for (let off = 0; off < v.length; off += 4) out.push(view.u32(off, prop));
    return out;
  }

  /** A 64-bit value (two cells), as of_property_read_u64. */
  u64(prop: string): bigint | undefined {
    const v = this.props.get(prop);
    if (v === undefined) return undefined;
    if (v.length !== 8) throw this.lengthError(prop, v, 'exactly 0x8 (two cells)');
    return this.view(prop, v).u64(0, prop);
  }

  /** The first string of a string property; the value must be NUL-terminated. */
  string(prop: string): string | undefined {
    return this.strings(prop)?.[0];
  }

  /** A stringlist ("a\0b\0"): every string, including empty ones; the value must end with NUL. */
  strings(prop: string): string[] | undefined {
    const v = this.props.get(prop);
    if (v === undefined) return undefined;
    if (v.length === 0 || v[v.length - 1] !== 0) {
      throw new RprocError(
        'EINVAL',
        OP,
        `property "${prop}" of ${this.path} (length ${hex(v.length)}) is not a NUL-terminated string`,
      );
    }
    return utf8.decode(v.subarray(0, v.length - 1)).split('\0');
  }

  /** The phandle of this node ("phandle", else the older "linux,phandle"), if it has one. */
  get phandle(): number | undefined {
    const prop = this.props.has('phandle') ? 'phandle' : 'linux,phandle';
    const value = this.u32(prop);
    if (value === 0 || value === 0xffff_ffff) {
      throw new RprocError(
        'EINVAL',
        OP,
        `property "${prop}" of ${this.path} has the reserved value ${hex(value)}`,
      );
    }
    return value;
  }

  /** The compatible list, most specific first; empty without the property. */
  get compatible(): string[] {
    return this.strings('compatible') ?? [];
  }

  isCompatible(compatible: string): boolean {
    return this.compatible.includes(compatible);
  }

  /** status absent, "okay" or "ok" (the older spelling Linux still accepts). */
  get isAvailable(): boolean {
    const status = this.string('status');
    return status === undefined || status === 'okay' || status === 'ok';
  }

  /** #address-cells of this node, i.e. the number of cells in its children's addresses. */
  get addressCells(): number {
    return this.cellCount('#address-cells', FDT_DEFAULT_ADDRESS_CELLS);
  }

  /** #size-cells of this node, i.e. the number of cells in its children's sizes. */
  get sizeCells(): number {
    return this.cellCount('#size-cells', FDT_DEFAULT_SIZE_CELLS);
  }

  /**
   * The reg property decoded with the parent's #address-cells/#size-cells (spec defaults 2/1
   * when the parent lacks them). Addresses are in the parent bus's space; see Fdt.translate.
   */
  reg(): RegEntry[] {
    const v = this.props.get('reg');
    if (v === undefined) return [];
    const ac = this.parent?.addressCells ?? FDT_DEFAULT_ADDRESS_CELLS;
    const sc = this.parent?.sizeCells ?? FDT_DEFAULT_SIZE_CELLS;
    const stride = (ac + sc) * 4;
    if (v.length === 0) return [];
    if (stride === 0 || v.length % stride !== 0) {
      throw this.lengthError('reg', v, `a multiple of ${hex(stride)} (${ac} address + ${sc} size cells)`);
    }
    const view = this.view('reg', v);
    const out: RegEntry[] = [];
    for (let off = 0; off < v.length; off += stride) {
      out.push({ address: readCells(view, off, ac, 'reg'), size: readCells(view, off + ac * 4, sc, 'reg') });
    }
    return out;
  }

  /** A ByteView over a property value for decoders elsewhere (ranges, phandle lists). */
  view(prop: string, value: Uint8Array): ByteView {
    return new ByteView(value, 'be', { what: `property "${prop}" of ${this.path}`, op: OP });
  }

  lengthError(prop: string, value: Uint8Array, expected: string): RprocError {
    return new RprocError(
      'EINVAL',
      OP,
      `property "${prop}" of ${this.path} has length ${hex(value.length)}, expected ${expected}`,
    );
  }

  private cellCount(prop: string, fallback: number): number {
    const n = this.u32(prop);
    if (n === undefined) return fallback;
    if (n > FDT_LIMITS.maxCells) {
      throw new RprocError(
        'EINVAL',
        OP,
        `property "${prop}" of ${this.path} is ${hex(n)}, over the limit of ${FDT_LIMITS.maxCells} cells`,
      );
    }
    return n;
  }
}

/** `count` big-endian cells at `off` as one unsigned number (most significant cell first). */
export function readCells(view: ByteView, off: number, count: number, field: string): bigint {
  let value = 0n;
  for (let i = 0; i < count; i++) value = (value << 32n) | BigInt(view.u32(off + i * 4, field));
  return value;
}

/**
 * The first difference between two subtrees (names, property names/values/order, children), or
 * undefined when they are equal. Used by round-trip tests and by tools that compare boards.
 */
export function firstDifference(a: FdtNode, b: FdtNode): string | undefined {
  const stack: [FdtNode, FdtNode][] = [[a, b]];
  for (let pair = stack.pop(); pair !== undefined; pair = stack.pop()) {
    const [x, y] = pair;
    if (x.name !== y.name) return `node name "${x.name}" vs "${y.name}" at ${x.path}`;
    const xp = [...x.props.keys()];
    const yp = [...y.props.keys()];
    if (xp.join('\0') !== yp.join('\0'))
      return `properties of ${x.path}: [${xp.join(', ')}] vs [${yp.join(', ')}]`;
    for (const [k, v] of x.props) {
      const w = y.props.get(k);
      if (w === undefined || !bytesEqual(v, w)) return `property "${k}" of ${x.path} differs`;
    }
    if (x.children.length !== y.children.length) {
      return `${x.path} has ${x.children.length} children vs ${y.children.length}`;
    }
    for (let i = x.children.length - 1; i >= 0; i--) {
      const cx = x.children[i];
      const cy = y.children[i];
      if (cx !== undefined && cy !== undefined) stack.push([cx, cy]);
    }
  }
  return undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
