// The ns16550a's eight byte registers as QEMU's hw/char/serial.c shows them, one table per
// concern: the window (offsets 0..7 answer, 8 and beyond do not), reset values, what a read, a
// debugger's peek and a write do at each offset with and without DLAB, the IIR priority order over
// every interrupt source, the LSR bits and their clearing, the modem lines in loopback, the
// receiver's room as the host sees it (never asked for bytes it cannot hold), the divisor latch
// and LCR setting the character time of the receive timeout, and transmit line chunking.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UART_IIR, UART_LSR, Uart16550 } from './uart16550.ts';
import {
  RBR,
  THR,
  DLL,
  IER,
  DLM,
  IIR,
  FCR,
  LCR,
  MCR,
  LSR,
  MSR,
  SCR,
  HostLine,
} from '../../../../test/support/rv32/uart-test-line.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

/** Characters at reset: QEMU assumes 9600 baud, 10 bits, until the divisor or LCR is written. */
const RESET_CHAR_NS = Math.floor(1e9 / 9600) * 10;

function rig(options: { rx?: boolean; txReady?: () => boolean } = {}) {
  const line = new HostLine();
  let now = 0;
  const out: string[] = [];
  let changes = 0;
  const u = new Uart16550((t) => out.push(t), {
    ...(options.rx === false ? {} : { rx: line }),
    ...(options.txReady === undefined ? {} : { txReady: options.txReady }),
    clockNs: () => now,
    onChange: () => changes++,
  });
  const r = u.region();
  return {
    u,
    r,
    line,
    out,
    rd: (off: number): number => r.read(off, 1),
    pk: (off: number): number | undefined => r.peek?.(off, 1),
    wr: (off: number, v: number): void => r.write(off, 1, v),
    advance: (ns: number): void => {
      now += ns;
    },
    now: () => now,
    changes: () => changes,
  };
}

type Rig = ReturnType<typeof rig>;

function drain(t: Rig): string {
  let got = '';
  while (t.rd(LSR) & UART_LSR.DR) got += String.fromCharCode(t.rd(RBR));
  return got;
}

describe('ns16550a window and reset', () => {
  it('sits at 0x1000_0000, a 256-byte window', () => {
    const { r } = rig();
    assert.deepEqual([r.name, r.base, r.size], ['uart0', RV32_MAP.UART0, 0x100]);
  });

  // [register, offset, read at reset, peek at reset]
  const resets: readonly [string, number, number, number | undefined][] = [
    ['RBR', RBR, 0, undefined],
    ['IER', IER, 0, 0],
    ['IIR', IIR, UART_IIR.NO_INT, UART_IIR.NO_INT],
    ['LCR', LCR, 0, 0],
    ['MCR (OUT2)', MCR, 0x08, 0x08],
    ['LSR (THRE | TEMT)', LSR, 0x60, 0x60],
    ['MSR (DCD | DSR | CTS)', MSR, 0xb0, 0xb0],
    ['SCR', SCR, 0, 0],
    ['offset 8', 8, 0, 0],
    ['the last byte of the window', 0xff, 0, 0],
  ];
  for (const [name, offset, read, peek] of resets) {
    it(`${name} resets to ${read} (peek ${peek})`, () => {
      const t = rig();
      assert.equal(t.pk(offset), peek);
      assert.equal(t.rd(offset), read);
      assert.equal(t.u.irq, false);
    });
  }

  it('wider accesses reach the byte register at their address', () => {
    const t = rig();
    t.r.write(SCR, 4, 0x1234_56a5);
    assert.equal(t.r.read(SCR, 4), 0xa5);
    assert.equal(t.r.read(LSR, 2), 0x60);
    assert.equal(t.r.peek?.(MSR, 4), 0xb0);
  });

  it('offsets 8 and beyond write nothing: no byte sent, SCR and LCR kept', () => {
    const t = rig();
    t.wr(SCR, 0x11);
    for (const off of [8, 9, 10, 11, 15, 0xff]) t.wr(off, 0x0a);
    t.u.flush();
    assert.deepEqual(t.out, []);
    assert.deepEqual([t.rd(SCR), t.rd(LCR), t.rd(MCR)], [0x11, 0, 0x08]);
  });

  it('with no host line nothing is ever received, and polling does not fail', () => {
    const t = rig({ rx: false });
    t.u.poll();
    assert.equal(t.rd(LSR), 0x60);
    assert.equal(t.rd(RBR), 0);
  });
});

