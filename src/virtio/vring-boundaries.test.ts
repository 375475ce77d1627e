// Every check a vring side makes on a value its peer writes, pinned at its boundary: the last value
// the check accepts works, the first value it refuses breaks the queue (driver) or stops the device
// with that check's reason. The driver's checks guard the host against a remote's used ring; the
// device's guard the remote side against the avail ring and descriptors. Far-out values are in
// vring-hostile.test.ts; these catch a check off by one.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO, RprocError } from '../util/errors.ts';
import {
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
} from './vring-constants.ts';
import { VirtqueueDevice, type VringTranslate } from './vring-device.ts';
import { VirtqueueDriver } from './vring-driver.ts';
import { vringGeometryProblem, vringSize } from './vring-layout.ts';
import { RawVring } from './vring-raw.ts';
import {
  BUF_SIZE,
  makePair,
  makeRingMemory,
  POOL_BASE,
  type Pair,
} from '../../test/support/vring-fixtures.ts';

const NUM = 8;

// ---- driver side: the used ring a remote writes ------------------------------------------------

/** A driver with `n` one-buffer writable chains of 64 bytes posted (tokens 0..n-1), published. */
function driverWith(n: number, num = NUM): Pair<number> {
  const p = makePair<number>({ num });
  for (let i = 0; i < n; i++) assert.equal(p.driver.addInbuf(p.addr(i), 64, i), 0);
  p.driver.flush();
  return p;
}

interface DriverBoundary {
  readonly check: string;
  /** Write into the used ring what the remote would; then the driver takes what it can. */
  readonly lastValid: (p: Pair<number>) => void;
  readonly firstInvalid: (p: Pair<number>) => void;
  /** Chains posted before the remote writes. */
  readonly posted: number;
  /** Tokens the driver takes for the last valid input. */
  readonly taken: readonly number[];
  readonly broken: RegExp;
}

function takeAll(p: Pair<number>): number[] {
  const out: number[] = [];
  for (let t = p.driver.takeUsed(); t !== undefined; t = p.driver.takeUsed()) out.push(t);
  return out;
}

const DRIVER: readonly DriverBoundary[] = [
  {
    check: 'used.idx runs ahead by at most the chains in flight',
    posted: 3,
    lastValid: (p) => {
      for (let i = 0; i < 3; i++) p.raw.pushUsedRaw(i, 1);
    },
    firstInvalid: (p) => {
      for (let i = 0; i < 3; i++) p.raw.pushUsedRaw(i, 1);
      p.raw.usedIdx = 4;
    },
    taken: [0, 1, 2],
    broken:
      /^test-vq: used\.idx 0x4 runs 4 entries ahead of the last consumed 0x0, but only 3 buffers are in flight$/,
  },
  {
    check: 'used.idx running ahead by more than num is named as such',
    posted: NUM,
    lastValid: (p) => {
      for (let i = 0; i < NUM; i++) p.raw.pushUsedRaw(i, 1);
    },
    firstInvalid: (p) => {
      p.raw.usedIdx = NUM + 1;
    },
    taken: [0, 1, 2, 3, 4, 5, 6, 7],
    broken: /^test-vq: used\.idx 0x9 runs 9 entries ahead of the last consumed 0x0, more than the ring's 8$/,
  },
  {
    check: 'used.idx exactly num ahead, with fewer in flight, is named by what is in flight',
    posted: 3,
    lastValid: (p) => {
      for (let i = 0; i < 3; i++) p.raw.pushUsedRaw(i, 1);
    },
    firstInvalid: (p) => {
      p.raw.usedIdx = NUM;
    },
    taken: [0, 1, 2],
    broken:
      /^test-vq: used\.idx 0x8 runs 8 entries ahead of the last consumed 0x0, but only 3 buffers are in flight$/,
  },
  {
    check: 'a used id is below num',
    posted: NUM,
    lastValid: (p) => p.raw.pushUsedRaw(NUM - 1, 1),
    firstInvalid: (p) => p.raw.pushUsedRaw(NUM, 1),
    taken: [NUM - 1],
    broken: /^test-vq: used ring entry 0 names descriptor 0x8, but the ring has 8$/,
  },
  {
    check: 'a used id is the head of a chain in flight',
    posted: 2,
    lastValid: (p) => p.raw.pushUsedRaw(1, 1),
    firstInvalid: (p) => p.raw.pushUsedRaw(2, 1),
    taken: [1],
    broken: /^test-vq: used ring entry 0 names descriptor 0x2, which is not the head of a buffer in flight$/,
  },
];

