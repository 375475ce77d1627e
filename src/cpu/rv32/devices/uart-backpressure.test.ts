// The UART's transmit side against a host that is behind: LSR reads "transmitter empty" only while
// the host has room (CoreBlock.uartRoom, the txReady option), and a line written anyway is dropped
// and counted (CoreBlock.postUart), never queued beyond UART_PENDING_LIMIT.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock, UART_PENDING_LIMIT } from '../../../soc/core-block.ts';
import { Uart16550 } from './uart16550.ts';

const LSR = 5;
const THRE_TEMT = 0x60;

function rig(): { uart: Uart16550; block: CoreBlock; posted: string[] } {
  const block = new CoreBlock(new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS)), 0);
  const posted: string[] = [];
  const uart = new Uart16550((text) => void block.postUart(text, (t) => posted.push(t)), {
    txReady: () => block.uartRoom(),
  });
  return { uart, block, posted };
}

function put(uart: Uart16550, text: string): void {
  const r = uart.region();
  for (const c of Buffer.from(text)) r.write(0, 1, c);
}

describe('uart16550 against a host that is behind', () => {
  it('LSR reads THRE|TEMT while the host has room, neither once UART_PENDING_LIMIT characters are pending', () => {
    const { uart, block } = rig();
    const lsr = (): number => uart.region().read(LSR, 1) & THRE_TEMT;
    assert.equal(lsr(), THRE_TEMT);
    block.store(CORE_WORD.UART_PENDING, UART_PENDING_LIMIT - 1);
    assert.equal(lsr(), THRE_TEMT, 'the last character of room');
    block.store(CORE_WORD.UART_PENDING, UART_PENDING_LIMIT);
    assert.equal(lsr(), 0, 'full');
    block.uartHandled(1);
    assert.equal(lsr(), THRE_TEMT);
  });
  it('a line that does not fit is dropped and counted; handled output makes room again', () => {
    const { uart, block, posted } = rig();
    block.store(CORE_WORD.UART_PENDING, UART_PENDING_LIMIT - 3);
    put(uart, 'ab\n'); // 3 characters: exactly fits
    put(uart, 'cd\n'); // does not
    assert.deepEqual(posted, ['ab\n']);
    assert.equal(block.uartDropped(), 3);
    block.uartHandled(UART_PENDING_LIMIT);
    put(uart, 'ef\n');
    assert.deepEqual(posted, ['ab\n', 'ef\n']);
  });
});