describe('ns16550a registers: writes', () => {
  // [register, offset, value written, value read back]
  const rows: readonly [string, number, number, number][] = [
    ['IER keeps its low 4 bits', IER, 0xf0 | 0x05, 0x05],
    ['LCR keeps every bit', LCR, 0x7f, 0x7f],
    ['MCR keeps its low 5 bits', MCR, 0xff, 0x1f],
    ['SCR keeps every bit', SCR, 0xa5, 0xa5],
    ['SCR takes the low byte of a wider value', SCR, 0x1_23, 0x23],
    ['LSR is read-only', LSR, 0x00, 0x60],
    ['MSR is read-only', MSR, 0x00, 0xb0],
  ];
  for (const [name, offset, value, want] of rows) {
    it(`${name}: 0x${value.toString(16)} reads 0x${want.toString(16)}`, () => {
      const t = rig();
      t.wr(offset, value);
      assert.equal(t.rd(offset), want);
      assert.equal(t.pk(offset), want);
    });
  }

  it('the divisor latch: reset 12, both bytes behind DLAB, IER and THR untouched meanwhile', () => {
    const t = rig();
    t.wr(IER, 0x05);
    t.wr(LCR, 0x80);
    assert.deepEqual([t.rd(DLL), t.rd(DLM), t.pk(DLL), t.pk(DLM)], [0x0c, 0, 0x0c, 0]);
    t.wr(DLL, 0x34);
    t.wr(DLM, 0x12);
    assert.deepEqual([t.rd(DLL), t.rd(DLM), t.pk(DLL), t.pk(DLM)], [0x34, 0x12, 0x34, 0x12]);
    t.wr(DLL, 0x56);
    assert.deepEqual([t.rd(DLL), t.rd(DLM)], [0x56, 0x12], 'DLL keeps DLM');
    t.wr(DLM, 0x78);
    assert.deepEqual([t.rd(DLL), t.rd(DLM)], [0x56, 0x78], 'DLM keeps DLL');
    t.u.flush();
    assert.deepEqual(t.out, [], 'a DLL write is not a byte sent');
    t.wr(LCR, 0x00);
    assert.deepEqual([t.rd(IER), t.pk(IER)], [0x05, 0x05]);
    assert.equal(t.pk(RBR), undefined, 'RBR again');
  });

  it('IER: a write that changes nothing tells no one; one that changes a bit does', () => {
    const t = rig();
    t.wr(IER, 0x00);
    t.wr(IER, 0xf0);
    assert.equal(t.changes(), 0);
    t.wr(IER, 0x01);
    assert.equal(t.changes(), 1);
    t.wr(IER, 0x09);
    assert.equal(t.changes(), 2);
  });

  it('IER: THR-empty is re-raised only when the THRI bit itself changes', () => {
    const t = rig();
    t.wr(IER, IER_THRI);
    assert.equal(t.rd(IIR), UART_IIR.THRI);
    assert.equal(t.rd(IIR), UART_IIR.NO_INT, 'the IIR read cleared it');
    t.wr(IER, IER_THRI | 0x01);
    assert.equal(t.rd(IIR), UART_IIR.NO_INT, 'enabling RDI does not bring THRI back');
    t.wr(IER, 0x01);
    t.wr(IER, IER_THRI);
    assert.equal(t.rd(IIR), UART_IIR.THRI, 'off and on again: raised');
    t.wr(IER, 0x00);
    t.wr(LCR, 0x00);
    assert.equal(t.rd(IIR), UART_IIR.NO_INT, 'turned off: gone');
  });

  it('IIR: reading a THR-empty interrupt clears it and re-samples the line; reading no interrupt does not', () => {
    const t = rig();
    assert.equal(t.rd(IIR), UART_IIR.NO_INT);
    assert.equal(t.changes(), 0);
    t.wr(IER, IER_THRI);
    assert.equal(t.changes(), 1);
    assert.equal(t.pk(IIR), UART_IIR.THRI, 'peek does not clear it');
    assert.equal(t.u.irq, true);
    assert.equal(t.rd(IIR), UART_IIR.THRI);
    assert.equal(t.changes(), 2);
    assert.equal(t.u.irq, false);
  });

  it('FCR: writing the value it holds does nothing, not even a receiver reset', () => {
    const t = rig();
    t.wr(FCR, 0x00);
    assert.equal(t.changes(), 0, 'FIFOs off already');
    t.wr(FCR, 0x01);
    t.line.send('ab');
    t.u.poll();
    const before = t.changes();
    t.wr(FCR, 0x01);
    assert.equal(t.changes(), before);
    assert.equal(drain(t), 'ab');
  });

  it('FCR: the receiver reset bit flushes even when FE stays on; it does not stick', () => {
    const t = rig();
    t.wr(FCR, 0x41);
    t.line.send('ab');
    t.u.poll();
    assert.equal(t.u.deadlineNs(), 4 * RESET_CHAR_NS);
    t.wr(FCR, 0x43);
    assert.equal(t.rd(LSR) & UART_LSR.DR, 0);
    assert.equal(t.u.deadlineNs(), undefined, 'no timeout armed for an empty FIFO');
    t.line.send('c');
    t.u.poll();
    t.wr(FCR, 0x41);
    assert.equal(drain(t), 'c', 'FCR 0x41 after 0x43 is no reset');
  });

  it('FCR: the trigger level bits and FE show in IIR bits 6-7; FE off clears them', () => {
    const t = rig();
    t.wr(FCR, 0xc1);
    assert.equal(t.rd(IIR), UART_IIR.FE | UART_IIR.NO_INT);
    t.wr(FCR, 0xc0);
    assert.equal(t.rd(IIR), UART_IIR.NO_INT, 'the trigger bits alone are no FIFO');
    t.wr(IER, IER_THRI);
    t.wr(FCR, 0x41);
    assert.equal(t.rd(IIR), UART_IIR.FE | UART_IIR.THRI);
  });

  it('FCR: a receiver reset drops a character timeout that was pending', () => {
    const t = rig();
    t.wr(FCR, 0xc1);
    t.wr(IER, IER_RDI);
    t.line.send('ab');
    t.u.poll();
    t.advance(4 * RESET_CHAR_NS);
    t.u.poll();
    assert.equal(t.pk(IIR)! & 0x0f, UART_IIR.CTI);
    t.wr(FCR, 0xc3);
    assert.equal(t.pk(IIR)! & 0x0f, UART_IIR.NO_INT);
    assert.equal(t.u.irq, false);
  });

  it('FCR: trigger bits written with the FIFO off leave a byte in RBR where it is, with no timeout', () => {
    const t = rig();
    t.wr(IER, IER_RDI);
    t.line.send('a');
    t.u.poll();
    t.wr(FCR, 0xc0);
    assert.equal(t.u.deadlineNs(), undefined);
    t.advance(4 * RESET_CHAR_NS);
    t.u.poll();
    assert.equal(t.pk(IIR), UART_IIR.RDI, 'data, not a character timeout');
    assert.equal(t.rd(RBR), 'a'.charCodeAt(0));
    assert.equal(t.rd(LSR) & UART_LSR.DR, 0);
  });

  it('FCR: turning the FIFO on with no byte waiting carries nothing in', () => {
    const t = rig();
    t.wr(FCR, 0x01);
    assert.equal(t.rd(LSR) & UART_LSR.DR, 0);
    assert.equal(t.u.deadlineNs(), undefined);
  });

  it('FCR: a byte carried into the FIFO arms the character timeout from now', () => {
    const t = rig();
    t.wr(IER, 0x01);
    t.line.send('a');
    t.u.poll();
    t.advance(1000);
    t.wr(FCR, 0xc1);
    assert.equal(t.u.deadlineNs(), 1000 + 4 * RESET_CHAR_NS);
    assert.equal(t.rd(IIR) & 0x0f, UART_IIR.NO_INT, 'below the trigger level of 14');
    t.advance(4 * RESET_CHAR_NS);
    t.u.poll();
    assert.equal(t.rd(IIR) & 0x0f, UART_IIR.CTI);
  });

  it('FCR: the FIFO switched off drops what it held, and the receiver takes one byte at a time again', () => {
    const t = rig();
    t.wr(FCR, 0x41);
    t.line.send('abcd');
    t.u.poll();
    assert.equal(t.line.pending.length, 0);
    t.wr(FCR, 0x00);
    assert.equal(t.rd(LSR) & UART_LSR.DR, 0);
    t.line.send('ef');
    t.u.poll();
    assert.equal(t.line.pending.length, 1, 'one byte taken into RBR');
    assert.equal(t.rd(RBR), 'e'.charCodeAt(0));
  });
});

