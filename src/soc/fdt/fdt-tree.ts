// A whole devicetree: the root node, the memory reservation map and the boot CPU, with the
// tree-wide lookups a platform driver needs: by path (and alias), by phandle, by compatible,
// phandle lists with arguments (of_parse_phandle_with_args) and reg translation through "ranges"
// to the root address space (of_translate_address). Mirrors drivers/of/base.c and drivers/of/address.c.

import { RprocError, hex } from '../../util/errors.ts';
import { FdtNode, readCells, type RegEntry } from './fdt-node.ts';

const OP = 'fdt-lookup';

/** Linux's MAX_PHANDLE_ARGS: the most argument cells one phandle-list entry may carry. */
const MAX_PHANDLE_ARGS = 16;

/** One /memreserve/ entry (spec §5.3). */
export interface MemReserve {
  readonly address: bigint;
  readonly size: bigint;
}

/** One entry of a phandle list such as mboxes = <&mbox 0>, <&mbox 1>. */
export interface PhandleArgs {
  readonly node: FdtNode;
  readonly phandle: number;
  readonly args: readonly number[];
}

export interface FdtOptions {
  readonly memReserve?: readonly MemReserve[];
  readonly bootCpuidPhys?: number;
}

export class Fdt {
  readonly root: FdtNode;
  readonly memReserve: MemReserve[];
  bootCpuidPhys: number;

  constructor(root: FdtNode, options: FdtOptions = {}) {
    this.root = root;
    this.memReserve = [...(options.memReserve ?? [])];
    this.bootCpuidPhys = options.bootCpuidPhys ?? 0;
  }

  /** Every node, depth first, parents before children. */
  nodes(): Generator<FdtNode> {
    return this.root.walk();
  }

  /**
   * The node at `path` ("/reserved-memory/vdev0vring0@90400000"), or undefined. A component
   * without "@" matches the first child with that base name; a path that does not start with "/"
   * starts with an alias ("rproc0" or "serial0/child"), as in of_find_node_by_path.
   */
  node(path: string): FdtNode | undefined {
    let start: FdtNode | undefined = this.root;
    let rest = path;
    if (!path.startsWith('/')) {
      const slash = path.indexOf('/');
      const alias = slash < 0 ? path : path.slice(0, slash);
      start = this.alias(alias);
      rest = slash < 0 ? '' : path.slice(slash);
    }
    for (const part of rest.split('/')) {
      if (start === undefined) return undefined;
      if (part !== '') start = start.child(part);
    }
    return start;
  }

  /** The node at `path`, or ENODEV naming the path. */
  requireNode(path: string): FdtNode {
    const n = this.node(path);
    if (n === undefined) throw new RprocError('ENODEV', OP, `no node at ${path} in the device tree`);
    return n;
  }

  /** The node whose phandle (or linux,phandle) is `phandle`, or undefined. */
  getByPhandle(phandle: number): FdtNode | undefined {
    if (phandle === 0 || phandle === 0xffff_ffff) return undefined;
    for (const n of this.nodes()) if (n.phandle === phandle) return n;
    return undefined;
  }

  /** Every node whose compatible list contains `compatible`, in tree order. */
  findCompatible(compatible: string): FdtNode[] {
    return [...this.nodes()].filter((n) => n.isCompatible(compatible));
  }

  /** /aliases as name → path; properties that are not strings are skipped, as Linux skips them. */
  aliases(): Map<string, string> {
    const out = new Map<string, string>();
    const node = this.root.child('aliases');
    if (node === undefined) return out;
    for (const [name, value] of node.props) {
      if (name === 'phandle' || name === 'linux,phandle' || name === 'name') continue;
      if (value.length === 0 || value[value.length - 1] !== 0) continue;
      const path = node.string(name);
      if (path?.startsWith('/')) out.set(name, path);
    }
    return out;
  }

  /** The node an alias names, or undefined (aliases must hold absolute paths). */
  alias(name: string): FdtNode | undefined {
    const path = this.aliases().get(name);
    return path === undefined ? undefined : this.node(path);
  }

  /** A list of bare phandles, such as memory-region = <&a>, <&b>. */
  phandleList(node: FdtNode, prop: string): FdtNode[] {
    return this.phandleArgs(node, prop).map((e) => e.node);
  }

  /**
   * A phandle list with argument cells, such as mboxes = <&mbox 0>, <&mbox 1>: each entry is a
   * phandle followed by as many cells as the target's `cellsProp` says (#mbox-cells), or none when
   * `cellsProp` is undefined. Every entry must resolve; a phandle of 0 (a hole) is rejected.
   */
  phandleArgs(node: FdtNode, prop: string, cellsProp?: string): PhandleArgs[] {
    const cells = node.u32s(prop);
    if (cells === undefined) return [];
    const out: PhandleArgs[] = [];
    let i = 0;
    while (i < cells.length) {
      const phandle = cells[i] ?? 0;
      const where = `entry ${out.length} of property "${prop}" of ${node.path} (cell ${i})`;
      const target = this.getByPhandle(phandle);
      if (target === undefined) {
        throw new RprocError('EINVAL', OP, `${where} refers to phandle ${hex(phandle)}, which no node has`);
      }
      let count = 0;
      if (cellsProp !== undefined) {
        const n = target.u32(cellsProp);
        if (n === undefined)
          throw new RprocError('EINVAL', OP, `${where}: ${target.path} has no "${cellsProp}"`);
        if (n > MAX_PHANDLE_ARGS) {
          throw new RprocError(
            'EINVAL',
            OP,
            `"${cellsProp}" of ${target.path} is ${hex(n)}, over ${MAX_PHANDLE_ARGS}`,
          );
        }
        count = n;
      }
      if (i + 1 + count > cells.length) {
        throw new RprocError(
          'EINVAL',
          OP,
          `${where} needs ${count} argument cells after phandle ${hex(phandle)} but the property ends`,
        );
      }
      out.push({ node: target, phandle, args: cells.slice(i + 1, i + 1 + count) });
      i += 1 + count;
    }
    return out;
  }

