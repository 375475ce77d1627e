// The firmware a harness run finds by name when its caller names no store: the shipped prebuilt
// ELFs (firmware/prebuilt) and the bundled js-core programs, plus any directories given.

import { fileURLToPath } from 'node:url';
import { addBundledJsFirmware } from '../cpu/js/bundled-firmware.ts';
import { FirmwareStore } from '../remoteproc/firmware-store.ts';

const PREBUILT_DIR = fileURLToPath(new URL('../../firmware/prebuilt', import.meta.url));

export function harnessFirmwareStore(extraDirs: readonly string[] = []): FirmwareStore {
  const store = new FirmwareStore([...extraDirs, PREBUILT_DIR]);
  addBundledJsFirmware(store);
  return store;
}
