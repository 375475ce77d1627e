// patchElfU32: the value lands at the symbol's address in its PT_LOAD segment (read back through
// the segment the loader copies), the original image is untouched, and the refusals name why.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isRprocError } from '../util/errors.ts';
import { parseElf } from './elf-reader.ts';
import { loadSegments } from './elf-segments.ts';
import { readSymbols } from './elf-symbols.ts';
import { patchElfU32 } from './elf-patch.ts';

const hostile = readFileSync(new URL('../../firmware/prebuilt/hostile.elf', import.meta.url));

function loaded(bytes: Uint8Array, symbol: string): number {
  const image = parseElf(bytes);
  const sym = readSymbols(image).symbols.find((s) => s.name === symbol);
  assert.ok(sym !== undefined);
  const seg = loadSegments(image).find((s) => sym.value >= s.vaddr && sym.value < s.vaddr + BigInt(s.memsz));
  assert.ok(seg !== undefined);
  const off = Number(sym.value - seg.vaddr);
  return new DataView(seg.data.buffer, seg.data.byteOffset + off, 4).getUint32(0, true);
}

describe('patchElfU32', () => {
  it('writes the value where the loader will copy the variable from, in a copy', () => {
    const before = Buffer.from(hostile);
    for (const [symbol, value] of [
      ['hostile_scenario', 7],
      ['hostile_run', 0xffff_ffff],
      ['hostile_run', 0],
    ] as const) {
      const out = patchElfU32(hostile, symbol, value);
      assert.equal(loaded(out, symbol), value);
      assert.equal(out.length, hostile.length);
    }
    assert.deepEqual(Buffer.from(hostile), before, 'the original image is unchanged');
  });
  const refused: readonly (readonly [string, string, number, string, RegExp])[] = [
    ['no such symbol', 'no_such_symbol', 1, 'ENOENT', /no symbol "no_such_symbol"/],
    ['a .bss variable (no file bytes)', 'received', 1, 'EINVAL', /has no 4 file bytes in a PT_LOAD segment/],
    ['a value above u32', 'hostile_run', 0x1_0000_0000, 'EINVAL', /is not a u32/],
    ['a negative value', 'hostile_run', -1, 'EINVAL', /is not a u32/],
  ];
  for (const [what, symbol, value, code, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => patchElfU32(hostile, symbol, value),
        (e) => isRprocError(e, code as 'EINVAL') && message.test((e as Error).message),
      );
    });
  }
});