const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IER_MSI = 0x08;

describe('ns16550a IIR priority', () => {
  /** Sets up the conditions named: an overrun, a character timeout, data, THR empty. */
  function state(
    ier: number,
    conditions: { overrun?: boolean; timeout?: boolean; data?: boolean; thr?: boolean },
  ) {
    const t = rig();
    if (conditions.timeout === true) {
      t.wr(FCR, 0xc1); // trigger 14: two bytes wait for the timeout
      t.line.send('xy');
      t.u.poll();
      t.advance(4 * RESET_CHAR_NS);
    } else if (conditions.data === true) {
      t.line.send('x');
      t.u.poll();
    }
    if (conditions.overrun === true) {
      t.wr(MCR, 0x18);
      t.wr(THR, 1);
      t.wr(THR, 2);
      if (conditions.timeout !== true) t.wr(THR, 3);
      t.wr(MCR, 0x08);
    }
    t.wr(IER, ier);
    if (conditions.thr !== true) t.rd(IIR);
    t.u.poll();
    return t;
  }
  // [name, IER, conditions, IIR id]
  const rows: readonly [string, number, Parameters<typeof state>[1], number][] = [
    [
      'everything enabled, everything pending: line status',
      0x0f,
      { overrun: true, data: true, thr: true },
      UART_IIR.RLSI,
    ],
    [
      'an overrun with RLSI off: data',
      IER_RDI | IER_THRI,
      { overrun: true, data: true, thr: true },
      UART_IIR.RDI,
    ],
    ['RLSI on, no error, data: data', IER_RLSI | IER_RDI, { data: true }, UART_IIR.RDI],
    ['RLSI on alone, data only: none', IER_RLSI, { data: true }, UART_IIR.NO_INT],
    ['timeout and THR empty: timeout', IER_RDI | IER_THRI, { timeout: true, thr: true }, UART_IIR.CTI],
    ['timeout with RDI off: THR empty', IER_THRI, { timeout: true, thr: true }, UART_IIR.THRI],
    ['data and THR empty: data', IER_RDI | IER_THRI, { data: true, thr: true }, UART_IIR.RDI],
    ['data with RDI off: THR empty', IER_THRI | IER_MSI, { data: true, thr: true }, UART_IIR.THRI],
    ['THR empty with THRI off: none', IER_RDI | IER_MSI, { thr: true }, UART_IIR.NO_INT],
    ['modem status enabled, no modem change: none', IER_MSI, {}, UART_IIR.NO_INT],
    [
      'nothing enabled, everything pending: none',
      0,
      { overrun: true, data: true, thr: true },
      UART_IIR.NO_INT,
    ],
  ];
  for (const [name, ier, conditions, id] of rows) {
    it(name, () => {
      const t = state(ier, conditions);
      assert.equal(t.pk(IIR)! & 0x0f, id);
      assert.equal(t.u.irq, id !== UART_IIR.NO_INT);
    });
  }
});