describe('vring driver: every check on the used ring at its boundary', () => {
  for (const b of DRIVER) {
    it(`${b.check}: last valid is taken, first invalid breaks the queue`, () => {
      const ok = driverWith(b.posted);
      b.lastValid(ok);
      assert.deepEqual(takeAll(ok), b.taken);
      assert.equal(ok.driver.broken, undefined);
      assert.equal(ok.driver.stats.violations, 0);

      const bad = driverWith(b.posted);
      b.firstInvalid(bad);
      takeAll(bad);
      assert.match(bad.driver.broken?.detail ?? '(not broken)', b.broken);
      assert.equal(bad.driver.stats.violations, 1);
    });
  }

  it('used.len up to the chain’s writable length is reported as is; one more is clamped and counted', () => {
    const p = makePair<number>({ num: NUM });
    assert.equal(
      p.driver.addBuf(
        [
          { addr: p.addr(0), len: 16, write: false },
          { addr: p.addr(1), len: 64, write: true },
          { addr: p.addr(2), len: 36, write: true },
        ],
        0,
      ),
      0,
    );
    assert.equal(p.driver.addInbuf(p.addr(3), 100, 1), 0);
    p.driver.flush();
    p.raw.pushUsedRaw(0, 100);
    p.raw.pushUsedRaw(3, 101); // the second chain's head: the first took descriptors 0..2
    assert.deepEqual(p.driver.getBuf(), { token: 0, len: 100 });
    assert.equal(p.driver.stats.lenClamped, 0);
    assert.equal(p.driver.lastWarning, undefined);
    assert.deepEqual(p.driver.getBuf(), { token: 1, len: 100 });
    assert.equal(p.driver.stats.lenClamped, 1);
    assert.equal(
      p.driver.lastWarning,
      'test-vq: used ring entry 1 reports 0x65 bytes written into chain 0x3, whose device-writable length is 0x64; clamped',
    );
    assert.equal(p.driver.broken, undefined);
  });

  it('a read-only chain reports length 0 whatever used.len says, without counting a clamp', () => {
    const p = makePair<number>({ num: NUM });
    assert.equal(p.driver.addOutbuf(p.addr(0), 64, 0), 0);
    p.driver.flush();
    p.raw.pushUsedRaw(0, 1);
    assert.deepEqual(p.driver.getBuf(), { token: 0, len: 0 });
    assert.equal(p.driver.stats.lenClamped, 0);
  });

  it('used ring entries are taken from the right slot after the index wraps u16', () => {
    const p = makePair<number>({ num: NUM, startIdx: 0xfffe });
    for (let i = 0; i < 4; i++) assert.equal(p.driver.addInbuf(p.addr(i), 64, i), 0);
    p.driver.flush();
    for (let i = 0; i < 4; i++) p.raw.pushUsedRaw(3 - i, 1);
    assert.equal(p.raw.usedIdx, 2);
    assert.deepEqual(takeAll(p), [3, 2, 1, 0]);
    assert.equal(p.driver.broken, undefined);
  });

  it('enableCbDelayed: used.idx at the delayed event is "nothing more", one past is "more"', () => {
    const p = makePair<number>({ num: NUM, features: 1 << VIRTIO_RING_F_EVENT_IDX });
    for (let i = 0; i < 4; i++) assert.equal(p.driver.addInbuf(p.addr(i), 64, i), 0);
    p.driver.flush();
    // 4 in flight: the delayed event is at 3 (3/4 of them).
    p.raw.usedIdx = 0;
    for (let i = 0; i < 3; i++) p.raw.pushUsedRaw(i, 1);
    assert.equal(p.driver.enableCbDelayed(), true);
    assert.equal(p.raw.usedEvent, 3);
    p.raw.pushUsedRaw(3, 1);
    assert.equal(p.driver.enableCbDelayed(), false);
  });

  it('the driver holds to the used.idx it validated: a device that moves it back takes nothing back', () => {
    const p = driverWith(2);
    p.raw.pushUsedRaw(0, 1);
    p.raw.pushUsedRaw(1, 1);
    assert.equal(p.driver.moreUsed(), true);
    p.raw.usedIdx = 0;
    assert.equal(p.driver.moreUsed(), true);
    assert.equal(p.driver.takeUsed(), 0);
    p.raw.usedIdx = 1;
    assert.equal(p.driver.moreUsed(), true);
    assert.equal(p.driver.takeUsed(), 1);
    assert.equal(p.driver.broken, undefined);
  });

  it('EVENT_IDX kick: avail_event one behind the new index asks for a kick; at it, not', () => {
    for (const [availEvent, want] of [
      [0, true], // the first of the two new entries
      [1, true], // the last new entry: newIdx − 1
      [2, false], // newIdx: the device wants to hear of entries it has not been offered yet
    ] as const) {
      const p = makePair<number>({ num: NUM, features: 1 << VIRTIO_RING_F_EVENT_IDX });
      p.raw.availEvent = availEvent;
      p.driver.addInbuf(p.addr(0), 64, 0);
      p.driver.addInbuf(p.addr(1), 64, 1);
      assert.equal(p.driver.kickPrepare(), want, `avail_event ${availEvent}`);
    }
  });

  it('without EVENT_IDX only VRING_USED_F_NO_NOTIFY (bit 0) of used.flags suppresses the kick', () => {
    for (const [flags, want] of [
      [0xfffe, true],
      [0x0001, false],
    ] as const) {
      const p = makePair<number>({ num: NUM });
      p.raw.usedFlags = flags;
      p.driver.addInbuf(p.addr(0), 64, 0);
      assert.equal(p.driver.kickPrepare(), want, `used.flags ${flags}`);
    }
  });
});

