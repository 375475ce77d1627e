// The embedded default board: two remote cores (rproc-ts,rv32-core and rproc-ts,js-core), one
// mailbox and Linux-named reserved-memory carveouts, so that the virtual SoC starts without a
// board file or dtc. Source: default-board.dts; blob: default-board.dtb (both committed).

import { readFdt } from '../fdt-reader.ts';
import type { Fdt } from '../fdt-tree.ts';
import { DEFAULT_BOARD_DTB_BASE64 } from './default-board-dtb.ts';

/** A fresh copy of the default board blob. */
export function defaultBoardDtb(): Uint8Array {
  const b = Buffer.from(DEFAULT_BOARD_DTB_BASE64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.length).slice();
}

/** The default board, parsed (a new tree on each call, so callers may modify it). */
export function defaultBoard(): Fdt {
  return readFdt(defaultBoardDtb());
}
