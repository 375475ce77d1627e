// The board as the virtual SoC builds it: RAM from the /memory nodes, and for each remote core
// (rproc-ts,rv32-core or rproc-ts,js-core) its carveouts (memory-region), its DMA pool, its own
// address map (rproc-ts,address-map = <da pa size>...), firmware name, auto-boot and whether a
// boot loader already started it (rproc-ts,early-boot → attach). Every value is checked against
// the RAM it must lie in, with the node path in the error.

import { RprocError, hex } from '../util/errors.ts';
import type { Fdt } from './fdt/fdt-tree.ts';
import type { FdtNode } from './fdt/fdt-node.ts';
import { RPROC_TS_COMPATIBLE, describeRemoteprocs, type ReservedRegion } from './fdt/fdt-remoteproc.ts';
import type { AddressWindow } from './address-map.ts';
import type { RamRegionSpec } from './phys-memory.ts';

const OP = 'board';

export type CoreKind = 'rv32' | 'js';

export interface CarveoutRegion {
  /** Linux's carveout name: the node name without unit address (vdev0vring0, core0-ram). */
  readonly name: string;
  readonly pa: number;
  readonly size: number;
}

export interface CoreSpec {
  /** The processor's name: its /aliases entry (rproc0) or else its node name. */
  readonly name: string;
  readonly path: string;
  readonly kind: CoreKind;
  readonly phandle: number | undefined;
  readonly firmwareName: string | undefined;
  readonly autoBoot: boolean;
  /** Started by a boot loader before the host: the host attaches instead of booting. */
  readonly earlyBoot: boolean;
  readonly addressMap: readonly AddressWindow[];
  readonly carveouts: readonly CarveoutRegion[];
  readonly dmaPool: CarveoutRegion | undefined;
}

export interface BoardSpec {
  readonly model: string;
  readonly ram: readonly RamRegionSpec[];
  readonly cores: readonly CoreSpec[];
}

const U32 = 0x1_0000_0000n;

function u32Of(value: bigint, what: string): number {
  if (value < 0n || value >= U32)
    throw new RprocError('EINVAL', OP, `${what} ${hex(value)} is not a 32-bit address`);
  return Number(value);
}

function ramFrom(fdt: Fdt): RamRegionSpec[] {
  const ram: RamRegionSpec[] = [];
  for (const node of fdt.nodes()) {
    if (node.string('device_type') !== 'memory' || !node.isAvailable) continue;
    for (const [i, r] of fdt.regTranslated(node).entries()) {
      const pa = u32Of(r.address, `${node.path} reg[${i}] address`);
      const end = r.address + r.size;
      if (end > U32)
        throw new RprocError('EINVAL', OP, `${node.path} reg[${i}] ends at ${hex(end)}, past 4 GiB`);
      ram.push({ name: i === 0 ? node.name : `${node.name}#${i}`, pa, size: Number(r.size) });
    }
  }
  if (ram.length === 0) throw new RprocError('EINVAL', OP, 'the board has no /memory node');
  return ram;
}

function inRam(ram: readonly RamRegionSpec[], pa: number, size: number): boolean {
  return ram.some((r) => pa >= r.pa && pa + size <= r.pa + r.size);
}

function carveoutOf(region: ReservedRegion, ram: readonly RamRegionSpec[]): CarveoutRegion {
  const pa = u32Of(region.address, `${region.node.path} address`);
  const size = Number(region.size);
  if (!inRam(ram, pa, size)) {
    throw new RprocError(
      'EINVAL',
      OP,
      `${region.node.path} [${hex(pa)}, ${hex(pa + size)}) is not inside the board's RAM`,
    );
  }
  return { name: region.name, pa, size };
}

function addressMapOf(node: FdtNode, ram: readonly RamRegionSpec[]): AddressWindow[] {
  const cells = node.u32s('rproc-ts,address-map');
  if (cells === undefined) {
    // Without a map the core sees physical memory as it is (da = pa).
    return ram.map((r) => ({ da: r.pa, pa: r.pa, size: r.size }));
  }
  if (cells.length === 0 || cells.length % 3 !== 0) {
    throw new RprocError(
      'EINVAL',
      OP,
      `${node.path} rproc-ts,address-map has ${cells.length} cells; it takes <da pa size> triples`,
    );
  }
  const windows: AddressWindow[] = [];
  for (let i = 0; i < cells.length; i += 3) {
    const [da = 0, pa = 0, size = 0] = cells.slice(i, i + 3);
    if (size === 0 || da + size > 2 ** 32 || !inRam(ram, pa, size)) {
      throw new RprocError(
        'EINVAL',
        OP,
        `${node.path} rproc-ts,address-map window ${i / 3} (da ${hex(da)} → pa ${hex(pa)}, ${hex(size)} bytes) is not inside the board's RAM`,
      );
    }
    windows.push({ da, pa, size });
  }
  return windows;
}

export function boardFromFdt(fdt: Fdt): BoardSpec {
  const ram = ramFrom(fdt);
  const cores = describeRemoteprocs(fdt).map((rp): CoreSpec => {
    const kind: CoreKind = rp.compatible.includes(RPROC_TS_COMPATIBLE.rv32Core) ? 'rv32' : 'js';
    const pool = fdt.phandleList(rp.node, 'rproc-ts,dma-pool')[0];
    const poolRegion = pool === undefined ? undefined : rp.memoryRegions.find((r) => r.node === pool);
    if (pool !== undefined && poolRegion === undefined) {
      // The pool must also be one of the core's memory-region entries, so that it is reserved for it.
      const names = rp.memoryRegions.map((r) => r.name).join(', ');
      throw new RprocError(
        'EINVAL',
        OP,
        `${rp.node.path} rproc-ts,dma-pool ${pool.path} is not among its memory-region entries (${names})`,
      );
    }
    return {
      name: rp.alias ?? rp.node.name,
      path: rp.node.path,
      kind,
      phandle: rp.phandle,
      firmwareName: rp.firmwareName,
      autoBoot: rp.autoBoot,
      earlyBoot: rp.node.bool('rproc-ts,early-boot'),
      addressMap: addressMapOf(rp.node, ram),
      carveouts: rp.memoryRegions.filter((r) => r !== poolRegion).map((r) => carveoutOf(r, ram)),
      dmaPool: poolRegion === undefined ? undefined : carveoutOf(poolRegion, ram),
    };
  });
  const names = new Set<string>();
  for (const c of cores) {
    if (names.has(c.name)) throw new RprocError('EINVAL', OP, `two remote cores are named "${c.name}"`);
    names.add(c.name);
  }
  return { model: fdt.root.string('model') ?? 'unnamed board', ram, cores };
}
