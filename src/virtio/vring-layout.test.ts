// The split-ring layout against include/uapi/linux/virtio_ring.h (worked examples of the layout),
// the constants in spec spelling, vring_need_event, and the exact bytes the driver and the device
// write, read back at hand-computed offsets with a plain DataView.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../util/errors.ts';
import {
  VIRTIO_F,
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F,
  VRING_USED_F_NO_NOTIFY,
  featureBit,
  hasFeature,
  vringNeedEvent,
} from './vring-constants.ts';
import { VRING_DESC, VRING_USED_ELEM, vringGeometryProblem, vringLayout, vringSize } from './vring-layout.ts';
import { VirtqueueDriver } from './vring-driver.ts';
import { VirtqueueDevice } from './vring-device.ts';
import { makePair, makeRingMemory, poolTranslator, POOL_BASE } from '../../test/support/vring-fixtures.ts';

const EVENT_IDX = featureBit(VIRTIO_F.VIRTIO_RING_F_EVENT_IDX);

function dvOf(memory: Uint8Array): DataView {
  return new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
}

describe('vring layout (virtio_ring.h)', () => {
  it('num 256, align 4096: avail @4096, used @8192, vring_size 10246', () => {
    const l = vringLayout(256, 4096);
    assert.deepEqual(
      {
        desc: l.descOffset,
        avail: l.availOffset,
        availFlags: l.availFlagsOffset,
        availIdx: l.availIdxOffset,
        availRing: l.availRingOffset,
        usedEvent: l.usedEventOffset,
        used: l.usedOffset,
        usedFlags: l.usedFlagsOffset,
        usedIdx: l.usedIdxOffset,
        usedRing: l.usedRingOffset,
        availEvent: l.availEventOffset,
        size: l.size,
      },
      {
        desc: 0,
        avail: 4096,
        availFlags: 4096,
        availIdx: 4098,
        availRing: 4100,
        usedEvent: 4100 + 2 * 256,
        used: 8192,
        usedFlags: 8192,
        usedIdx: 8194,
        usedRing: 8196,
        availEvent: 8196 + 8 * 256,
        size: 10246,
      },
    );
    assert.equal(vringSize(256, 4096), 10246);
  });

  it('num 16, align 16: avail @256, used @304, vring_size 438', () => {
    const l = vringLayout(16, 16);
    assert.equal(l.availOffset, 256);
    assert.equal(l.usedEventOffset, 292);
    assert.equal(l.usedOffset, 304);
    assert.equal(l.usedRingOffset, 308);
    assert.equal(l.availEventOffset, 436);
    assert.equal(l.size, 438);
  });

  it('struct field offsets and constants keep the spec values', () => {
    assert.deepEqual(VRING_DESC, { addr: 0, len: 8, flags: 12, next: 14 });
    assert.deepEqual(VRING_USED_ELEM, { id: 0, len: 4 });
    assert.deepEqual(VRING_DESC_F, { VRING_DESC_F_NEXT: 1, VRING_DESC_F_WRITE: 2, VRING_DESC_F_INDIRECT: 4 });
    assert.equal(VRING_USED_F_NO_NOTIFY, 1);
    assert.equal(VRING_AVAIL_F_NO_INTERRUPT, 1);
    assert.deepEqual(VIRTIO_F, {
      VIRTIO_F_NOTIFY_ON_EMPTY: 24,
      VIRTIO_F_ANY_LAYOUT: 27,
      VIRTIO_RING_F_INDIRECT_DESC: 28,
      VIRTIO_RING_F_EVENT_IDX: 29,
      VIRTIO_F_VERSION_1: 32,
      VIRTIO_F_RING_PACKED: 34,
    });
    assert.equal(hasFeature(1 << 29, 29), true);
    assert.equal(hasFeature(0xffff_ffff, 32), false, 'a u32 word cannot carry bit 32');
    assert.equal(hasFeature(featureBit(34), 34), true);
  });

  it('vringNeedEvent: notify iff the event index lies in [old, new)', () => {
    assert.equal(vringNeedEvent(0, 1, 0), true);
    assert.equal(vringNeedEvent(0, 2, 1), false);
    assert.equal(vringNeedEvent(5, 10, 0), true);
    assert.equal(vringNeedEvent(10, 10, 0), false);
    assert.equal(vringNeedEvent(9, 10, 0), true);
    // across the u16 wrap
    assert.equal(vringNeedEvent(0xffff, 2, 0xfffe), true);
    assert.equal(vringNeedEvent(1, 2, 0xfffe), true);
    assert.equal(vringNeedEvent(2, 2, 0xfffe), false);
    assert.equal(vringNeedEvent(0xfffd, 2, 0xfffe), false);
  });

  it('geometry: num a power of two ≤ 32768, align a power of two', () => {
    assert.equal(vringGeometryProblem(256, 4096), undefined);
    assert.equal(vringGeometryProblem(1, 1), undefined);
    for (const [num, align] of [
      [0, 16],
      [3, 16],
      [65536, 16],
      [16, 0],
      [16, 24],
      [Number.NaN, 16],
    ] as const) {
      assert.notEqual(vringGeometryProblem(num, align), undefined, `${num}/${align}`);
    }
  });

  it('constructors refuse bad geometry, short or misaligned memory, and packed rings', () => {
    const mem = makeRingMemory(16, 16, false);
    const bad: [string, () => unknown, string][] = [
      ['num 3', () => new VirtqueueDriver({ memory: mem, num: 3, align: 16 }), 'EINVAL'],
      ['short', () => new VirtqueueDriver({ memory: mem.subarray(0, 400), num: 16, align: 16 }), 'EINVAL'],
      [
        'misaligned',
        () =>
          new VirtqueueDriver({ memory: new Uint8Array(new ArrayBuffer(1024), 2, 500), num: 16, align: 16 }),
        'EINVAL',
      ],
      [
        'packed',
        () => new VirtqueueDriver({ memory: mem, num: 16, align: 16, features: featureBit(34) }),
        'EOPNOTSUPP',
      ],
      [
        'device num 65536',
        () =>
          new VirtqueueDevice({
            memory: mem,
            num: 65536,
            align: 16,
            translate: () => undefined,
          }),
        'EINVAL',
      ],
    ];
    for (const [what, make, code] of bad) {
      assert.throws(make, (e: unknown) => isRprocError(e, code === 'EINVAL' ? 'EINVAL' : 'EOPNOTSUPP'), what);
    }
  });
});

