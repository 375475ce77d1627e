// The decoded-instruction cache: a direct-mapped table indexed by pc / 2 (one slot per halfword,
// since with the C extension any even address can start an instruction), holding each
// instruction's decoded form in three typed arrays. A tag array stores the pc that filled the
// slot, so a lookup is one compare and the table's size is independent of the RAM size: code
// larger than the table just re-decodes on conflicts. Entries are dropped when the hart stores
// into code (see CodeWatch), on fence.i and on reset.

import type { Decoded } from './decode.ts';

/** A tag that no instruction can have: pcs are even. */
const NO_TAG = 1;

/**
 * Packing of the `info` word: op in bits 7:0, rd 12:8, rs1 17:13, rs2 22:18, and bit 23 set for
 * a 4-byte instruction, so that `(info >>> 22) & 2` adds 2 to the 2-byte step.
 */
export function packInfo(d: Decoded): number {
  return d.op | (d.rd << 8) | (d.rs1 << 13) | (d.rs2 << 18) | (d.len === 4 ? 1 << 23 : 0);
}

export class DecodeCache {
  readonly tag: Int32Array;
  readonly info: Int32Array;
  readonly imm: Int32Array;
  /** slots - 1; slot = (pc >>> 1) & mask. */
  readonly mask: number;

  /** @param slots number of halfword slots, a power of two (2^16 covers 128 KiB of code). */
  constructor(slots = 1 << 16) {
    if (slots < 2 || (slots & (slots - 1)) !== 0)
      throw new RangeError(`decode cache size ${slots} is not a power of two`);
    this.tag = new Int32Array(slots).fill(NO_TAG);
    this.info = new Int32Array(slots);
    this.imm = new Int32Array(slots);
    this.mask = slots - 1;
  }

  set(pc: number, d: Decoded): void {
    const slot = (pc >>> 1) & this.mask;
    this.tag[slot] = pc | 0;
    this.info[slot] = packInfo(d);
    this.imm[slot] = d.imm;
  }

  /**
   * Drop every entry that may overlap the bytes [addr, addr + width): the instructions starting
   * in that range and the one starting 2 bytes before it (a 4-byte instruction reaches into it).
   */
  invalidate(addr: number, width: number): void {
    const start = (addr >>> 0) - (addr & 1) - 2; // unsigned arithmetic: `& ~1` would go negative
    const end = (addr >>> 0) + width;
    for (let a = start; a < end; a += 2) {
      const slot = (a >>> 1) & this.mask;
      if (this.tag[slot] === (a | 0)) this.tag[slot] = NO_TAG;
    }
  }

  flush(): void {
    this.tag.fill(NO_TAG);
  }
}