  /**
   * The entry of `prop` whose position matches `name` in the parallel `namesProp` list
   * (mboxes/mbox-names, memory-region/memory-region-names), or undefined if the name is absent.
   */
  namedPhandleArgs(
    node: FdtNode,
    prop: string,
    cellsProp: string | undefined,
    namesProp: string,
    name: string,
  ): PhandleArgs | undefined {
    const index = (node.strings(namesProp) ?? []).indexOf(name);
    if (index < 0) return undefined;
    const entries = this.phandleArgs(node, prop, cellsProp);
    const entry = entries[index];
    if (entry === undefined) {
      throw new RprocError(
        'EINVAL',
        OP,
        `"${name}" is entry ${index} of "${namesProp}" of ${node.path} but "${prop}" has only ${entries.length}`,
      );
    }
    return entry;
  }

  /**
   * Translate [address, address + size) of `node` (in its parent bus's space, as reg holds it) to
   * the root address space through every "ranges" above it. An empty ranges is the identity; a
   * bus without ranges is not translatable (EINVAL), as in Linux. Unlike Linux, which checks only
   * the start address, the whole region must fit inside one ranges entry.
   */
  translate(node: FdtNode, address: bigint, size = 0n): bigint {
    let a = address;
    for (let bus = node.parent; bus?.parent !== undefined; bus = bus.parent) {
      const ranges = bus.raw('ranges');
      if (ranges === undefined) {
        throw new RprocError(
          'EINVAL',
          OP,
          `${bus.path} has no "ranges": address ${hex(a)} of ${node.path} does not map to ${bus.parent.path}`,
        );
      }
      if (ranges.length === 0) continue;
      const cc = bus.addressCells;
      const pc = bus.parent.addressCells;
      const sc = bus.sizeCells;
      const stride = (cc + pc + sc) * 4;
      if (stride === 0 || ranges.length % stride !== 0) {
        throw bus.lengthError(
          'ranges',
          ranges,
          `a multiple of ${hex(stride)} (${cc} child + ${pc} parent + ${sc} size cells)`,
        );
      }
      const view = bus.view('ranges', ranges);
      let mapped: bigint | undefined;
      for (let off = 0; off < ranges.length && mapped === undefined; off += stride) {
        const child = readCells(view, off, cc, 'ranges');
        const parent = readCells(view, off + cc * 4, pc, 'ranges');
        const len = readCells(view, off + (cc + pc) * 4, sc, 'ranges');
        if (a >= child && a - child < len && size <= len - (a - child)) mapped = parent + (a - child);
      }
      if (mapped === undefined) {
        throw new RprocError(
          'EINVAL',
          OP,
          `region ${hex(a)}+${hex(size)} of ${node.path} is outside every "ranges" entry of ${bus.path}`,
        );
      }
      a = mapped;
    }
    return a;
  }

  /** reg of `node` with every address translated to the root address space. */
  regTranslated(node: FdtNode): RegEntry[] {
    return node.reg().map((r) => ({ address: this.translate(node, r.address, r.size), size: r.size }));
  }
}

/**
 * Phandles must be one cell, not 0 or 0xffffffff, agree between "phandle" and "linux,phandle",
 * and be unique: otherwise getByPhandle would be ambiguous. dtc refuses the same trees.
 */
export function checkPhandles(root: FdtNode, op: string): void {
  const fail = (detail: string): RprocError => new RprocError('EINVAL', op, detail);
  const seen = new Map<number, string>();
  for (const node of root.walk()) {
    let value: number | undefined;
    for (const prop of ['phandle', 'linux,phandle']) {
      const raw = node.raw(prop);
      if (raw === undefined) continue;
      if (raw.length !== 4)
        throw fail(`property "${prop}" of ${node.path} has length ${hex(raw.length)}, not 0x4`);
      const ph = node.u32(prop) ?? 0;
      if (ph === 0 || ph === 0xffff_ffff)
        throw fail(`property "${prop}" of ${node.path} has the reserved value ${hex(ph)}`);
      if (value !== undefined && value !== ph) {
        throw fail(`${node.path} has phandle ${hex(value)} but linux,phandle ${hex(ph)}`);
      }
      value = ph;
    }
    if (value === undefined) continue;
    const other = seen.get(value);
    if (other !== undefined) throw fail(`phandle ${hex(value)} is used by both ${other} and ${node.path}`);
    seen.set(value, node.path);
  }
}