describe('bytes written at the exact offsets (num 16, align 16)', () => {
  it('addBuf writes descriptors and the avail slot; flush publishes avail.idx', () => {
    const { memory, driver } = makePair<string>({ num: 16, align: 16 });
    const dv = dvOf(memory);
    assert.equal(
      driver.addBuf(
        [
          { addr: 0x1122_3344_5566_7788n, len: 0x200, write: false },
          { addr: 0x9000_0000n, len: 0x40, write: true },
        ],
        'a',
      ),
      0,
    );
    // desc 0: addr LE @0, len @8, flags NEXT @12, next 1 @14
    assert.deepEqual([...memory.subarray(0, 8)], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    assert.equal(dv.getUint32(8, true), 0x200);
    assert.equal(dv.getUint16(12, true), 1);
    assert.equal(dv.getUint16(14, true), 1);
    // desc 1: device-writable, end of chain
    assert.equal(dv.getBigUint64(16, true), 0x9000_0000n);
    assert.equal(dv.getUint32(24, true), 0x40);
    assert.equal(dv.getUint16(28, true), 2);
    assert.equal(dv.getUint16(30, true), 0);
    // avail.ring[0] = head 0 @260, avail.idx @258 still 0 until flush
    assert.equal(dv.getUint16(260, true), 0);
    assert.equal(dv.getUint16(258, true), 0);
    driver.flush();
    assert.equal(dv.getUint16(258, true), 1);
    assert.equal(driver.addOutbuf(0x1000n, 16, 'b'), 0);
    assert.equal(dv.getUint16(262, true), 2, 'second chain starts at descriptor 2');
    assert.equal(dv.getUint16(12 + 32, true), 0, 'single read-only buffer: no flags');
    assert.equal(driver.kickPrepare(), true);
    assert.equal(dv.getUint16(258, true), 2);
  });

  it('pushUsed writes {id, len} @308 and publishUsed used.idx @306; event words @292 and @436', () => {
    const { memory, driver, device, addr } = makePair<string>({ num: 16, align: 16, features: EVENT_IDX });
    const dv = dvOf(memory);
    driver.addInbuf(addr(0), 512, 'rx');
    driver.kickPrepare();
    const chain = device.getAvail();
    assert.ok(chain);
    assert.equal(dv.getUint16(436, true), 1, 'device asks for a kick at avail entry 1 (avail_event)');
    assert.equal(device.pushUsed(chain.head, 0x20), 0);
    assert.equal(dv.getUint16(306, true), 0, 'not published yet');
    assert.equal(dv.getUint32(308, true), 0);
    assert.equal(dv.getUint32(312, true), 0x20);
    assert.equal(device.kickPrepare(), true, 'used_event 0 was crossed');
    assert.equal(dv.getUint16(306, true), 1);
    assert.deepEqual(driver.getBuf(), { token: 'rx', len: 0x20 });
    assert.equal(dv.getUint16(292, true), 1, 'driver asks for an interrupt at used entry 1 (used_event)');
  });

  it('flag words: VRING_AVAIL_F_NO_INTERRUPT @256, VRING_USED_F_NO_NOTIFY @304', () => {
    const { memory, driver, device } = makePair<string>({ num: 16, align: 16 });
    const dv = dvOf(memory);
    driver.disableCb();
    assert.equal(dv.getUint16(256, true), 1);
    device.disableNotify();
    assert.equal(dv.getUint16(304, true), 1);
    assert.equal(driver.enableCb(), true);
    assert.equal(device.enableNotify(), true);
    assert.equal(dv.getUint16(256, true), 0);
    assert.equal(dv.getUint16(304, true), 0);
  });

  it('align 2 puts the used ring at a 2-byte boundary; both sides still agree', () => {
    const l = vringLayout(16, 2);
    assert.equal(l.usedOffset, 294);
    assert.equal(l.usedRingOffset % 4, 2);
    for (const shared of [false, true]) {
      const { memory, driver, device, addr } = makePair<number>({ num: 16, align: 2, shared });
      const dv = dvOf(memory);
      for (let round = 0; round < 40; round++) {
        assert.equal(driver.addInbuf(addr(round % 16), 100, round), 0);
        driver.kickPrepare();
        const c = device.getAvail();
        assert.ok(c);
        assert.equal(device.pushUsed(c.head, 50 + (round % 7)), 0);
        device.kickPrepare();
        const slot = round % 16;
        assert.equal(dv.getUint32(298 + 8 * slot, true), c.head);
        assert.equal(dv.getUint32(302 + 8 * slot, true), 50 + (round % 7));
        assert.deepEqual(driver.getBuf(), { token: round, len: 50 + (round % 7) });
      }
    }
  });

  it('the translator gives views into the pool, never copies', () => {
    const pool = new Uint8Array(1024);
    const t = poolTranslator(pool, POOL_BASE);
    const v = t(POOL_BASE + 512n, 512);
    assert.ok(v);
    v[0] = 7;
    assert.equal(pool[512], 7);
    assert.equal(t(POOL_BASE + 513n, 512), undefined);
    assert.equal(t(POOL_BASE - 1n, 1), undefined);
    assert.equal(t(POOL_BASE, 0xffff_ffff), undefined);
  });
});