describe('ns16550a LSR', () => {
  it('reading LSR polls the host: the byte arrives, and the line is re-sampled once', () => {
    const t = rig();
    t.wr(IER, IER_RDI);
    t.line.send('q');
    const before = t.changes();
    assert.equal(t.pk(LSR), 0x60, 'peek does not poll');
    assert.equal(t.rd(LSR), 0x61);
    assert.equal(t.changes(), before + 1);
    assert.equal(t.rd(LSR), 0x61);
    assert.equal(t.changes(), before + 1, 'no change: no one told');
  });

  it('an overrun shows once: the LSR read that shows it clears it and re-samples the line', () => {
    const t = rig();
    t.wr(IER, IER_RLSI);
    t.wr(MCR, 0x18);
    t.wr(THR, 1);
    t.wr(THR, 2);
    assert.equal(t.pk(LSR), 0x63);
    assert.equal(t.pk(LSR), 0x63, 'peek does not clear it');
    assert.equal(t.u.irq, true);
    const before = t.changes();
    assert.equal(t.rd(LSR), 0x63);
    assert.equal(t.changes(), before + 1);
    assert.equal(t.u.irq, false);
    assert.equal(t.rd(LSR), 0x61);
    assert.equal(t.changes(), before + 1);
  });

  it('a host that is behind clears THRE and TEMT in reads and peeks, and only those', () => {
    let ready = false;
    const t = rig({ txReady: () => ready });
    t.wr(MCR, 0x18);
    t.wr(THR, 1);
    t.wr(THR, 2);
    assert.deepEqual([t.pk(LSR), t.rd(LSR), t.rd(LSR)], [0x03, 0x03, 0x01]);
    ready = true;
    assert.deepEqual([t.pk(LSR), t.rd(LSR)], [0x61, 0x61]);
  });
});

