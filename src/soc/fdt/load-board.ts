// Loads a board description: a .dtb is recognised by its magic (0xd00dfeed, Devicetree
// Specification v0.4 §5.2) and read as is; anything else is taken for a .dts and compiled with
// dtc (dts-compile.ts). Without a path, the embedded default board is used.

import { readFile, stat } from 'node:fs/promises';
import { RprocError, hex } from '../../util/errors.ts';
import { defaultBoardDtb } from './boards/default-board.ts';
import { compileDts, type DtcOptions } from './dts-compile.ts';
import { isFdtBlob, readFdt } from './fdt-reader.ts';
import type { Fdt } from './fdt-tree.ts';

const OP = 'board-load';
/** totalsize is a u32, but a board is kilobytes: refuse to read anything this large. */
const MAX_BOARD_FILE_BYTES = 16 * 1024 * 1024;

/** The blob of the board at `path`: the file itself if it is a .dtb, else the compiled .dts. */
export async function loadBoardBlob(path: string, options: DtcOptions = {}): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new RprocError('ENOENT', OP, `board file ${path} does not exist`, { cause: e });
    throw new RprocError('EIO', OP, `cannot read board file ${path}: ${String(e)}`, { cause: e });
  }
  if (size > MAX_BOARD_FILE_BYTES) {
    throw new RprocError(
      'EFBIG',
      OP,
      `board file ${path} is ${hex(size)} bytes, over ${hex(MAX_BOARD_FILE_BYTES)}`,
    );
  }
  const bytes = new Uint8Array(await readFile(path));
  if (isFdtBlob(bytes)) return bytes;
  return compileDts(path, options);
}

/** The board at `path` (.dtb or .dts), or the embedded default board without a path. */
export async function loadBoard(path?: string, options: DtcOptions = {}): Promise<Fdt> {
  return readFdt(path === undefined ? defaultBoardDtb() : await loadBoardBlob(path, options));
}
