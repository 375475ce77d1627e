// The ns16550a model against QEMU's hw/char/serial.c behaviour: reset values, the receive path
// with and without the FIFO (trigger levels, character timeout, the host's bytes waiting for room
// instead of overrunning), loopback with overrun, IIR priorities, THR-empty interrupts, the divisor
// latch, and transmit lines to the host.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UART_IIR, UART_LSR, Uart16550 } from './uart16550.ts';
import {
  RBR,
  THR,
  IER,
  IIR,
  FCR,
  LCR,
  MCR,
  LSR,
  MSR,
  SCR,
  HostLine,
} from '../../../../test/support/rv32/uart-test-line.ts';

function uart() {
  const line = new HostLine();
  let now = 0;
  const out: string[] = [];
  let changes = 0;
  const u = new Uart16550((t) => out.push(t), { rx: line, clockNs: () => now, onChange: () => changes++ });
  const region = u.region();
  return {
    u,
    line,
    out,
    rd: (off: number): number => region.read(off, 1),
    wr: (off: number, v: number): void => region.write(off, 1, v),
    advance: (ns: number): void => {
      now += ns;
    },
    changes: () => changes,
  };
}

/** Characters at reset: QEMU assumes 9600 baud, 10 bits, until the divisor or LCR is written. */
const RESET_CHAR_NS = Math.floor(1e9 / 9600) * 10;

