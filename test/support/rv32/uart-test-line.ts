// For the ns16550a tests: the register offsets as the 16550 data sheet names them (QEMU's
// hw/char/serial.c uses the same), and a host line that hands the UART the bytes queued on it,
// recording how many the UART asked for each time.

import type { UartRxSource } from '../../../src/cpu/rv32/devices/uart16550.ts';

export const RBR = 0;
export const THR = 0;
export const DLL = 0;
export const IER = 1;
export const DLM = 1;
export const IIR = 2;
export const FCR = 2;
export const LCR = 3;
export const MCR = 4;
export const LSR = 5;
export const MSR = 6;
export const SCR = 7;

/** A host line holding `pending` bytes, handing them out as the UART asks. */
export class HostLine implements UartRxSource {
  pending: number[] = [];
  asks: number[] = [];
  take(max: number): number[] {
    this.asks.push(max);
    return this.pending.splice(0, max);
  }
  /** Queue `text` as bytes, one per character (latin1: characters above 0xff are not bytes). */
  send(text: string): void {
    for (const b of Buffer.from(text, 'latin1')) this.pending.push(b);
  }
}
