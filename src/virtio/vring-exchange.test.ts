// A driver and a device on the same ring memory: buffers both ways (device-readable TX and
// device-writable RX, multi-descriptor chains), free-descriptor accounting, index wrap-around,
// kick and interrupt suppression (flags and EVENT_IDX), indirect tables, and teardown.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO } from '../util/errors.ts';
import {
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  featureBit,
} from './vring-constants.ts';
import type { DeviceChain } from './vring-device.ts';
import { BUF_SIZE, makePair } from '../../test/support/vring-fixtures.ts';

const EVENT_IDX = featureBit(VIRTIO_RING_F_EVENT_IDX);
const enc = new TextEncoder();
const dec = new TextDecoder();

describe('driver ⇄ device exchange', () => {
  for (const shared of [true, false]) {
    it(`TX (device-readable) and RX (device-writable) buffers round-trip (${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'})`, () => {
      const tx = makePair<number>({ num: 8, shared });
      // host → remote: the driver fills buffer i and posts it read-only
      for (let i = 0; i < 8; i++) {
        const msg = enc.encode(`hello ${i}`);
        tx.buf(i).set(msg);
        assert.equal(tx.driver.addOutbuf(tx.addr(i), msg.length, i), 0);
      }
      assert.equal(tx.driver.numFree, 0);
      assert.equal(tx.driver.addOutbuf(tx.addr(9), 1, 99), -ERRNO.ENOSPC);
      assert.equal(tx.device.availCount(), 0, 'nothing published before the kick');
      assert.equal(tx.driver.kickPrepare(), true);
      assert.equal(tx.device.availCount(), 8);
      for (let i = 0; i < 8; i++) {
        const c = tx.device.getAvail();
        assert.ok(c);
        assert.equal(c.buffers.length, 1);
        const b = c.buffers[0]!;
        assert.equal(b.write, false);
        assert.equal(c.readable, b.len);
        assert.equal(c.writable, 0);
        assert.equal(dec.decode(b.view), `hello ${i}`);
        assert.equal(tx.device.pushUsed(c.head, 0), 0);
      }
      assert.equal(tx.device.getAvail(), undefined);
      tx.device.kickPrepare();
      for (let i = 0; i < 8; i++) assert.deepEqual(tx.driver.getBuf(), { token: i, len: 0 });
      assert.equal(tx.driver.getBuf(), undefined);
      assert.equal(tx.driver.numFree, 8);

      // remote → host: the driver posts writable buffers, the device fills them
      const rx = makePair<number>({ num: 8, shared });
      for (let i = 0; i < 8; i++) assert.equal(rx.driver.addInbuf(rx.addr(i), BUF_SIZE, i), 0);
      rx.driver.kick();
      for (let i = 0; i < 5; i++) {
        const c = rx.device.getAvail();
        assert.ok(c);
        assert.equal(c.writable, BUF_SIZE);
        const msg = enc.encode(`reply ${i}`);
        c.buffers[0]!.view.set(msg);
        assert.equal(rx.device.pushUsed(c.head, msg.length), 0);
      }
      rx.device.kick();
      for (let i = 0; i < 5; i++) {
        const u = rx.driver.getBuf();
        assert.ok(u);
        assert.equal(u.token, i);
        assert.equal(dec.decode(rx.buf(i).subarray(0, u.len)), `reply ${i}`);
      }
      assert.equal(rx.driver.numInFlight, 3);
      assert.equal(rx.device.chainsInFlight, 0);
    });
  }

  it('multi-descriptor chains: readable header then writable parts, freed from the shadow', () => {
    const p = makePair<string>({ num: 8 });
    const chain = [
      { addr: p.addr(0), len: 16, write: false },
      { addr: p.addr(1), len: 100, write: true },
      { addr: p.addr(2), len: 200, write: true },
    ];
    assert.equal(p.driver.addBuf(chain, 'three'), 0);
    assert.equal(p.driver.numFree, 5);
    assert.equal(p.driver.addBuf([{ addr: p.addr(3), len: 8, write: false }], 'one'), 0);
    p.driver.kick();
    const c = p.device.getAvail();
    assert.ok(c);
    assert.deepEqual(
      c.buffers.map((b) => [b.addr, b.len, b.write, b.view.length]),
      [
        [p.addr(0), 16, false, 16],
        [p.addr(1), 100, true, 100],
        [p.addr(2), 200, true, 200],
      ],
    );
    assert.equal(c.readable, 16);
    assert.equal(c.writable, 300);
    assert.equal(
      p.device.pushUsed(c.head, 301),
      -ERRNO.EINVAL,
      'the device cannot report more than writable',
    );
    assert.equal(p.device.pushUsed(c.head, 300), 0);
    assert.equal(p.device.pushUsed(c.head, 0), -ERRNO.EINVAL, 'a chain is returned once');
    p.device.kick();
    assert.deepEqual(p.driver.getBuf(), { token: 'three', len: 300 });
    assert.equal(p.driver.numFree, 7);
    // the freed descriptors are reused for a new chain of three
    assert.equal(p.driver.addBuf(chain, 'again'), 0);
    assert.equal(p.driver.numFree, 4);
  });

  it('addBuf refuses bad chains without writing anything', () => {
    const p = makePair<string>({ num: 4 });
    const before = Uint8Array.from(p.memory);
    const w = (len: number) => ({ addr: p.addr(0), len, write: true });
    const r = (len: number) => ({ addr: p.addr(0), len, write: false });
    assert.equal(p.driver.addBuf([], 'x'), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([w(8), r(8)], 'x'), -ERRNO.EINVAL, 'readable after writable');
    assert.equal(p.driver.addBuf([r(0)], 'x'), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([r(2 ** 32)], 'x'), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([r(1.5)], 'x'), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([{ addr: -1n, len: 1, write: false }], 'x'), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([{ addr: 1n << 64n, len: 1, write: false }], 'x'), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([r(1), r(1), r(1), r(1), r(1)], 'x'), -ERRNO.ENOSPC);
    assert.equal(p.driver.addInbuf(p.addr(0), 0, 'x'), -ERRNO.EINVAL);
    assert.deepEqual(p.memory, before);
    assert.equal(p.driver.numFree, 4);
  });

  it('indices wrap at 65536 (start at 0xfff0)', () => {
    for (const features of [0, EVENT_IDX]) {
      const p = makePair<number>({ num: 4, startIdx: 0xfff0, features });
      let next = 0;
      let got = 0;
      for (let round = 0; round < 40; round++) {
        for (let k = 0; k < 3; k++) assert.equal(p.driver.addInbuf(p.addr(k), 64, next++), 0);
        p.driver.kickPrepare();
        for (let c = p.device.getAvail(); c !== undefined; c = p.device.getAvail()) {
          assert.equal(p.device.pushUsed(c.head, 64), 0);
        }
        p.device.kickPrepare();
        for (let u = p.driver.getBuf(); u !== undefined; u = p.driver.getBuf()) assert.equal(u.token, got++);
      }
      assert.equal(got, 120);
      assert.equal(p.raw.availIdx, (0xfff0 + 120) & 0xffff);
      assert.equal(p.raw.usedIdx, (0xfff0 + 120) & 0xffff);
      assert.equal(p.driver.broken, undefined);
      assert.equal(p.device.broken, undefined);
    }
  });

  it('more than 65536 buffers through a small ring, from index 0', () => {
    const p = makePair<number>({ num: 2, features: EVENT_IDX });
    const reuse: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };
    const total = 70_000;
    for (let i = 0; i < total; i++) {
      assert.equal(p.driver.addOutbuf(p.addr(i & 1), 32, i), 0);
      p.driver.kickPrepare();
      const c = p.device.getAvail(reuse);
      if (c !== reuse) assert.fail(`no chain at ${i}`);
      p.device.pushUsed(c.head, 0);
      p.device.kickPrepare();
      if (p.driver.takeUsed() !== i) assert.fail(`wrong token at ${i}`);
    }
    assert.equal(p.raw.usedIdx, total & 0xffff);
    assert.equal(p.driver.stats.completed, total);
  });
});