describe('ns16550a modem lines', () => {
  // [MCR with LOOP, MSR]: OUT2→DCD, OUT1→RI, RTS→CTS, DTR→DSR.
  const rows: readonly [number, number][] = [
    [0x10, 0x00],
    [0x11, 0x20],
    [0x12, 0x10],
    [0x14, 0x40],
    [0x18, 0x80],
    [0x1f, 0xf0],
  ];
  for (const [mcr, msr] of rows) {
    it(`loopback with MCR 0x${mcr.toString(16)}: MSR 0x${msr.toString(16)}`, () => {
      const t = rig();
      t.wr(MCR, mcr);
      assert.deepEqual([t.rd(MSR), t.pk(MSR)], [msr, msr]);
    });
  }

  it('outside loopback MSR shows the fixed lines whatever MCR holds, and reading it changes nothing', () => {
    const t = rig();
    t.wr(MCR, 0x0f);
    assert.deepEqual([t.rd(MSR), t.rd(MSR), t.pk(MSR)], [0xb0, 0xb0, 0xb0]);
    assert.equal(t.changes(), 0);
  });
});

describe('ns16550a receiver', () => {
  it('never asks the host for bytes it has no room for', () => {
    const t = rig();
    t.line.send('ab');
    t.u.poll();
    t.u.poll();
    t.rd(LSR);
    assert.deepEqual(t.line.asks, [1], 'RBR full: not asked again');
    t.wr(FCR, 0x41);
    t.line.send('cdefg');
    t.u.poll();
    t.u.poll();
    assert.ok(!t.line.asks.includes(0), `asks ${t.line.asks.join(',')}`);
  });

  it('in loopback the host is not asked at all', () => {
    const t = rig();
    t.wr(MCR, 0x10);
    t.line.send('a');
    t.u.poll();
    t.rd(LSR);
    assert.deepEqual(t.line.asks, []);
  });

  it('a FIFO already above a lowered trigger level takes one byte at a time, up to 16, never overrunning', () => {
    const t = rig();
    t.wr(FCR, 0xc1);
    t.line.send('abcdefghijklmnopqrst');
    t.u.poll();
    assert.equal(t.line.pending.length, 6, '14 taken: the trigger level');
    t.u.poll();
    assert.equal(t.line.pending.length, 6, 'at the trigger level: no more');
    t.wr(FCR, 0x01);
    for (let i = 0; i < 5; i++) t.u.poll();
    assert.equal(t.line.pending.length, 4, 'one a poll up to 16');
    assert.equal(t.pk(LSR)! & UART_LSR.OE, 0);
    assert.equal(drain(t), 'abcdefghijklmnopqrst');
  });

  it('the character timeout is re-armed from each read that leaves bytes, and disarmed by the last', () => {
    const t = rig();
    t.wr(FCR, 0xc1);
    t.line.send('abc');
    t.u.poll();
    assert.equal(t.u.deadlineNs(), 4 * RESET_CHAR_NS);
    t.advance(500);
    assert.equal(t.rd(RBR), 'a'.charCodeAt(0));
    assert.equal(t.u.deadlineNs(), 500 + 4 * RESET_CHAR_NS);
    t.advance(4 * RESET_CHAR_NS - 1);
    t.u.poll();
    assert.equal(t.pk(IIR)! & 0x0f, UART_IIR.NO_INT, 'not due yet');
    t.rd(RBR);
    t.rd(RBR);
    assert.equal(t.u.deadlineNs(), undefined);
  });

  it('a due timeout is reported once; a byte read clears it', () => {
    const t = rig();
    t.wr(FCR, 0xc1);
    t.wr(IER, IER_RDI);
    t.line.send('ab');
    t.u.poll();
    t.advance(4 * RESET_CHAR_NS);
    t.u.poll();
    assert.equal(t.u.deadlineNs(), undefined, 'fired: disarmed');
    assert.equal(t.rd(IIR) & 0x0f, UART_IIR.CTI);
    t.rd(RBR);
    assert.equal(t.rd(IIR) & 0x0f, UART_IIR.NO_INT);
    assert.equal(t.u.deadlineNs(), t.now() + 4 * RESET_CHAR_NS, 'a byte left: re-armed');
  });

  it('reading RBR re-samples the interrupt line', () => {
    const t = rig();
    t.wr(IER, IER_RDI);
    t.line.send('a');
    t.u.poll();
    const before = t.changes();
    t.rd(RBR);
    assert.equal(t.changes(), before + 1);
    assert.equal(t.u.irq, false);
  });

  it('without the FIFO a second byte is taken only once RBR is read', () => {
    const t = rig();
    t.line.send('ab');
    t.u.poll();
    assert.equal(t.line.pending.length, 1);
    assert.equal(t.rd(RBR), 'a'.charCodeAt(0));
    assert.equal(t.line.pending.length, 0, 'the read made room, the byte came in');
    assert.equal(t.rd(RBR), 'b'.charCodeAt(0));
    assert.equal(t.rd(RBR), 'b'.charCodeAt(0), 'RBR holds the last byte');
    assert.equal(t.rd(LSR) & UART_LSR.DR, 0);
  });

  it('loopback fills the FIFO past the trigger level; the 17th byte is an overrun, not a replacement', () => {
    const t = rig();
    t.wr(FCR, 0x01);
    t.wr(MCR, 0x10);
    for (let i = 0; i < 17; i++) t.wr(THR, 0x61 + i);
    assert.equal(t.rd(LSR) & (UART_LSR.OE | UART_LSR.DR), UART_LSR.OE | UART_LSR.DR);
    assert.equal(drain(t), 'abcdefghijklmnop');
  });
});

