// Building a virtual SoC for the CLI: the board (default, or a .dtb/.dts file), a firmware store
// over the committed prebuilt ELFs plus the bundled js firmware and any file the user names.

import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addBundledJsFirmware } from '../cpu/js/bundled-firmware.ts';
import { FirmwareStore } from '../remoteproc/firmware-store.ts';
import { loadBoard } from '../soc/fdt/load-board.ts';
import { VirtualSoc, type VirtualSocOptions } from '../soc/virtual-soc.ts';
import '../cpu/core-kinds.ts';

export const PREBUILT_DIR = fileURLToPath(new URL('../../firmware/prebuilt', import.meta.url));

export function defaultFirmwareStore(): FirmwareStore {
  const store = new FirmwareStore([PREBUILT_DIR]);
  addBundledJsFirmware(store);
  return store;
}

export async function createSoc(
  options: { board?: string | undefined; firmwareFile?: string | undefined } & Omit<
    VirtualSocOptions,
    'board'
  >,
): Promise<{ soc: VirtualSoc; firmwareName: string | undefined }> {
  const board = await loadBoard(options.board);
  const store = options.firmwareStore ?? defaultFirmwareStore();
  let firmwareName: string | undefined;
  if (options.firmwareFile !== undefined) {
    const fw = await store.request(options.firmwareFile);
    firmwareName = basename(options.firmwareFile);
    store.add(firmwareName, fw.bytes);
  }
  const { firmwareFile: _f, board: _b, ...rest } = options;
  return { soc: new VirtualSoc({ ...rest, board, firmwareStore: store }), firmwareName };
}

export function prebuiltPath(name: string): string {
  return join(PREBUILT_DIR, name);
}
