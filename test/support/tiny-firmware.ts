// Tiny rv32 firmware images for tests of how a run ends, assembled with the instruction encoders:
// one that writes a value to the test finisher (QEMU virt's sifive_test) and one that faults at
// once (a load from address 0, with no trap handler). Neither has a resource table, so they also
// exercise the SoC's optional table (soc/optional-rsc-table.ts).

import { buildElf } from '../../src/elf/elf-builder.ts';
import { MAJOR, encI, encJ, encS, encU } from '../../src/cpu/rv32/encode.ts';

const RAM = 0x8000_0000;
const T0 = 5;
const T1 = 6;

function image(words: readonly number[]): Uint8Array {
  const code = new Uint8Array(words.length * 4);
  const view = new DataView(code.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return buildElf({
    class: 32,
    entry: RAM,
    segments: [{ paddr: RAM, data: code, flags: 5 }],
    sections: [],
  });
}

/** Writes `value` to the test finisher at 0x0010_0000, then spins. */
export function finisherFirmware(value: number): Uint8Array {
  const hi = (value + 0x800) & 0xffff_f000;
  const lo = (value - hi) | 0;
  return image([
    encU(MAJOR.LUI, T0, 0x0010_0000),
    encU(MAJOR.LUI, T1, hi),
    encI(MAJOR.OP_IMM, T1, 0, T1, lo),
    encS(MAJOR.STORE, 2, T0, T1, 0),
    encJ(MAJOR.JAL, 0, 0),
  ]);
}

/** FAIL with `code` ((code << 16) | 0x3333). */
export function failingFirmware(code: number): Uint8Array {
  return finisherFirmware(((code << 16) | 0x3333) >>> 0);
}

/** PASS (0x5555). */
export function passingFirmware(): Uint8Array {
  return finisherFirmware(0x5555);
}

/** Loads from address 0 at once (nothing is mapped there, and no trap handler is set). */
export function faultingFirmware(): Uint8Array {
  return image([encI(MAJOR.LOAD, T0, 2, 0, 0), encJ(MAJOR.JAL, 0, 0)]);
}