describe('ns16550a character time', () => {
  // [divisor, LCR, character ns]: floor(1e9 / floor(399193 / divisor)) × (start + data + parity + stop).
  const rows: readonly [string, number, number, number][] = [
    ['8N1 at divisor 1', 1, 0x03, 2505 * 10],
    ['5N1', 1, 0x00, 2505 * 7],
    ['5 bits with parity', 1, 0x08, 2505 * 8],
    ['5 bits, 2 stop bits', 1, 0x04, 2505 * 8],
    ['8 bits, parity, 2 stop bits', 1, 0x0f, 2505 * 12],
    ['divisor 3', 3, 0x03, 7515 * 10],
    ['divisor 0x100 (DLM 1)', 0x100, 0x03, Math.floor(1e9 / Math.floor(399_193 / 0x100)) * 10],
    // The last time computed stands: the reset divisor 12 with LCR 0x80 (5 data bits) when DLAB was set.
    ['divisor 0 is ignored', 0, 0x03, Math.floor(1e9 / Math.floor(399_193 / 12)) * 7],
  ];
  for (const [name, divisor, lcr, charNs] of rows) {
    it(`${name}: ${charNs} ns a character`, () => {
      const t = rig();
      t.wr(LCR, 0x80);
      t.wr(DLL, divisor & 0xff);
      t.wr(DLM, divisor >> 8);
      t.wr(LCR, lcr);
      t.wr(FCR, 0xc1);
      t.line.send('z');
      t.u.poll();
      assert.equal(t.u.deadlineNs(), 4 * charNs);
    });
  }

  it('a divisor byte written behind DLAB sets the character time at once, before LCR is written again', () => {
    const t = rig();
    t.wr(LCR, 0x83);
    t.wr(FCR, 0xc1);
    t.wr(DLL, 1);
    t.line.send('a');
    t.u.poll();
    // 399193 / 1 baud, 8N1.
    assert.equal(t.u.deadlineNs(), 4 * 2505 * 10);
    t.wr(DLM, 1);
    t.line.send('b');
    t.u.poll();
    // Divisor 0x101: floor(399193 / 257) = 1553 baud.
    assert.equal(t.u.deadlineNs(), 4 * Math.floor(1e9 / 1553) * 10);
  });

  it('without a clock the core time is 0: the timeout falls due four characters from 0', () => {
    const line = new HostLine();
    const u = new Uart16550(() => undefined, { rx: line });
    const r = u.region();
    r.write(FCR, 1, 0xc1);
    line.send('z');
    u.poll();
    assert.equal(u.deadlineNs(), 4 * RESET_CHAR_NS);
  });

  it('the reset character time holds until the divisor or LCR is written', () => {
    const t = rig();
    t.wr(FCR, 0xc1);
    t.line.send('z');
    t.u.poll();
    assert.equal(t.u.deadlineNs(), 4 * RESET_CHAR_NS);
  });
});