describe('ns16550a', () => {
  it('resets as QEMU: LSR THRE|TEMT, IIR no interrupt, MSR DCD|DSR|CTS, MCR OUT2', () => {
    const { rd } = uart();
    assert.deepEqual([LSR, IIR, MSR, MCR, IER, LCR, SCR].map(rd), [0x60, 0x01, 0xb0, 0x08, 0x00, 0x00, 0x00]);
  });

  it('transmits lines to the host; SCR holds a byte', () => {
    const { wr, rd, out, u } = uart();
    for (const ch of 'hi\npartial') wr(THR, ch.charCodeAt(0));
    assert.deepEqual(out, ['hi\n']);
    u.flush();
    assert.deepEqual(out, ['hi\n', 'partial']);
    wr(SCR, 0x5a);
    assert.equal(rd(SCR), 0x5a);
  });

  it('without the FIFO: one byte in RBR at a time; the next waits on the host side (no overrun)', () => {
    const { u, line, rd, wr } = uart();
    wr(IER, 0x01);
    line.send('ab');
    u.poll();
    assert.equal(rd(LSR) & UART_LSR.DR, UART_LSR.DR);
    assert.equal(rd(IIR), UART_IIR.RDI);
    assert.equal(u.irq, true);
    assert.deepEqual(line.pending, ['b'.charCodeAt(0)], 'one byte taken');
    assert.equal(rd(RBR), 'a'.charCodeAt(0));
    // Reading made room: the next byte came in at once.
    assert.equal(rd(LSR) & (UART_LSR.DR | UART_LSR.OE), UART_LSR.DR);
    assert.equal(rd(RBR), 'b'.charCodeAt(0));
    assert.equal(rd(LSR) & UART_LSR.DR, 0);
    assert.equal(rd(IIR), UART_IIR.NO_INT);
    assert.equal(u.irq, false);
  });

  const levels: readonly [number, number][] = [
    [0x00, 1],
    [0x40, 4],
    [0x80, 8],
    [0xc0, 14],
  ];
  for (const [itl, level] of levels) {
    it(`FIFO trigger level ${level}: takes up to ${level} bytes, RDI at ${level}, character timeout below`, () => {
      const { u, line, rd, wr, advance } = uart();
      wr(FCR, 0x01 | itl);
      wr(IER, 0x01);
      assert.equal(rd(IIR), UART_IIR.FE | UART_IIR.NO_INT);
      line.send('x'.repeat(level - 1));
      u.poll();
      if (level > 1) {
        assert.equal(rd(IIR) & 0x0f, UART_IIR.NO_INT, 'below the trigger level');
        advance(4 * RESET_CHAR_NS - 1);
        u.poll();
        assert.equal(rd(IIR) & 0x0f, UART_IIR.NO_INT, 'not yet four character times');
        assert.equal(u.deadlineNs(), 4 * RESET_CHAR_NS);
        advance(1);
        u.poll();
        assert.equal(rd(IIR) & 0x0f, UART_IIR.CTI, 'character timeout');
        rd(RBR);
        assert.equal(rd(IIR) & 0x0f, UART_IIR.NO_INT, 'reading clears the timeout');
        while (rd(LSR) & UART_LSR.DR) rd(RBR);
      }
      line.send('y'.repeat(level + 3));
      u.poll();
      assert.equal(rd(IIR) & 0x0f, UART_IIR.RDI);
      assert.equal(line.pending.length, 3, `fills to the trigger level (${level}), no further`);
      let got = '';
      while (rd(LSR) & UART_LSR.DR) got += String.fromCharCode(rd(RBR));
      assert.equal(got, 'y'.repeat(level + 3), 'the rest arrives as the FIFO drains');
      assert.equal(rd(LSR) & UART_LSR.OE, 0, 'the host never overruns the receiver');
    });
  }

  it('loopback: transmitted bytes are received, not sent; a 17th byte overruns the FIFO', () => {
    const { u, line, rd, wr, out } = uart();
    wr(FCR, 0x07);
    wr(MCR, 0x10 | 0x08);
    wr(IER, 0x05); // receive data + line status
    line.send('host');
    for (let i = 0; i < 17; i++) wr(THR, 0x41 + i);
    u.flush();
    assert.deepEqual(out, []);
    assert.equal(rd(IIR) & 0x0f, UART_IIR.RLSI, 'overrun outranks data');
    const lsr = rd(LSR);
    assert.equal(lsr & (UART_LSR.OE | UART_LSR.DR), UART_LSR.OE | UART_LSR.DR);
    assert.equal(rd(LSR) & UART_LSR.OE, 0, 'reading LSR clears OE');
    assert.equal(rd(IIR) & 0x0f, UART_IIR.RDI);
    let got = '';
    while (rd(LSR) & UART_LSR.DR) got += String.fromCharCode(rd(RBR));
    assert.equal(got, 'ABCDEFGHIJKLMNOP', 'the FIFO kept the first 16');
    assert.deepEqual(line.pending.length, 4, 'no host input in loopback');
    assert.equal(rd(MSR), 0x80, 'OUT2 loops to DCD');
  });

  it('loopback without the FIFO: a second byte before RBR is read overruns and replaces it', () => {
    const { rd, wr } = uart();
    wr(MCR, 0x10);
    wr(THR, 1);
    wr(THR, 2);
    assert.equal(rd(LSR) & (UART_LSR.OE | UART_LSR.DR), UART_LSR.OE | UART_LSR.DR);
    assert.equal(rd(RBR), 2);
  });

  it('THR-empty interrupt: raised by enabling it, cleared by reading IIR, raised again by a write', () => {
    const { rd, wr, changes } = uart();
    const before = changes();
    wr(IER, 0x02);
    assert.ok(changes() > before);
    assert.equal(rd(IIR), UART_IIR.THRI);
    assert.equal(rd(IIR), UART_IIR.NO_INT);
    wr(THR, 0x41);
    assert.equal(rd(IIR), UART_IIR.THRI);
  });

  it('the divisor latch sits behind DLAB and sets the character time of the timeout', () => {
    const { u, line, rd, wr, advance } = uart();
    wr(LCR, 0x83);
    wr(0, 0x01);
    wr(1, 0x00);
    assert.equal(rd(0), 0x01);
    assert.equal(rd(1), 0x00);
    wr(LCR, 0x03); // 8N1
    assert.equal(rd(IER), 0);
    wr(FCR, 0x41);
    wr(IER, 0x01);
    line.send('z');
    u.poll();
    // 399193 baud: floor(1e9 / 399193) = 2505 ns a bit, 10 bits a character.
    assert.equal(u.deadlineNs(), 4 * 2505 * 10);
    advance(4 * 2505 * 10);
    u.poll();
    assert.equal(rd(IIR) & 0x0f, UART_IIR.CTI);
  });

  it('switching the FIFO on keeps a byte waiting in RBR (deviation: input typed ahead of the setup)', () => {
    const { u, line, rd, wr } = uart();
    line.send('ab');
    u.poll();
    wr(FCR, 0x07);
    assert.equal(rd(LSR) & UART_LSR.DR, UART_LSR.DR);
    assert.equal(rd(RBR), 'a'.charCodeAt(0));
    assert.equal(rd(RBR), 'b'.charCodeAt(0));
    assert.equal(rd(LSR) & UART_LSR.DR, 0);
  });

  it('FCR: receiver reset empties the FIFO; turning the FIFO off flushes it', () => {
    const { u, line, rd, wr } = uart();
    wr(FCR, 0xc1);
    line.send('abc');
    u.poll();
    assert.equal(rd(LSR) & UART_LSR.DR, UART_LSR.DR);
    assert.equal(line.pending.length, 0);
    wr(FCR, 0xc3);
    assert.equal(rd(LSR) & UART_LSR.DR, 0);
    assert.equal(rd(RBR), 0);
    line.send('d');
    u.poll();
    assert.equal(rd(LSR) & UART_LSR.DR, UART_LSR.DR);
    wr(FCR, 0x00);
    assert.equal(rd(IIR) & UART_IIR.FE, 0);
    assert.equal(rd(LSR) & UART_LSR.DR, 0, 'flushed');
  });
});
