// Write a value into an initialised variable of a firmware image before it is loaded: the symbol's
// address (st_value) found in the PT_LOAD segment that holds it, the bytes at that place in the
// file replaced. How a test or a tool parameterises one ELF (a scenario number, a run id) without
// building a variant per value. Reads what elf-symbols.ts and elf-segments.ts read.

import { RprocError, hex } from '../util/errors.ts';
import { parseElf } from './elf-reader.ts';
import { loadSegments } from './elf-segments.ts';
import { readSymbols } from './elf-symbols.ts';

const OP = 'elf-patch';

/**
 * A copy of `bytes` whose u32 variable `symbol` holds `value` (little-endian, as the image is).
 * ENOENT when there is no such symbol; EINVAL when its 4 bytes are not all file bytes of one PT_LOAD
 * segment (a .bss variable has none: initialise it to give it some).
 */
export function patchElfU32(bytes: Uint8Array, symbol: string, value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RprocError('EINVAL', OP, `${symbol}: ${String(value)} is not a u32`);
  }
  const image = parseElf(bytes);
  const sym = readSymbols(image).symbols.find((s) => s.name === symbol);
  if (sym === undefined) throw new RprocError('ENOENT', OP, `no symbol "${symbol}" in the image`);
  const seg = loadSegments(image).find(
    (s) => sym.value >= s.vaddr && sym.value + 4n <= s.vaddr + BigInt(s.filesz),
  );
  if (seg === undefined) {
    throw new RprocError(
      'EINVAL',
      OP,
      `symbol "${symbol}" at ${hex(sym.value)} has no 4 file bytes in a PT_LOAD segment (in .bss?)`,
    );
  }
  // A copy (not bytes.slice(): on a Buffer that is a view of the same memory).
  const out = new Uint8Array(bytes);
  const at = seg.fileOffset + Number(sym.value - seg.vaddr);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(at, value, image.header.endian === 'le');
  return out;
}
