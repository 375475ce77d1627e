// A generated board with N js cores (or rv32 cores), each with its own 1 MiB RAM (seen at
// 0x80000000 by the core), its own vdev0 vrings and buffer region and a DMA pool: for scale tests,
// the boot/throughput benchmark and multi-core debugging tests. Built with the FDT builder, so it
// needs no dtc.

import { buildFdt, cells, flag, node, reg, ref, str, strs, u32, type NodeSpec } from '../fdt/fdt-builder.ts';
import type { Fdt } from '../fdt/fdt-tree.ts';
import { RprocError } from '../../util/errors.ts';
import { RPROC_TS_COMPATIBLE } from '../fdt/fdt-remoteproc.ts';

const RAM_BASE = 0x8000_0000;
const PER_CORE = 0x40_0000;

function region(label: string, name: string, pa: number, size: number): NodeSpec {
  return node(
    `${name}@${pa.toString(16)}`,
    { compatible: str('shared-dma-pool'), reg: reg([[pa, size]]), 'no-map': flag() },
    [],
    label,
  );
}

export function manyCoreBoard(cores: number, firmware = 'rpmsg-echo', kind: 'js' | 'rv32' = 'js'): Fdt {
  if (!Number.isInteger(cores) || cores < 1 || cores > 64)
    throw new RprocError('EINVAL', 'board', `a many-cores board has 1..64 cores, not ${cores}`);
  const reserved: NodeSpec[] = [];
  const procs: NodeSpec[] = [];
  for (let i = 0; i < cores; i++) {
    const base = RAM_BASE + i * PER_CORE;
    const shared = base + 0x10_0000;
    reserved.push(
      region(`c${i}_ram`, `core${i}-ram`, base, 0x10_0000),
      region(`c${i}_vring0`, 'vdev0vring0', shared, 0x4000),
      region(`c${i}_vring1`, 'vdev0vring1', shared + 0x4000, 0x4000),
      region(`c${i}_buffer`, 'vdev0buffer', shared + 0x8000, 0x4_0000),
      region(`c${i}_pool`, `core${i}-pool`, shared + 0x4_8000, 0xb_8000),
    );
    procs.push(
      node(
        `remoteproc@${(0x1010_0000 + i * 0x1000).toString(16)}`,
        {
          compatible: str(kind === 'rv32' ? RPROC_TS_COMPATIBLE.rv32Core : RPROC_TS_COMPATIBLE.jsCore),
          reg: reg([[0x1010_0000 + i * 0x1000, 0x1000]]),
          'memory-region': cells(
            ...['ram', 'vring0', 'vring1', 'buffer', 'pool'].map((r) => ref(`c${i}_${r}`)),
          ),
          'firmware-name': str(firmware),
          'rproc-ts,dma-pool': cells(ref(`c${i}_pool`)),
          'rproc-ts,address-map': u32(RAM_BASE, base, 0x10_0000, shared, shared, 0x10_0000),
        },
        [],
        `core${i}`,
      ),
    );
  }
  return buildFdt(
    node(
      '',
      {
        model: str(`rproc-ts ${cores}-core board`),
        compatible: strs('rproc-ts,virtual-amp-soc'),
        '#address-cells': u32(2),
        '#size-cells': u32(2),
      },
      [
        node(
          'aliases',
          Object.fromEntries(
            procs.map((_, i) => [`rproc${i}`, str(`/remoteproc@${(0x1010_0000 + i * 0x1000).toString(16)}`)]),
          ),
        ),
        node(`memory@${RAM_BASE.toString(16)}`, {
          device_type: str('memory'),
          reg: reg([[RAM_BASE, cores * PER_CORE]]),
        }),
        node(
          'reserved-memory',
          { '#address-cells': u32(2), '#size-cells': u32(2), ranges: flag() },
          reserved,
        ),
        ...procs,
      ],
    ),
  );
}