describe('vring driver: what the host posts, at the limits', () => {
  it('buffer lengths 1..0xffffffff and addresses 0..2^64−1 are accepted; one past either is EINVAL', () => {
    const p = makePair<number>({ num: NUM });
    const U64_MAX = 0xffff_ffff_ffff_ffffn;
    assert.equal(p.driver.addInbuf(0n, 1, 0), 0);
    assert.equal(p.driver.addInbuf(U64_MAX, 0xffff_ffff, 1), 0);
    assert.equal(p.driver.addBuf([{ addr: U64_MAX, len: 0xffff_ffff, write: false }], 2), 0);
    assert.equal(p.driver.addInbuf(0n, 0, 3), -ERRNO.EINVAL);
    assert.equal(p.driver.addInbuf(0n, 0x1_0000_0000, 3), -ERRNO.EINVAL);
    assert.equal(p.driver.addInbuf(-1n, 1, 3), -ERRNO.EINVAL);
    assert.equal(p.driver.addOutbuf(U64_MAX + 1n, 1, 3), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([{ addr: 0n, len: 0, write: true }], 3), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([{ addr: 0n, len: 0x1_0000_0000, write: true }], 3), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([{ addr: -1n, len: 1, write: true }], 3), -ERRNO.EINVAL);
    assert.equal(p.driver.addBuf([{ addr: U64_MAX + 1n, len: 1, write: true }], 3), -ERRNO.EINVAL);
    assert.equal(p.driver.numFree, NUM - 3);
    assert.equal(p.raw.desc(1).addr, U64_MAX);
    assert.equal(p.raw.desc(1).len, 0xffff_ffff);
  });

  it('a chain of exactly the free descriptors is posted; one more is ENOSPC', () => {
    const p = makePair<number>({ num: NUM });
    const chain = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ addr: p.addr(i), len: 8, write: i > 0 }));
    assert.equal(p.driver.addBuf(chain(NUM + 1), 0), -ERRNO.ENOSPC);
    assert.equal(p.driver.addBuf(chain(NUM), 0), 0);
    assert.equal(p.driver.numFree, 0);
    assert.equal(p.driver.addInbuf(p.addr(0), 8, 1), -ERRNO.ENOSPC);
    assert.equal(p.driver.addBuf(chain(1), 1), -ERRNO.ENOSPC);
  });
});

// ---- device side: the avail ring and descriptors a driver writes -------------------------------

/** A device over a fresh ring whose descriptors and avail ring the test writes by hand. */
function deviceRig(options: { num?: number; indirect?: boolean; translate?: VringTranslate } = {}) {
  const num = options.num ?? NUM;
  const p = makePair<number>({
    num,
    ...(options.indirect === true ? { features: 1 << VIRTIO_RING_F_INDIRECT_DESC } : {}),
  });
  const device =
    options.translate === undefined
      ? p.device
      : new VirtqueueDevice({
          memory: p.memory,
          num,
          align: 16,
          name: 'test-vq',
          translate: options.translate,
          ...(options.indirect === true ? { features: 1 << VIRTIO_RING_F_INDIRECT_DESC } : {}),
        });
  return { ...p, device };
}

