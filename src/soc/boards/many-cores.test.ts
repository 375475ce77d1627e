// The generated many-cores board: which cores are rv32 for each kind argument, the address map an
// rv32 core gets (its shared region where the C SDK's window is), and the errors for bad sizes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RprocError } from '../../util/errors.ts';
import { boardFromFdt } from '../board.ts';
import { manyCoreBoard, type ManyCoreRv32 } from './many-cores.ts';

const MiB = 0x10_0000;

describe('manyCoreBoard', () => {
  const kinds: [string, 'js' | 'rv32' | ManyCoreRv32, string][] = [
    ['js', 'js', 'jjjjjjjj'],
    ['rv32', 'rv32', 'rrrrrrrr'],
    ['every 4th rv32', { every: 4, firmware: 'echo.elf' }, 'jjjrjjjr'],
    ['every core rv32', { every: 1, firmware: 'echo.elf' }, 'rrrrrrrr'],
  ];
  for (const [title, kind, layout] of kinds) {
    it(`${title}: cores ${layout}`, () => {
      const board = boardFromFdt(manyCoreBoard(8, 'multi-echo', kind));
      assert.equal(board.cores.map((c) => (c.kind === 'rv32' ? 'r' : 'j')).join(''), layout);
    });
  }

  it('an rv32 core sees its RAM at 0x80000000 and its shared region at 0x80100000, a js core the shared region where it is', () => {
    const board = boardFromFdt(manyCoreBoard(4, 'multi-echo', { every: 2, firmware: 'echo.elf' }));
    const [js, rv32] = [board.cores[2], board.cores[3]];
    assert.deepEqual(js?.addressMap, [
      { da: 0x8000_0000, pa: 0x8000_0000 + 2 * 4 * MiB, size: MiB },
      { da: 0x8000_0000 + 2 * 4 * MiB + MiB, pa: 0x8000_0000 + 2 * 4 * MiB + MiB, size: MiB },
    ]);
    assert.deepEqual(rv32?.addressMap, [
      { da: 0x8000_0000, pa: 0x8000_0000 + 3 * 4 * MiB, size: MiB },
      { da: 0x8010_0000, pa: 0x8000_0000 + 3 * 4 * MiB + MiB, size: MiB },
    ]);
    assert.equal(rv32.firmwareName, 'echo.elf');
    assert.equal(js.firmwareName, 'multi-echo');
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['0 cores', () => manyCoreBoard(0), /EINVAL: .*1\.\.64 cores, not 0/],
    ['65 cores', () => manyCoreBoard(65), /not 65/],
    [
      'rv32 every 0',
      () => manyCoreBoard(4, 'multi-echo', { every: 0, firmware: 'echo.elf' }),
      /every 0 cores/,
    ],
    [
      'rv32 every 1.5',
      () => manyCoreBoard(4, 'multi-echo', { every: 1.5, firmware: 'echo.elf' }),
      /every 1\.5 cores/,
    ],
  ];
  for (const [title, build, message] of bad) {
    it(`refuses ${title} with one error naming the value`, () => {
      assert.throws(build, (e: unknown) => e instanceof RprocError && message.test(e.message));
    });
  }
});
