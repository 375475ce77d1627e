// The ns16550a UART of QEMU's virt machine (uart0 at 0x1000_0000, PLIC source 10), modelled as
// QEMU's hw/char/serial.c behaves: transmit bytes go to the host as lines (or, in loopback, back to
// the receiver); the receiver takes the host's bytes (UartRxSource) into RBR or the 16-byte FIFO,
// with the receive-data, character-timeout, line-status and THR-empty interrupts in IIR priority
// order, the FIFO trigger levels, and overrun when a byte arrives with no room. Registers are
// bytes at offsets 0..7 (reg-shift 0); the divisor latch only sets the character time.

import type { MmioRegion, Width } from '../bus.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

/** Where received bytes come from: the host's side of the serial line. */
export interface UartRxSource {
  /** Up to `max` bytes the host sent, in order, removed from the source (none: empty array). */
  take(max: number): ArrayLike<number>;
}

const REG = { RBR_THR_DLL: 0, IER_DLM: 1, IIR_FCR: 2, LCR: 3, MCR: 4, LSR: 5, MSR: 6, SCR: 7 } as const;

const IER = { RDI: 0x01, THRI: 0x02, RLSI: 0x04, MSI: 0x08 } as const;
export const UART_IIR = {
  NO_INT: 0x01,
  ID: 0x06,
  MSI: 0x00,
  THRI: 0x02,
  RDI: 0x04,
  RLSI: 0x06,
  CTI: 0x0c,
  FE: 0xc0,
} as const;
const FCR = { FE: 0x01, RFR: 0x02, XFR: 0x04, ITL: 0xc0 } as const;
const LCR_DLAB = 0x80;
const MCR = { DTR: 0x01, RTS: 0x02, OUT1: 0x04, OUT2: 0x08, LOOP: 0x10 } as const;
export const UART_LSR = { DR: 0x01, OE: 0x02, PE: 0x04, FE: 0x08, BI: 0x10, THRE: 0x20, TEMT: 0x40 } as const;
/** LSR bits that raise the line-status interrupt. */
const LSR_INT_ANY = 0x1e;
const MSR = { CTS: 0x10, DSR: 0x20, DCD: 0x80, ANY_DELTA: 0x0f } as const;

/** FIFO depth of the 16550A. */
const UART_FIFO_SIZE = 16;
/** FCR trigger level bits → bytes (UART_FCR_ITL_1..4). */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** QEMU virt's baud base (serial_mm_init in hw/riscv/virt.c). */
const BAUD_BASE = 399_193;
/** At reset QEMU assumes 9600 baud, 10 bits a character, until the divisor or LCR is written. */
const RESET_CHAR_NS = Math.floor(1e9 / 9600) * 10;
/** Flush a partial line after this many bytes, so that output without newlines still shows. */
const MAX_LINE = 256;

export class Uart16550 {
  private line: number[] = [];
  private readonly onText: (text: string) => void;
  private readonly txReady: () => boolean;
  private readonly rx: UartRxSource | undefined;
  private readonly clockNs: () => number;
  private readonly onChange: () => void;

  private rbr = 0;
  private ier = 0;
  private iir: number = UART_IIR.NO_INT;
  private fcr = 0;
  private lcr = 0;
  private mcr: number = MCR.OUT2;
  private lsr: number = UART_LSR.TEMT | UART_LSR.THRE;
  private msr: number = MSR.DCD | MSR.DSR | MSR.CTS;
  private scr = 0;
  private divider = 0x0c;
  private readonly fifo: number[] = [];
  private triggerLevel = 1;
  private thrPending = false;
  private timeoutPending = false;
  /** Core time (ns) at which the character timeout fires, while bytes wait in the FIFO. */
  private timeoutAt: number | undefined;
  private charNs = RESET_CHAR_NS;