describe('ns16550a transmit', () => {
  it('a line goes to the host at its newline; 256 bytes without one go as a chunk, 255 wait', () => {
    const t = rig();
    for (let i = 0; i < 255; i++) t.wr(THR, 0x61);
    assert.deepEqual(t.out, []);
    t.wr(THR, 0x62);
    assert.deepEqual(t.out, ['a'.repeat(255) + 'b']);
    t.wr(THR, 0x0a);
    assert.deepEqual(t.out.slice(1), ['\n']);
  });

  it('flush sends a partial line once, and nothing when there is none', () => {
    const t = rig();
    t.u.flush();
    assert.deepEqual(t.out, []);
    t.wr(THR, 0x41);
    t.u.flush();
    t.u.flush();
    assert.deepEqual(t.out, ['A']);
  });

  it('bytes are UTF-8, a bad sequence is a replacement character, not an error', () => {
    const t = rig();
    for (const b of [0xc3, 0xa9, 0xff, 0x0a]) t.wr(THR, b);
    assert.deepEqual(t.out, ['é\ufffd\n']);
  });

  it('a transmitted byte raises THR empty again and re-samples the line', () => {
    const t = rig();
    t.wr(IER, IER_THRI);
    t.rd(IIR);
    const before = t.changes();
    t.wr(THR, 0x41);
    assert.equal(t.changes(), before + 1);
    assert.equal(t.pk(IIR), UART_IIR.THRI);
    assert.equal(t.rd(LSR) & 0x60, 0x60);
  });
});
