// The ELF-based default ops that rproc_alloc installs when a platform gives no `load` op: sanity
// check, boot address, cached resource table, loaded-table lookup and segment loading, all through
// rproc.daToVa. Mirrors rproc_alloc_ops() and remoteproc_elf_loader.c. Each firmware image is parsed
// once and the result reused by every step of the same boot.

import { parseElf, elfSanityCheck, elfBootAddr, type ElfImage } from '../elf/elf-reader.ts';
import { loadElfSegments, loadSegments } from '../elf/elf-segments.ts';
import { findLoadedResourceTable, loadResourceTableCopy } from '../elf/elf-rsc-table.ts';
import type { Firmware } from './firmware-store.ts';
import type { RprocOps } from './rproc-ops.ts';
import type { Rproc } from './rproc.ts';

const images = new WeakMap<Uint8Array, ElfImage>();

export function elfImageOf(fw: Firmware): ElfImage {
  let image = images.get(fw.bytes);
  if (image === undefined) {
    image = parseElf(fw.bytes);
    images.set(fw.bytes, image);
  }
  return image;
}

type ElfDefaultOps = Required<
  Pick<RprocOps, 'sanityCheck' | 'getBootAddr' | 'parseFw' | 'findLoadedRscTable' | 'load'>
>;

export const ELF_DEFAULT_OPS: ElfDefaultOps = {
  sanityCheck(_rproc: Rproc, fw: Firmware): void {
    images.set(fw.bytes, elfSanityCheck(fw.bytes, { hostEndian: 'le' }));
  },
  getBootAddr(_rproc: Rproc, fw: Firmware): bigint {
    return elfBootAddr(elfImageOf(fw));
  },
  parseFw(_rproc: Rproc, fw: Firmware): Uint8Array {
    return loadResourceTableCopy(elfImageOf(fw)).table;
  },
  findLoadedRscTable(rproc: Rproc, fw: Firmware): Uint8Array | undefined {
    return findLoadedResourceTable(elfImageOf(fw), (da, len) => rproc.daToVa(da, len));
  },
  load(rproc: Rproc, fw: Firmware): void {
    const image = elfImageOf(fw);
    loadElfSegments(image, (da, len) => rproc.daToVa(da, len));
    // Coredumps need the class and machine; Linux leaves them unset unless the driver calls
    // rproc_coredump_set_elf_info. We take them from the firmware unless the platform set them.
    rproc.coredump.setDefaultElfInfo({ class: image.header.class, machine: image.header.machine });
    rproc.coredump.setDefaultSegments(loadSegments(image).map((s) => ({ da: s.da, size: s.memsz })));
  },
};
