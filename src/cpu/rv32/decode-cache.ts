// The decoded-instruction cache: a direct-mapped table indexed by pc / 2 (one slot per halfword,
// since with the C extension any even address can start an instruction), holding each
// instruction's decoded form in three typed arrays. A tag array stores the pc that filled the
// slot, so a lookup is one compare and the table's size is independent of the RAM size: code
// larger than the table just re-decodes on conflicts. Entries are dropped when the hart stores
// into code (see CodeWatch), on fence.i and on reset.

import type { Decoded } from './decode.ts';
import { RprocError } from '../../util/errors.ts';

/** A tag that no instruction can have: pcs are even. */
const NO_TAG = 1;

/**
 * Packing of the `info` word: op in bits 7:0; in bits 13:8 the register the result goes to, rd,
 * or 32 for x0 (the interpreter's register file has a 33rd entry that absorbs writes to x0, and
 * `& 31` gives rd back); rs1 in 18:14, rs2 in 23:19; bit 24 set for a 4-byte instruction, so that
 * `(info >>> 23) & 2` adds 2 to the 2-byte step.
 */
export function packInfo(d: Decoded): number {
  return d.op | ((d.rd === 0 ? 32 : d.rd) << 8) | (d.rs1 << 14) | (d.rs2 << 19) | (d.len === 4 ? 1 << 24 : 0);
}

/** Entry layout in DecodeCache.e: ENTRY ints per slot, tag (the pc) first, then info and imm. */
export const ENTRY = 4;

export class DecodeCache {
  /**
   * The entries, ENTRY ints per slot (one array, so that a lookup touches one cache line):
   * [ENTRY * slot] the pc that filled the slot (the tag), [+ 1] the packed info, [+ 2] imm.
   */
  readonly e: Int32Array;
  /** slots - 1; slot = (pc >>> 1) & mask. */
  readonly mask: number;

  /** @param slots number of halfword slots, a power of two (2^16 covers 128 KiB of code). */
  constructor(slots = 1 << 16) {
    if (slots < 2 || (slots & (slots - 1)) !== 0)
      throw new RprocError('EINVAL', 'rv32-core', `decode cache size ${slots} is not a power of two`);
    this.e = new Int32Array(ENTRY * slots);
    this.mask = slots - 1;
    this.flush();
  }

  set(pc: number, d: Decoded): void {
    const i = ENTRY * ((pc >>> 1) & this.mask);
    this.e[i] = pc | 0;
    this.e[i + 1] = packInfo(d);
    this.e[i + 2] = d.imm;
  }

  /**
   * Drop every entry that may overlap the bytes [addr, addr + width): the instructions starting
   * in that range and the one starting 2 bytes before it (a 4-byte instruction reaches into it).
   */
  invalidate(addr: number, width: number): void {
    const start = (addr >>> 0) - (addr & 1) - 2; // unsigned arithmetic: `& ~1` would go negative
    const end = (addr >>> 0) + width;
    for (let a = start; a < end; a += 2) {
      const i = ENTRY * ((a >>> 1) & this.mask);
      if (this.e[i] === (a | 0)) this.e[i] = NO_TAG;
    }
  }

  flush(): void {
    for (let i = 0; i < this.e.length; i += ENTRY) this.e[i] = NO_TAG;
  }
}
