// The SiFive test finisher's window (QEMU's hw/misc/sifive_test.c at virt's 0x0010_0000): where it
// sits, and that reading it, by the core or by a debugger, is 0 and ends nothing. Its write
// values are pinned in src/cpu/rv32/bus-boundaries.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bus } from '../bus.ts';
import { RV32_MAP } from './rv32-memory-map.ts';
import { testFinisher, type FinisherOutcome } from './test-finisher.ts';

describe('test finisher window', () => {
  it('sits at 0x0010_0000, 4 KiB', () => {
    const r = testFinisher(() => undefined);
    assert.deepEqual([r.name, r.base, r.size], ['test-finisher', RV32_MAP.TEST_FINISHER, 0x1000]);
  });

  it('reads and peeks 0 at every width, and reading ends nothing', () => {
    const got: FinisherOutcome[] = [];
    const r = testFinisher((o) => got.push(o));
    const bus = new Bus({ ram: [], mmio: [r] });
    for (const width of [1, 2, 4] as const) {
      assert.equal(r.read(0, width), 0);
      assert.equal(r.peek?.(0, width), 0);
      assert.equal(bus.peek(RV32_MAP.TEST_FINISHER + 4, width), 0);
      assert.equal(bus.read(RV32_MAP.TEST_FINISHER, width), 0);
    }
    assert.equal(bus.faulted, false);
    assert.deepEqual(got, []);
  });
});