  /**
   * @param onText a line (or chunk) the firmware printed.
   * @param options rx: the host's bytes (none: nothing is ever received but loopback);
   *   clockNs: the core's time, for the character timeout; onChange: the interrupt line may have
   *   changed after a register access (the owner then samples `irq`); txReady: whether the host
   *   takes more output now — while it does not, LSR reads THRE and TEMT clear, so a firmware that
   *   polls LSR before writing waits, as on a slow line (a host that is behind must not grow).
   */
  constructor(
    onText: (text: string) => void,
    options: {
      rx?: UartRxSource;
      clockNs?: () => number;
      onChange?: () => void;
      txReady?: () => boolean;
    } = {},
  ) {
    this.onText = onText;
    this.txReady = options.txReady ?? (() => true);
    this.rx = options.rx;
    this.clockNs = options.clockNs ?? (() => 0);
    this.onChange = options.onChange ?? (() => undefined);
  }

  /** The interrupt output (to PLIC source 10): IIR shows an interrupt. */
  get irq(): boolean {
    return (this.iir & UART_IIR.NO_INT) === 0;
  }

  /** When the character timeout will fire (core ns), for a core that sleeps in WFI; undefined: none armed. */
  deadlineNs(): number | undefined {
    return this.timeoutAt;
  }

  /**
   * Take what the host sent while there is room, and fire a due character timeout. The owner calls
   * it before it samples `irq` (each slice, each WFI check); register reads call it themselves.
   */
  poll(): void {
    if (this.timeoutAt !== undefined && this.clockNs() >= this.timeoutAt) {
      this.timeoutAt = undefined;
      if (this.fifo.length > 0) this.timeoutPending = true;
    }
    const room = this.canReceive();
    if (room > 0 && this.rx !== undefined && (this.mcr & MCR.LOOP) === 0) {
      const bytes = this.rx.take(room);
      if (bytes.length > 0) this.receive(bytes);
    }
    this.updateIrq();
  }

  /**
   * How many bytes the line may deliver now (QEMU's serial_can_receive): in FIFO mode up to the
   * trigger level, then one at a time; without the FIFO one, when RBR is empty. The host's bytes
   * wait in its queue meanwhile: they never overrun, as a QEMU chardev's never do.
   */
  private canReceive(): number {
    if ((this.fcr & FCR.FE) === 0) return (this.lsr & UART_LSR.DR) === 0 ? 1 : 0;
    const n = this.fifo.length;
    if (n >= UART_FIFO_SIZE) return 0;
    return n <= this.triggerLevel ? this.triggerLevel - n : 1;
  }

  /** Bytes arriving on the line (host input or loopback); overrun when there is no room. */
  private receive(bytes: ArrayLike<number>): void {
    if ((this.fcr & FCR.FE) !== 0) {
      for (let i = 0; i < bytes.length; i++) {
        if (this.fifo.length < UART_FIFO_SIZE) this.fifo.push((bytes[i] ?? 0) & 0xff);
        else this.lsr |= UART_LSR.OE; // overruns do not overwrite the FIFO
      }
      this.lsr |= UART_LSR.DR;
      this.timeoutAt = this.clockNs() + 4 * this.charNs;
    } else {
      for (let i = 0; i < bytes.length; i++) {
        if ((this.lsr & UART_LSR.DR) !== 0) this.lsr |= UART_LSR.OE;
        this.rbr = (bytes[i] ?? 0) & 0xff;
        this.lsr |= UART_LSR.DR;
      }
    }
  }

  /** IIR from the pending conditions, highest priority first (serial_update_irq). */
  private updateIrq(): void {
    let id: number = UART_IIR.NO_INT;
    const fifoOn = (this.fcr & FCR.FE) !== 0;
    if ((this.ier & IER.RLSI) !== 0 && (this.lsr & LSR_INT_ANY) !== 0) id = UART_IIR.RLSI;
    else if ((this.ier & IER.RDI) !== 0 && this.timeoutPending) id = UART_IIR.CTI;
    else if (
      (this.ier & IER.RDI) !== 0 &&
      (this.lsr & UART_LSR.DR) !== 0 &&
      (!fifoOn || this.fifo.length >= this.triggerLevel)
    )
      id = UART_IIR.RDI;
    else if ((this.ier & IER.THRI) !== 0 && this.thrPending) id = UART_IIR.THRI;
    else if ((this.ier & IER.MSI) !== 0 && (this.msr & MSR.ANY_DELTA) !== 0) id = UART_IIR.MSI;
    this.iir = id | (this.iir & 0xf0);
  }

