// The transmit side of an ns16550a UART (QEMU virt's uart0 at 0x1000_0000): bytes written to THR
// are collected into lines and handed to the host; LSR reads "transmitter empty" while the host
// has room for more (firmware that polls it waits, as on a real UART; a line written anyway when
// the host is full is dropped and counted). No receive path: firmware input comes over rpmsg.

import type { MmioRegion, Width } from '../bus.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

const THR = 0;
const LSR = 5;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
/** Flush a partial line after this many bytes, so that output without newlines still shows. */
const MAX_LINE = 256;

export class Uart16550 {
  private line: number[] = [];
  private readonly onText: (text: string) => void;
  private readonly ready: () => boolean;

  /** `ready`: whether the host takes more output now (LSR THRE/TEMT); always, by default. */
  constructor(onText: (text: string) => void, ready: () => boolean = () => true) {
    this.onText = onText;
    this.ready = ready;
  }

  region(): MmioRegion {
    return {
      name: 'uart0',
      base: RV32_MAP.UART0,
      size: 0x100,
      read: (offset: number) => (offset === LSR && this.ready() ? LSR_THRE | LSR_TEMT : 0),
      write: (offset: number, _width: Width, value: number) => {
        if (offset !== THR) return;
        const byte = value & 0xff;
        this.line.push(byte);
        if (byte === 0x0a || this.line.length >= MAX_LINE) this.flush();
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