describe('notification suppression', () => {
  it('with EVENT_IDX a burst of adds before the device catches up kicks once', () => {
    let kicks = 0;
    const p = makePair<number>({ num: 16, features: EVENT_IDX, driverNotify: () => kicks++ });
    for (let i = 0; i < 10; i++) {
      p.driver.addOutbuf(p.addr(i), 8, i);
      p.driver.kick();
    }
    assert.equal(kicks, 1);
    assert.equal(p.driver.stats.kicksSuppressed, 9);
    // the device catches up: avail_event moves to the next entry, so the next add kicks again
    for (let c = p.device.getAvail(); c; c = p.device.getAvail()) p.device.pushUsed(c.head, 0);
    p.driver.addOutbuf(p.addr(10), 8, 10);
    p.driver.kick();
    assert.equal(kicks, 2);
    // a batch of adds with one kick
    for (let i = 11; i < 15; i++) p.driver.addOutbuf(p.addr(i), 8, i);
    assert.equal(p.driver.kick(), false, 'the device has not consumed entry 10 yet');
    assert.equal(kicks, 2);
  });

  it('without EVENT_IDX, VRING_USED_F_NO_NOTIFY suppresses kicks until re-enabled', () => {
    let kicks = 0;
    const p = makePair<number>({ num: 16, driverNotify: () => kicks++ });
    p.driver.addOutbuf(p.addr(0), 8, 0);
    p.driver.kick();
    assert.equal(kicks, 1);
    p.device.disableNotify();
    for (let i = 1; i < 6; i++) {
      p.driver.addOutbuf(p.addr(i), 8, i);
      p.driver.kick();
    }
    assert.equal(kicks, 1);
    // re-enabling reports the entries that arrived meanwhile
    assert.equal(p.device.enableNotify(), false);
    for (let c = p.device.getAvail(); c; c = p.device.getAvail()) p.device.pushUsed(c.head, 0);
    assert.equal(p.device.enableNotify(), true);
    p.driver.addOutbuf(p.addr(6), 8, 6);
    p.driver.kick();
    assert.equal(kicks, 2);
  });

  it('device → driver interrupts: VRING_AVAIL_F_NO_INTERRUPT and used_event', () => {
    for (const features of [0, EVENT_IDX]) {
      let irqs = 0;
      const p = makePair<number>({ num: 16, features, deviceNotify: () => irqs++ });
      for (let i = 0; i < 8; i++) p.driver.addInbuf(p.addr(i), 64, i);
      p.driver.kick();
      p.driver.disableCb();
      for (let i = 0; i < 3; i++) {
        const c = p.device.getAvail();
        assert.ok(c);
        p.device.pushUsed(c.head, 1);
        p.device.kick();
      }
      assert.equal(irqs, 0, `suppressed (features ${String(features)})`);
      // enableCb sees the entries that arrived while disabled
      assert.equal(p.driver.enableCb(), false);
      while (p.driver.getBuf()) {
        /* drain */
      }
      assert.equal(p.driver.enableCb(), true);
      const c = p.device.getAvail();
      assert.ok(c);
      p.device.pushUsed(c.head, 1);
      p.device.kick();
      assert.equal(irqs, 1);
      if (features !== 0) {
        // with EVENT_IDX a second completion before the driver looks does not interrupt again
        const c2 = p.device.getAvail();
        assert.ok(c2);
        p.device.pushUsed(c2.head, 1);
        p.device.kick();
        assert.equal(irqs, 1);
      }
    }
  });

  it('enableCbDelayed asks for the interrupt after about 3/4 of the buffers in flight', () => {
    let irqs = 0;
    const p = makePair<number>({ num: 16, features: EVENT_IDX, deviceNotify: () => irqs++ });
    for (let i = 0; i < 8; i++) p.driver.addOutbuf(p.addr(i), 8, i);
    p.driver.kick();
    p.driver.disableCb();
    assert.equal(p.driver.enableCbDelayed(), true);
    for (let i = 0; i < 8; i++) {
      const c = p.device.getAvail();
      assert.ok(c);
      p.device.pushUsed(c.head, 0);
      p.device.kick();
      assert.equal(irqs, i >= 6 ? 1 : 0, `after ${i + 1} completions`);
    }
  });

  it('VIRTIO_F_NOTIFY_ON_EMPTY interrupts when the avail ring runs empty, even if suppressed', () => {
    let irqs = 0;
    const p = makePair<number>({
      num: 8,
      features: 1 << VIRTIO_F_NOTIFY_ON_EMPTY,
      deviceNotify: () => irqs++,
    });
    for (let i = 0; i < 2; i++) p.driver.addOutbuf(p.addr(i), 8, i);
    p.driver.kick();
    p.driver.disableCb();
    let c = p.device.getAvail();
    assert.ok(c);
    p.device.pushUsed(c.head, 0);
    p.device.kick();
    assert.equal(irqs, 0);
    c = p.device.getAvail();
    assert.ok(c);
    p.device.pushUsed(c.head, 0);
    p.device.kick();
    assert.equal(irqs, 1);
  });
});