type DeviceRig = ReturnType<typeof deviceRig>;

/** Descriptor d: a pool buffer (or `addr`), `len` bytes, flags, next. */
function desc(
  r: DeviceRig,
  d: number,
  fields: { addr?: bigint; len?: number; flags?: number; next?: number } = {},
): void {
  r.raw.setDesc(d, {
    addr: fields.addr ?? r.addr(d),
    len: fields.len ?? 64,
    flags: fields.flags ?? 0,
    next: fields.next ?? 0,
  });
}

interface DeviceBoundary {
  readonly check: string;
  readonly indirect?: boolean;
  readonly translate?: VringTranslate;
  /** Write descriptors and avail entries; the device then takes chains until it cannot. */
  readonly lastValid: (r: DeviceRig) => void;
  readonly firstInvalid: (r: DeviceRig) => void;
  /** Heads taken for the last valid input. */
  readonly heads: readonly number[];
  readonly error: RegExp;
}

function takeChains(r: DeviceRig): number[] {
  const heads: number[] = [];
  for (let c = r.device.getAvail(); c !== undefined; c = r.device.getAvail()) heads.push(c.head);
  return heads;
}

/** A table of `entries` indirect descriptors in pool buffer 6 (each entry: a pool buffer). */
function indirectTable(
  r: DeviceRig,
  entries: readonly { flags?: number; next?: number; len?: number }[],
): bigint {
  const table = r.buf(6);
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  entries.forEach((e, i) => {
    dv.setBigUint64(16 * i, r.addr(8 + i), true);
    dv.setUint32(16 * i + 8, e.len ?? 32, true);
    dv.setUint16(16 * i + 12, e.flags ?? 0, true);
    dv.setUint16(16 * i + 14, e.next ?? 0, true);
  });
  return r.addr(6);
}

/** A translator that answers with a view object of any length without allocating it. */
const hugeTranslate: VringTranslate = (_addr, len) => ({ length: len }) as unknown as Uint8Array;

