// The statistics both sides of a split vring keep, read exactly over one queue's life (posting,
// taking, returning, a clamped length, refused calls that count nothing, the first violation and
// the ones after it), and the driver's set-up option `zero` (rp_find_vq's memset of the ring in
// Linux drivers/remoteproc/remoteproc_virtio.c before vring_new_virtqueue).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO } from '../util/errors.ts';
import { VirtqueueDriver } from './vring-driver.ts';
import { vringSize } from './vring-layout.ts';
import { makePair } from '../../test/support/vring-fixtures.ts';

const NUM = 8;

describe('vring statistics over one queue’s life', () => {
  it('driver: added, completed, lenClamped and violations count each event once', () => {
    const p = makePair<number>({ num: NUM });
    assert.equal(p.driver.addInbuf(p.addr(0), 64, 0), 0);
    assert.equal(p.driver.addOutbuf(p.addr(1), 32, 1), 0);
    assert.equal(p.driver.addInbuf(p.addr(2), 64, 2), 0);
    assert.equal(p.driver.addInbuf(p.addr(3), 0, 3), -ERRNO.EINVAL, 'a refused add counts nothing');
    p.driver.flush();
    assert.deepEqual(p.driver.stats, {
      added: 3,
      completed: 0,
      kicks: 0,
      kicksSuppressed: 0,
      lenClamped: 0,
      violations: 0,
    });
    p.raw.pushUsedRaw(0, 64); // exactly what it may write
    p.raw.pushUsedRaw(1, 1); // a device-readable chain: nothing writable, clamped silently
    p.raw.pushUsedRaw(2, 65); // one byte more than it may write: clamped and counted
    assert.equal(p.driver.takeUsed(), 0);
    assert.equal(p.driver.usedLen, 64);
    assert.equal(p.driver.takeUsed(), 1);
    assert.equal(p.driver.usedLen, 0);
    assert.equal(p.driver.takeUsed(), 2);
    assert.equal(p.driver.usedLen, 64);
    assert.deepEqual(p.driver.stats, {
      added: 3,
      completed: 3,
      kicks: 0,
      kicksSuppressed: 0,
      lenClamped: 1,
      violations: 0,
    });
    // Two violations: only the first one is counted, and nothing more completes.
    p.raw.pushUsedRaw(0, 1); // not in flight
    assert.equal(p.driver.takeUsed(), undefined);
    p.raw.usedIdx = (p.raw.usedIdx + NUM + 1) & 0xffff;
    assert.equal(p.driver.takeUsed(), undefined);
    assert.equal(p.driver.moreUsed(), false);
    assert.deepEqual(p.driver.stats, {
      added: 3,
      completed: 3,
      kicks: 0,
      kicksSuppressed: 0,
      lenClamped: 1,
      violations: 1,
    });
  });

  it('device: chains, used and rejected count each event once', () => {
    const p = makePair<number>({ num: NUM });
    for (let i = 0; i < 2; i++) assert.equal(p.driver.addInbuf(p.addr(i), 64, i), 0);
    p.driver.flush();
    const a = p.device.getAvail();
    const b = p.device.getAvail();
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(p.device.pushUsed(a.head, 64), 0);
    assert.equal(p.device.pushUsed(a.head, 0), -ERRNO.EINVAL, 'returned twice: not counted');
    assert.equal(p.device.pushUsed(b.head, 65), -ERRNO.EINVAL, 'too long: not counted');
    assert.deepEqual(p.device.stats, { chains: 2, used: 1, kicks: 0, kicksSuppressed: 0, rejected: 0 });
    // The driver's avail.idx runs away: the first refusal is counted, later calls only repeat it.
    p.raw.availIdx = (p.raw.availIdx + NUM + 1) & 0xffff;
    assert.equal(p.device.getAvail(), undefined);
    assert.equal(p.device.getAvail(), undefined);
    assert.deepEqual(p.device.stats, { chains: 2, used: 1, kicks: 0, kicksSuppressed: 0, rejected: 1 });
  });
});

describe('vring driver: after a violation, and a used ring that is not 4-byte aligned', () => {
  it('a broken driver takes nothing, even once the device writes a valid entry', () => {
    const p = makePair<number>({ num: NUM });
    p.driver.addInbuf(p.addr(0), 64, 0);
    p.driver.flush();
    p.raw.pushUsedRaw(NUM, 1); // no such descriptor
    assert.equal(p.driver.takeUsed(), undefined);
    assert.notEqual(p.driver.broken, undefined);
    p.raw.setUsedElem(0, 0, 1);
    assert.equal(p.driver.takeUsed(), undefined);
    assert.equal(p.driver.stats.completed, 0);
  });

  it('align 2: used elements read little-endian through the unaligned path', () => {
    const p = makePair<number>({ num: NUM, align: 2 });
    p.driver.addInbuf(p.addr(0), 64, 0);
    p.driver.addInbuf(p.addr(1), 64, 1);
    p.driver.flush();
    assert.ok(p.device.getAvail() !== undefined);
    const second = p.device.getAvail();
    assert.ok(second !== undefined && second.head !== 0);
    assert.equal(p.device.pushUsed(second.head, 0x10), 0);
    p.device.publishUsed();
    assert.equal(p.driver.takeUsed(), 1);
    assert.equal(p.driver.usedLen, 0x10);
    assert.equal(p.driver.stats.lenClamped, 0);
  });
});

describe('vring driver set-up: zero', () => {
  const align = 16;
  const size = vringSize(NUM, align);
  for (const zero of [true, false, undefined]) {
    it(`zero ${String(zero)}: ${zero === true ? 'the ring’s bytes, and only those, are cleared' : 'the memory is left as it is'}`, () => {
      const memory = new Uint8Array(size + 16).fill(0xa5);
      const driver = new VirtqueueDriver<number>({
        memory,
        num: NUM,
        align,
        ...(zero === undefined ? {} : { zero }),
      });
      assert.equal(driver.numFree, NUM);
      assert.ok(memory.subarray(0, size).every((x) => x === (zero === true ? 0 : 0xa5)));
      assert.ok(
        memory.subarray(size).every((x) => x === 0xa5),
        'past vring_size: untouched',
      );
    });
  }
});
