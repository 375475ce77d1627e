// Building a virtual SoC for the CLI: the board (default, or a .dtb/.dts file), a firmware store
// over the committed prebuilt ELFs plus the bundled js firmware and any file the user names.

import { basename } from 'node:path';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { loadBoard } from '../soc/fdt/load-board.ts';
import { VirtualSoc, type VirtualSocOptions } from '../soc/virtual-soc.ts';

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
