// The virtual SoC's parse_fw: the resource table is optional, as for Linux platform drivers such
// as stm32_rproc.c (stm32_rproc_parse_fw) and imx_rproc.c (imx_rproc_parse_fw), which call
// rproc_elf_load_rsc_table and, when the image has no ".resource_table" section, warn and boot it
// without resources. A table that is present but invalid still refuses the boot (EINVAL).

import { loadResourceTableCopyOptional } from '../elf/elf-rsc-table.ts';
import { elfImageOf } from '../remoteproc/elf-defaults.ts';
import type { Firmware } from '../remoteproc/firmware-store.ts';
import type { Rproc } from '../remoteproc/rproc.ts';

export function parseFwOptionalTable(rproc: Rproc, fw: Firmware): Uint8Array | undefined {
  const table = loadResourceTableCopyOptional(elfImageOf(fw));
  if (table === undefined) {
    rproc.log(
      'warn',
      `${rproc.name}: no resource table in firmware ${fw.name}; booting it without resources (no carveouts, trace buffers or virtio devices)`,
    );
    return undefined;
  }
  return table.table;
}