describe('indirect descriptors (device side)', () => {
  it('follows an indirect table when VIRTIO_RING_F_INDIRECT_DESC is negotiated', () => {
    const p = makePair<number>({ num: 8, features: 1 << VIRTIO_RING_F_INDIRECT_DESC });
    // table of 3 entries in pool buffer 0: readable 16 B (buf 1), writable 64 B (buf 2), writable 32 B (buf 3)
    const table = new DataView(p.pool.buffer, 0, 48);
    const entries: [bigint, number, number, number][] = [
      [p.addr(1), 16, VRING_DESC_F_NEXT, 2],
      [p.addr(3), 32, VRING_DESC_F_WRITE, 0],
      [p.addr(2), 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1],
    ];
    entries.forEach(([a, l, f, n], i) => {
      table.setBigUint64(i * 16, a, true);
      table.setUint32(i * 16 + 8, l, true);
      table.setUint16(i * 16 + 12, f, true);
      table.setUint16(i * 16 + 14, n, true);
    });
    // the ring holds one readable direct descriptor, then the indirect one
    p.raw.setDesc(0, { addr: p.addr(4), len: 8, flags: VRING_DESC_F_NEXT, next: 5 });
    p.raw.setDesc(5, {
      addr: p.addr(0),
      len: 48,
      flags: VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE,
      next: 0,
    });
    p.raw.pushAvailRaw(0);
    const c = p.device.getAvail();
    assert.ok(c, p.device.broken?.message);
    assert.deepEqual(
      c.buffers.map((b) => [b.addr, b.len, b.write]),
      [
        [p.addr(4), 8, false],
        [p.addr(1), 16, false],
        [p.addr(2), 64, true],
        [p.addr(3), 32, true],
      ],
    );
    assert.equal(c.readable, 24);
    assert.equal(c.writable, 96);
    assert.equal(p.device.pushUsed(0, 96), 0);
  });
});

describe('teardown', () => {
  it('detachUnusedBufs returns every posted token once and frees every descriptor', () => {
    const p = makePair<string>({ num: 8 });
    for (let i = 0; i < 6; i++) p.driver.addInbuf(p.addr(i), 64, `t${i}`);
    p.driver.kick();
    for (let i = 0; i < 2; i++) {
      const c = p.device.getAvail();
      assert.ok(c);
      p.device.pushUsed(c.head, 1);
    }
    p.device.kick();
    assert.equal(p.driver.getBuf()?.token, 't0');
    const rest = p.driver.detachUnusedBufs().sort();
    assert.deepEqual(rest, ['t1', 't2', 't3', 't4', 't5']);
    assert.equal(p.driver.numFree, 8);
    assert.equal(p.driver.numInFlight, 0);
    assert.deepEqual(p.driver.detachUnusedBufs(), []);
  });
});
