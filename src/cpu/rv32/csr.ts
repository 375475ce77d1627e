// The machine-mode CSR file of an RV32IMAC hart with no U/S mode (RISC-V privileged spec,
// "Machine-Level CSRs"; Zicntr for cycle/time/instret). Each CSR's legal values follow the spec's
// WARL rules for a hart that only has M-mode: mstatus.MPP reads 3, mip's three bits are read-only
// (driven by the platform), misa is fixed. An unknown CSR number, or a write to a read-only one,
// makes the instruction illegal (read/write return `undefined` / false and the hart traps).

import { MIP_MASK } from './trap.ts';

export const CSR = {
  mstatus: 0x300,
  misa: 0x301,
  mie: 0x304,
  mtvec: 0x305,
  mstatush: 0x310,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  mcycle: 0xb00,
  minstret: 0xb02,
  mcycleh: 0xb80,
  minstreth: 0xb82,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  cycleh: 0xc80,
  timeh: 0xc81,
  instreth: 0xc82,
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
} as const;

/** misa of RV32IMAC: MXL = 1 (32-bit), extensions A (bit 0), C (2), I (8), M (12). */
export const MISA_RV32IMAC = 0x4000_1105;

/** mstatus.MPP (bits 12:11) always reads 3 = M: there is no other mode to return to. */
const MSTATUS_MPP_M = 3 << 11;

/** mie's writable bits: MSIE, MTIE, MEIE. */
const MIE_MASK = MIP_MASK;

const U32 = 0x1_0000_0000;
const MASK64 = (1n << 64n) - 1n;

/** Where the counters come from; the hart supplies them. */
export interface CounterSource {
  /** Instructions retired before the one being executed. */
  retired(): number;
  /** The platform's mtime (the CLINT's timer), in ticks. */
  time(): number;
}

/**
 * CSRs implemented outside this file (the Sdtrig trigger CSRs, triggers.ts): read returns
 * undefined for a CSR it does not have.
 */
export interface CsrExtension {
  read(csr: number): number | undefined;
  write(csr: number, value: number): void;
}

/** True when a CSR number is in a read-only range (csr[11:10] = 0b11). */
export function isReadOnlyCsr(csr: number): boolean {
  return csr >>> 10 === 3;
}

function isHpm(csr: number): boolean {
  // mhpmcounter3..31 (+h), hpmcounter3..31 (+h), mhpmevent3..31: implemented as hard-wired
  // zero, which the spec allows; firmware that probes them reads 0.
  const lo = csr & 0x1f;
  if (lo < 3) return false;
  const hi = csr & ~0x1f;
  return hi === 0xb00 || hi === 0xb80 || hi === 0xc00 || hi === 0xc80 || hi === 0x320;
}

export class CsrFile {
  /** mstatus.MIE / mstatus.MPIE as 0/1. */
  mie = 0;
  mpie = 0;
  /** The mie register (interrupt enables). */
  mieBits = 0;
  /** mip as driven by the platform's interrupt lines. */
  mipBits = 0;
  mtvec = 0;
  mepc = 0;
  mcause = 0;
  mtval = 0;
  mscratch = 0;
  readonly mhartid: number;
  private cycleOffset = 0n;
  private instretOffset = 0n;
  private readonly counters: CounterSource;
  private readonly extension: CsrExtension | undefined;

  /** Whether an interrupt would be taken now (machine mode: mstatus.MIE and one enabled pending). */
  interruptTakeable(): boolean {
    return this.mie !== 0 && (this.mieBits & this.mipBits) !== 0;
  }

  constructor(mhartid: number, counters: CounterSource, extension?: CsrExtension) {
    this.mhartid = mhartid;
    this.counters = counters;
    this.extension = extension;
  }

  /** Reset values: the privileged spec leaves most implementation-defined; QEMU's are zero. */
  reset(): void {
    this.mie = 0;
    this.mpie = 0;
    this.mieBits = 0;
    this.mtvec = 0;
    this.mepc = 0;
    this.mcause = 0;
    this.mtval = 0;
    this.mscratch = 0;
    this.cycleOffset = 0n;
    this.instretOffset = 0n;
  }

  get mstatus(): number {
    return (this.mie << 3) | (this.mpie << 7) | MSTATUS_MPP_M;
  }

