// Loads a board description: a .dtb is recognised by its magic (0xd00dfeed, Devicetree
// Specification v0.4 §5.2) and read as is; anything else is taken for a .dts and compiled with
// dtc (dts-compile.ts). Without a path, the embedded default board is used.

import { readFile, stat } from 'node:fs/promises';
import { ERRNO, RprocError, hex, type ErrnoName } from '../../util/errors.ts';
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
    const st = await stat(path);
    if (st.isDirectory()) throw new RprocError('EISDIR', OP, `board file ${path} is a directory`);
    if (!st.isFile()) throw new RprocError('EINVAL', OP, `board file ${path} is not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof RprocError) throw e;
    throw unreadable(path, e);
  }
  if (size > MAX_BOARD_FILE_BYTES) {
    throw new RprocError(
      'EFBIG',
      OP,
      `board file ${path} is ${hex(size)} bytes, over ${hex(MAX_BOARD_FILE_BYTES)}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw unreadable(path, e);
  }
  if (isFdtBlob(bytes)) return bytes;
  return compileDts(path, options);
}

/** A file-system error on the board file as one line: ENOENT, EACCES and the like keep their name. */
function unreadable(path: string, e: unknown): RprocError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new RprocError('ENOENT', OP, `board file ${path} does not exist`, { cause: e });
  const name = code !== undefined && code in ERRNO ? (code as ErrnoName) : 'EIO';
  const why = code ?? (e instanceof Error ? e.message : String(e));
  return new RprocError(name, OP, `cannot read board file ${path} (${why})`, { cause: e });
}

/** The board at `path` (.dtb or .dts), or the embedded default board without a path. */
export async function loadBoard(path?: string, options: DtcOptions = {}): Promise<Fdt> {
  return readFdt(path === undefined ? defaultBoardDtb() : await loadBoardBlob(path, options));
}
