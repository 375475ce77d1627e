// The first-stage boot loader of the virtual SoC: what ROM code or U-Boot does on a real board for
// a remote core that must be running before Linux comes up (the board's rproc-ts,early-boot, as
// st,auto-boot with a firmware loaded by U-Boot on STM32MP1). It loads the core's firmware ELF into
// the core's memory, publishes where the resource table is (what get_loaded_rsc_table later reads)
// and releases the core at the entry point. The host then attaches to the running core instead of
// booting it (remoteproc_core.c, rproc_attach).

import { RprocError, hex, isRprocError } from '../util/errors.ts';
import { elfBootAddr, elfSanityCheck } from '../elf/elf-reader.ts';
import { loadElfSegments } from '../elf/elf-segments.ts';
import { loadResourceTableCopyOptional } from '../elf/elf-rsc-table.ts';
import type { FirmwareStore } from '../remoteproc/firmware-store.ts';
import type { SocCore } from './soc-core.ts';

const OP = 'boot-loader';

/** Load `firmwareName` from `store` into `core`'s memory, publish its table, start the core. */
export async function bootLoaderStart(
  core: SocCore,
  store: FirmwareStore,
  firmwareName: string,
): Promise<void> {
  const fw = await store.request(firmwareName);
  let entry: bigint;
  try {
    const image = elfSanityCheck(fw.bytes);
    // Checked and translated in full before anything is written (loadElfSegments).
    loadElfSegments(image, (da, len) => core.daToVa(da, len));
    const table = loadResourceTableCopyOptional(image);
    if (table !== undefined) {
      if (table.da > 0xffff_ffffn) {
        throw new RprocError('EINVAL', OP, `resource table at ${hex(table.da)} is not a 32-bit address`);
      }
      core.publishTable(Number(table.da), table.table.length);
    }
    entry = elfBootAddr(image);
  } catch (e) {
    const code = isRprocError(e) ? e.code : 'EINVAL';
    const why = isRprocError(e) ? e.detail : e instanceof Error ? e.message : String(e);
    throw new RprocError(code, OP, `${core.name}: cannot boot ${firmwareName} before the host: ${why}`, {
      cause: e,
    });
  }
  await core.startCore(entry);
}
