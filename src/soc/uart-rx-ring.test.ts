// The serial line into a core's UART: the receive ring in the core's device words keeps bytes in
// order across wrap-around and never holds more than its size (a property over random pushes and
// takes, counters starting anywhere near 2^32); the host's queue behind it delivers everything in
// call order as the core takes bytes, resolves each send once its last byte is in the ring, wakes
// the core, and rejects what still waits when the SoC closes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkProperty } from '../../test/support/property.ts';
import { RprocError } from '../util/errors.ts';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock, UART_RX_RING_BYTES } from './core-block.ts';
import { UartInput, type UartInputPort } from './uart-input.ts';
import { UartRxRing } from './uart-rx-ring.ts';

function ring(start = 0): { host: UartRxRing; core: UartRxRing; block: CoreBlock } {
  const words = new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS * 2));
  // The second core's block: the ring must stay inside its own words.
  const block = new CoreBlock(words, 1);
  block.store(CORE_WORD.UART_RX_HEAD, start | 0);
  block.store(CORE_WORD.UART_RX_TAIL, start | 0);
  // Host and core each build their own view, as the two threads do.
  return { host: new UartRxRing(block), core: new UartRxRing(new CoreBlock(words, 1)), block };
}

describe('UART receive ring', () => {
  it('keeps bytes in order through wrap-around of the buffer and of the 32-bit counters', () => {
    const op = fc.oneof(
      fc.record({ push: fc.uint8Array({ maxLength: 300 }) }),
      fc.record({ take: fc.integer({ min: 0, max: 300 }) }),
    );
    checkProperty(
      'uart-rx-ring',
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.array(op, { maxLength: 60 }), (start, ops) => {
        const { host, core } = ring(0xffff_ffff + start);
        const model: number[] = [];
        for (const o of ops) {
          if ('push' in o) {
            const n = host.push(o.push);
            assert.equal(n, Math.min(o.push.length, UART_RX_RING_BYTES - model.length));
            model.push(...o.push.subarray(0, n));
          } else {
            const got = core.take(o.take);
            assert.deepEqual([...got], model.splice(0, o.take));
          }
          assert.equal(host.used, model.length);
          assert.equal(core.free, UART_RX_RING_BYTES - model.length);
        }
      }),
    );
  });

  it('an empty ring costs the polling core no allocation: take() returns the same empty array', () => {
    const { host, core } = ring();
    const a = core.take(16);
    const b = core.take(16);
    assert.equal(a.length, 0);
    assert.equal(a, b, 'no new array per poll');
    host.push(Uint8Array.of(7));
    assert.deepEqual([...core.take(16)], [7]);
    assert.equal(core.take(16), a);
  });

  it('lives in its core block, leaving the next core untouched', () => {
    const words = new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS * 3));
    new UartRxRing(new CoreBlock(words, 1)).push(new Uint8Array(UART_RX_RING_BYTES).fill(0xff));
    const inside = (i: number): boolean => i >= CORE_BLOCK_WORDS && i < 2 * CORE_BLOCK_WORDS;
    words.forEach((w, i) => {
      if (!inside(i)) assert.equal(w, 0, `word ${i}`);
    });
  });
});

describe('UART input queue', () => {
  function input(): { q: UartInput; core: UartRxRing; pokes: () => number; retry: () => void } {
    const { host, core } = ring();
    let pokes = 0;
    let retries: (() => void)[] = [];
    const port: UartInputPort = {
      poke: () => pokes++,
      retry: (pump) => retries.push(pump),
    };
    return {
      q: new UartInput(host, port),
      core,
      pokes: () => pokes,
      retry: () => {
        const r = retries;
        retries = [];
        for (const pump of r) pump();
      },
    };
  }

  it('delivers sends larger than the ring in order as the core takes, resolving each when it is in', async () => {
    const { q, core, pokes, retry } = input();
    const first = new Uint8Array(600).map((_, i) => i & 0xff);
    const resolved: string[] = [];
    const a = q.send(first).then(() => resolved.push('a'));
    const b = q.send('tail').then(() => resolved.push('b'));
    assert.equal(pokes(), 1);
    assert.equal(q.pending, 604);
    const got: number[] = [];
    for (let round = 0; round < 10 && got.length < 604; round++) {
      got.push(...core.take(100));
      retry();
      await Promise.resolve();
    }
    await Promise.all([a, b]);
    got.push(...core.take(UART_RX_RING_BYTES));
    assert.deepEqual(got, [...first, ...new TextEncoder().encode('tail')]);
    assert.deepEqual(resolved, ['a', 'b']);
    assert.equal(q.pending, 0);
    assert.ok(pokes() > 1, 'the core is woken for every batch');
  });

  it('an empty send resolves at once; close rejects what still waits with ESHUTDOWN', async () => {
    const { q } = input();
    await q.send('');
    const big = q.send(new Uint8Array(UART_RX_RING_BYTES + 10));
    q.close();
    await assert.rejects(
      big,
      (e: unknown) => e instanceof RprocError && e.code === 'ESHUTDOWN' && /10 bytes/.test(e.message),
    );
    await assert.rejects(q.send('x'), (e: unknown) => e instanceof RprocError && e.code === 'ESHUTDOWN');
  });
});
