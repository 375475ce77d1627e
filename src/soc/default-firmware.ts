// Where the virtual SoC finds firmware when it is given no store: the images that ship with the
// package, in firmware/prebuilt/ (the C samples for the rv32 cores, built by `make -C firmware`)
// and firmware/prebuilt/js/ (the bundled js-core programs, one image per program name) — the
// package's /lib/firmware. The same folders sit two levels above this file in a checkout (src/soc/)
// and in the installed package (dist/soc/).

import { fileURLToPath } from 'node:url';
import { FirmwareStore } from '../remoteproc/firmware-store.ts';

/** The folders of the firmware that ships with the package, in search order. */
export const PREBUILT_FIRMWARE_DIRS: readonly string[] = [
  fileURLToPath(new URL('../../firmware/prebuilt/', import.meta.url)),
  fileURLToPath(new URL('../../firmware/prebuilt/js/', import.meta.url)),
];

/**
 * A firmware store over the shipped firmware (then `extraDirs`): names such as "echo.elf" or
 * "rpmsg-echo" resolve to the shipped images; paths resolve as paths (FirmwareStore.request).
 */
export function defaultFirmwareStore(extraDirs: readonly string[] = []): FirmwareStore {
  return new FirmwareStore([...extraDirs, ...PREBUILT_FIRMWARE_DIRS]);
}
