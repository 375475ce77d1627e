// RSP framing: packets come out whole however the bytes are cut into chunks; binary data survives
// escaping; any byte stream gives events, never an exception; bad checksums, noise between packets,
// interrupts and oversized packets are told apart. Plus the value parsers of rsp-values.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkProperty } from '../../test/support/property.ts';
import {
  RspReader,
  checksum,
  escapeBinary,
  framePacket,
  unescapeBinary,
  type RspEvent,
} from './rsp-framing.ts';
import { parseHex32, parseHexClamped, parseThreadId, THREAD_ALL } from './rsp-values.ts';

/** Feed `bytes` cut at the given points. */
function feed(reader: RspReader, bytes: Uint8Array, cuts: readonly number[]): RspEvent[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: RspEvent[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(...reader.push(bytes.subarray(from, p)));
    from = p;
  }
  return out;
}

describe('RSP framing', () => {
  it('frames with the checksum gdb expects', () => {
    assert.equal(framePacket('qSupported').toString('latin1'), '$qSupported#37');
    assert.equal(checksum(''), 0);
    assert.equal(framePacket('').toString('latin1'), '$#00');
  });

  it('property: binary packets come back whole and in order, however the stream is chunked', () => {
    checkProperty(
      'rsp-framing-roundtrip',
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (bodies, cuts) => {
          const frames = bodies.map((b) => framePacket(escapeBinary(b)));
          const stream = new Uint8Array(Buffer.concat([Buffer.from('+'), ...frames, Buffer.from('-\x03')]));
          const events = feed(new RspReader(1024), stream, cuts);
          const packets = events.filter((e) => e.kind === 'packet').map((e) => unescapeBinary(e.data));
          assert.deepEqual(
            packets,
            bodies.map((b) => new Uint8Array(b)),
          );
          assert.deepEqual(events[0], { kind: 'ack' });
          assert.deepEqual(events.slice(-2), [{ kind: 'nack' }, { kind: 'interrupt' }]);
        },
      ),
    );
  });

  it('property: any bytes give events, never an exception, and nothing over the limit', () => {
    checkProperty(
      'rsp-framing-any-bytes',
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const events = feed(new RspReader(100), bytes, cuts);
        for (const e of events) {
          assert.ok(['packet', 'bad-checksum', 'ack', 'nack', 'interrupt', 'overflow'].includes(e.kind));
          if (e.kind === 'packet' || e.kind === 'bad-checksum') assert.ok(e.data.length <= 100);
        }
      }),
    );
  });

  it('tells a bad checksum, a non-hex checksum, noise and an interrupt apart', () => {
    const r = new RspReader(1024);
    const ev = r.push(Buffer.from('xyz$m0,4#00$m0,4#zz\x03$m0,4#fd+', 'latin1'));
    assert.deepEqual(ev, [
      { kind: 'bad-checksum', data: 'm0,4', expected: 0xfd, got: '00' },
      { kind: 'bad-checksum', data: 'm0,4', expected: 0xfd, got: 'zz' },
      { kind: 'interrupt' },
      { kind: 'packet', data: 'm0,4' },
      { kind: 'ack' },
    ]);
  });

  it('reports a packet over the limit once, and reads on after a reset', () => {
    const r = new RspReader(8);
    assert.deepEqual(r.push(Buffer.from('$0123456789', 'latin1')), [{ kind: 'overflow', limit: 8 }]);
    r.reset();
    assert.deepEqual(r.push(framePacket('g')), [{ kind: 'packet', data: 'g' }]);
  });

  it('escapes #, $, } and * and refuses a dangling escape', () => {
    assert.equal(escapeBinary(Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 0x41)), '}\x03}\x04}]}\x0aA');
    assert.equal(unescapeBinary('ab}'), undefined);
  });
});

describe('RSP values', () => {
  it('parses 32-bit hex, clamps long lengths, and refuses the rest', () => {
    const table: readonly (readonly [string, number | undefined])[] = [
      ['0', 0],
      ['80000000', 0x8000_0000],
      ['ffffffff', 0xffff_ffff],
      ['100000000', undefined],
      ['', undefined],
      ['-1', undefined],
      ['0x10', undefined],
    ];
    for (const [text, want] of table) assert.equal(parseHex32(text), want, text);
    assert.equal(parseHexClamped('ffffffffffffffffffffff', 100), 100);
    assert.equal(parseHexClamped('0000000000000010', 100), 16);
    assert.equal(parseHexClamped('x', 100), undefined);
  });

  it('parses thread ids with and without a process part', () => {
    const table: readonly (readonly [string, number | undefined])[] = [
      ['1', 1],
      ['-1', THREAD_ALL],
      ['0', 0],
      ['p1.2', 2],
      ['p1.-1', THREAD_ALL],
      ['p1', THREAD_ALL],
      ['p1.', undefined],
      ['zz', undefined],
      ['ffffffff', undefined],
    ];
    for (const [text, want] of table) assert.equal(parseThreadId(text), want, text);
  });
});
