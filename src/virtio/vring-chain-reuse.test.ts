// A device that hands getAvail() the same DeviceChain every time (the rpmsg remote does, to take
// no garbage per message) gets exactly the chain it just took: buffers of an earlier, longer chain
// do not linger behind a shorter one, and a reused buffer entry takes every field of the new one.
// Also the driver's own bound on buffer addresses at its last valid value, a broken driver refusing
// new buffers and answering enableCbDelayed, and a device giving no chain for an indirect table
// outside its memory.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceChain } from './vring-device.ts';
import {
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VRING_DESC_F_INDIRECT,
} from './vring-constants.ts';
import { POOL_BASE, makePair } from '../../test/support/vring-fixtures.ts';

describe('a DeviceChain reused across getAvail calls', () => {
  it('holds exactly the chain just taken: 3 buffers, then 1, then 2', () => {
    const p = makePair<number>({ num: 8 });
    const chain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };
    const shapes = [
      [
        { i: 0, len: 16, write: false },
        { i: 1, len: 32, write: false },
        { i: 2, len: 64, write: true },
      ],
      [{ i: 3, len: 8, write: true }],
      [
        { i: 4, len: 24, write: false },
        { i: 5, len: 40, write: true },
      ],
    ];
    for (const [n, shape] of shapes.entries()) {
      const bufs = shape.map((s) => ({ addr: p.addr(s.i), len: s.len, write: s.write }));
      assert.equal(p.driver.addBuf(bufs, n), 0);
      p.driver.flush();
      const got = p.device.getAvail(chain);
      assert.equal(got, chain, 'the chain passed in is the one filled');
      assert.deepEqual(
        chain.buffers.map((b) => [b.addr, b.len, b.write, b.view.length]),
        bufs.map((b) => [b.addr, b.len, b.write, b.len]),
        `chain ${n}`,
      );
      assert.equal(
        chain.readable,
        shape.filter((s) => !s.write).reduce((a, s) => a + s.len, 0),
      );
      assert.equal(
        chain.writable,
        shape.filter((s) => s.write).reduce((a, s) => a + s.len, 0),
      );
      p.device.pushUsed(chain.head, 0);
      p.device.publishUsed();
      assert.equal(p.driver.takeUsed(), n);
    }
  });
});

describe('driver: buffer addresses', () => {
  it('bus address 0 is a valid address (the last valid value below the refused −1)', () => {
    const p = makePair<number>({ num: 8 });
    assert.equal(p.driver.addBuf([{ addr: 0n, len: 4, write: false }], 1), 0);
    assert.equal(p.driver.addBuf([{ addr: -1n, len: 4, write: false }], 2), -22);
  });
});

describe('driver: a broken queue', () => {
  it('refuses new buffers with EIO, with descriptors still free', () => {
    const p = makePair<number>({ num: 8 });
    assert.equal(p.driver.addInbuf(p.addr(0), 64, 0), 0);
    p.driver.flush();
    p.raw.usedIdx = (p.raw.usedIdx + 8 + 1) & 0xffff; // more used than the ring holds
    assert.equal(p.driver.takeUsed(), undefined);
    assert.notEqual(p.driver.broken, undefined);
    assert.equal(p.driver.addBuf([{ addr: p.addr(1), len: 64, write: true }], 1), -5);
  });
});

describe('driver: enableCbDelayed on a broken queue', () => {
  it('answers true (nothing to take) whatever the used index the device wrote', () => {
    const p = makePair<number>({ num: 8, features: 1 << VIRTIO_RING_F_EVENT_IDX });
    for (let i = 0; i < 4; i++) assert.equal(p.driver.addInbuf(p.addr(i), 64, i), 0);
    p.driver.flush();
    p.raw.usedIdx = (p.raw.usedIdx + 8 + 1) & 0xffff;
    assert.equal(p.driver.takeUsed(), undefined);
    assert.notEqual(p.driver.broken, undefined);
    assert.equal(p.driver.enableCbDelayed(), true);
  });
});

describe('device: an indirect table outside its memory', () => {
  it('gives no chain, and the queue stays broken with that reason', () => {
    const p = makePair<number>({ num: 8, features: 1 << VIRTIO_RING_F_INDIRECT_DESC });
    // A 32-byte table whose second half lies past the end of what the device can see.
    const addr = POOL_BASE + BigInt(p.pool.length - 16);
    p.raw.setDesc(0, { addr, len: 32, flags: VRING_DESC_F_INDIRECT, next: 0 });
    p.raw.pushAvailRaw(0);
    assert.equal(p.device.getAvail(), undefined);
    assert.match(p.device.broken?.message ?? '', /indirect table at 0x90001ff0 of 0x20 bytes is outside/);
    assert.equal(p.device.getAvail(), undefined);
  });
});