  /** minstret as a 64-bit count. */
  instret(): bigint {
    return (BigInt(this.counters.retired()) + this.instretOffset) & MASK64;
  }

  /** mcycle: one cycle per retired instruction (the core has no pipeline model). */
  cycle(): bigint {
    return (BigInt(this.counters.retired()) + this.cycleOffset) & MASK64;
  }

  /** The CSR's value, or undefined when the CSR does not exist (illegal instruction). */
  read(csr: number): number | undefined {
    switch (csr) {
      case CSR.mstatus:
        return this.mstatus;
      case CSR.misa:
        return MISA_RV32IMAC;
      case CSR.mie:
        return this.mieBits;
      case CSR.mip:
        return this.mipBits;
      case CSR.mtvec:
        return this.mtvec;
      case CSR.mstatush: // MBE = SBE = 0: little-endian M-mode; nothing else on RV32 M-only
      case CSR.mcountinhibit: // counters cannot be inhibited: reads 0, writes ignored
      case CSR.mvendorid:
      case CSR.marchid:
      case CSR.mimpid:
      case CSR.mconfigptr:
        return 0;
      case CSR.mhartid:
        return this.mhartid;
      case CSR.mscratch:
        return this.mscratch;
      case CSR.mepc:
        return this.mepc;
      case CSR.mcause:
        return this.mcause;
      case CSR.mtval:
        return this.mtval;
      case CSR.mcycle:
      case CSR.cycle:
        return Number(this.cycle() & 0xffff_ffffn) | 0;
      case CSR.mcycleh:
      case CSR.cycleh:
        return Number(this.cycle() >> 32n) | 0;
      case CSR.minstret:
      case CSR.instret:
        return Number(this.instret() & 0xffff_ffffn) | 0;
      case CSR.minstreth:
      case CSR.instreth:
        return Number(this.instret() >> 32n) | 0;
      case CSR.time:
        return (this.counters.time() % U32) | 0;
      case CSR.timeh:
        return Math.floor(this.counters.time() / U32) | 0;
      default:
        return isHpm(csr) ? 0 : this.extension?.read(csr);
    }
  }

  /**
   * Write a CSR (the caller has already checked that it exists and is not read-only). Counter
   * writes set the value that the next instruction reads: the writing instruction's own
   * retirement is not added on top (privileged spec: a CSR write takes effect after the
   * instruction has otherwise completed).
   */
  write(csr: number, value: number): void {
    switch (csr) {
      case CSR.mstatus:
        this.mie = (value >>> 3) & 1;
        this.mpie = (value >>> 7) & 1;
        return;
      case CSR.mie:
        this.mieBits = value & MIE_MASK;
        return;
      case CSR.mtvec:
        // MODE ≥ 2 is reserved: legalised to direct mode, keeping BASE.
        this.mtvec = (value & 3) === 1 ? value & ~2 : value & ~3;
        return;
      case CSR.mscratch:
        this.mscratch = value | 0;
        return;
      case CSR.mepc:
        // IALIGN = 16 (C is always on): mepc[0] is hard-wired to zero.
        this.mepc = value & ~1;
        return;
      case CSR.mcause:
        this.mcause = value | 0;
        return;
      case CSR.mtval:
        this.mtval = value | 0;
        return;
      case CSR.mcycle:
      case CSR.mcycleh:
        this.cycleOffset = this.counterWrite(this.cycle(), csr === CSR.mcycleh, value) - this.nextRawCount();
        return;
      case CSR.minstret:
      case CSR.minstreth:
        this.instretOffset =
          this.counterWrite(this.instret(), csr === CSR.minstreth, value) - this.nextRawCount();
        return;
      default:
        // misa, mip, mstatush, mcountinhibit and the hpm counters: WARL fields that keep
        // their (fixed) values. The extension's CSRs (it has them if it could read them).
        if (this.extension?.read(csr) !== undefined) this.extension.write(csr, value);
        return;
    }
  }

  /** The 64-bit counter value after writing one half of it. */
  private counterWrite(current: bigint, high: boolean, value: number): bigint {
    const v = BigInt(value >>> 0);
    return high ? (v << 32n) | (current & 0xffff_ffffn) : (current & ~0xffff_ffffn & MASK64) | v;
  }

  /** The raw count the next instruction will see before any offset: retired() + 1. */
  private nextRawCount(): bigint {
    return BigInt(this.counters.retired() + 1);
  }
}