const DEVICE: readonly DeviceBoundary[] = [
  {
    check: 'avail.idx runs ahead of the last taken by at most num',
    lastValid: (r) => {
      for (let d = 0; d < NUM; d++) {
        desc(r, d);
        r.raw.pushAvailRaw(d);
      }
    },
    firstInvalid: (r) => {
      for (let d = 0; d < NUM; d++) desc(r, d);
      r.raw.availIdx = NUM + 1;
    },
    heads: [0, 1, 2, 3, 4, 5, 6, 7],
    error: /^test-vq: avail\.idx 0x9 runs 9 entries ahead of the last taken 0x0, more than the ring's 8$/,
  },
  {
    check: 'an avail entry names a head below num',
    lastValid: (r) => {
      desc(r, NUM - 1);
      r.raw.pushAvailRaw(NUM - 1);
    },
    firstInvalid: (r) => r.raw.pushAvailRaw(NUM),
    heads: [NUM - 1],
    error: /^test-vq: avail ring entry 0 names head descriptor 0x8, but the ring has 8$/,
  },
  {
    check: 'an avail entry names a head the device does not hold',
    lastValid: (r) => {
      desc(r, 0);
      desc(r, 1);
      r.raw.pushAvailRaw(0);
      r.raw.pushAvailRaw(1);
    },
    firstInvalid: (r) => {
      desc(r, 0);
      r.raw.pushAvailRaw(0);
      r.raw.pushAvailRaw(0);
    },
    heads: [0, 1],
    error: /^test-vq: avail ring entry 1 names head descriptor 0x0, which the device has not returned yet$/,
  },
  {
    check: 'a descriptor links to one below num',
    lastValid: (r) => {
      desc(r, 0, { flags: VRING_DESC_F_NEXT, next: NUM - 1 });
      desc(r, NUM - 1);
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { flags: VRING_DESC_F_NEXT, next: NUM });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error: /^test-vq: descriptor 0x0 of chain 0x0 links to 0x8, but the ring has 8$/,
  },
  {
    check: 'a chain of all num descriptors is no loop; coming back to one is',
    lastValid: (r) => {
      for (let d = 0; d < NUM; d++) desc(r, d, { flags: d < NUM - 1 ? VRING_DESC_F_NEXT : 0, next: d + 1 });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      for (let d = 0; d < NUM; d++) desc(r, d, { flags: VRING_DESC_F_NEXT, next: (d + 1) % NUM });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: chain from head 0x0 comes back to descriptor 0x0 after 8 descriptors \(a loop; a chain holds at most 8\)$/,
  },
  {
    check: 'a buffer is at least 1 byte long',
    lastValid: (r) => {
      desc(r, 0, { len: 1 });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { len: 0 });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error: /^test-vq: descriptor 0x0 of chain 0x0 has length 0$/,
  },
  {
    check: 'readable buffers come before writable ones',
    lastValid: (r) => {
      desc(r, 0, { flags: VRING_DESC_F_NEXT, next: 1 });
      desc(r, 1, { flags: VRING_DESC_F_WRITE });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { flags: VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, next: 1 });
      desc(r, 1);
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error: /^test-vq: descriptor 0x1 of chain 0x0 is device-readable but follows a device-writable buffer$/,
  },
  {
    check: 'a buffer ends inside the memory the device can see',
    lastValid: (r) => {
      desc(r, 0, { addr: POOL_BASE + BigInt(r.pool.length - 16), len: 16 });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { addr: POOL_BASE + BigInt(r.pool.length - 16), len: 17 });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: descriptor 0x0 of chain 0x0: buffer at 0x90001ff0 of 0x11 bytes is outside the memory the device can see$/,
  },
  {
    check: 'a chain holds at most 4 GiB − 1',
    translate: hugeTranslate,
    lastValid: (r) => {
      desc(r, 0, { len: 0xffff_fffe, flags: VRING_DESC_F_NEXT, next: 1 });
      desc(r, 1, { len: 1, flags: VRING_DESC_F_WRITE });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { len: 0xffff_ffff, flags: VRING_DESC_F_NEXT, next: 1 });
      desc(r, 1, { len: 1, flags: VRING_DESC_F_WRITE });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error: /^test-vq: chain from head 0x0 totals 0x100000000 bytes, more than the 4 GiB a chain may hold$/,
  },
  {
    check: 'INDIRECT only when negotiated',
    lastValid: (r) => {
      desc(r, 0, { flags: VRING_DESC_F_WRITE });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { flags: VRING_DESC_F_INDIRECT, len: 16 });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: descriptor 0x0 of chain 0x0 has VRING_DESC_F_INDIRECT \(flags 0x4\), but VIRTIO_RING_F_INDIRECT_DESC was not negotiated$/,
  },
  {
    check: 'an indirect descriptor carries no NEXT',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, { addr: indirectTable(r, [{}]), len: 16, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, {
        addr: indirectTable(r, [{}]),
        len: 16,
        flags: VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
        next: 1,
      });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: descriptor 0x0 of chain 0x0 has both VRING_DESC_F_INDIRECT and VRING_DESC_F_NEXT \(flags 0x5\)$/,
  },
  {
    check: 'an indirect table is a whole number of descriptors',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, { addr: indirectTable(r, [{}, {}]), len: 32, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { addr: indirectTable(r, [{}, {}]), len: 33, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: descriptor 0x0 of chain 0x0: indirect table length 0x21 is not a non-zero multiple of 16$/,
  },
  {
    check: 'an indirect table is not empty',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, { addr: indirectTable(r, [{}]), len: 16, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { addr: indirectTable(r, [{}]), len: 0, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error: /indirect table length 0x0 is not a non-zero multiple of 16$/,
  },
  {
    check: 'an indirect table holds at most num descriptors',
    indirect: true,
    lastValid: (r) => {
      const n = NUM;
      const t = indirectTable(
        r,
        Array.from({ length: n }, (_, i) => ({ flags: i < n - 1 ? VRING_DESC_F_NEXT : 0, next: i + 1 })),
      );
      desc(r, 0, { addr: t, len: 16 * n, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { addr: indirectTable(r, []), len: 16 * (NUM + 1), flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: descriptor 0x0 of chain 0x0: indirect table of 9 descriptors is longer than the ring's 8$/,
  },
  {
    check: 'an indirect table lies inside the memory the device can see',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, { addr: POOL_BASE + BigInt(r.pool.length - 16), len: 16, flags: VRING_DESC_F_INDIRECT });
      r.pool.fill(0, r.pool.length - 16);
      new DataView(r.pool.buffer).setBigUint64(r.pool.length - 16, r.addr(1), true);
      new DataView(r.pool.buffer).setUint32(r.pool.length - 8, 8, true);
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { addr: POOL_BASE + BigInt(r.pool.length - 16), len: 32, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: descriptor 0x0 of chain 0x0: indirect table at 0x90001ff0 of 0x20 bytes is outside the memory the device can see$/,
  },
  {
    check: 'an indirect entry links to one below the table size',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, {
        addr: indirectTable(r, [{ flags: VRING_DESC_F_NEXT, next: 2 }, {}, {}]),
        len: 48,
        flags: VRING_DESC_F_INDIRECT,
      });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, {
        addr: indirectTable(r, [{ flags: VRING_DESC_F_NEXT, next: 3 }, {}, {}]),
        len: 48,
        flags: VRING_DESC_F_INDIRECT,
      });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: indirect entry 0x0 \(table in descriptor 0x0\) of chain 0x0 links to 0x3, but the table has 3 entries$/,
  },
  {
    check: 'an indirect table walk never comes back to an entry',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, {
        addr: indirectTable(r, [{ flags: VRING_DESC_F_NEXT, next: 1 }, {}]),
        len: 32,
        flags: VRING_DESC_F_INDIRECT,
      });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, {
        addr: indirectTable(r, [
          { flags: VRING_DESC_F_NEXT, next: 1 },
          { flags: VRING_DESC_F_NEXT, next: 0 },
        ]),
        len: 32,
        flags: VRING_DESC_F_INDIRECT,
      });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error: /^test-vq: indirect table of descriptor 0x0 of chain 0x0 comes back to entry 0x0 \(a loop\)$/,
  },
  {
    check: 'an indirect entry is not itself indirect',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, {
        addr: indirectTable(r, [{ flags: VRING_DESC_F_WRITE }]),
        len: 16,
        flags: VRING_DESC_F_INDIRECT,
      });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, {
        addr: indirectTable(r, [{ flags: VRING_DESC_F_INDIRECT }]),
        len: 16,
        flags: VRING_DESC_F_INDIRECT,
      });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error:
      /^test-vq: indirect entry 0x0 \(table in descriptor 0x0\) of chain 0x0 has VRING_DESC_F_INDIRECT inside an indirect table \(flags 0x4\)$/,
  },
  {
    check: 'an indirect entry is at least 1 byte long',
    indirect: true,
    lastValid: (r) => {
      desc(r, 0, { addr: indirectTable(r, [{ len: 1 }]), len: 16, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    firstInvalid: (r) => {
      desc(r, 0, { addr: indirectTable(r, [{ len: 0 }]), len: 16, flags: VRING_DESC_F_INDIRECT });
      r.raw.pushAvailRaw(0);
    },
    heads: [0],
    error: /^test-vq: indirect entry 0x0 \(table in descriptor 0x0\) of chain 0x0 has length 0$/,
  },
];

describe('vring device: every check on the avail ring and descriptors at its boundary', () => {
  for (const b of DEVICE) {
    it(`${b.check}: last valid is taken, first invalid stops the device`, () => {
      const opts = {
        ...(b.indirect === true ? { indirect: true } : {}),
        ...(b.translate === undefined ? {} : { translate: b.translate }),
      };
      const ok = deviceRig(opts);
      b.lastValid(ok);
      assert.deepEqual(takeChains(ok), b.heads);
      assert.equal(ok.device.broken, undefined);
      assert.equal(ok.device.stats.rejected, 0);

      const bad = deviceRig(opts);
      b.firstInvalid(bad);
      takeChains(bad);
      assert.match(bad.device.broken?.detail ?? '(no error)', b.error);
      assert.equal(bad.device.stats.rejected, 1);
      assert.equal(bad.device.availCount(), 0, 'a stopped device offers nothing');
    });
  }

  it('a taken chain lists its buffers in order with their sizes, indirect entries flattened', () => {
    const r = deviceRig({ indirect: true });
    desc(r, 0, {
      addr: indirectTable(r, [
        { len: 10, flags: VRING_DESC_F_NEXT, next: 1 },
        { len: 20, flags: VRING_DESC_F_WRITE },
      ]),
      len: 32,
      flags: VRING_DESC_F_INDIRECT,
    });
    r.raw.pushAvailRaw(0);
    const c = r.device.getAvail();
    assert.ok(c !== undefined);
    assert.deepEqual(
      c.buffers.map((b) => [b.addr, b.len, b.write, b.view.length]),
      [
        [r.addr(8), 10, false, 10],
        [r.addr(9), 20, true, 20],
      ],
    );
    assert.deepEqual([c.readable, c.writable], [10, 20]);
  });

  it('pushUsed: a head in flight with len up to its writable bytes is accepted; one more, or another head, is EINVAL', () => {
    const r = deviceRig();
    desc(r, 0, { flags: VRING_DESC_F_WRITE, len: 64 });
    desc(r, 1, { len: 64 });
    r.raw.pushAvailRaw(0);
    r.raw.pushAvailRaw(1);
    assert.deepEqual(takeChains(r), [0, 1]);
    assert.equal(r.device.pushUsed(0, 65), -ERRNO.EINVAL);
    // A length that is not a u32 never reaches the ring, though it is below the writable bytes.
    assert.equal(r.device.pushUsed(0, -1), -ERRNO.EINVAL, 'len -1');
    assert.equal(r.device.pushUsed(0, 0.5), -ERRNO.EINVAL, 'len 0.5');
    assert.equal(r.device.pushUsed(NUM, 0), -ERRNO.EINVAL);
    assert.equal(r.device.pushUsed(2, 0), -ERRNO.EINVAL, 'not in flight');
    assert.equal(r.device.pushUsed(1, 1), -ERRNO.EINVAL, 'a read-only chain takes no bytes');
    assert.equal(r.device.pushUsed(0, 64), 0);
    assert.equal(r.device.pushUsed(0, 0), -ERRNO.EINVAL, 'returned already');
    assert.equal(r.device.pushUsed(1, 0), 0);
    r.device.publishUsed();
    assert.equal(r.raw.usedIdx, 2);
    assert.deepEqual(r.raw.usedElem(0), { id: 0, len: 64 });
    assert.deepEqual(r.raw.usedElem(1), { id: 1, len: 0 });
    assert.equal(r.device.chainsInFlight, 0);
  });

  it('EVENT_IDX: used_event one behind the new used index interrupts the driver; at it, not', () => {
    for (const [usedEvent, want] of [
      [1, true],
      [2, false],
    ] as const) {
      const p = makePair<number>({ num: NUM, features: 1 << VIRTIO_RING_F_EVENT_IDX });
      p.driver.addInbuf(p.addr(0), 64, 0);
      p.driver.addInbuf(p.addr(1), 64, 1);
      p.driver.flush();
      p.raw.usedEvent = usedEvent;
      const a = p.device.getAvail();
      const b = p.device.getAvail();
      assert.ok(a !== undefined && b !== undefined);
      p.device.pushUsed(a.head, 0);
      p.device.pushUsed(b.head, 0);
      assert.equal(p.device.kickPrepare(), want, `used_event ${usedEvent}`);
    }
  });
});

// ---- geometry: what a resource table's vring entry may say --------------------------------------

describe('vring geometry and memory at their limits', () => {
  const table: readonly [string, number, number, string | undefined][] = [
    ['num 1', 1, 16, undefined],
    ['num 0', 0, 16, 'vring num 0 is not a power of two in 1..32768'],
    ['num 32768', 32768, 16, undefined],
    ['num 65536', 65536, 16, 'vring num 65536 is not a power of two in 1..32768'],
    ['num 3', 3, 16, 'vring num 3 is not a power of two in 1..32768'],
    ['align 1', 8, 1, undefined],
    ['align 0', 8, 0, 'vring align 0 is not a power of two'],
    ['align 2^31', 8, 0x8000_0000, undefined],
    ['align 2^32', 8, 0x1_0000_0000, 'vring align 4294967296 is not a power of two'],
    ['align 3', 8, 3, 'vring align 3 is not a power of two'],
  ];
  for (const [what, num, align, problem] of table) {
    it(`${what}: ${problem ?? 'accepted'}`, () => {
      assert.equal(vringGeometryProblem(num, align), problem);
    });
  }

  it('ring memory of exactly vring_size bytes is accepted; one byte less is EINVAL naming both sizes', () => {
    const size = vringSize(NUM, 16);
    assert.doesNotThrow(() => new VirtqueueDriver({ memory: new Uint8Array(size), num: NUM, align: 16 }));
    assert.throws(
      () =>
        new VirtqueueDriver({
          memory: new Uint8Array(size).subarray(0, size - 1),
          num: NUM,
          align: 16,
          name: 'r',
        }),
      (e: unknown) =>
        e instanceof RprocError &&
        e.code === 'EINVAL' &&
        e.detail ===
          `r: ring memory is ${'0x' + (size - 1).toString(16)} bytes, vring_size(8, 16) needs ${'0x' + size.toString(16)}`,
    );
  });

  it('ring memory at a 4-byte-aligned offset is accepted; 2 bytes off is EINVAL', () => {
    const size = vringSize(NUM, 16);
    const backing = new Uint8Array(size + 8);
    assert.doesNotThrow(
      () =>
        new VirtqueueDevice({ memory: backing.subarray(4), num: NUM, align: 16, translate: () => undefined }),
    );
    assert.throws(
      () =>
        new VirtqueueDevice({
          memory: backing.subarray(2),
          num: NUM,
          align: 16,
          name: 'r',
          translate: () => undefined,
        }),
      (e: unknown) =>
        e instanceof RprocError &&
        e.code === 'EINVAL' &&
        e.detail === 'r: ring memory at byte offset 0x2 is not 4-byte aligned',
    );
  });

  it('a ring with used elements at an odd 2-byte offset (align 2) still carries ids and lengths', () => {
    const memory = makeRingMemory(NUM, 2, false);
    const pool = new Uint8Array(BUF_SIZE * 2);
    const driver = new VirtqueueDriver<number>({ memory, num: NUM, align: 2 });
    const device = new VirtqueueDevice({
      memory,
      num: NUM,
      align: 2,
      translate: (a, l) => pool.subarray(Number(a), Number(a) + l),
    });
    const raw = new RawVring(memory, NUM, 2);
    assert.equal(raw.layout.usedRingOffset % 4, 2);
    assert.equal(driver.addInbuf(0n, 64, 7), 0);
    driver.flush();
    const c = device.getAvail();
    assert.ok(c !== undefined);
    assert.equal(device.pushUsed(c.head, 33), 0);
    device.publishUsed();
    assert.deepEqual(raw.usedElem(0), { id: 0, len: 33 });
    assert.deepEqual(driver.getBuf(), { token: 7, len: 33 });
  });
});

describe('vring device: it holds to the avail.idx it validated', () => {
  it('counts the entries ahead of the last taken one, wherever the ring has got to', () => {
    const r = deviceRig();
    for (let d = 0; d < 3; d++) desc(r, d);
    r.raw.pushAvailRaw(0);
    assert.deepEqual(takeChains(r), [0]);
    r.raw.pushAvailRaw(1);
    r.raw.pushAvailRaw(2);
    assert.equal(r.device.availCount(), 2, 'read from avail.idx');
    assert.equal(r.device.availCount(), 2, 'from the index already validated');
    assert.deepEqual(takeChains(r), [1, 2]);
    assert.equal(r.device.availCount(), 0);
  });

  it('a driver that moves avail.idx back does not take back entries already validated', () => {
    // The slots an accepted avail.idx covers are read once, in order; a rewind is only seen (and
    // refused: it looks like a jump of 0xfffe) once the device has taken them.
    const r = deviceRig();
    desc(r, 0);
    desc(r, 1);
    r.raw.pushAvailRaw(0);
    r.raw.pushAvailRaw(1);
    assert.equal(r.device.availCount(), 2);
    r.raw.availIdx = 0;
    assert.equal(r.device.availCount(), 2);
    assert.deepEqual(takeChains(r), [0, 1]);
    assert.match(
      r.device.broken?.detail ?? '(not broken)',
      /avail\.idx 0x0 runs 65534 entries ahead of the last taken 0x2/,
    );
  });

  it('once stopped it stays stopped, even if the driver repairs the ring', () => {
    const r = deviceRig();
    desc(r, 0);
    r.raw.pushAvailRaw(NUM);
    assert.deepEqual(takeChains(r), []);
    assert.ok(r.device.broken !== undefined);
    r.raw.setAvailRing(0, 0);
    assert.equal(r.device.getAvail(), undefined);
    assert.equal(r.device.availCount(), 0);
    assert.equal(r.device.stats.rejected, 1);
  });
});
