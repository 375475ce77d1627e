// The SiFive test finisher (QEMU virt's "sifive,test0" at 0x0010_0000): a 32-bit write of 0x5555
// ends the program with success, (code << 16) | 0x3333 with failure `code`, 0x7777 asks for a reset.

import type { MmioRegion, Width } from '../bus.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

const FINISHER_PASS = 0x5555;
const FINISHER_FAIL = 0x3333;
const FINISHER_RESET = 0x7777;

export type FinisherOutcome =
  { readonly kind: 'pass' } | { readonly kind: 'fail'; readonly code: number } | { readonly kind: 'reset' };

export function testFinisher(onFinish: (outcome: FinisherOutcome) => void): MmioRegion {
  return {
    name: 'test-finisher',
    base: RV32_MAP.TEST_FINISHER,
    size: 0x1000,
    read: () => 0,
    peek: () => 0,
    write(offset: number, width: Width, value: number) {
      if (offset !== 0 || width !== 4) return;
      const low = value & 0xffff;
      if (low === FINISHER_PASS) onFinish({ kind: 'pass' });
      else if (low === FINISHER_FAIL) onFinish({ kind: 'fail', code: value >>> 16 });
      else if (low === FINISHER_RESET) onFinish({ kind: 'reset' });
    },
  };
}