  private changed(): void {
    this.updateIrq();
    this.onChange();
  }

  private readRbr(): number {
    let v: number;
    if ((this.fcr & FCR.FE) !== 0) {
      v = this.fifo.shift() ?? 0;
      if (this.fifo.length === 0) {
        this.lsr &= ~(UART_LSR.DR | UART_LSR.BI);
        this.timeoutAt = undefined;
      } else {
        this.timeoutAt = this.clockNs() + 4 * this.charNs;
      }
      this.timeoutPending = false;
    } else {
      v = this.rbr;
      this.lsr &= ~(UART_LSR.DR | UART_LSR.BI);
    }
    // Room again: the line delivers what waits (QEMU: qemu_chr_accept_input), except in loopback.
    this.poll();
    return v;
  }

  private read(offset: number): number {
    switch (offset) {
      case REG.RBR_THR_DLL: {
        if ((this.lcr & LCR_DLAB) !== 0) return this.divider & 0xff;
        const v = this.readRbr();
        this.changed();
        return v;
      }
      case REG.IER_DLM:
        return (this.lcr & LCR_DLAB) !== 0 ? (this.divider >> 8) & 0xff : this.ier;
      case REG.IIR_FCR: {
        const v = this.iir;
        if ((v & UART_IIR.ID) === UART_IIR.THRI) {
          this.thrPending = false;
          this.changed();
        }
        return v;
      }
      case REG.LCR:
        return this.lcr;
      case REG.MCR:
        return this.mcr;
      case REG.LSR: {
        // A polling firmware sees the host's bytes arrive here.
        const before = this.iir;
        this.poll();
        if (this.iir !== before) this.onChange();
        const v = this.txReady() ? this.lsr : this.lsr & ~(UART_LSR.THRE | UART_LSR.TEMT);
        if ((this.lsr & (UART_LSR.BI | UART_LSR.OE)) !== 0) {
          this.lsr &= ~(UART_LSR.BI | UART_LSR.OE);
          this.changed();
        }
        return v;
      }
      case REG.MSR: {
        if ((this.mcr & MCR.LOOP) !== 0) {
          // In loopback the modem outputs drive the inputs: OUT2→DCD, OUT1→RI, RTS→CTS, DTR→DSR.
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & MCR.RTS) << 3) | ((this.mcr & MCR.DTR) << 5);
        }
        const v = this.msr;
        if ((this.msr & MSR.ANY_DELTA) !== 0) {
          this.msr &= 0xf0;
          this.changed();
        }
        return v;
      }
      case REG.SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  /**
   * A register as a debugger reads it: no byte taken from the receive FIFO (RBR cannot be read
   * that way: undefined), no interrupt or status bit cleared, no poll of the host's ring.
   */
  private peek(offset: number): number | undefined {
    switch (offset) {
      case REG.RBR_THR_DLL:
        return (this.lcr & LCR_DLAB) !== 0 ? this.divider & 0xff : undefined;
      case REG.IER_DLM:
        return (this.lcr & LCR_DLAB) !== 0 ? (this.divider >> 8) & 0xff : this.ier;
      case REG.IIR_FCR:
        return this.iir;
      case REG.LCR:
        return this.lcr;
      case REG.MCR:
        return this.mcr;
      case REG.LSR:
        return this.txReady() ? this.lsr : this.lsr & ~(UART_LSR.THRE | UART_LSR.TEMT);
      case REG.MSR:
        return (this.mcr & MCR.LOOP) !== 0
          ? ((this.mcr & 0x0c) << 4) | ((this.mcr & MCR.RTS) << 3) | ((this.mcr & MCR.DTR) << 5)
          : this.msr;
      case REG.SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  private write(offset: number, value: number): void {
    const v = value & 0xff;
    switch (offset) {
      case REG.RBR_THR_DLL:
        if ((this.lcr & LCR_DLAB) !== 0) {
          this.divider = (this.divider & 0xff00) | v;
          this.updateParameters();
        } else {
          this.transmit(v);
        }
        return;
      case REG.IER_DLM: {
        if ((this.lcr & LCR_DLAB) !== 0) {
          this.divider = (this.divider & 0x00ff) | (v << 8);
          this.updateParameters();
          return;
        }
        const changed = (this.ier ^ v) & 0x0f;
        this.ier = v & 0x0f;
        // Turning THRI on with THR empty raises it at once, even if an IIR read had cleared it.
        if ((changed & IER.THRI) !== 0)
          this.thrPending = (this.ier & IER.THRI) !== 0 && (this.lsr & UART_LSR.THRE) !== 0;
        if (changed !== 0) this.changed();
        return;
      }
      case REG.IIR_FCR:
        this.writeFcr(v);
        return;
      case REG.LCR:
        this.lcr = v;
        this.updateParameters();
        return;
      case REG.MCR:
        this.mcr = v & 0x1f;
        return;
      case REG.SCR:
        this.scr = v;
        return;
      default:
        return; // LSR and MSR are read-only
    }
  }

  private writeFcr(value: number): void {
    if (value === this.fcr) return;
    let v = value;
    // Switching the FIFOs on or off flushes them. Deviation: switching them on keeps a byte
    // waiting in RBR (QEMU and the 16550 drop it). The host's input may have been queued before
    // the firmware set its UART up, and reset mode takes a byte at once: without this, the first
    // byte typed ahead would be lost whatever the firmware did.
    const carried = (v & FCR.FE) !== 0 && (this.fcr & FCR.FE) === 0 && (this.lsr & UART_LSR.DR) !== 0;
    if (((v ^ this.fcr) & FCR.FE) !== 0) v |= FCR.XFR | FCR.RFR;
    if ((v & FCR.RFR) !== 0) {
      this.fifo.length = 0;
      this.lsr &= ~(UART_LSR.DR | UART_LSR.BI);
      this.timeoutAt = undefined;
      this.timeoutPending = false;
    }
    if (carried) {
      this.fifo.push(this.rbr);
      this.lsr |= UART_LSR.DR;
      this.timeoutAt = this.clockNs() + 4 * this.charNs;
    }
    if ((v & FCR.FE) !== 0) {
      this.iir |= UART_IIR.FE;
      this.triggerLevel = TRIGGER_LEVELS[(v & FCR.ITL) >> 6] ?? 1;
    } else {
      this.iir &= ~UART_IIR.FE;
    }
    // Only FE, DMS and the trigger level stick.
    this.fcr = v & 0xc9;
    this.changed();
  }

  /** A byte to THR: out at once (the host's side never blocks), or back to the receiver in loopback. */
  private transmit(byte: number): void {
    this.thrPending = false;
    if ((this.mcr & MCR.LOOP) !== 0) {
      this.receive([byte]);
    } else {
      this.line.push(byte);
      if (byte === 0x0a || this.line.length >= MAX_LINE) this.flush();
    }
    // Sent: THR is empty again, and says so (serial_xmit).
    this.lsr |= UART_LSR.THRE | UART_LSR.TEMT;
    this.thrPending = true;
    this.changed();
  }

  /** Character time from the divisor and LCR, as serial_update_parameters computes it. */
  private updateParameters(): void {
    if (this.divider === 0 || this.divider > BAUD_BASE) return;
    const speed = Math.floor(BAUD_BASE / this.divider);
    const parity = (this.lcr & 0x08) !== 0 ? 1 : 0;
    const stop = (this.lcr & 0x04) !== 0 ? 2 : 1;
    const data = (this.lcr & 0x03) + 5;
    this.charNs = Math.floor(1e9 / speed) * (1 + parity + data + stop);
  }

  region(): MmioRegion {
    return {
      name: 'uart0',
      base: RV32_MAP.UART0,
      size: 0x100,
      // Byte registers at 0..7; a wider access reaches the register at its address (QEMU's
      // serial_mm ops do the same); the rest of the window reads 0.
      read: (offset: number, _width: Width) => (offset < 8 ? this.read(offset) : 0),
      peek: (offset: number) => (offset < 8 ? this.peek(offset) : 0),
      write: (offset: number, _width: Width, value: number) => {
        if (offset < 8) this.write(offset, value);
      },
    };
  }

  flush(): void {
    if (this.line.length === 0) return;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(this.line));
    this.line = [];
    this.onText(text);
  }
}
