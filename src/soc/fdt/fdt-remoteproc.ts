// Decodes what a remoteproc platform driver reads from its device-tree node: compatible,
// firmware-name, auto-boot, memory-region (reserved-memory carveouts, named as Linux names them:
// vdev0vring0, vdev0buffer, ...), mboxes/mbox-names, reg. Mirrors the DT parsing in Linux's
// stm32_rproc.c / imx_rproc.c and drivers/of/of_reserved_mem.c, with the checks made strict.

import { RprocError, hex } from '../../util/errors.ts';
import type { FdtNode, RegEntry } from './fdt-node.ts';
import type { Fdt } from './fdt-tree.ts';

const OP = 'fdt-board';

/** Compatible strings of the virtual SoC's devices. */
export const RPROC_TS_COMPATIBLE = {
  rv32Core: 'rproc-ts,rv32-core',
  jsCore: 'rproc-ts,js-core',
  mailbox: 'rproc-ts,mailbox',
} as const;

/** One /reserved-memory child with a static reg. */
export interface ReservedRegion {
  readonly node: FdtNode;
  /** The node name without unit address: what Linux names the carveout ("vdev0vring0"). */
  readonly name: string;
  /** Physical address (root address space) and size. */
  readonly address: bigint;
  readonly size: bigint;
  readonly noMap: boolean;
  readonly reusable: boolean;
  readonly compatible: readonly string[];
}

/** One mboxes entry: the controller node and its specifier cells (the channel number here). */
export interface MboxChannel {
  /** From mbox-names at the same index ("vq0"), if the node has mbox-names. */
  readonly name: string | undefined;
  readonly controller: FdtNode;
  readonly args: readonly number[];
}

export interface RemoteprocNode {
  readonly node: FdtNode;
  /** The /aliases name pointing at this node ("rproc0"), if any. */
  readonly alias: string | undefined;
  readonly compatible: readonly string[];
  readonly phandle: number | undefined;
  /** reg translated to the root address space. */
  readonly reg: readonly RegEntry[];
  readonly firmwareName: string | undefined;
  readonly autoBoot: boolean;
  readonly memoryRegions: readonly ReservedRegion[];
  readonly mboxes: readonly MboxChannel[];
}

function regionOf(fdt: Fdt, node: FdtNode): ReservedRegion {
  const reg = fdt.regTranslated(node);
  const first = reg[0];
  if (first === undefined || reg.length !== 1) {
    throw new RprocError(
      'EINVAL',
      OP,
      `reserved-memory node ${node.path} has ${reg.length} reg entries; exactly one is supported ` +
        '(dynamically placed regions are not)',
    );
  }
  if (first.size === 0n) throw new RprocError('EINVAL', OP, `reserved-memory node ${node.path} has size 0x0`);
  return {
    node,
    name: node.baseName,
    address: first.address,
    size: first.size,
    noMap: node.bool('no-map'),
    reusable: node.bool('reusable'),
    compatible: node.compatible,
  };
}

/** Every /reserved-memory child (available ones), in tree order; overlapping regions are EINVAL. */
export function reservedMemoryRegions(fdt: Fdt): ReservedRegion[] {
  const parent = fdt.root.child('reserved-memory');
  if (parent === undefined) return [];
  const regions = parent.children.filter((n) => n.isAvailable).map((n) => regionOf(fdt, n));
  const sorted = [...regions].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a !== undefined && b !== undefined && b.address < a.address + a.size) {
      throw new RprocError(
        'EINVAL',
        OP,
        `reserved-memory regions ${a.node.path} [${hex(a.address)}, ${hex(a.address + a.size)}) and ` +
          `${b.node.path} [${hex(b.address)}, ${hex(b.address + b.size)}) overlap`,
      );
    }
  }
  return regions;
}

/** Decode one remoteproc node. */
function describeRemoteproc(fdt: Fdt, node: FdtNode): RemoteprocNode {
  const memoryRegions = fdt.phandleList(node, 'memory-region').map((target, i) => {
    if (target.parent?.parent !== fdt.root || target.parent.name !== 'reserved-memory') {
      throw new RprocError(
        'EINVAL',
        OP,
        `memory-region entry ${i} of ${node.path} points at ${target.path}, not a /reserved-memory child`,
      );
    }
    return regionOf(fdt, target);
  });
  const seen = new Set<string>();
  for (const r of memoryRegions) {
    if (seen.has(r.name)) {
      throw new RprocError('EINVAL', OP, `${node.path} has two memory-region entries named "${r.name}"`);
    }
    seen.add(r.name);
  }
  const names = node.strings('mbox-names');
  const entries = fdt.phandleArgs(node, 'mboxes', '#mbox-cells');
  if (names !== undefined && names.length !== entries.length) {
    throw new RprocError(
      'EINVAL',
      OP,
      `${node.path} has ${entries.length} mboxes entries but ${names.length} mbox-names`,
    );
  }
  let alias: string | undefined;
  for (const [name, path] of fdt.aliases()) {
    if (fdt.node(path) === node) {
      alias = name;
      break;
    }
  }
  return {
    node,
    alias,
    compatible: node.compatible,
    phandle: node.phandle,
    reg: fdt.regTranslated(node),
    firmwareName: node.string('firmware-name'),
    autoBoot: node.bool('auto-boot'),
    memoryRegions,
    mboxes: entries.map((e, i) => ({ name: names?.[i], controller: e.node, args: e.args })),
  };
}

/**
 * Every available node compatible with one of `compatibles` (by default the virtual SoC's two core
 * types), in tree order, decoded.
 */
export function describeRemoteprocs(
  fdt: Fdt,
  compatibles: readonly string[] = [RPROC_TS_COMPATIBLE.rv32Core, RPROC_TS_COMPATIBLE.jsCore],
): RemoteprocNode[] {
  return [...fdt.nodes()]
    .filter((n) => n.isAvailable && n.compatible.some((c) => compatibles.includes(c)))
    .map((n) => describeRemoteproc(fdt, n));
}
